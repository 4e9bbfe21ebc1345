"""Partner batches: referrals per second sent as one batch (JSON and CSV) beside the same
referrals sent one request each, on SQLite and PostgreSQL.

In one process through Flask's test client (one client thread: the per-referral cost of the
app, not of a web server), each referral about a different family. The ratio says what a
batch saves (one request, one token check, one transaction) and how long one batch holds
the database (on SQLite, the one write lock).

    .venv/bin/python bench/batches.py [--size 500] [--only sqlite|postgres]
"""

from __future__ import annotations

import argparse
import csv
import io
import time

from common import example_body, is_family, migrated_app, on_each_backend  # noqa: I001  (puts the repository on sys.path)

NAMES = ["Amy", "Ben", "Cal", "Dee", "Eve", "Fay", "Gus", "Hal", "Ivy", "Jo", "Kit", "Lu"]
# An everyday family referral of the profile (a child and an adult, one service), each sent
# for a new family.
FAMILY = example_body(is_family, "a child and an adult, some needs, one service")


def _family(n: int) -> dict:
    # Names match on letters only: spell n in letters so every family is a new one.
    given = "".join(NAMES[int(d)] for d in str(n))
    people = [{**person, "given_name": given if i == 0 else f"{person['given_name']} {given}",
               "family_name": "Ward"} for i, person in enumerate(FAMILY["people"])]
    return {"postcode": FAMILY["postcode"], "consent": "given", "people": people,
            "answers": FAMILY["answers"], "information_only": FAMILY["information_only"]}


def _csv(bodies: list[dict]) -> bytes:
    """The same referrals as a batch file (the template's columns they use)."""
    questions = sorted({q for b in bodies for q in b["answers"]})
    members = max(len(b["people"]) for b in bodies) - 1
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["postcode", "consent", "information_only", "subject_given_name",
                     "subject_family_name", "subject_date_of_birth",
                     *(f"member{m}_{name}" for m in range(1, members + 1)
                       for name in ("relationship", "given_name", "family_name",
                                    "date_of_birth")),
                     *questions])
    for b in bodies:
        subject, *household = b["people"]
        row = [b["postcode"], b["consent"], "yes" if b["information_only"] else "no",
               subject["given_name"], subject["family_name"], subject["date_of_birth"]]
        for m in range(members):
            person = household[m] if m < len(household) else {}
            row += [person.get("relationship") or "", person.get("given_name", ""),
                    person.get("family_name", ""), person.get("date_of_birth", "")]
        writer.writerow(row + [{True: "yes", False: "no"}.get(b["answers"].get(q), "")
                               for q in questions])
    return out.getvalue().encode()


def run_backend(url: str, size: int) -> dict[str, float]:
    from triage.services.accounts import users

    app = migrated_app(url, max_batch_referrals=max(size, 1))
    rt = app.extensions["triage"]
    users.create_user(rt.db, email="bench@fire.test", role="partner",
                         organisation="Bench Fire Service")
    headers = {"Authorization": f"Bearer {users.create_token(rt.db, email='bench@fire.test')}"}
    client = app.test_client()
    counter = iter(range(1, 10**7))

    def fresh(n: int) -> list[dict]:
        return [_family(next(counter)) for _ in range(n)]

    # Warm up: every statement compiled, the token cached.
    client.post("/api/v1/referrals/batch", json={"referrals": fresh(5)}, headers=headers)
    results = {}
    singles = [{"channel": "partner", "referrer": {"organisation": "x"}, **b}
               for b in fresh(size)]
    started = time.perf_counter()
    for body in singles:
        assert client.post("/api/v1/referrals", json=body, headers=headers).status_code == 201
    results["one request each"] = size / (time.perf_counter() - started)
    batch = {"referrals": fresh(size)}
    started = time.perf_counter()
    response = client.post("/api/v1/referrals/batch", json=batch, headers=headers)
    results["one JSON batch"] = size / (time.perf_counter() - started)
    assert response.status_code == 201, response.json
    data = _csv(fresh(size))
    started = time.perf_counter()
    response = client.post("/api/v1/referrals/batch", data=data,
                           headers={**headers, "Content-Type": "text/csv"})
    results["one CSV batch"] = size / (time.perf_counter() - started)
    assert response.status_code == 201, response.json
    rt.relay.stop()
    rt.db.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=500)
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    args = parser.parse_args()
    print(f"batch benchmark: {args.size} referrals (each a new family), in-process test "
          "client, referrals/s")
    measured = on_each_backend(args.only, lambda _, url: run_backend(url, args.size))
    for name, results in measured.items():
        single = results["one request each"]
        for label, rate in results.items():
            print(f"{name:9} {label:18} {rate:8.1f}/s   {rate / single:4.2f}x one request "
                  f"each; {args.size / rate:5.2f} s for {args.size}")


if __name__ == "__main__":
    main()
