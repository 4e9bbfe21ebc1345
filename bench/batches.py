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

from common import migrated_app, on_each_backend  # also puts the repository on sys.path

NAMES = ["Amy", "Ben", "Cal", "Dee", "Eve", "Fay", "Gus", "Hal", "Ivy", "Jo", "Kit", "Lu"]


def _family(n: int) -> dict:
    # Names match on letters only: spell n in letters so every family is a new one.
    given = "".join(NAMES[int(d)] for d in str(n))
    return {"postcode": "LE11 1AB", "consent": "given",
            "people": [{"ref": "c1", "role": "subject", "given_name": given,
                        "family_name": "Ward", "date_of_birth": "2015-05-05"},
                       {"ref": "p1", "role": "household", "relationship": "mother",
                        "given_name": f"Mum {given}", "family_name": "Ward",
                        "date_of_birth": "1985-01-01"}],
            "answers": {"school_attendance_concern": True, "child_behaviour_concern": True}}


def _csv(bodies: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["postcode", "consent", "subject_given_name", "subject_family_name",
                     "subject_date_of_birth", "member1_relationship", "member1_given_name",
                     "member1_family_name", "member1_date_of_birth",
                     "school_attendance_concern", "child_behaviour_concern"])
    for b in bodies:
        child, parent = b["people"]
        writer.writerow([b["postcode"], b["consent"], child["given_name"], "Ward",
                         child["date_of_birth"], "mother", parent["given_name"], "Ward",
                         parent["date_of_birth"], "yes", "yes"])
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
