"""Merging two records of one person (or one family) into one, and undoing it.

Every row that refers to the merged record by a foreign key comes to refer to the survivor
(merge_rows finds them from the models' metadata, so a table added later follows without a
change here). A row that would then repeat a unique key the survivor already holds (the person
twice in one household) is removed; a row naming both records (the pair's own match decision
and review) is kept as it is. The merged record stays, marked with the survivor, and
record_merge keeps every changed value and every removed row, so an undo puts back every row
as it was, unless something since makes that impossible (a 409 saying what).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel
from sqlmodel import select as select_model

from triage.errors import Conflict, NotFound, ValidationFailed, flatten_errors
from triage.models import MatchDecision, MatchReview, RecordMerge, User
from triage.models.base import MAX_ID, utcnow
from triage.policy import MERGE_RECORDS, require
from triage.runtime import Runtime
from triage.schemas.merge import MergeInSchema
from triage.schemas.privacy import ReasonInSchema
from triage.services import audit
from triage.services.people.merge_rows import (
    KINDS,
    Snapshot,
    decode,
    decode_row,
    encode_row,
    move_references,
    unique_keys,
    update_row,
    where,
)
from triage.services.privacy import visibility


class AcrossProfiles(ValidationFailed):
    """Two records recorded under different council profiles: never one person or family."""

    def __init__(self, kind: str, merged: Any, survivor: Any):
        super().__init__({"into": [
            f"{kind.title()} {survivor.id} was recorded under the {survivor.profile_id} "
            f"profile and {kind} {merged.id} under {merged.profile_id}: records of two "
            "profiles are never merged."]})


def _record_pair(session: Session, snap: Snapshot, user: User, merged: int, survivor: int,
                 now: datetime) -> None:
    """The pair is one person: a match decision says so, and their open review is linked."""
    low, high = sorted((merged, survivor))
    decisions = MatchDecision.__table__
    found = session.execute(select(decisions).where(
        decisions.c.person_id == low, decisions.c.other_person_id == high)).mappings().first()
    said = {"same": True, "source": "merge", "decided_by_id": user.id, "decided_at": now}
    if found is None:
        key = session.execute(insert(decisions).values(
            person_id=low, other_person_id=high, **said)).inserted_primary_key[0]
        snap.added.append({"table": decisions.name, "key": {"id": key}})
    elif not found["same"]:
        update_row(session, snap, decisions, dict(found), said)
    reviews = MatchReview.__table__
    for row in session.execute(select(reviews).where(
            reviews.c.person_id == low, reviews.c.other_person_id == high,
            reviews.c.status == "open")).mappings():
        update_row(session, snap, reviews, dict(row), {
            "status": "linked", "decided_by_id": user.id, "decided_at": now})


def _locked(session: Session, kind: str, ids: list[int]) -> dict[int, Any]:
    model = KINDS[kind]
    rows = session.exec(select_model(model).where(model.id.in_(ids)).order_by(model.id)
                        .with_for_update()).all()
    return {row.id: row for row in rows}


def merge_records(session: Session, *, user: User, kind: str, merged_id: int,
                  survivor_id: int, reason: str, note: str | None = None) -> RecordMerge:
    """Merge one record into another in the caller's transaction (both checked visible by
    the caller); audited with ids only."""
    found = _locked(session, kind, [merged_id, survivor_id])
    merged, survivor = found.get(merged_id), found.get(survivor_id)
    if merged is None or survivor is None:
        raise NotFound(f"No such {kind}.")
    if merged.merged_into_id is not None:
        raise Conflict(f"{kind.title()} {merged_id} was already merged into "
                       f"{merged.merged_into_id}.")
    if merged.profile_id != survivor.profile_id:
        raise AcrossProfiles(kind, merged, survivor)
    if survivor.merged_into_id is not None:
        raise ValidationFailed({"into": [
            f"{kind.title()} {survivor_id} was merged into {survivor.merged_into_id}: merge "
            "into that record instead."]})
    session.flush()
    now = utcnow()
    snap = Snapshot()
    move_references(session, snap, kind, merged_id, survivor_id)
    table = KINDS[kind].__table__
    current = session.execute(select(table).where(table.c.id == merged_id)).mappings().one()
    update_row(session, snap, table, dict(current),
                {"merged_into_id": survivor_id, "merged_at": now})
    if kind == "person":
        _record_pair(session, snap, user, merged_id, survivor_id, now)
    row = RecordMerge(kind=kind, merged_id=merged_id, survivor_id=survivor_id, reason=reason,
                      merged_by_id=user.id, merged_at=now, snapshot=snap.as_json(), note=note)
    session.add(row)
    session.flush()
    session.expire_all()
    audit.record(session, actor=user, action=f"{kind}.merge", object_type=kind,
                 object_id=merged_id, into=survivor_id, merge_id=row.id,
                 changed=len(snap.updated), removed=len(snap.removed))
    return session.get(RecordMerge, row.id)


# -- retention ----------------------------------------------------------------------------
def _tally(entries: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in entries:
        out[e["table"]] = out.get(e["table"], 0) + 1
    return out


def forget(session: Session, kind: str, record_id: int, *, now: datetime,
           reason: str) -> list[int]:
    """The retention schedule anonymised this record: every merge into or out of it keeps no
    personal data. The rows kept to undo it (removed rows whole, changed values) go, leaving
    how many of each table it changed and removed and when they went; the reasons given
    become `reason`. Such a merge can no longer be undone (undo_records says why). Returns
    the ids of the merges emptied."""
    rows = session.exec(select_model(RecordMerge).where(
        RecordMerge.kind == kind,
        or_(RecordMerge.merged_id == record_id, RecordMerge.survivor_id == record_id))).all()
    emptied = []
    for row in rows:
        snap = row.snapshot or {}
        if snap.get("anonymised_at"):
            continue
        row.snapshot = {"anonymised_at": now.isoformat(),
                        "changed": _tally(snap.get("updated", [])),
                        "removed": _tally(snap.get("removed", []))}
        row.reason = reason
        row.undo_reason = reason if row.undo_reason else None
        session.add(row)
        emptied.append(row.id)
    return emptied


# -- undoing ------------------------------------------------------------------------------
def _blockers(session: Session, merge: RecordMerge) -> list[str]:
    """What has changed since the merge that an undo would overwrite or cannot put back."""
    model = KINDS[merge.kind]
    survivor = session.get(model, merge.survivor_id)
    if survivor is not None and survivor.merged_into_id is not None:
        later = session.exec(select_model(RecordMerge.id).where(
            RecordMerge.kind == merge.kind, RecordMerge.merged_id == merge.survivor_id,
            RecordMerge.undone_at.is_(None))).first()
        return [f"{merge.kind.title()} {merge.survivor_id} has since been merged into "
                f"{survivor.merged_into_id} (merge {later}): undo that merge first."]
    problems = []
    for entry in merge.snapshot.get("updated", []):
        table = SQLModel.metadata.tables[entry["table"]]
        key = decode_row(table, entry["key"])
        current = session.execute(select(table).where(where(table, key))).mappings().first()
        described = ", ".join(f"{k} {v}" for k, v in entry["key"].items())
        if current is None:
            problems.append(f"The {table.name} row ({described}) the merge changed has since "
                            "been removed.")
            continue
        for column, value in entry["new"].items():
            if current[column] != decode(table.c[column], value):
                problems.append(f"The {table.name} row ({described}) has changed since the "
                                f"merge: its {column} is no longer what the merge set.")
    # Rows the merge added go first, so their places (an id SQLite gave again) are free.
    added = {(e["table"], tuple(sorted(e["key"].items())))
             for e in merge.snapshot.get("added", [])}
    for entry in merge.snapshot.get("removed", []):
        table = SQLModel.metadata.tables[entry["table"]]
        row = decode_row(table, entry["row"])
        for key in unique_keys(table):
            values = {k: row[k] for k in key}
            holders = session.execute(select(*table.primary_key.columns).where(
                where(table, values))).mappings().all() if None not in values.values() else []
            if any((table.name, tuple(sorted(encode_row(dict(h)).items()))) not in added
                   for h in holders):
                described = ", ".join(f"{k} {v}" for k, v in values.items())
                problems.append(f"A {table.name} row the merge removed ({described}) cannot "
                                "be put back: another row holds its place now.")
                break
    return problems


def undo_records(session: Session, *, user: User, merge: RecordMerge, reason: str) -> None:
    """Put back every row the merge changed or removed, in the caller's transaction."""
    if merge.undone_at is not None:
        raise Conflict(f"Merge {merge.id} was already undone.")
    anonymised = (merge.snapshot or {}).get("anonymised_at")
    if anonymised:
        problem = (f"The records it joined were anonymised by the retention schedule on "
                   f"{anonymised[:10]}, and what it would put back went with their personal "
                   "data.")
        raise Conflict(f"Merge {merge.id} cannot be undone: {problem}", problems=[problem])
    problems = _blockers(session, merge)
    if problems:
        raise Conflict(f"Merge {merge.id} cannot be undone: " + " ".join(problems),
                       problems=problems)
    session.flush()
    snap = merge.snapshot
    try:
        with session.begin_nested():
            for entry in snap.get("added", []):
                table = SQLModel.metadata.tables[entry["table"]]
                session.execute(delete(table).where(where(table, decode_row(
                    table, entry["key"]))))
            for entry in reversed(snap.get("updated", [])):
                table = SQLModel.metadata.tables[entry["table"]]
                session.execute(update(table).where(where(table, decode_row(
                    table, entry["key"]))).values(**decode_row(table, entry["old"])))
            for entry in snap.get("removed", []):
                table = SQLModel.metadata.tables[entry["table"]]
                session.execute(insert(table).values(**decode_row(table, entry["row"])))
    except IntegrityError:
        raise Conflict(f"Merge {merge.id} cannot be undone: rows added since the merge "
                       "would clash with the rows it put back.") from None
    merge.undone_at = utcnow()
    merge.undone_by_id = user.id
    merge.undo_reason = reason
    session.flush()
    session.expire_all()
    audit.record(session, actor=user, action=f"{merge.kind}.merge_undone",
                 object_type=merge.kind, object_id=merge.merged_id,
                 into=merge.survivor_id, merge_id=merge.id)


# -- the use cases ------------------------------------------------------------------------
def _load(schema, body: Any) -> dict:
    if not isinstance(body, dict):
        raise ValidationFailed({"_schema": ["The body must be a JSON object."]})
    try:
        return schema.load(body)
    except ValidationError as exc:
        raise ValidationFailed(flatten_errors(exc.messages)) from None


def _hidden_ids(session: Session, user: User, kind: str) -> frozenset[int]:
    hidden = visibility.hidden_for(session, user)
    return hidden.people if kind == "person" else hidden.households


def merge(rt: Runtime, *, user: User, kind: str, record_id: int, body: Any) -> dict[str, Any]:
    """Merge the record `record_id` into body["into"], with a reason (front door, managers,
    admins; both records must be visible to the user). A record of another profile is not
    found; merging into one is refused (AcrossProfiles)."""
    require(user, MERGE_RECORDS, f"merge {kind} records")
    data = _load(MergeInSchema(), body)
    with rt.db.unit_of_work() as session:
        hidden = _hidden_ids(session, user, kind)
        record = session.get(KINDS[kind], record_id) if 1 <= record_id <= MAX_ID else None
        if record is None or record.profile_id != rt.profile.id or record_id in hidden:
            audit.record(session, actor=user, action=f"{kind}.merge_refused",
                         object_type=kind, object_id=record_id)
            session.commit()
            raise NotFound(f"No such {kind}.")
        into = data["into"]
        if into == record_id:
            raise ValidationFailed({"into": ["A record cannot be merged into itself."]})
        target = session.get(KINDS[kind], into) if 1 <= into <= MAX_ID else None
        # Another council's record is no such record here (never "of another profile").
        if target is None or target.profile_id != rt.profile.id or into in hidden:
            raise ValidationFailed({"into": [f"No such {kind}."]})
        row = merge_records(session, user=user, kind=kind, merged_id=record_id,
                            survivor_id=into, reason=data["reason"])
        return describe(session, row)


def undo(rt: Runtime, *, user: User, merge_id: int, body: Any) -> dict[str, Any]:
    """Undo a merge, with a reason, if nothing since makes it impossible (else 409)."""
    require(user, MERGE_RECORDS, "undo merges")
    data = _load(ReasonInSchema(), body)
    with rt.db.unit_of_work() as session:
        row = _visible_merge(session, user, merge_id, rt.profile.id)
        undo_records(session, user=user, merge=row, reason=data["reason"])
        return describe(session, session.get(RecordMerge, merge_id))


def get_merge(rt: Runtime, *, user: User, merge_id: int) -> dict[str, Any]:
    require(user, MERGE_RECORDS, "see merges")
    with rt.db.unit_of_work() as session:
        row = _visible_merge(session, user, merge_id, rt.profile.id)
        audit.record(session, actor=user, action="merge.view", object_type=row.kind,
                     object_id=row.merged_id, merge_id=row.id)
        return describe(session, row)


def _visible_merge(session: Session, user: User, merge_id: int, profile_id: str
                   ) -> RecordMerge:
    """A merge the user may see: of this profile's records (both are of one profile), neither
    hidden from them. Any other is not found."""
    row = session.get(RecordMerge, merge_id) if 1 <= merge_id <= MAX_ID else None
    survivor = session.get(KINDS[row.kind], row.survivor_id) if row is not None else None
    if row is None or survivor is None or survivor.profile_id != profile_id \
            or {row.merged_id, row.survivor_id} & _hidden_ids(session, user, row.kind):
        raise NotFound("No such merge.")
    return row


def _name(session: Session, user_id: int | None) -> dict[str, Any] | None:
    if user_id is None:
        return None
    user = session.get(User, user_id)
    return {"id": user_id, "name": (user.name or user.email) if user else None}


def describe(session: Session, row: RecordMerge) -> dict[str, Any]:
    """A merge as the API answers it: ids, who, when, why, and how many rows it touched."""
    snap = row.snapshot or {}
    # Once retention has emptied the snapshot (forget), only its counts are left.
    changed = snap["changed"] if "anonymised_at" in snap else _tally(snap.get("updated", []))
    removed = snap["removed"] if "anonymised_at" in snap else _tally(snap.get("removed", []))
    return {"id": row.id, "kind": row.kind, "merged_id": row.merged_id,
            "survivor_id": row.survivor_id, "reason": row.reason, "note": row.note,
            "merged_at": row.merged_at, "merged_by": _name(session, row.merged_by_id),
            "undone_at": row.undone_at, "undone_by": _name(session, row.undone_by_id),
            "undo_reason": row.undo_reason,
            "changed": changed, "removed": removed}


def history(session: Session, kind: str, record_id: int) -> list[dict[str, Any]]:
    """Merges into or out of a record, oldest first, as its page shows them."""
    rows = session.exec(select_model(RecordMerge).where(
        RecordMerge.kind == kind,
        or_(RecordMerge.merged_id == record_id, RecordMerge.survivor_id == record_id))
        .order_by(RecordMerge.merged_at, RecordMerge.id)).all()
    return [describe(session, r) for r in rows]


def survivor_of(rt: Runtime, kind: str, record_id: int) -> int | None:
    """The record a merged one now lives in (following later merges), or None if not merged."""
    model = KINDS[kind]
    with rt.db.reader() as session:
        seen: set[int] = set()
        current = session.get(model, record_id)
        while current is not None and current.merged_into_id and current.id not in seen:
            seen.add(current.id)
            current = session.get(model, current.merged_into_id)
        return current.id if current is not None and seen else None
