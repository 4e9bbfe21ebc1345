"""The audit trail's, the notification reads' and the overdue overview's real answers match
the OpenAPI document (what a generated client relies on)."""

from __future__ import annotations

import pytest

from tests.api.cases_helpers import open_case, team
from tests.api.test_openapi_document import _conforms

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").json


@both_databases
def test_oversight_answers_match_the_documented_schemas(client, auth, referral_body, spec):
    partner, manager = auth("partner"), auth("manager")
    member = auth("practitioner", team=team("early_help_hub"))
    reference, case_id = open_case(client, partner, referral_body, "early_help_hub")
    client.get(f"/api/v1/cases/{case_id}", headers=member)
    page = client.get("/api/v1/audit?limit=2", headers=manager)
    _conforms(spec, "/api/v1/audit", "get", page)
    assert page.json["next_before"] and page.json["events"][0]["user"] is not None
    _conforms(spec, "/api/v1/audit", "get", client.get(
        f"/api/v1/audit?object_type=referral&object_id={reference}", headers=manager))
    for bad in ("object_id=1", "person=999999"):
        _conforms(spec, "/api/v1/audit", "get", client.get(f"/api/v1/audit?{bad}",
                                                           headers=manager))
    _conforms(spec, "/api/v1/audit", "get", client.get("/api/v1/audit", headers=member))
    listed = client.get("/api/v1/notifications", headers=member).json["notifications"]
    _conforms(spec, "/api/v1/notifications/{notification_id}/read", "post", client.post(
        f"/api/v1/notifications/{listed[0]['id']}/read", headers=member))
    _conforms(spec, "/api/v1/notifications/{notification_id}/read", "post", client.post(
        "/api/v1/notifications/424242/read", headers=member))
    _conforms(spec, "/api/v1/notifications/read-all", "post",
              client.post("/api/v1/notifications/read-all", headers=partner))
    _conforms(spec, "/api/v1/notifications/unread-count", "get",
              client.get("/api/v1/notifications/unread-count", headers=member))
    _conforms(spec, "/api/v1/notifications", "get",
              client.get("/api/v1/notifications", headers=member))
    _conforms(spec, "/api/v1/notifications/overview", "get",
              client.get("/api/v1/notifications/overview", headers=manager))
    _conforms(spec, "/api/v1/notifications/overview", "get",
              client.get("/api/v1/notifications/overview", headers=member))
