"""Prepared statements on the driver's cursor: rows written there read back through the ORM
exactly as the ORM writes them, on SQLite and on PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from tests.conftest import kill_connections, psycopg_commands
from triage.db import Database
from triage.models import AuditEvent, Household, HouseholdMember, OutboxMessage, Person
from triage.statements import (
    BySize,
    Prepared,
    Row,
    in_list,
    insert_rows,
    new_row,
    new_rows,
    next_key,
    next_keys,
)

P = "leicestershire"  # every person and household is recorded under a profile
both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


@both_databases
def test_a_new_row_reads_back_through_the_orm_with_its_types(db):
    at = datetime(2026, 3, 1, 9, 30, 0, 0, tzinfo=UTC)  # no microseconds: SQLite's format
    with db.unit_of_work() as session:
        person = new_row(session, Person, profile_id=P, given_name="Zoë", family_name="O'Neil",
                         given_name_key="zoe", family_name_key="oneil",
                         date_of_birth=date(2015, 2, 28), created_at=at)
        message = new_row(session, OutboxMessage, topic="t",
                          payload={"nested": [1, "two", None, {"x": True}]})
    assert isinstance(person, Row) and person.id is not None and message.id is not None
    with db.reader() as session:
        stored = session.get(Person, person.id)
        sent = session.get(OutboxMessage, message.id)
    assert (stored.given_name, stored.family_name) == ("Zoë", "O'Neil")
    assert stored.date_of_birth == date(2015, 2, 28)
    assert stored.created_at == at and stored.created_at.tzinfo is not None
    assert sent.payload == {"nested": [1, "two", None, {"x": True}]}
    # The model's defaults were filled in, as the ORM would have.
    assert (sent.status, sent.attempts, sent.dispatched_at) == ("pending", 0, None)
    assert abs(sent.created_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert (message.status, message.attempts) == ("pending", 0)


@both_databases
def test_many_rows_in_one_call_keep_their_order_and_keys(db):
    with db.unit_of_work() as session:
        people = new_rows(session, Person, [
            {"profile_id": P, "given_name": f"P{i}", "date_of_birth": date(2000, 1, 1 + i)}
            for i in range(5)])
        household = new_row(session, Household, profile_id=P, postcode="LE13 0AB", sector="LE13 0")
        # 100 rows of a table without a generated key: chunks of 64, 32 and 4.
        new_rows(session, AuditEvent, [
            {"action": "a", "object_type": "o", "object_id": str(i)} for i in range(100)],
            ids=False)
        new_rows(session, HouseholdMember, [
            {"household_id": household.id, "person_id": p.id} for p in people])
    assert [p.given_name for p in people] == [f"P{i}" for i in range(5)]
    with db.reader() as session:
        by_id = {p.id: p.given_name for p in session.exec(select(Person)).scalars()}
        audited = sorted(int(a) for a in session.exec(select(AuditEvent.object_id)).scalars())
        members = session.exec(select(HouseholdMember.person_id)).scalars().all()
    assert {p.id: p.given_name for p in people} == by_id
    assert audited == list(range(100))
    assert sorted(members) == sorted(p.id for p in people)


@both_databases
def test_a_failed_insert_raises_sqlalchemy_s_error_and_leaves_nothing(db):
    with pytest.raises(IntegrityError), db.unit_of_work() as session:
        new_row(session, Household, profile_id=P, postcode="LE13 0AB", sector="LE13 0")
        new_rows(session, HouseholdMember, [{"household_id": 999_999, "person_id": 999_999}])
    with db.reader() as session:
        assert session.exec(select(Household)).first() is None


def test_a_missing_required_value_is_named():
    with pytest.raises(TypeError, match="person: no value for date_of_birth"):
        new_row(Session(), Person, profile_id=P, given_name="No birthday")


@both_databases
def test_selects_convert_results_and_in_lists_pad_with_nulls(db):
    table = Person.__table__
    by_ids = BySize(lambda n: select(table.c.id, table.c.date_of_birth)
                    .where(table.c.id.in_([bindparam(f"i{k}") for k in range(n)]))
                    .order_by(table.c.id))
    with db.unit_of_work() as session:
        people = new_rows(session, Person, [
            {"profile_id": P, "given_name": "A", "date_of_birth": date(2010, 5, 6)},
            {"profile_id": P, "given_name": "B", "date_of_birth": date(2011, 7, 8)},
            {"profile_id": P, "given_name": "C", "date_of_birth": date(2012, 9, 10)}])
        size, params = in_list("i", [p.id for p in people])
        assert size == 4 and params["i3"] is None
        found = by_ids[size].records(session, params)
    assert [(r.id, r.date_of_birth) for r in found] == [(p.id, p.date_of_birth) for p in people]
    assert isinstance(found[0].date_of_birth, date)


def test_a_statement_that_expands_lists_per_call_is_refused(db):
    table = Person.__table__
    expanding = Prepared(lambda: select(table.c.id).where(table.c.id.in_([1, 2])))
    with db.reader() as session, pytest.raises(ValueError, match="BySize"):
        expanding.rows(session)


@both_databases
def test_insert_rows_sets_the_keys_of_model_instances(db):
    with db.unit_of_work() as session:
        first = Person(profile_id=P, date_of_birth=date(2001, 1, 1))
        second = Person(profile_id=P, date_of_birth=date(2002, 1, 1))
        insert_rows(session, [first, second])
    with db.reader() as session:
        assert session.get(Person, first.id).date_of_birth == date(2001, 1, 1)
        assert session.get(Person, second.id).date_of_birth == date(2002, 1, 1)
    with pytest.raises(ValueError, match="generated"), db.unit_of_work() as session:
        insert_rows(session, [Person(id=5, profile_id=P, date_of_birth=date(2001, 1, 1))])


@both_databases
def test_after_a_commit_the_next_statement_uses_the_new_transaction(db):
    """The cached connection is dropped when a transaction ends: a session that commits and
    goes on writes through its new transaction, not the finished one."""
    with db.unit_of_work() as session:
        new_row(session, Household, profile_id=P, postcode="LE1 1AA", sector="LE1 1")
        session.commit()
        new_row(session, Household, profile_id=P, postcode="LE1 1AB", sector="LE1 1")
        session.rollback()
        new_row(session, Household, profile_id=P, postcode="LE1 1AC", sector="LE1 1")
    with db.reader() as session:
        stored = sorted(session.exec(select(Household.postcode)).scalars())
    assert stored == ["LE1 1AA", "LE1 1AC"]


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_pooled_connection_that_died_while_idle_is_replaced_before_use(database_url):
    """The server dropped the connection while it sat in the pool (a restart, an idle
    timeout): the checkout ping finds it dead and the transaction runs on a new one."""
    db = Database(database_url, ping_after_idle_seconds=0.05)
    try:
        with db.unit_of_work() as session:
            new_row(session, Household, profile_id=P, postcode="LE1 1AA", sector="LE1 1")
        assert kill_connections(database_url) >= 1
        time.sleep(0.2)
        with db.unit_of_work() as session:
            new_row(session, Household, profile_id=P, postcode="LE1 1AB", sector="LE1 1")
        with db.reader() as session:
            stored = sorted(session.exec(select(Household.postcode)).scalars())
        assert stored == ["LE1 1AA", "LE1 1AB"]
    finally:
        db.dispose()


@both_databases
def test_a_key_taken_beforehand_is_used_and_never_handed_out_again(db):
    with db.unit_of_work() as session:
        key = next_key(session, Household)
        taken = new_row(session, Household, id=key, profile_id=P, postcode="LE1 1AA",
                        sector="LE1 1")
        after = new_row(session, Household, profile_id=P, postcode="LE1 1AB", sector="LE1 1")
        again = next_key(session, Household)
    assert taken.id == key and after.id > key and again > after.id
    with db.reader() as session:
        assert session.get(Household, key).postcode == "LE1 1AA"


@both_databases
def test_keys_of_several_tables_taken_at_once_let_rows_that_refer_to_each_other_go_in(db):
    """A household, its two new members and their memberships, keys taken in one call:
    every row is written once and the references between them hold."""
    with db.unit_of_work() as session:
        keys = next_keys(session, {Person: 2, Household: 1, OutboxMessage: 0})
        assert keys[OutboxMessage] == [] and len(set(keys[Person])) == 2
        people = new_rows(session, Person, [
            {"id": key, "profile_id": P, "given_name": name, "date_of_birth": date(2012, 5, 1)}
            for key, name in zip(keys[Person], ("Ada", "Bo"), strict=True)])
        home = new_row(session, Household, id=keys[Household][0], profile_id=P, postcode="LE1 1AA",
                       sector="LE1 1")
        new_rows(session, HouseholdMember, [{"household_id": home.id, "person_id": p.id}
                                            for p in people])
        later = new_row(session, Person, profile_id=P, given_name="Cy",
                        date_of_birth=date(2013, 1, 1))
    assert [p.id for p in people] == keys[Person] and home.id == keys[Household][0]
    assert later.id not in keys[Person]
    with db.reader() as session:
        members = session.exec(select(HouseholdMember.person_id).where(
            HouseholdMember.household_id == home.id)).scalars().all()
        assert sorted(members) == sorted(keys[Person])
        assert session.get(Person, keys[Person][1]).given_name == "Bo"
    with db.unit_of_work() as session:  # never handed out again
        again = next_keys(session, {Person: 1, Household: 1})
    assert again[Person][0] > max(keys[Person] + [later.id])
    assert again[Household][0] > home.id


@both_databases
def test_writes_that_wait_are_seen_by_every_later_read_in_the_transaction(db):
    """On PostgreSQL a write nobody reads the result of waits to go in with the next
    INSERT; any read of its table, by the ORM or a prepared SELECT, finds it first."""
    people = Person.__table__
    by_name = Prepared(lambda: select(people.c.id).where(
        people.c.given_name == bindparam("name")))
    with db.unit_of_work() as session:
        household = new_row(session, Household, profile_id=P, postcode="LE1 1AA", sector="LE1 1")
        new_rows(session, AuditEvent, [{"action": "a", "object_type": "o", "object_id": "1"}],
                 ids=False)
        assert session.exec(select(AuditEvent.object_id)).scalars().all() == ["1"]
        new_rows(session, Person, [{"profile_id": P, "given_name": "Waits",
                                   "date_of_birth": date(2001, 1, 1)}], ids=False)
        assert len(by_name.rows(session, {"name": "Waits"})) == 1
        # Waits for the next INSERT, which checks its foreign keys once both are in.
        new_rows(session, AuditEvent, [{"action": "b", "object_type": "o", "object_id": "2"}],
                 ids=False)
        person = new_row(session, Person, profile_id=P, given_name="Next",
                         date_of_birth=date(2002, 2, 2))
        new_rows(session, HouseholdMember, [{"household_id": household.id,
                                            "person_id": person.id}])
    with db.reader() as session:
        assert sorted(session.exec(select(AuditEvent.object_id)).scalars()) == ["1", "2"]
        assert session.exec(select(HouseholdMember.person_id)).scalars().all() == [person.id]


@both_databases
def test_a_bad_write_that_waited_fails_the_transaction_and_a_rollback_drops_the_rest(db):
    with pytest.raises(IntegrityError), db.unit_of_work() as session:
        new_rows(session, HouseholdMember, [{"household_id": 404, "person_id": 404}])
        new_row(session, Household, profile_id=P, postcode="LE1 1AA", sector="LE1 1")
    with db.unit_of_work() as session:
        new_rows(session, AuditEvent, [{"action": "dropped", "object_type": "o",
                                        "object_id": "1"}], ids=False)
        session.rollback()
        new_row(session, Household, profile_id=P, postcode="LE1 1AB", sector="LE1 1")
    with db.reader() as session:
        assert session.exec(select(AuditEvent)).first() is None
        assert session.exec(select(Household.postcode)).scalars().all() == ["LE1 1AB"]


# -- beginning late (PostgreSQL) --------------------------------------------------------------
on_postgres = pytest.mark.parametrize("backend", ["postgres"], indirect=True)
_PEOPLE_NAMED = Prepared(lambda: select(Person.__table__.c.id).where(
    Person.__table__.c.given_name == bindparam("name")))
_PEOPLE_LOCKED = Prepared(lambda: select(Person.__table__.c.id).where(
    Person.__table__.c.id == bindparam("id")).with_for_update())


@pytest.fixture
def commands(db):
    """Every BEGIN, COMMIT and ROLLBACK psycopg sends during the test."""
    with db.reader() as session:  # the first connection's set-up is not the test's
        session.exec(select(Person.id)).all()
    with psycopg_commands() as sent:
        yield sent


@on_postgres
def test_reads_then_writes_that_all_wait_go_as_one_statement_without_begin_or_commit(
        db, commands):
    with db.unit_of_work() as session:
        assert _PEOPLE_NAMED.rows(session, {"name": "Nobody"}) == []
        keys = next_keys(session, {Person: 1, Household: 1})
        new_row(session, Person, id=keys[Person][0], profile_id=P, given_name="Ada",
                date_of_birth=date(2012, 5, 1))
        new_row(session, Household, id=keys[Household][0], profile_id=P, postcode="LE1 1AA",
                sector="LE1 1")
        new_rows(session, HouseholdMember, [{"household_id": keys[Household][0],
                                            "person_id": keys[Person][0]}])
    assert commands == []  # five statements, no BEGIN and no COMMIT
    with db.reader() as session:
        assert session.exec(select(HouseholdMember.person_id)).scalars().all() == keys[Person]


@on_postgres
def test_the_one_statement_fails_whole_and_the_connection_goes_back_as_it_came(db, commands):
    with pytest.raises(IntegrityError), db.unit_of_work() as session:
        _PEOPLE_NAMED.rows(session, {"name": "Nobody"})
        new_row(session, Household, id=next_key(session, Household), profile_id=P,
                postcode="LE1 1AA", sector="LE1 1")
        new_rows(session, HouseholdMember, [{"household_id": 404, "person_id": 404}])
    assert commands == []
    with db.reader() as session:
        assert session.exec(select(Household)).first() is None  # nothing half-saved
    # The pooled connection is out of autocommit again: an ORM write is rolled back whole.
    commands.clear()
    with pytest.raises(RuntimeError), db.unit_of_work() as session:
        session.add(Household(profile_id=P, postcode="LE1 1AB", sector="LE1 1"))
        session.flush()
        raise RuntimeError("after the write")
    assert commands == ["BEGIN", "ROLLBACK"]
    with db.reader() as session:
        assert session.exec(select(Household)).first() is None


@on_postgres
def test_a_write_before_the_last_begins_the_transaction_and_a_failure_undoes_it(db, commands):
    """A write run at once (here: an INSERT whose key is read back) begins the transaction,
    so a later failure rolls it back with everything else."""
    with pytest.raises(IntegrityError), db.unit_of_work() as session:
        _PEOPLE_NAMED.rows(session, {"name": "Nobody"})  # a read: outside the transaction
        new_row(session, Person, profile_id=P, given_name="Kept?", date_of_birth=date(2001, 1, 1))
        new_rows(session, HouseholdMember, [{"household_id": 404, "person_id": 404}])
    assert commands == ["BEGIN", "ROLLBACK"]
    with db.reader() as session:
        assert session.exec(select(Person)).first() is None


@on_postgres
def test_a_locking_read_begins_the_transaction_and_holds_its_lock_until_commit(db, commands):
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    with db.unit_of_work() as session:
        person = new_row(session, Person, profile_id=P, given_name="Locked",
                         date_of_birth=date(2001, 1, 1))
    other = create_engine(db.url)
    with other.connect() as conn:  # its first connection's set-up is not the test's
        conn.execute(text("SELECT 1"))
    commands.clear()
    try:
        with db.unit_of_work() as session:
            assert _PEOPLE_LOCKED.rows(session, {"id": person.id}) == [(person.id,)]
            with other.connect() as conn, pytest.raises(OperationalError):
                conn.execute(text("SELECT id FROM person WHERE id = :id FOR UPDATE NOWAIT"),
                             {"id": person.id})
            assert commands == ["BEGIN", "BEGIN", "ROLLBACK"]  # this session's, the other's
            commands.clear()
            # An ORM statement after it runs in the same transaction.
            session.exec(select(Person.id)).all()
    finally:
        other.dispose()
    assert commands == ["COMMIT"]


@on_postgres
def test_an_orm_statement_first_begins_the_transaction_as_before(db, commands):
    with db.unit_of_work() as session:
        session.add(Household(profile_id=P, postcode="LE1 1AA", sector="LE1 1"))
        session.flush()
        assert _PEOPLE_NAMED.rows(session, {"name": "Nobody"}) == []
    assert commands == ["BEGIN", "COMMIT"]


@on_postgres
def test_a_read_that_carries_waiting_writes_begins_the_transaction(db, commands):
    """A SELECT of other tables takes the waiting writes with it as WITH parts: it writes, so
    it runs in the transaction and a failure after it undoes them."""
    with pytest.raises(IntegrityError), db.unit_of_work() as session:
        new_rows(session, AuditEvent, [{"action": "a", "object_type": "o", "object_id": "1"}],
                 ids=False)
        assert _PEOPLE_NAMED.rows(session, {"name": "Nobody"}) == []  # carries the audit row
        new_row(session, Person, profile_id=P, given_name="Kept?", date_of_birth=date(2001, 1, 1))
        new_rows(session, HouseholdMember, [{"household_id": 404, "person_id": 404}])
    assert commands == ["BEGIN", "ROLLBACK"]
    with db.reader() as session:
        assert session.exec(select(AuditEvent)).first() is None
        assert session.exec(select(Person)).first() is None
