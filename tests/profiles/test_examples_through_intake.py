"""Every profile's worked examples, sent through the real HTTP intake as a front-door worker
would (not the rules engine alone): the preview and the recorded decision give the level and
routes the example expects, and consent is decided per route (a route that needs consent
waits, one that does not opens a case at once)."""

from __future__ import annotations

import pytest

from rules.examples import load_examples, referral_body
from triage.models.base import utcnow

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def _examples(rt) -> list[dict]:
    return load_examples(rt.profile)


def _body(example: dict, n: int, consent: str) -> dict:
    return referral_body(example, today=utcnow().date(), n=n * 2 + (consent == "given"),
                         consent=consent)


def _routes(decision: dict) -> list[tuple[str, str | None]]:
    return sorted((r["service"], r["instance"]) for r in decision["routes"])


def _expected_routes(example: dict) -> list[tuple[str, str | None]]:
    return sorted((r["service"], r.get("instance")) for r in example["expected"]["routes"])


def _submittable(rt) -> list[tuple[int, dict]]:
    """The examples a referral body can state on its own: an example that depends on an open
    case elsewhere (open_family_support) needs history the body cannot carry."""
    return [(n, e) for n, e in enumerate(_examples(rt))
            if "open_family_support" not in e and e.get("people")]


@both_databases
def test_every_worked_example_gets_its_decision_through_the_intake(client, auth, rt):
    headers = auth("front_door")
    examples = _submittable(rt)
    assert len(examples) >= 10, "a profile needs worked examples the intake can run"
    failures = []
    for n, example in examples:
        body = _body(example, n, "given")
        preview = client.post("/api/v1/triage/preview", json=body, headers=headers)
        created = client.post("/api/v1/referrals", json=body, headers=headers)
        if created.status_code != 201 or preview.status_code != 200:
            failures.append(f"{example['name']}: {created.status_code} {created.json}")
            continue
        decision = created.json["decision"]
        want = example["expected"]
        got = {"level": decision["level_code"], "routes": _routes(decision),
               "urgent": decision["urgent"], "safeguarding": decision["safeguarding"],
               "needs_review": decision["needs_review"]}
        expected = {"level": str(want["level"]) if "level" in want else None,
                    "routes": _expected_routes(example) if "routes" in want else None,
                    "urgent": want.get("urgent"), "safeguarding": want.get("safeguarding"),
                    "needs_review": want.get("needs_review")}
        for key, value in expected.items():
            if value is not None and got[key] != value:
                failures.append(f"{example['name']}: {key} expected {value!r}, got {got[key]!r}")
        preview_routes = _routes(preview.json)
        if (preview.json["level_code"], preview_routes) != (decision["level_code"],
                                                            _routes(decision)):
            failures.append(f"{example['name']}: the preview said {preview.json['level_code']} "
                            f"{preview_routes}, the recorded decision {decision['level_code']} "
                            f"{_routes(decision)}")
    assert not failures, "\n".join(failures)


@both_databases
def test_without_consent_only_the_routes_that_need_none_open_cases(client, auth, rt):
    """Consent per route: referred without consent, a case opens for each route whose
    `consent_needed` is false (at once) and for no other; recording consent opens the rest."""
    headers = auth("front_door")
    seen_waiting = seen_at_once = 0
    for n, example in _submittable(rt):
        created = client.post("/api/v1/referrals", json=_body(example, n, "not_asked"),
                              headers=headers)
        assert created.status_code == 201, (example["name"], created.json)
        decision = created.json["decision"]
        if decision["needs_review"] or not decision["routes"]:
            continue
        at_once = sorted((r["service"], r["instance"]) for r in decision["routes"]
                         if not r["consent_needed"])
        opened = sorted((c["service"], c["instance"]) for c in created.json["cases"])
        assert opened == at_once, example["name"]
        waiting = len(decision["routes"]) - len(at_once)
        seen_waiting += waiting > 0
        seen_at_once += bool(at_once)
        if not waiting:
            continue
        reference = created.json["reference"]
        recorded = client.post(f"/api/v1/referrals/{reference}/consent",
                               json={"consent": "given"}, headers=headers)
        assert recorded.status_code == 200, (example["name"], recorded.json)
        after = client.get(f"/api/v1/referrals/{reference}", headers=headers).json
        assert sorted((c["service"], c["instance"]) for c in after["cases"]) == _routes(
            decision), example["name"]
    assert seen_waiting and seen_at_once, "the examples should show both kinds of route"
