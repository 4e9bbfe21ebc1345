"""A partner sends a spreadsheet of referrals from the partners' area: all recorded and
listed by row, or none and every problem listed by row and column."""

from __future__ import annotations

import csv
import io
import re

from tests.web.conftest import error_links

PAGE = "/partner/batches/new"
HEADING = ["postcode", "consent", "subject_given_name", "subject_family_name",
           "subject_date_of_birth", "member1_relationship", "member1_date_of_birth",
           "school_attendance_concern", "child_behaviour_concern", "falls_risk"]


def spreadsheet(*rows: list[str]) -> tuple[io.BytesIO, str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADING)
    writer.writerows(rows)
    return io.BytesIO(out.getvalue().encode()), "fire-visits-week-47.csv"


GOOD = [["LE11 1AB", "given", "Amy", "Ward", "05/05/2015", "mother", "01/01/1985", "yes",
         "yes", ""],
        ["LE13 0AB", "given", "Ben", "Shaw", "2016-06-06", "father", "1980-02-02", "yes", "no",
         "no"]]


def _references(html: str) -> list[str]:
    return re.findall(r"EH-\d{4}-\d{6}", html)


def test_a_partner_sends_a_spreadsheet_and_sees_what_happened_to_each_row(make_web, rt):
    fire = make_web()
    fire.sign_in("fire@demo.test")
    fire.get("/partner/")
    assert PAGE in fire.last
    page = fire.get(PAGE)
    assert page.status_code == 200 and 'type="file"' in fire.last
    template = fire.client.get("/partner/batches/template.csv")
    assert template.mimetype == "text/csv" and "subject_date_of_birth" in template.get_data(
        as_text=True)
    response = fire.post(PAGE, {"file": spreadsheet(*GOOD)}, from_page=PAGE)
    assert response.status_code == 200
    assert "Batch sent" in fire.last and "2 referrals recorded" in fire.last
    sent = _references(fire.last)
    assert len(set(sent)) == 2
    fire.get("/partner/")
    assert all(reference in fire.last for reference in sent)


def test_a_spreadsheet_with_problems_lists_each_by_row_and_column_and_sends_nothing(
        make_web, rt):
    fire = make_web()
    fire.sign_in("fire@demo.test")
    bad = [GOOD[0], ["LE13 0AB", "given", "Ben", "Shaw", "31/02/2016", "father", "", "maybe",
                     "no", "no"]]
    response = fire.post(PAGE, {"file": spreadsheet(*bad)}, from_page=PAGE)
    assert response.status_code == 422
    assert error_links(fire.last) == {
        "file": "The file has 3 problems, listed below. Nothing was sent: correct the file "
                "and send all of it again."}
    table = fire.last.split('id="problems"', 1)[1]
    cells = [re.sub(r"<[^>]+>", "", c).strip()
             for c in re.findall(r'<td class="govuk-table__cell">(.*?)</td>', table, re.S)]
    rows = [tuple(cells[i:i + 3]) for i in range(0, len(cells), 3)]
    assert ("3", "subject_date_of_birth", "Not a valid date.") in rows
    assert ("3", "member1_date_of_birth", "Missing data for required field.") in rows
    assert any(r[:2] == ("3", "school_attendance_concern") and "Enter yes or no" in r[2]
               for r in rows)
    fire.get("/partner/")
    assert not _references(fire.last)


def test_sending_the_page_again_records_the_batch_once(make_web, rt):
    fire = make_web()
    fire.sign_in("fire@demo.test")
    fire.get(PAGE)
    key = re.search(r'name="batch_key" value="([^"]+)"', fire.last).group(1)
    form = {"batch_key": key}
    fire.post(PAGE, {**form, "file": spreadsheet(*GOOD)})
    first = _references(fire.last)
    fire.get(PAGE)  # for a fresh CSRF field; the refresh resends the same key
    fire.post(PAGE, {**form, "file": spreadsheet(*GOOD)})
    assert _references(fire.last) == first
    fire.get("/partner/")
    assert len(set(_references(fire.last))) == 2


def test_no_file_is_a_named_error(make_web):
    fire = make_web()
    fire.sign_in("fire@demo.test")
    response = fire.post(PAGE, {}, from_page=PAGE)
    assert response.status_code == 422
    assert error_links(fire.last) == {"file": "Select a CSV file of referrals to send."}


def test_only_partners_have_the_batch_page(make_web):
    staff = make_web()
    staff.sign_in("frontdoor@demo.test")
    assert staff.get(PAGE).status_code == 403


def test_a_page_that_already_sent_one_file_sends_another_as_a_new_batch(make_web):
    fire = make_web()
    fire.sign_in("fire@demo.test")
    fire.get(PAGE)
    key = re.search(r'name="batch_key" value="([^"]+)"', fire.last).group(1)
    fire.post(PAGE, {"batch_key": key, "file": spreadsheet(GOOD[0])})
    assert "Batch sent" in fire.last
    fire.get(PAGE)  # Back, then another file on the page that sent the first
    response = fire.post(PAGE, {"batch_key": key, "file": spreadsheet(GOOD[1])})
    assert response.status_code == 422
    assert "choose it again" in error_links(fire.last)["file"]
    fresh = re.search(r'name="batch_key" value="([^"]+)"', fire.last).group(1)
    assert fresh != key
    fire.post(PAGE, {"batch_key": fresh, "file": spreadsheet(GOOD[1])})
    assert "Batch sent" in fire.last and "1 referral recorded" in fire.last


def test_a_file_over_the_size_limit_gets_a_page_not_json(make_web):
    fire = make_web()
    fire.sign_in("fire@demo.test")
    big = (io.BytesIO(b"postcode,consent\n" + b"x" * 1_100_000), "huge.csv")
    response = fire.post(PAGE, {"file": big}, from_page=PAGE)
    assert response.status_code == 413
    assert "What you sent is too large" in fire.last and "nothing was saved" in fire.last


CONTACT_HEADING = ["postcode", "address_line1", "town", "consent", "subject_given_name",
                   "subject_family_name", "subject_date_of_birth", "subject_phone",
                   "subject_safe_to_contact", "subject_safe_contact_notes",
                   "subject_nhs_number", "subject_sex", "subject_ethnicity",
                   "member1_relationship", "member1_date_of_birth", "member1_email"]


def _contact_sheet(*rows: list[str]) -> tuple[io.BytesIO, str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CONTACT_HEADING)
    writer.writerows(rows)
    return io.BytesIO(out.getvalue().encode()), "with-contact-details.csv"


def test_a_spreadsheet_with_address_and_contact_columns_keeps_them(make_web, rt):
    from sqlmodel import select

    from triage.models import Household, Person

    fire = make_web()
    fire.sign_in("fire@demo.test")
    template = fire.client.get("/partner/batches/template.csv").get_data(as_text=True)
    assert "address_line1" in template and "subject_safe_to_contact" in template
    assert "member5_nhs_number" in template
    row = ["LE13 0AB", "12 Elm Road", "Melton Mowbray", "y", "Amy", "Ward", "05/05/2015",
           "07700 900123", "no", "Text only after 6pm", "943 476 5919", "Female",
           "white_british", "mother", "01/01/1985", "mum@example.org"]
    response = fire.post(PAGE, {"file": _contact_sheet(row)}, from_page=PAGE)
    assert response.status_code == 200, fire.last
    assert "1 referral recorded" in fire.last
    with rt.db.reader() as session:
        amy = session.exec(select(Person).where(Person.given_name == "Amy")).one()
        mum = session.exec(select(Person).where(Person.date_of_birth == "1985-01-01")).one()
        home = session.exec(select(Household)).one()
    assert (amy.phone_key, amy.safe_to_contact, amy.nhs_number, amy.sex) == (
        "07700900123", False, "9434765919", "female")
    assert amy.safe_contact_notes == "Text only after 6pm"
    assert mum.email == "mum@example.org"
    assert (home.address_line1, home.town) == ("12 Elm Road", "Melton Mowbray")


def test_a_bad_contact_cell_is_named_by_its_row_and_column(make_web):
    fire = make_web()
    fire.sign_in("fire@demo.test")
    row = ["LE13 0AB", "", "", "given", "Amy", "Ward", "05/05/2015", "12345", "maybe", "",
           "943 476 5918", "", "", "", "", ""]
    response = fire.post(PAGE, {"file": _contact_sheet(row)}, from_page=PAGE)
    assert response.status_code == 422
    problems = fire.last.split('id="problems"', 1)[1]
    for column in ("subject_phone", "subject_safe_to_contact", "subject_nhs_number"):
        assert column in problems


def test_the_consent_column_takes_yes_and_no_as_well(make_web, rt):
    from sqlmodel import select

    from triage.models import Referral

    fire = make_web()
    fire.sign_in("fire@demo.test")
    rows = [[*GOOD[0][:1], consent, *GOOD[0][2:]] for consent in ("yes", "Y", "no", "n")]
    for i, row in enumerate(rows):
        row[2] = ["Amy", "Bea", "Cat", "Dot"][i]
    response = fire.post(PAGE, {"file": spreadsheet(*rows)}, from_page=PAGE)
    assert response.status_code == 200, fire.last
    with rt.db.reader() as session:
        consents = session.exec(select(Referral.consent).order_by(Referral.id)).all()
    assert consents == ["given", "given", "refused", "refused"]
    response = fire.post(PAGE, {"file": spreadsheet([*GOOD[0][:1], "perhaps", *GOOD[0][2:]])},
                         from_page=PAGE)
    assert response.status_code == 422 and "or yes or no" in fire.last


def test_a_file_sent_twice_is_refused_with_a_warning_unless_the_partner_confirms(make_web):
    fire = make_web()
    fire.sign_in("fire@demo.test")
    fire.post(PAGE, {"file": spreadsheet(*GOOD)}, from_page=PAGE)
    assert "2 referrals recorded" in fire.last
    first = _references(fire.last)
    # Another day, the same file again (a page loaded afresh: a new batch).
    response = fire.post(PAGE, {"file": spreadsheet(*GOOD)}, from_page=PAGE)
    assert response.status_code == 422
    message = error_links(fire.last)["file"]
    assert message.startswith("This file was already sent on ")
    assert "(2 referrals)" in message and "Nothing was sent" in message
    assert 'class="govuk-warning-text"' in fire.last and first[0] in fire.last
    assert "I have checked: send every row again" in fire.last
    assert 'name="confirm_duplicate"' in fire.last
    fire.get("/partner/")
    assert set(_references(fire.last)) == set(first)
    # Sent again from the warning page without ticking: still refused, nothing recorded.
    fire.post(PAGE, {"file": spreadsheet(*GOOD)}, from_page=PAGE)
    fire.post(PAGE, {"file": spreadsheet(*GOOD),
                     "batch_key": re.search(r'name="batch_key" value="([^"]+)"',
                                            fire.last).group(1)})
    assert "already sent" in error_links(fire.last)["file"]
    fire.get("/partner/")
    assert set(_references(fire.last)) == set(first)
    # Ticked: every row recorded again, as new referrals.
    fire.post(PAGE, {"file": spreadsheet(*GOOD)}, from_page=PAGE)
    key = re.search(r'name="batch_key" value="([^"]+)"', fire.last).group(1)
    response = fire.post(PAGE, {"file": spreadsheet(*GOOD), "batch_key": key,
                                "confirm_duplicate": "yes"})
    assert response.status_code == 200
    assert "Batch sent" in fire.last and "2 referrals recorded" in fire.last
    again = _references(fire.last)
    assert len(set(again)) == 2 and not set(again) & set(first)
    fire.get("/partner/")
    assert set(_references(fire.last)) == set(first) | set(again)
