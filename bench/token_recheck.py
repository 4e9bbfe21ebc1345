"""What re-checking a remembered API token's account costs each request (issue 12: a
deactivation or revocation must apply at once in every process).

In one process, POST /api/v1/referrals with one partner token, alternating blocks with the
re-check (one autocommit primary-key read, Database.read_row) and with it replaced by a
constant (the cache as it was, trusting a remembered token for 10 s). Alternating blocks
put a slow patch of a shared machine on both. Prints the median CPU per request of each
and their ratio, then the cost of the lookup alone.

    .venv/bin/python bench/token_recheck.py [--blocks 8] [--per-block 60] [--only sqlite|postgres]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

from common import BODY, migrated_app, on_each_backend


def run(name: str, url: str, args) -> None:
    from triage.services.accounts import users

    app = migrated_app(url)
    rt = app.extensions["triage"]
    user = users.create_user(rt.db, email="bench@fire.example", role="partner",
                             organisation="Fire")
    headers = {"Authorization": f"Bearer {users.create_token(rt.db, email=user.email)}"}
    client = app.test_client()
    real = rt.db.read_row
    sent = [0]

    def post() -> None:
        sent[0] += 1
        body = copy.deepcopy(BODY)
        body["people"][0]["given_name"] = f"Gwen{sent[0]}"
        assert client.post("/api/v1/referrals", json=body, headers=headers).status_code == 201

    for _ in range(args.per_block):
        post()
    cpu: dict[str, list[float]] = {"re-check": [], "trust for 10 s": []}
    for _ in range(args.blocks):
        for label in cpu:
            rt.db.read_row = real if label == "re-check" else (lambda _s, _p: (0,))
            started = time.process_time()
            for _ in range(args.per_block):
                post()
            cpu[label].append((time.process_time() - started) / args.per_block * 1000)
    rt.db.read_row = real
    medians = {k: statistics.median(v) for k, v in cpu.items()}
    for label, value in medians.items():
        print(f"{name:9} {label:15} {value:6.2f} ms CPU per referral (blocks: "
              f"{', '.join(f'{x:.2f}' for x in cpu[label])})")
    print(f"{name:9} re-check / trust = {medians['re-check'] / medians['trust for 10 s']:.3f}")
    check = users._GENERATION  # noqa: SLF001 - the statement itself, timed alone
    started, wall = time.process_time(), time.perf_counter()
    for _ in range(2000):
        real(check, {"user_id": user.id})
    per_read = 1e6 / 2000  # seconds for 2000 reads -> microseconds per read
    print(f"{name:9} the read alone: {(time.process_time() - started) * per_read:.1f} µs CPU, "
          f"{(time.perf_counter() - wall) * per_read:.1f} µs wall")
    rt.relay.stop()
    rt.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=8)
    parser.add_argument("--per-block", type=int, default=60)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    args = parser.parse_args()
    on_each_backend(args.only, lambda name, url: run(name, url, args))


if __name__ == "__main__":
    main()
