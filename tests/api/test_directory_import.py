"""`triage directory import FILE`: a partner's Open Referral UK feed file (3.0 or 1.0) joins the
directory, all or nothing, every problem named; importing again updates by id; services not
checked for 90 days are flagged stale. On SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import func, select

from tests.api.test_oruk_feed import SERVICE, SERVICE_LIST, _problems
from triage.models import AuditEvent, DirectoryImport, DirectoryOrganisation, DirectoryService
from triage.services.directory import importer
from triage.services.directory.ids import imported

FILES = Path(__file__).resolve().parent.parent / "fixtures" / "oruk-import"
GOOD = FILES / "partner-3.0.json"
OLD = FILES / "partner-1.0.json"
TODAY = date(2026, 12, 3)
both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def _counts(rt) -> tuple[int, int, int]:
    with rt.db.reader() as session:
        return tuple(session.exec(select(func.count()).select_from(model)).one()
                     for model in (DirectoryService, DirectoryOrganisation, DirectoryImport))


def _write(tmp_path: Path, data, name="feed.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@both_databases
def test_a_partners_3_0_feed_joins_the_directory_and_the_feed(rt, client):
    loaded = importer.load(rt, GOOD, today=TODAY)
    assert (loaded.format, loaded.services, loaded.created, loaded.updated,
            loaded.organisations) == ("3.0", 4, 4, 0, 2)
    assert loaded.stale == 1  # the debt advice was last checked in March
    assert _counts(rt) == (4, 2, 1)
    listed = client.get("/oruk/services?per_page=200").json
    names = [s["name"] for s in listed["contents"]]
    assert listed["total_items"] == len(rt.profile.services) + 4
    assert names[-4:] == ["Emergency food parcels", "Good Neighbours befriending",
                          "Money and debt advice", "Shepshed youth club"]
    source = json.loads(GOOD.read_text())["contents"][0]
    one = client.get(f"/oruk/services/{source['id']}").json
    assert one["organization"]["name"] == "Voluntary Action LeicesterShire"
    assert one["service_at_locations"][0]["location"]["addresses"][0]["postal_code"] == \
        "LE11 1DX"
    assert not _problems(SERVICE, one)
    assert not [p for s in listed["contents"] for p in _problems(SERVICE_LIST, s)]
    near = client.get("/oruk/service_at_locations?postcode=LE11 2AB&proximity=3000").json
    assert "Good Neighbours befriending" in {i["service"]["name"] for i in near["contents"]}
    found = client.get("/oruk/services?search=food").json["contents"]
    assert [s["name"] for s in found] == ["Emergency food parcels", "Money and debt advice"]


@both_databases
def test_importing_again_updates_by_id_and_adds_nothing_twice(rt, client, tmp_path):
    importer.load(rt, GOOD, today=TODAY)
    data = json.loads(GOOD.read_text())
    data["contents"][1]["name"] = "Emergency food parcels and toiletries"
    data["contents"][1]["assured_date"] = "2026-12-01"
    data["contents"][2]["organization"]["name"] = "Charnwood Food Bank"
    again = importer.load(rt, _write(tmp_path, data), today=TODAY)
    assert (again.created, again.updated, again.stale) == (0, 4, 1)
    assert _counts(rt) == (4, 2, 2)
    with rt.db.reader() as session:
        logged = session.exec(select(AuditEvent.detail).where(
            AuditEvent.action == "directory.import").order_by(AuditEvent.id)).all()
    assert [(d["created"], d["updated"]) for d in logged] == [(4, 0), (0, 4)]
    one = client.get(f"/oruk/services/{data['contents'][1]['id']}").json
    assert one["name"] == "Emergency food parcels and toiletries"
    assert one["assured_date"] == "2026-12-01"
    with rt.db.reader() as session:
        org = session.get(DirectoryOrganisation, data["contents"][2]["organization"]["id"])
    assert org.name == "Charnwood Food Bank"


@both_databases
def test_a_bad_file_names_every_problem_and_saves_nothing(rt, tmp_path):
    data = json.loads(GOOD.read_text())
    bad = copy.deepcopy(data)
    del bad["contents"][0]["organization"]["name"]
    bad["contents"][1]["status"] = "open"
    bad["contents"][2]["id"] = "debt-advice"
    bad["contents"][2]["assured_date"] = "last spring"
    bad["contents"][3]["id"] = data["contents"][0]["id"]
    bad["contents"][3]["service_at_locations"][0]["location"]["addresses"][0].pop("postal_code")
    with pytest.raises(importer.ImportProblems) as raised:
        importer.load(rt, _write(tmp_path, bad), today=TODAY)
    errors = raised.value.errors
    assert errors["contents.0.organization.name"] == ["is required"]
    assert "'open' is not one of" in errors["contents.1.status"][0]
    assert "is not a 'uuid'" in errors["contents.2.id"][0]
    assert errors["contents.2.assured_date"] == ["'last spring' is not a date like 2026-11-30"]
    assert errors["contents.3.id"] == ["is the id of contents.0 too: each service once"]
    assert errors["contents.3.service_at_locations.0.location.addresses.0.postal_code"] == [
        "is required"]
    assert "nothing was imported" in raised.value.message
    assert _counts(rt) == (0, 0, 0)
    # One bad service keeps the good ones out too: all or nothing.
    one_bad = copy.deepcopy(data)
    one_bad["contents"][3]["name"] = None
    with pytest.raises(importer.ImportProblems) as raised:
        importer.load(rt, _write(tmp_path, one_bad), today=TODAY)
    assert list(raised.value.errors) == ["contents.3.name"]
    assert _counts(rt) == (0, 0, 0)


@pytest.mark.parametrize(("content", "where"), [
    ("not json at all", "file"), ('{"services": []}', "file"), ('{"contents": []}', "contents"),
    ('{"contents": [42]}', "contents.0"), ('{"content": [{"name": "x"}]}', "content.0.id")])
def test_files_that_are_not_feeds_are_refused_with_the_reason(rt, tmp_path, content, where):
    path = tmp_path / "feed.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(importer.ImportProblems) as raised:
        importer.load(rt, path)
    assert where in raised.value.errors
    assert _counts(rt) == (0, 0, 0)


@both_databases
def test_a_1_0_feed_is_read_into_the_3_0_shape(rt, client):
    loaded = importer.load(rt, OLD, today=TODAY)
    assert (loaded.format, loaded.services, loaded.organisations, loaded.stale) == (
        "1.0", 2, 1, 1)
    one = client.get(f"/oruk/services/{imported('ca-42', 'service')}").json
    assert not _problems(SERVICE, one)
    assert one["minimum_age"] == 18 and one["schedules"][0]["byday"] == "TU"
    assert one["service_at_locations"][0]["location"]["addresses"][0]["city"] == "Hinckley"
    assert one["contacts"][0]["phones"][0]["number"] == "01632 960400"
    assert one["attributes"][0]["taxonomy_term"]["name"] == "Carers"
    young = client.get(f"/oruk/services/{imported('ca-43', 'service')}").json
    assert (young["minimum_age"], young["maximum_age"]) == (8, 17)


def test_the_command_imports_and_exits_non_zero_naming_problems(settings, rt, tmp_path,
                                                                monkeypatch):
    from triage.cli import main

    monkeypatch.setenv("TRIAGE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRIAGE_INSTANCE_PATH", str(settings.instance_path))
    monkeypatch.setenv("TRIAGE_SECRET_KEY", settings.secret_key)
    runner = CliRunner()
    done = runner.invoke(main, ["directory", "import", str(GOOD)])
    assert done.exit_code == 0, done.output
    assert "imported 4 services (ORUK 3.0) from 2 organisations: 4 new" in done.output
    data = json.loads(GOOD.read_text())
    data["contents"][0]["status"] = "maybe"
    refused = runner.invoke(main, ["directory", "import", str(_write(tmp_path, data))])
    assert refused.exit_code == 1
    assert "error: contents.0.status: 'maybe' is not one of" in refused.output
    assert _counts(rt) == (4, 2, 1)
