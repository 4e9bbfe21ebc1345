"""A council whose pathways have no meeting (a copy of Leicestershire without its hub
meeting): no meeting pages, menu items or coordinator role. The pages are Not Found for
everyone, not Forbidden; the account pages do not offer the role."""

from __future__ import annotations

import pytest

from config.settings import Settings
from tests.profile_copies import leicestershire_without_meetings

PAGES = ["/hub/", "/hub/meeting", "/hub/meeting/pack", "/hub/meeting/cases/1",
         "/hub/?hub=charnwood-hub"]


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    folder = leicestershire_without_meetings(tmp_path / "profile")
    return Settings(env="test", instance_path=tmp_path / "instance", database_url=database_url,
                    secret_key="test-secret-key-" + "x" * 32, profile=str(folder))


@pytest.mark.parametrize("who", ["manager@demo.test", "admin@demo.test",
                                 "hub.charnwood@demo.test", "fire@demo.test",
                                 "frontdoor@demo.test"])
def test_the_meeting_pages_are_not_found_for_anyone(make_web, who):
    web = make_web()
    web.sign_in(who)
    for page in PAGES:
        response = web.get(page)
        assert response.status_code == 404, (who, page)
        assert "Page not found" in web.last


def test_the_menu_has_no_meeting_items(make_web):
    manager = make_web()
    response = manager.sign_in("manager@demo.test")
    manager.get(response.headers["Location"])
    assert "Cases" in manager.last
    assert "Hub queue" not in manager.last and "Hub meeting" not in manager.last
    assert 'href="/hub/' not in manager.last


def test_a_coordinator_account_from_before_lands_on_the_team_s_cases(make_web):
    coordinator = make_web()
    response = coordinator.sign_in("hub.charnwood@demo.test")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/cases/")


def test_the_coordinator_role_is_not_offered_or_accepted_for_a_new_account(make_web, rt):
    from sqlmodel import select

    from triage.models import User

    admin = make_web()
    admin.sign_in("admin@demo.test")
    admin.get("/admin/users/new")
    assert 'value="manager"' in admin.last and 'value="hub_coordinator"' not in admin.last
    assert "Hub coordinator" not in admin.last
    response = admin.post("/admin/users/new", {
        "name": "Robin Hub", "email": "robin@council.example", "role": "hub_coordinator",
        "team": "early_help_hub:melton-hub", "organisation": ""})
    assert response.status_code == 422
    assert "Must be one of: admin, front_door, practitioner, manager, partner." in admin.last
    with rt.db.reader() as session:
        assert session.exec(select(User).where(User.email == "robin@council.example")
                            ).first() is None
