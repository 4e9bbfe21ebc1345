"""One timeline for a family or a person: referrals received, decided, overridden, consent,
closures, each case event, notes and step-ups/downs, oldest first; bounded, by index."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from triage.models import Case, CaseEvent, CaseNote, CaseReferralLink, Decision, Referral
from triage.services.cases.case_dues import WORKER_EVENTS

KINDS = ("received", "decided", "overridden", "consent", "closed", "case_event", "note",
         "step", "merged")
LIMIT = 2000


def _entry(at: datetime, kind: str, summary: str, reference: str | None,
           case_id: int | None) -> dict[str, Any]:
    return {"at": at, "kind": kind, "summary": summary, "reference": reference,
            "case_id": case_id}


def timeline(session: Session, referrals: list[Referral], cases: list[Case],
             kinds: set[str] | None = None,
             merges: list[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """The entries for these referrals and cases (and merges, as merge.history gives them),
    oldest first, only `kinds` if given."""
    out: list[dict[str, Any]] = []
    for m in merges:
        who = (m["merged_by"] or {}).get("name") or "someone"
        out.append({**_entry(m["merged_at"], "merged",
                             f"{m['kind'].title()} record {m['merged_id']} merged into "
                             f"{m['survivor_id']} by {who}: {m['reason']}", None, None),
                    "merge_id": m["id"]})
        if m["undone_at"]:
            by = (m["undone_by"] or {}).get("name") or "someone"
            out.append({**_entry(m["undone_at"], "merged",
                                 f"Merge of {m['kind']} record {m['merged_id']} into "
                                 f"{m['survivor_id']} undone by {by}: {m['undo_reason']}",
                                 None, None), "merge_id": m["id"]})
    by_id = {r.id: r for r in referrals}
    for r in referrals:
        out.append(_entry(r.received_at, "received", f"Referral received ({r.channel})",
                          r.reference, None))
        if r.consent_recorded_at:
            out.append(_entry(r.consent_recorded_at, "consent", f"Consent recorded: {r.consent}",
                              r.reference, None))
        if r.closed_at:
            out.append(_entry(r.closed_at, "closed", "Closed at the front door",
                              r.reference, None))
    if by_id:
        for d in session.exec(select(Decision).where(Decision.referral_id.in_(list(by_id)))
                              .limit(LIMIT)):
            ref = by_id[d.referral_id].reference
            if d.kind == "override":
                out.append(_entry(d.decided_at, "overridden",
                                  f"Decision overridden to level {d.level_code}", ref, None))
            else:
                out.append(_entry(d.decided_at, "decided", f"Decided: level {d.level_code}",
                                  ref, None))
    case_ids = [c.id for c in cases]
    refs = {c.id: by_id[c.referral_id].reference if c.referral_id in by_id else None
            for c in cases}
    service = {c.id: c.service for c in cases}
    if case_ids:
        for e in session.exec(select(CaseEvent).where(CaseEvent.case_id.in_(case_ids))
                              .limit(LIMIT)):
            if e.event in WORKER_EVENTS:
                worker = (e.payload or {}).get("worker_name") or "nobody"
                what = f"assigned to {worker}"
            else:
                what = (f"{e.event.replace('_', ' ')} "
                        f"(now {e.to_state.replace('_', ' ')})")
            out.append(_entry(e.at, "case_event", f"{service[e.case_id]}: {what} by "
                              f"{e.by_label}", refs[e.case_id], e.case_id))
        for n in session.exec(select(CaseNote).where(CaseNote.case_id.in_(case_ids))
                              .limit(LIMIT)):
            out.append(_entry(n.at, "note", f"Note by {n.by_label}", refs[n.case_id], n.case_id))
        for link in session.exec(select(CaseReferralLink)
                                 .where(CaseReferralLink.case_id.in_(case_ids)).limit(LIMIT)):
            out.append(_entry(link.created_at, "step",
                              f"{service[link.case_id]}: {link.kind.replace('_', ' ')}",
                              refs[link.case_id], link.case_id))
    if kinds:
        out = [e for e in out if e["kind"] in kinds]
    out.sort(key=lambda e: (e["at"], KINDS.index(e["kind"])))
    return out
