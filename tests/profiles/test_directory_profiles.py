"""The service directory's staff side on every council profile: the capacity of an instance
set by its own team's manager (another team's is refused, nothing changes, both audited), the
directory pages listing and searching the profile's services, and a partner's feed imported
beside them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from markupsafe import escape
from sqlmodel import select

from tests.api.test_openapi_document import _conforms
from triage.models import AuditEvent
from triage.services.directory import importer

GOOD = Path(__file__).resolve().parent.parent / "fixtures" / "oruk-import" / "partner-3.0.json"


def _two_instance_teams(rt) -> tuple[tuple[str, str], tuple[str, str]]:
    """Two (service, instance) of one service that two of the profile's teams each work."""
    by_service: dict[str, list[tuple[str, str]]] = {}
    for team in rt.profile.teams:
        if team.service and not team.whole_service and len(team.instances) == 1:
            by_service.setdefault(team.service, []).append(
                (team.service, next(iter(team.instances))))
    pairs = next(found for found in by_service.values() if len(found) >= 2)
    return pairs[0], pairs[1]


def test_an_instances_own_manager_sets_its_capacity_and_another_team_cannot(client, auth, rt):
    spec = client.get("/api/v1/openapi.json").json
    path = "/api/v1/capacity/{service}/{instance}"
    (service, instance), (_, other) = _two_instance_teams(rt)
    url = f"/api/v1/capacity/{service}/{instance}"
    refused = client.put(url, json={"code": "no-capacity"},
                         headers=auth("manager", team=f"{service}:{other}"))
    assert refused.status_code == 403
    _conforms(spec, path, "put", refused)
    # The refusal names the team as the profile does, not by its id.
    assert rt.profile.teams.case_team_name(service, instance) in refused.json["message"]
    assert f"{service}:{instance}" not in refused.json["message"]
    done = client.put(url, json={"code": "waitlist", "notes": "About three weeks"},
                      headers=auth("manager", team=f"{service}:{instance}"))
    assert done.status_code == 200, done.json
    _conforms(spec, path, "put", done)
    listed = client.get("/api/v1/capacity", headers=auth("partner")).json["capacity"]
    codes = {(r["service"], r["instance"]): r["code"] for r in listed}
    assert codes[(service, instance)] == "waitlist" and codes[(service, other)] is None
    with rt.db.reader() as session:
        actions = session.exec(select(AuditEvent.action, AuditEvent.object_id)).all()
    assert ("capacity.set", f"{service}:{instance}") in actions
    assert ("capacity.set_refused", f"{service}:{instance}") in actions
    # The feed publishes the status beside the service, never the notes.
    feed = client.get("/oruk/services?per_page=200").json["contents"]
    assert "About three weeks" not in str(feed)


def test_the_directory_lists_and_searches_the_profiles_services_and_imported_ones(client, rt):
    html = client.get("/services").get_data(as_text=True)
    services = list(rt.profile.services.values())
    assert f"{len(services)} services" in html
    missing = [s.name for s in services if escape(s.name) not in html]
    assert not missing, missing
    word = services[0].name.split()[-1]
    found = client.get(f"/services?search={word}").get_data(as_text=True)
    assert escape(services[0].name) in found
    importer.load(rt, GOOD, today=date(2026, 12, 3))
    listed = client.get("/oruk/services?per_page=200").json
    assert listed["total_items"] == len(services) + 4
    assert "Emergency food parcels" in client.get("/services?search=food").get_data(
        as_text=True)
