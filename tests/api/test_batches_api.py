"""Partners' batches (POST /api/v1/referrals/batch): JSON or a CSV file from a spreadsheet;
every problem of every row named; all recorded, each as if sent alone, or none."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from triage.models import BatchFingerprint, OutboxMessage, Person, Referral, ReferralPerson

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
URL = "/api/v1/referrals/batch"


def count(rt, model) -> int:
    with rt.db.reader() as session:
        return session.exec(select(func.count()).select_from(model)).scalar_one()


NAMES = ["Amy", "Ben", "Cal", "Dee", "Eve", "Fay"]  # names match on letters only


def family(n: int, **changes) -> dict:
    body = {
        "channel": "partner", "postcode": "LE11 1AB", "consent": "given",
        "people": [
            {"ref": "c1", "role": "subject", "given_name": NAMES[n], "family_name": "Ward",
             "date_of_birth": "2015-05-05"},
            {"ref": "p1", "role": "household", "relationship": "mother",
             "given_name": f"Mum {NAMES[n]}", "family_name": "Ward",
             "date_of_birth": "1985-01-01"},
        ],
        "answers": {"school_attendance_concern": True, "child_behaviour_concern": True},
        "concerns": "Fire safety visit: the children are often home alone.",
    }
    body.update(changes)
    return body


@both_databases
def test_a_batch_is_recorded_whole_each_referral_as_if_sent_alone(client, auth, rt):
    headers = auth("partner")
    batch = {"referrals": [family(1), family(2, postcode="LE13 0AB"), family(1)]}
    response = client.post(URL, json=batch, headers=headers)
    assert response.status_code == 201, response.json
    assert response.json["count"] == 3
    references = [r["reference"] for r in response.json["referrals"]]
    assert len(set(references)) == 3 and all(r.startswith("EH-") for r in references)
    assert [r["status"] for r in response.json["referrals"]] == ["routed"] * 3
    for reference in references:  # each readable alone, with its decision and cases
        one = client.get(f"/api/v1/referrals/{reference}", headers=headers).json
        assert one["decision"]["level"] >= 2 and one["cases"]
    assert count(rt, Referral) == 3
    # The third row is the first family again: matched within the batch, not duplicated.
    assert count(rt, Person) == 4
    with rt.db.reader() as session:
        matched = session.exec(select(ReferralPerson.matched).join(
            Referral, Referral.id == ReferralPerson.referral_id).where(
            Referral.reference == references[2])).scalars().all()
    assert matched == [True, True]
    # A partner's referrals carry its organisation, whatever the rows say.
    assert {r["referrer"]["organisation"] for r in response.json["referrals"]} == {
        "Leicestershire Fire and Rescue Service"}


@both_databases
def test_a_batch_with_bad_referrals_names_every_problem_and_records_nothing(
        client, auth, rt):
    bad_date = family(2)
    bad_date["people"][0]["date_of_birth"] = "2015-02-30"
    unknown = family(4, answers={"no_such_question": True})
    batch = {"referrals": [family(1), bad_date, family(3), unknown]}
    response = client.post(URL, json=batch, headers=auth("partner"))
    assert response.status_code == 422
    assert response.json["message"].startswith("2 of the 4 referrals in this batch have "
                                                "problems")
    assert "Nothing was recorded" in response.json["message"]
    assert set(response.json["errors"]) == {"referrals.1.people.0.date_of_birth",
                                           "referrals.3.answers.no_such_question"}
    assert (count(rt, Referral), count(rt, Person), count(rt, OutboxMessage)) == (0, 0, 0)


def test_a_batch_failing_while_it_is_written_leaves_nothing(client, auth, rt, monkeypatch):
    from triage.services.referrals import intake

    written = []
    real = intake.record_referral

    def fails_at_the_third(*args, **kwargs):
        if len(written) == 2:
            raise RuntimeError("the server fell over mid-batch")
        written.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(intake, "record_referral", fails_at_the_third)
    response = client.post(URL, json={"referrals": [family(n) for n in range(4)]},
                           headers=auth("partner"))
    assert response.status_code == 500 and written == [1, 1]
    assert (count(rt, Referral), count(rt, Person), count(rt, OutboxMessage)) == (0, 0, 0)


@both_databases
def test_sending_the_same_batch_again_with_its_key_records_it_once(client, auth, rt):
    headers = {**auth("partner"), "Idempotency-Key": "fire-week-47"}
    batch = {"referrals": [family(1), family(2)]}
    first = client.post(URL, json=batch, headers=headers)
    again = client.post(URL, json=batch, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and count(rt, Referral) == 2
    changed = client.post(URL, json={"referrals": [family(3)]}, headers=headers)
    assert changed.status_code == 422 and "Idempotency-Key" in changed.json["errors"]


@pytest.mark.parametrize(("body", "where", "says"), [
    ([family(1)], "_schema", '{"referrals": [referral, ...]}'),
    ({"referrals": [], }, "referrals", "at least one"),
    ({"referrals": family(1)}, "referrals", "at least one"),
    ({"referrals": [family(1)], "extra": 1}, "_schema", "nothing else"),
    ({"referrals": [family(n) for n in range(4)]}, "referrals", "at most 3"),
])
def test_a_batch_of_the_wrong_shape_is_refused_clearly(app, auth, rt, body, where, says):
    from dataclasses import replace

    rt.settings = replace(rt.settings, max_batch_referrals=3)
    response = app.test_client().post(URL, json=body, headers=auth("partner"))
    assert response.status_code == 422
    assert says in " ".join(response.json["errors"][where])
    assert count(rt, Referral) == 0


# -- CSV ------------------------------------------------------------------------------------
def csv_file(rt, rows: list[dict], heading: list[str] | None = None) -> bytes:
    from triage.schemas.batch_csv import columns

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=heading or columns(rt.profile), restval="")
    writer.writeheader()
    for row in rows:
        if row:
            writer.writerow(row)
        else:
            out.write("\r\n")  # a blank line, as spreadsheets leave
    return out.getvalue().encode()


def row(n: int, **changes) -> dict:
    values = {"postcode": "le11 1ab", "consent": "Given", "subject_given_name": NAMES[n],
              "subject_family_name": "Ward", "subject_date_of_birth": "05/05/2015",
              "member1_relationship": "mother", "member1_given_name": f"Mum {NAMES[n]}",
              "member1_family_name": "Ward", "member1_date_of_birth": "1985-01-01",
              "school_attendance_concern": "yes", "child_behaviour_concern": "Y",
              "falls_risk": "no", "concerns": "Seen on a safe and well visit, 3 May."}
    values.update(changes)
    return values


def test_the_template_has_a_column_for_every_question_of_the_checklist(client, auth, rt):
    response = client.get(f"{URL}/template.csv", headers=auth("partner"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    heading = next(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert {"postcode", "consent", "subject_date_of_birth"} <= set(heading)
    questions = [h for h in heading if h in rt.profile.checklist.questions]
    assert len(questions) == 42 == len(rt.profile.checklist.questions)
    assert client.get(f"{URL}/template.csv").status_code == 401


@both_databases
def test_a_csv_batch_from_a_spreadsheet_is_recorded_with_each_row_numbered(client, auth, rt):
    data = b"\xef\xbb\xbf" + csv_file(rt, [row(1), {}, row(2, member1_given_name=""),
                                           row(3, information_only="no")])
    response = client.post(URL, data=data, headers={**auth("partner"),
                                                    "Content-Type": "text/csv"})
    assert response.status_code == 201, response.json
    assert [r["row"] for r in response.json["referrals"]] == [2, 4, 5]
    reference = response.json["referrals"][0]["reference"]
    with rt.db.reader() as session:
        stored = session.exec(select(Referral).where(
            Referral.reference == reference)).scalar_one()
    assert stored.postcode == "LE11 1AB" and stored.consent == "given"
    assert stored.channel == "partner"
    # yes/no/blank became true/false/not known; the UK date was read as day/month.
    assert stored.answers == {"school_attendance_concern": True,
                              "child_behaviour_concern": True, "falls_risk": False}
    with rt.db.reader() as session:
        born = session.exec(select(Person.date_of_birth).where(
            Person.given_name == NAMES[1])).scalar_one()
    assert born.isoformat() == "2015-05-05"


def test_a_csv_with_bad_cells_names_each_by_row_and_column_and_records_nothing(
        client, auth, rt):
    rows = [row(1), row(2, falls_risk="maybe", subject_date_of_birth="31/02/2015"),
            row(3, consent="perhaps"), row(4, postcode="")]
    response = client.post(URL, data=csv_file(rt, rows),
                           headers={**auth("partner"), "Content-Type": "text/csv"})
    assert response.status_code == 422
    errors = response.json["errors"]
    assert set(errors) == {"rows.3.falls_risk", "rows.3.subject_date_of_birth",
                           "rows.4.consent", "rows.5.postcode"}
    assert "Enter yes or no" in errors["rows.3.falls_risk"][0]
    assert "'maybe'" in errors["rows.3.falls_risk"][0]
    # Named once, by what is wrong with it (not also as "missing": it was left out).
    assert len(errors["rows.4.consent"]) == 1
    assert "given, refused or not asked" in errors["rows.4.consent"][0]
    assert response.json["message"].startswith("3 of the 4 referrals")
    assert count(rt, Referral) == 0


def test_a_partner_cannot_send_a_batch_as_someone_else(client, auth, rt):
    posing = family(1, channel="staff", referrer={"organisation": "Leicestershire Police",
                                                  "name": "A. Officer"})
    response = client.post(URL, json={"referrals": [posing]}, headers=auth("partner"))
    assert response.status_code == 201, response.json
    with rt.db.reader() as session:
        stored = session.exec(select(Referral)).scalar_one()
    assert stored.channel == "partner"
    assert stored.referrer_organisation == "Leicestershire Fire and Rescue Service"


def test_spreadsheet_habits_are_read_as_meant_and_rows_keep_their_numbers(client, auth, rt):
    """Trailing empty columns, a cell with line breaks (still one spreadsheet row), and a
    value under a column with no heading (named, with the other rows' problems)."""
    heading = ["postcode", "consent", "subject_given_name", "subject_family_name",
               "subject_date_of_birth", "concerns", "", ""]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(heading)
    writer.writerow(["LE11 1AB", "given", "Amy", "Ward", "2015-05-05", "Two lines:\nsee notes",
                     "", ""])
    writer.writerow(["LE11 1AB", "given", "Ben", "Shaw", "2016-06-06", "", "", ""])
    headers = {**auth("partner"), "Content-Type": "text/csv"}
    response = client.post(URL, data=out.getvalue().encode(), headers=headers)
    assert response.status_code == 201, response.json
    assert [r["row"] for r in response.json["referrals"]] == [2, 3]
    writer.writerow(["LE11 1AB", "given", "Cal", "Reid", "2017-07-07", "", "", "stray"])
    writer.writerow(["LE11 1AB", "maybe", "Dee", "Kaur", "2017-07-07", "", "", ""])
    response = client.post(URL, data=out.getvalue().encode(), headers=headers)
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"rows.4", "rows.5.consent"}
    assert "column 8, which has no heading" in response.json["errors"]["rows.4"][0]
    assert count(rt, Referral) == 2


def test_a_file_without_its_heading_row_is_refused_without_quoting_it(client, auth, rt):
    data = b"Amy Ward,2015-05-05,LE11 1AB,given\nBen Shaw,2016-06-06,LE11 1AB,given\n"
    response = client.post(URL, data=data, headers={**auth("partner"),
                                                     "Content-Type": "text/csv"})
    assert response.status_code == 422
    assert "does not look like them" in response.json["errors"]["columns"][0]
    assert "Amy" not in response.get_data(as_text=True)


def test_a_file_sent_again_with_its_key_but_other_row_numbers_is_not_answered_wrongly(
        client, auth, rt):
    headers = {**auth("partner"), "Content-Type": "text/csv", "Idempotency-Key": "w47"}
    first = client.post(URL, data=csv_file(rt, [row(1), row(2)]), headers=headers)
    assert first.status_code == 201
    again = client.post(URL, data=csv_file(rt, [row(1), row(2)]), headers=headers)
    assert again.json == first.json
    moved = client.post(URL, data=csv_file(rt, [row(1), {}, row(2)]), headers=headers)
    assert moved.status_code == 422 and "Idempotency-Key" in moved.json["errors"]
    assert count(rt, Referral) == 2


@both_databases
def test_the_same_file_sent_twice_is_refused_unless_confirmed(client, auth, rt):
    """A file sent twice by mistake would record every row twice: the second is a 409
    naming the first, records nothing, and ?confirm=duplicate records it again."""
    headers = {**auth("partner"), "Content-Type": "text/csv"}
    data = csv_file(rt, [row(1), row(2)])
    first = client.post(URL, data=data, headers=headers)
    assert first.status_code == 201, first.json
    references = [r["reference"] for r in first.json["referrals"]]
    # Saved again elsewhere: a BOM and other line endings are the same file.
    for again in (data, b"\xef\xbb\xbf" + data.replace(b"\r\n", b"\n")):
        response = client.post(URL, data=again, headers=headers)
        assert response.status_code == 409, response.json
        message = response.json["message"]
        assert message.startswith("This file was already sent on ")
        assert f"(2 referrals, first reference {references[0]})" in message
        assert "?confirm=duplicate" in message
        duplicate = response.json["duplicate_of"]
        assert duplicate["count"] == 2 and duplicate["references"] == references
        assert duplicate["sent_at"]
        assert count(rt, Referral) == 2
    assert count(rt, BatchFingerprint) == 1
    # Another user of the same organisation sending it is refused as well.
    same_org = {**auth("partner"), "Content-Type": "text/csv"}
    assert client.post(URL, data=data, headers=same_org).status_code == 409
    assert count(rt, Referral) == 2
    confirmed = client.post(f"{URL}?confirm=duplicate", data=data, headers=headers)
    assert confirmed.status_code == 201, confirmed.json
    assert confirmed.json["count"] == 2
    assert not set(references) & {r["reference"] for r in confirmed.json["referrals"]}
    assert count(rt, Referral) == 4
    # The latest sending is the one named next time.
    again = client.post(URL, data=data, headers=headers)
    assert again.status_code == 409
    assert again.json["duplicate_of"]["references"] == [
        r["reference"] for r in confirmed.json["referrals"]]
    assert count(rt, Referral) == 4


@both_databases
def test_a_file_sent_again_with_its_idempotency_key_is_replayed_not_refused(
        client, auth, rt):
    headers = {**auth("partner"), "Content-Type": "text/csv", "Idempotency-Key": "b-1"}
    data = csv_file(rt, [row(1), row(2)])
    first = client.post(URL, data=data, headers=headers)
    assert first.status_code == 201
    again = client.post(URL, data=data, headers=headers)
    assert again.status_code == 201 and again.json == first.json
    assert count(rt, Referral) == 2 and count(rt, BatchFingerprint) == 1
    # A new key is a new sending: the duplicate is refused.
    other_key = {**headers, "Idempotency-Key": "b-2"}
    assert client.post(URL, data=data, headers=other_key).status_code == 409
    # Refused, the key stored nothing: confirming with it records the batch once.
    confirmed = client.post(f"{URL}?confirm=duplicate", data=data, headers=other_key)
    assert confirmed.status_code == 201
    replayed = client.post(URL, data=data, headers=other_key)
    assert replayed.status_code == 201 and replayed.json == confirmed.json
    assert count(rt, Referral) == 4


@both_databases
def test_another_file_or_another_organisation_is_not_a_duplicate(client, auth, rt):
    headers = {**auth("partner"), "Content-Type": "text/csv"}
    data = csv_file(rt, [row(1), row(2)])
    assert client.post(URL, data=data, headers=headers).status_code == 201
    other_file = csv_file(rt, [row(1), row(3)])
    assert client.post(URL, data=other_file, headers=headers).status_code == 201
    police = {**auth("partner", organisation="Leicestershire Police"),
              "Content-Type": "text/csv"}
    assert client.post(URL, data=data, headers=police).status_code == 201
    # Without an organisation, each user is its own sender.
    staff = {**auth("front_door"), "Content-Type": "text/csv"}
    assert client.post(URL, data=data, headers=staff).status_code == 201
    assert client.post(URL, data=data, headers=staff).status_code == 409
    assert count(rt, Referral) == 8


def test_a_file_sent_more_than_30_days_ago_may_be_sent_again(client, auth, rt):
    from datetime import timedelta

    from triage.models.base import utcnow

    headers = {**auth("partner"), "Content-Type": "text/csv"}
    data = csv_file(rt, [row(1)])
    assert client.post(URL, data=data, headers=headers).status_code == 201
    with rt.db.unit_of_work() as session:
        sent = session.exec(select(BatchFingerprint)).scalar_one()
        sent.sent_at = utcnow() - timedelta(days=31)
        session.add(sent)
    assert client.post(URL, data=data, headers=headers).status_code == 201


def test_json_batches_sent_twice_are_recorded_twice_as_before(client, auth, rt):
    headers = auth("partner")
    batch = {"referrals": [family(1)]}
    assert client.post(URL, json=batch, headers=headers).status_code == 201
    assert client.post(URL, json=batch, headers=headers).status_code == 201
    assert count(rt, Referral) == 2 and count(rt, BatchFingerprint) == 0


@pytest.mark.parametrize(("data", "key", "says"), [
    (b"", "file", "empty"),
    (b"postcode,consent,subject_date_of_birth\n", "file", "no rows"),
    (b"postcode,consent,subject_date_of_birth,memory_concen\nLE11 1AB,given,2015-05-05,yes\n",
     "columns", "memory_concen"),
    (b"postcode,consent\nLE11 1AB,given\n", "columns", "missing: subject_date_of_birth"),
    (b"postcode,consent,subject_date_of_birth,postcode\nLE11 1AB,given,2015-05-05,x\n",
     "columns", "twice: postcode"),
    ("postcode,consent,subject_date_of_birth\nLE11 1AB,given,2015-05-05,Zoë, 1 Main St\n"
     .encode(), "rows.2", "comma inside a value"),
    ("postcode,consent,subject_given_name,subject_date_of_birth\nLE11 1AB,given,Zoë,"
     "2015-05-05\n".encode("cp1252"), "file", "CSV UTF-8"),
])
def test_a_file_that_is_not_a_batch_is_refused_with_what_to_do(client, auth, rt, data, key,
                                                                 says):
    response = client.post(URL, data=data, headers={**auth("partner"),
                                                     "Content-Type": "text/csv"})
    assert response.status_code == 422
    assert says in " ".join(response.json["errors"][key])
    assert "Nothing was recorded" in response.json["message"]
    assert count(rt, Referral) == 0


_CELLS = st.one_of(st.sampled_from(["", "yes", "no", "Y", "0", "given", "not asked",
                                    "31/12/2015", "2015-13-01", "LE11 1AB", "le1 1aa"]),
                   st.text(max_size=12))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(cells=st.lists(st.dictionaries(
    st.sampled_from(["postcode", "consent", "subject_date_of_birth", "subject_given_name",
                     "member1_date_of_birth", "member2_relationship", "falls_risk",
                     "information_only", "memory_concern", "concerns"]),
    _CELLS, max_size=10), min_size=1, max_size=4))
def test_any_csv_cells_get_201_or_a_named_422_and_never_half_a_batch(client, auth, rt, cells):
    headers = {**auth("partner"), "Content-Type": "text/csv"}
    rows = [c or {"concerns": "x"} for c in cells]
    filled = sum(1 for r in rows if any(v.strip() for v in r.values()))
    before = count(rt, Referral)
    # Examples repeat files: confirmed, so a file sent again is recorded again (not a 409).
    response = client.post(f"{URL}?confirm=duplicate", data=csv_file(rt, rows),
                           headers=headers)
    assert response.status_code in (201, 422), response.get_data(as_text=True)
    after = count(rt, Referral)
    if response.status_code == 201:
        assert after - before == filled == response.json["count"]
    else:
        assert after == before
        assert response.json["errors"] and all(
            k in ("file", "columns") or k.startswith("rows.") for k in response.json["errors"])
