"""A referral whose text starts like a spreadsheet formula is kept exactly as sent (stored,
and in the API's JSON), and is written to any CSV as text a spreadsheet will not run."""

from __future__ import annotations

import csv
import io

import pytest
from sqlmodel import select

from triage.csv_export import csv_text
from triage.models import Person, Referral
from triage.schemas import batch_csv

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
FORMULAS = {"given_name": "=cmd|' /C calc'!A0", "family_name": "+SUM(1,2)",
            "concerns": "@SUM(A1:A9) -- and -1+1"}


def _read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@both_databases
def test_formula_text_is_kept_as_sent_and_neutralised_in_a_csv(client, auth, rt,
                                                                referral_body):
    headers = auth("front_door")
    body = referral_body(concerns=FORMULAS["concerns"])
    body["people"][0].update(given_name=FORMULAS["given_name"],
                             family_name=FORMULAS["family_name"])
    sent = client.post("/api/v1/referrals", json=body, headers=headers)
    assert sent.status_code == 201, sent.json
    got = client.get(f"/api/v1/referrals/{sent.json['reference']}", headers=headers).json
    subject = got["people"][0]
    assert (subject["given_name"], subject["family_name"], got["concerns"]) == (
        FORMULAS["given_name"], FORMULAS["family_name"], FORMULAS["concerns"])
    with rt.db.reader() as session:
        stored = session.exec(select(Referral)).one()
        person = session.exec(select(Person).where(
            Person.family_name == FORMULAS["family_name"])).one()
    assert stored.concerns == FORMULAS["concerns"]
    assert person.given_name == FORMULAS["given_name"]
    # As any export of the referral writes it: every formula cell starts with a quote.
    exported = _read(csv_text([("reference", "given_name", "family_name", "concerns"),
                               (got["reference"], subject["given_name"],
                                subject["family_name"], got["concerns"])]))
    assert exported[1] == [got["reference"], *("'" + FORMULAS[k] for k in
                                               ("given_name", "family_name", "concerns"))]


@both_databases
def test_a_partner_s_csv_batch_with_formula_cells_is_recorded_as_sent(client, auth, rt):
    data = ("postcode,consent,subject_date_of_birth,subject_given_name,subject_family_name,"
            "concerns\r\nLE11 1AB,given,2015-05-05,Amy,-Ward,=HYPERLINK(\"x\")\r\n")
    response = client.post("/api/v1/referrals/batch", data=data.encode(),
                           content_type="text/csv", headers=auth("partner"))
    assert response.status_code == 201, response.json
    with rt.db.reader() as session:
        assert session.exec(select(Referral)).one().concerns == '=HYPERLINK("x")'


def test_the_batch_template_is_written_by_the_one_writer(client, auth, rt):
    response = client.get("/api/v1/referrals/batch/template.csv", headers=auth("partner"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.get_data(as_text=True) == csv_text([batch_csv.columns(rt.profile)])
