"""A failed request's log line names the route pattern and the ids in it, never the raw path
or query string: a URL can hold a reference, a name typed into search, a date of birth."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy.exc import OperationalError

from triage.logs import JsonFormatter
from triage.services.cases import casework
from triage.services.people import search
from triage.services.referrals import intake

CANARY = "Zebedee-Canary-1987"
# A reference is letters, a year and a number: one that stands out in a log.
REFERENCE_CANARY = "ZEB-1987-19870531"


def _lines(caplog) -> list[dict]:
    return [json.loads(JsonFormatter().format(r)) for r in caplog.records
            if r.name.startswith("triage.errors_http")]


def _boom(*args, **kwargs):
    raise RuntimeError(f"bug while handling {CANARY}")


def _down(*args, **kwargs):
    raise OperationalError("SELECT 1", {}, ConnectionRefusedError(CANARY))


@pytest.mark.parametrize("failure, status, event", [
    (_boom, 500, "request.failed"), (_down, 503, "request.database_unavailable")])
def test_a_failed_request_logs_the_route_pattern_not_the_path_or_query(
        client, auth, monkeypatch, caplog, failure, status, event):
    monkeypatch.setattr(intake, "get_referral", failure)
    monkeypatch.setattr(search, "search", failure)
    headers = auth("front_door")
    with caplog.at_level(logging.INFO):
        assert client.get(f"/api/v1/referrals/{REFERENCE_CANARY}?note={CANARY}",
                          headers=headers).status_code == status
        assert client.get(f"/api/v1/people?q={CANARY}", headers=headers).status_code == status
    lines = _lines(caplog)
    assert [line["event"] for line in lines] == [event, event]
    assert [line["route"] for line in lines] == ["/api/v1/referrals/<reference:reference>",
                                                 "/api/v1/people"]
    assert all(line["method"] == "GET" and "ids" not in line for line in lines)
    assert CANARY not in json.dumps(lines) and REFERENCE_CANARY not in json.dumps(lines)
    assert not any("path" in line for line in lines)


def test_a_failed_request_logs_the_ids_in_its_route(client, auth, monkeypatch, caplog):
    monkeypatch.setattr(casework, "get_case", _boom)
    with caplog.at_level(logging.INFO):
        response = client.get(f"/api/v1/cases/41?state={CANARY}", headers=auth("front_door"))
    assert response.status_code == 500
    [line] = _lines(caplog)
    assert line["route"] == "/api/v1/cases/<int:case_id>" and line["ids"] == {"case_id": 41}
    assert CANARY not in json.dumps(line)


def test_an_address_no_route_matches_is_logged_as_unmatched(app, client, caplog):
    @app.before_request
    def _fail():
        raise RuntimeError(CANARY)

    with caplog.at_level(logging.INFO):
        assert client.get(f"/api/v1/{CANARY}").status_code == 500
    [line] = _lines(caplog)
    assert line["route"] == "unmatched" and CANARY not in json.dumps(line)
