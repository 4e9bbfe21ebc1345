"""Health, the published checklist and the OpenAPI document."""

from __future__ import annotations

import pytest


def test_healthz_reports_the_database_reachable(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["database"] == "ok"


def test_checklist_has_all_42_indicators_in_contract_shape(client):
    body = client.get("/api/v1/checklist").json
    assert body["id"] == "eha-checklist" and body["version"] == "1"
    questions = [q for s in body["sections"] for q in s["questions"]]
    assert len(questions) == 42
    assert body["sections"][0]["questions"][0] == {
        "id": "child_at_risk_of_harm",
        "text": "A child is at risk of significant harm, has an injury that may not be "
                "accidental, or has said they are being abused.",
        "domain": "safety", "kind": "safeguarding", "area": "CS",
    }


def test_openapi_document_describes_the_referral_body_from_the_schema(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/referrals" in spec["paths"]
    schemas = spec["components"]["schemas"]
    assert "memory_concern" in schemas["Answers"]["properties"] or any(
        "memory_concern" in s.get("properties", {}) for s in schemas.values())


def test_every_refusal_by_role_is_a_security_event(client, auth, rt):
    from sqlmodel import select

    from triage.models import AuditEvent

    response = client.get("/api/v1/cases?service=first_contact_plus", headers=auth("partner"))
    assert response.status_code == 403
    with rt.db.reader() as session:
        refused = session.exec(select(AuditEvent).where(
            AuditEvent.action == "access.refused")).all()
    assert [(e.object_type, e.detail.get("method")) for e in refused] == [("endpoint", "GET")]
    assert refused[0].actor_id is not None


def test_a_method_not_allowed_says_which_methods_are(client, auth):
    # Found by probing: 405 answers carried no Allow header (RFC 9110 requires it).
    response = client.delete("/api/v1/checklist", headers=auth("front_door"))
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert response.is_json and response.json["message"]
    page = client.put("/login")
    assert page.status_code == 405 and "POST" in page.headers["Allow"]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_numbers_too_big_for_a_column_are_a_404_or_a_422_not_a_500(client, auth):
    # Found by probing: /api/v1/cases/2147483648 and offset beyond 2^63 were 500s.
    staff = auth("front_door")
    for path in ("/api/v1/cases/2147483648", "/api/v1/people/99999999999999999999",
                 "/api/v1/households/2147483648", "/cases/2147483648"):
        assert client.get(path, headers=staff).status_code == 404, path
    for query in ("offset=9223372036854775808", "offset=2147483648", "worker=9999999999"):
        response = client.get(f"/api/v1/cases?{query}", headers=staff)
        assert response.status_code == 422, query
    assert client.get("/api/v1/cases?offset=2147483647", headers=staff).status_code == 200
