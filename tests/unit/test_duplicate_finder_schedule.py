"""When and how the nightly duplicate finder runs: its profile section is checked on load (a bad
key or value is named), Celery beat runs it at the configured time, and the embedded timer runs
it once a night, on its own thread."""

from __future__ import annotations

import shutil
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from config.profile import PROFILES_DIR, ProfileError, load_profile
from config.settings import Settings, SettingsError
from triage.relay import Nightly


def _profile_with(tmp_path: Path, change) -> Path:
    folder = tmp_path / "profile"
    shutil.copytree(PROFILES_DIR / "leicestershire", folder)
    path = folder / "matching.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return folder


def _problems(folder: Path) -> set[tuple[str, str]]:
    with pytest.raises(ProfileError) as raised:
        load_profile(folder)
    return {(p.file, p.key) for p in raised.value.problems}


def test_leicestershire_runs_the_finder_above_the_possible_band():
    matching = load_profile("leicestershire").matching
    finder = matching.duplicate_finder
    assert finder.threshold_match_weight >= matching.bands["possible"]
    assert ("given_name", "family_name", "birth_year") in finder.blocking_rules


def _break(data):
    finder = data["duplicate_finder"]
    finder["colour"] = "red"
    finder["threshold_match_weight"] = 2
    finder["u_sample_pairs"] = 5
    finder["training_blocking_rules"] = []
    finder["blocking_rules"] = [["given_name", "shoe_size"], ["postcode", "postcode"]]


def test_bad_finder_settings_are_named(tmp_path):
    problems = _problems(_profile_with(tmp_path, _break))
    assert {("matching.yaml", "duplicate_finder.colour"),
            ("matching.yaml", "duplicate_finder.threshold_match_weight"),
            ("matching.yaml", "duplicate_finder.u_sample_pairs"),
            ("matching.yaml", "duplicate_finder.training_blocking_rules"),
            ("matching.yaml", "duplicate_finder.blocking_rules[0]"),
            ("matching.yaml", "duplicate_finder.blocking_rules[1]")} <= problems


def test_a_profile_without_the_section_does_not_run_the_finder(tmp_path):
    folder = _profile_with(tmp_path, lambda data: data.pop("duplicate_finder"))
    assert load_profile(folder).matching.duplicate_finder is None


def test_celery_beat_runs_the_finder_nightly_at_the_configured_time(tmp_path):
    from celery.schedules import crontab

    from triage import create_app

    app = create_app(Settings(env="test", instance_path=tmp_path, duplicate_finder_at="03:15",
                              database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}"),
                     background=False)
    entry = app.extensions["celery"].conf.beat_schedule["people-find-duplicates"]
    assert entry["task"] == "triage.people.find_duplicates"
    assert entry["schedule"] == crontab(hour=3, minute=15)
    assert "triage.people.find_duplicates" in app.extensions["celery"].tasks
    app.extensions["triage"].db.dispose()


def test_the_embedded_timer_and_the_task_run_the_finder(app, rt):
    import triage.tasks as tasks
    from triage.services.people.duplicates import find_duplicates

    assert find_duplicates in [getattr(job, "job", job) for job in rt.relay.periodic]
    with app.app_context():
        counts = tasks.find_duplicates()
    assert counts == {"people": 0, "pairs": 0, "queued": 0, "skipped": 0}


@pytest.mark.parametrize("at", ["25:00", "3pm", "03:5", ""])
def test_a_time_that_is_not_a_time_of_day_stops_the_service(at):
    with pytest.raises(SettingsError, match="TRIAGE_DUPLICATE_FINDER_AT"):
        Settings(env="test", duplicate_finder_at=at).validated()


def test_the_embedded_timer_runs_the_job_once_a_night_after_its_time():
    clock = [datetime(2026, 3, 1, 12, 0, tzinfo=UTC)]
    runs: list[datetime] = []
    done = threading.Event()

    def job(_rt):
        runs.append(clock[0])
        done.set()

    nightly = Nightly((2, 30), job, now=lambda: clock[0])
    assert nightly(None) is None  # started at noon: last night's run is not made up
    clock[0] = datetime(2026, 3, 2, 2, 29, tzinfo=UTC)
    assert nightly(None) is None
    clock[0] = datetime(2026, 3, 2, 2, 31, tzinfo=UTC)
    nightly(None).join(5)
    assert done.is_set() and runs == [clock[0]]
    clock[0] += timedelta(hours=3)
    assert nightly(None) is None  # once a night
    clock[0] = datetime(2026, 3, 3, 2, 30, tzinfo=UTC)
    nightly(None).join(5)
    assert len(runs) == 2
