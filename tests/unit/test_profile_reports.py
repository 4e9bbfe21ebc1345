"""reports.yaml is checked like the rest of a profile: unknown keys, bad bands and codes the
profile does not have are each named; a profile without it gets the defaults."""

from __future__ import annotations

from pathlib import Path

from config.profile import load_profile
from config.reports import ReportSettings, load_report_settings, read_report_settings
from triage.services.reports.catalogue import check_reports
from workflows import load_pathways


def _problems(data) -> list[str]:
    found: list[str] = []
    load_report_settings(data, lambda key, message: found.append(f"{key}: {message}"))
    return found


def test_the_default_profile_reports_have_no_problems():
    profile = load_profile("leicestershire")
    assert check_reports(profile, load_pathways(profile).data) == []


def test_unknown_keys_and_bad_bands_are_named():
    found = _problems({"suppress_below": 0, "colour": "red",
                       "time_to_close": [{"id": "a", "months": 3}, {"id": "b", "months": 2},
                                         {"id": "c", "months": 9}],
                       "age_bands": [{"id": "x", "below": 5, "over": 1}, {"id": "y"}]})
    assert "suppress_below: must be a whole number, 1 or more" in found
    assert "colour: unknown key" in found
    assert "time_to_close[1].months: must be a whole number above the band before's" in found
    assert "time_to_close[2].months: the last band has no upper limit; leave it out" in found
    assert "age_bands[0].over: unknown key" in found


def test_codes_the_profile_does_not_have_are_named(tmp_path: Path):
    profile = load_profile("leicestershire")
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "reports.yaml").write_text(
        "outcomes: [needs_met, happily_ever_after]\n"
        "declined_events: [refuse]\n"
        "pathway_timeliness: [first_contact, tea_break]\n"
        "indicator_sets: {sf: {title: SF, areas: [ED, ZZ]}}\n", encoding="utf-8")
    from dataclasses import replace

    problems = [str(p) for p in check_reports(replace(profile, folder=folder),
                                              load_pathways(profile).data)]
    assert problems == [
        "reports.yaml: outcomes: 'happily_ever_after' is not an outcome in pathways.yaml",
        "reports.yaml: declined_events: 'refuse' is not an event of a pathway",
        "reports.yaml: pathway_timeliness: 'tea_break' is not a timescale kind of a pathway",
        "reports.yaml: indicator_sets.sf.areas: 'ZZ' is not a headline area of the checklist"]


def test_a_profile_without_reports_yaml_gets_the_defaults(tmp_path: Path):
    settings, problems = read_report_settings(tmp_path)
    assert (settings, problems) == (ReportSettings(), [])
    assert settings.suppress_below == 5
