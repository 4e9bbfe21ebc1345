"""Known people who may be the person a referral (or a search) describes: candidates come from
blocking keys stored with each person (triage/services/people/keys.py), each block one indexed
query bounded by the profile's `blocking.limit`, all in one statement; then every candidate is
scored field by field by the record-linkage scorer (triage/linkage/, the profile's
matching.yaml), and only those reaching a band are read as people."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import bindparam, func, or_, true, union
from sqlalchemy import select as core_select
from sqlmodel import Session, select

from config.matching import MatchingProfile
from triage.linkage import Match, Record, score
from triage.linkage.compare import name_parts, postcode_parts
from triage.models import Household, HouseholdMember, Person
from triage.services.people.keys import email_hash, phone_hash
from triage.services.people.names import name_key, sound_key
from triage.statements import Prepared, Row

CANDIDATES = 500  # each search query is bounded so a common surname cannot flood it
_PERSON = Person.__table__
_HOUSEHOLD = Household.__table__
_MEMBER = HouseholdMember.__table__


@dataclass
class Candidate:
    person: Person | Row
    match: Match
    postcode: str | None = None
    household_ids: list[int] = field(default_factory=list)


def people_where(session: Session, profile_id: str, *where) -> list[Person]:
    """At most CANDIDATES people recorded under this profile meeting `where`."""
    return list(session.exec(select(Person).where(Person.profile_id == profile_id, *where)
                             .limit(CANDIDATES)))


def by_name(session: Session, profile_id: str, given: str | None, family: str | None
            ) -> dict[int, Person]:
    """People under this profile whose names sound like these (either way round) or whose
    family name is this."""
    given, family = name_key(given), name_key(family)
    found: dict[int, Person] = {}
    pairs = [(given, family)] + ([(family, given)] if given else [])
    for g, f in pairs:
        if not f:
            continue
        where = [Person.family_name_sound == sound_key(f)]
        if g:
            where.append(Person.given_name_sound == sound_key(g))
        for p in people_where(session, profile_id, *where):
            found[p.id] = p
        for p in people_where(session, profile_id, Person.family_name_key == f):
            found[p.id] = p
    if given is None and family:
        # One word may be a given name ("Priya").
        for p in people_where(session, profile_id, Person.given_name_key == family):
            found[p.id] = p
    return found


def households_of(session: Session, person_ids: Collection[int]
                  ) -> dict[int, tuple[list[int], str | None]]:
    """Each person's households (newest membership first) and the newest one's postcode."""
    out: dict[int, tuple[list[int], str | None]] = {}
    if not person_ids:
        return out
    rows = session.exec(
        select(HouseholdMember.person_id, Household.id, Household.postcode)
        .join(Household, Household.id == HouseholdMember.household_id)
        .where(HouseholdMember.person_id.in_(list(person_ids)))
        .order_by(HouseholdMember.since.desc()))
    for person_id, household_id, postcode in rows:
        ids, first = out.get(person_id, ([], None))
        ids.append(household_id)
        out[person_id] = (ids, first or postcode)
    return out


def known_record(person: Person, postcode: str | None) -> Record:
    return Record(given_name=person.given_name, family_name=person.family_name,
                  date_of_birth=person.date_of_birth, postcode=postcode,
                  phone=person.phone_key or person.phone, email=person.email)


def _swapped(dob: date) -> date | None:
    try:
        return dob.replace(month=dob.day, day=dob.month) if dob.day != dob.month else None
    except ValueError:
        return None


def _given_sounds(given: str, matching: MatchingProfile) -> set[str]:
    """The sound of a given name and of each name it is a short or long form of."""
    names = {given}.union(*(g for g in matching.nicknames if given in g))
    return {k for k in map(sound_key, names) if k}


def _tail(sound: str | None) -> str | None:
    """A sound key without its first letter: "Katie" and "Catie" share it."""
    return sound[1:] if sound and len(sound) > 1 else None


@dataclass(frozen=True)
class Shape:
    """Which blocks a typed record has (what it gives), and the sizes of its lists: one
    candidate statement is compiled per shape and run with the record's values."""
    given: bool
    family: bool
    dob: bool
    sounds: int  # the given name's sound keys (with its nicknames'), padded to a power of 2
    keys: int  # the family name's folded keys (and its parts'), padded likewise
    tail: bool
    trigrams: bool
    phone: bool
    email: bool
    unit: bool
    limit: int


def _padded(prefix: str, values: list, params: dict) -> int:
    """`values` as binds prefix0..prefixN-1, padded with NULLs (which match nothing) to a
    power of two, so that a few statements serve every length."""
    size = 1
    while size < len(values):
        size *= 2
    for i in range(size):
        params[f"{prefix}{i}"] = values[i] if i < len(values) else None
    return size


def shape_of(typed: Record, matching: MatchingProfile, *, trigrams: bool, profile_id: str
             ) -> tuple[Shape, dict]:
    """The shape of the candidate statement for `typed`, and its bind values."""
    given, family = name_key(typed.given_name), name_key(typed.family_name)
    dob = typed.date_of_birth
    family_sound = sound_key(family)
    params: dict = {"profile": profile_id, "given": given, "family": family,
                    "family_sound": family_sound, "given_sound": sound_key(given),
                    "tail": _tail(family_sound), "year": dob.year if dob else None,
                    # d1 repeats d0 when day and month cannot swap: a NULL in its place
                    # would give the statement other parameter types, and psycopg prepares
                    # (and PostgreSQL keeps a generic plan for) each set of types apart.
                    "d0": dob, "d1": (_swapped(dob) or dob) if dob else None,
                    "similarity": matching.blocking.trigram_similarity}
    sounds = _padded("s", sorted(_given_sounds(given, matching)) if given else [], params)
    keys = _padded("k", sorted({family} | set(name_parts(typed.family_name))) if family
                   else [], params)
    phone = phone_hash(typed.phone) if typed.phone else None
    email = email_hash(typed.email) if typed.email else None
    unit = postcode_parts(typed.postcode)
    params.update(phone_hash=phone, email_hash=email, unit=unit[0] if unit else None)
    shape = Shape(given=bool(given), family=bool(family), dob=dob is not None, sounds=sounds,
                  keys=keys, tail=params["tail"] is not None, trigrams=trigrams and bool(family),
                  phone=phone is not None, email=email is not None,
                  unit=unit is not None and (dob is not None or bool(family)),
                  limit=matching.blocking.limit)
    return shape, params


def blocks(shape: Shape) -> list:
    """The blocking queries of a shape: each selects the ids of people recorded under the
    profile (bind `profile`) through one index, at most `limit` of them (the profile is part
    of each block, so another profile's people never take a block's places). A block read
    through a broad key (a date of birth, a given name and year) keeps only people whose names
    or date could still let the pair reach a band, so a common name or birthday does not fill
    it with strangers. Trigram similarity (PostgreSQL's pg_trgm) only when `shape.trigrams`."""
    limit, b, p = shape.limit, bindparam, _PERSON.c
    out = []

    def block(*where, column=p.id, order=None, size=limit) -> None:
        query = core_select(column.label("id")).where(p.profile_id == b("profile"), *where)
        out.append((query.order_by(order) if order is not None else query).limit(size))

    dates = p.date_of_birth.in_([b("d0"), b("d1")])
    sounds = p.given_name_sound.in_([b(f"s{i}") for i in range(shape.sounds)])
    keys = p.family_name_key.in_([b(f"k{i}") for i in range(shape.keys)])
    # The family name sounds like, or is, the one typed, or the two names are the other way
    # round: what, beside the given name, the date or the contacts, can lift a pair to a band.
    family_near = []
    if shape.family:
        family_near += [p.family_name_sound == b("family_sound"), keys]
        if shape.tail:
            family_near.append(func.substr(p.family_name_sound, 2) == b("tail"))
    if shape.given and shape.family:
        family_near += [p.family_name_sound == b("given_sound"),
                        p.given_name_sound == b("family_sound")]
    # ... or else the given name sounds like the one typed.
    names_near = family_near + ([sounds] if shape.given else [])
    if shape.given and shape.family:
        for pair in ((p.family_name_sound == b("family_sound"), sounds),
                     (p.family_name_sound == b("given_sound"),
                      p.given_name_sound == b("family_sound"))):
            if shape.dob:
                # The same names score a band whatever the date of birth: those born nearest
                # the year typed, a few either side (a year typed one digit out is still near).
                nearest = max(limit // 5, 1)
                block(*pair, p.birth_year >= b("year"), order=p.birth_year.asc(), size=nearest)
                block(*pair, p.birth_year < b("year"), order=p.birth_year.desc(), size=nearest)
            else:
                block(*pair)
    elif shape.family:
        block(p.family_name_sound == b("family_sound"))
    if shape.family and shape.dob:
        block(keys, dates)
    elif shape.family:
        block(keys)
    # Family names alike by trigrams (pg_trgm): `%` reads the trigram index (at pg_trgm's own
    # threshold, 0.3 unless set) and similarity() holds it to the profile's. With a date of
    # birth it filters the given name and year block instead of reading on its own.
    alike = (p.family_name_key.bool_op("%")(b("family"))
             & (func.similarity(p.family_name_key, b("family")) >= b("similarity"))
             ) if shape.trigrams else None
    if shape.trigrams and not shape.dob and shape.given:
        # No date of birth: the same given name and a family name one letter dropped, added,
        # changed or two swapped ("Cowalski" for "Kowalski"), by the deletion-neighbourhood
        # keys of migration 0025 (GIN), the exact family name left to the other blocks.
        near = func.name_near_keys(p.given_name_key, p.family_name_key)
        block(near.op("&&")(func.name_near_keys(b("given"), b("family"))),
              p.family_name_key != b("family"))
    elif alike is not None and not shape.dob:
        block(alike, p.family_name_key != b("family"))
    if shape.given and shape.dob:
        block(p.given_name_key == b("given"), p.birth_year == b("year"),
              or_(dates, *family_near, *([alike] if alike is not None else []))
              if shape.family else true())
    elif shape.given and not shape.family:
        block(p.given_name_key == b("given"))
    if shape.dob:
        block(dates, p.anonymised_at.is_(None), or_(*names_near) if names_near else true())
    if shape.phone:
        block(p.phone_hash == b("phone_hash"))
    if shape.email:
        block(p.email_hash == b("email_hash"))
    if shape.unit:
        # At the postcode typed: of the year of birth typed or, with none, of a family name
        # that sounds the same (a common name's other blocks fill before reaching them).
        block(_HOUSEHOLD.c.postcode == b("unit"),
              p.birth_year == b("year") if shape.dob
              else p.family_name_sound == b("family_sound"),
              _MEMBER.c.household_id == _HOUSEHOLD.c.id, _PERSON.c.id == _MEMBER.c.person_id,
              column=_MEMBER.c.person_id)
    return out


def candidate_statement(shape: Shape):
    """Every live person the shape's blocks find (one statement, the blocks' union), once per
    household they belong to, newest membership first (a person with none once, without):
    the newest household's postcode is what scoring reads, and the rest of the person and
    their households are kept for those banded, so one round trip reads them all."""
    ids = union(*[core_select(q.subquery().c.id) for q in blocks(shape)]).subquery()
    homes = _PERSON.outerjoin(_MEMBER, _MEMBER.c.person_id == _PERSON.c.id).outerjoin(
        _HOUSEHOLD, _HOUSEHOLD.c.id == _MEMBER.c.household_id)
    return (core_select(_PERSON, _MEMBER.c.household_id, _HOUSEHOLD.c.postcode)
            .select_from(homes)
            .where(_PERSON.c.id.in_(core_select(ids.c.id)), _PERSON.c.anonymised_at.is_(None),
                   _PERSON.c.merged_into_id.is_(None))
            .order_by(_PERSON.c.id, _MEMBER.c.since.desc(), _MEMBER.c.household_id.desc()))


# One compiled statement per shape (and database), run on the driver's cursor: building and
# compiling the union anew cost more than running it.
_STATEMENTS: dict[Shape, Prepared] = {}
_COLUMNS = tuple(c.name for c in _PERSON.columns)


def _prepared(shape: Shape) -> Prepared:
    found = _STATEMENTS.get(shape)
    if found is None:
        found = _STATEMENTS.setdefault(shape, Prepared(lambda: candidate_statement(shape)))
    return found


def find_candidates(session: Session, typed: Record, matching: MatchingProfile, *,
                    profile_id: str, exclude: Collection[int] = ()) -> list[Candidate]:
    """Known people recorded under this profile who may be `typed`, best first; only those
    reaching a band (exact, likely or possible). Anonymised people and merged records are
    never candidates."""
    trigrams = session.get_bind().dialect.name == "postgresql"
    shape, params = shape_of(typed, matching, trigrams=trigrams, profile_id=profile_id)
    if not (shape.given or shape.family or shape.dob or shape.phone or shape.email):
        return []
    excluded = set(exclude)
    read: dict[int, tuple[Any, list[int]]] = {}  # id: (row with the newest postcode, homes)
    for row in _prepared(shape).records(session, params):
        if row.id in excluded:
            continue
        _, homes = read.setdefault(row.id, (row, []))
        if row.household_id is not None:
            homes.append(row.household_id)
    scored = []
    for row, homes in read.values():
        known = Record(given_name=row.given_name, family_name=row.family_name,
                       date_of_birth=row.date_of_birth, postcode=row.postcode,
                       phone=row.phone_key or row.phone, email=row.email)
        match = score(typed, known, matching)
        if match.band is not None:
            # A plain row, as the exact match gives (a model instance costs more than the
            # scoring; nothing here is written back through the ORM).
            person = Row(**{name: getattr(row, name) for name in _COLUMNS})
            scored.append(Candidate(person, match, row.postcode, homes))
    scored.sort(key=lambda c: (-c.match.score, c.person.id))
    return scored


__all__ = ["CANDIDATES", "Candidate", "Shape", "blocks", "by_name", "candidate_statement",
           "find_candidates", "households_of", "known_record", "people_where", "shape_of"]
