"""Localities are profile data: profile.yaml declares the units (columns, the required ones,
the hierarchy, the top unit, labels, API names), localities.csv gives each postcode sector's
values and the optional geography.yaml names and nests them. Every bad row is named with its
file, line and value, and `triage rules check` exits 1 naming it, never with a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from config.localities import Localities, load_localities, load_scheme
from config.profile import ProfileError, load_profile
from tests.level_variants import copy_profile, edit_yaml
from triage.cli_rules import rules_group

LANCASHIRE = Path(__file__).resolve().parents[2] / "fixtures" / "lancashire-localities"
LANCASHIRE_SCHEME = {
    "columns": ["district", "footprint", "planning_area", "neighbourhood_centre"],
    "required": ["district", "footprint", "planning_area", "neighbourhood_centre"],
    "hierarchy": ["footprint", "planning_area", "neighbourhood_centre"],
    "labels": {"planning_area": "Planning area", "neighbourhood_centre": "Neighbourhood centre"},
}


def _load(scheme_data, csv_path: Path, geography: Path | None = None
          ) -> tuple[Localities | None, list[str]]:
    problems: list[str] = []

    def report(file, key, message):
        problems.append(f"{file}: {key}: {message}")

    scheme = load_scheme(scheme_data, report)
    assert scheme is not None, problems
    return load_localities(scheme, csv_path, report, geography), problems


def _lancashire(tmp_path: Path, csv_edit=None, geo_edit=None) -> tuple[Path, Path]:
    folder = tmp_path / "lancs"
    shutil.copytree(LANCASHIRE, folder)
    for name, edit in (("localities.csv", csv_edit), ("geography.yaml", geo_edit)):
        if edit is not None:
            path = folder / name
            path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    return folder / "localities.csv", folder / "geography.yaml"


def check(folder) -> tuple[int, str]:
    result = CliRunner().invoke(rules_group, ["check", "--profile", str(folder)])
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    return result.exit_code, result.output


# --- Leicestershire, as the profile declares it ---------------------------------------------

def test_leicestershire_declares_its_four_columns_and_district_hub_hierarchy():
    localities = load_profile("leicestershire").localities
    assert localities.columns == ("district", "early_help_hub", "slf_area", "lac_patch")
    assert localities.scheme.hierarchy == ("district", "early_help_hub")
    assert localities.top == "district"
    assert len(localities) == 45
    place = localities.place_for("le67 3ab")
    assert (place.postcode, place.sector, place.top) == ("LE67 3AB", "LE67 3",
                                                         "north-west-leicestershire")
    assert place.get("early_help_hub") == "north-west-leicestershire-hub"
    assert place.column("lac_patch") == "coalville"
    assert localities.place_for("NG1 5AA") is None and localities.place_for("nonsense") is None


def test_leicestershire_names_come_from_its_geography():
    localities = load_profile("leicestershire").localities
    assert localities.name_of("district", "north-west-leicestershire") == \
        "North West Leicestershire"
    assert localities.name_of("early_help_hub", "melton-hub") == "Melton Early Help Hub"
    assert localities.name_of("lac_patch", "coalville") == "coalville"  # not in geography
    assert localities.parent("early_help_hub", "charnwood-hub") == "charnwood"
    assert localities.values("district")[0] == "blaby" and len(localities.values("district")) == 7
    assert localities.label("slf_area") == "Family support area"


def test_instances_within_a_unit_are_the_values_on_its_rows():
    localities = load_profile("leicestershire").localities
    assert localities.instances_within("district", "charnwood", "lac_patch") == \
        {"loughborough-east", "shepshed"}
    assert localities.instances_within("early_help_hub", "melton-hub", "slf_area") == \
        {"south-charnwood-melton"}
    assert localities.instances_within("district", "nowhere", "lac_patch") == frozenset()


def test_the_api_place_keeps_leicestershire_s_contract_names():
    profile = load_profile("leicestershire")
    assert profile.api_place(profile.place_for("LE11 2AB")) == {
        "district": "charnwood", "early_help_hub": "charnwood-hub",
        "family_support_area": "loughborough-shepshed", "coordinator_patch": None}
    assert profile.api_place(None) is None


# --- A Lancashire-shaped table: footprint, planning area, neighbourhood centre --------------

def test_lancashire_s_table_and_geography_load_with_their_hierarchy():
    localities, problems = _load(LANCASHIRE_SCHEME, LANCASHIRE / "localities.csv",
                                 LANCASHIRE / "geography.yaml")
    assert problems == []
    assert localities.top == "footprint"  # the first unit of the hierarchy by default
    assert len(localities.values("footprint")) == 5
    assert len(localities.values("planning_area")) == 34
    assert len(localities.values("neighbourhood_centre")) == 56
    place = localities.place_for("BB9 7XY")
    assert (place.get("footprint"), place.get("planning_area"),
            place.get("neighbourhood_centre"), place.top) == \
        ("burnley-pendle", "nelson-brierfield", "nelson", "burnley-pendle")
    assert localities.api_place(place) == {
        "district": "pendle", "footprint": "burnley-pendle",
        "planning_area": "nelson-brierfield", "neighbourhood_centre": "nelson"}
    assert localities.parent("planning_area", "nelson-brierfield") == "burnley-pendle"
    assert localities.parent("neighbourhood_centre", "nelson") == "nelson-brierfield"
    assert localities.name_of("planning_area", "nelson-brierfield") == "Nelson and Brierfield"
    assert localities.instances_within("footprint", "burnley-pendle", "planning_area") == {
        "burnley-central-east", "burnley-north-west", "padiham-burnley-south",
        "nelson-brierfield", "colne-pendle-rural", "west-craven"}


# --- Every bad row is named: file, line, value ----------------------------------------------

def _replace(old, new, count=1):
    def edit(text):
        assert old in text, old
        return text.replace(old, new, count)
    return edit


BAD_ROWS = {
    "columns in the wrong order": (
        _replace("postcode_sector,district,footprint", "postcode_sector,footprint,district"),
        None, "localities.csv: header: columns must be in the order "
              "postcode_sector,district,footprint,planning_area,neighbourhood_centre"),
    "an unknown column": (
        _replace("neighbourhood_centre\n", "neighbourhood_centre,ward\n"), None,
        "localities.csv: header: unknown column 'ward'"),
    "a declared column missing": (
        _replace(",neighbourhood_centre\n", "\n"), None,
        "localities.csv: header: missing column 'neighbourhood_centre'"),
    "the sector column first": (
        _replace("postcode_sector,", "sector,"), None,
        "localities.csv: header: the first column must be 'postcode_sector' (got 'sector')"),
    "a missing required value": (
        _replace("LA1 3,lancaster,", "LA1 3,,"), None,
        "localities.csv: line 3.district: is required (LA1 3)"),
    "a malformed postcode sector": (
        _replace("LA1 3,", "LA13,"), None,
        "localities.csv: line 3.postcode_sector: 'LA13' is not a postcode sector"),
    "a duplicate sector": (
        _replace("LA1 2,", "LA1 1,"), None,
        "localities.csv: line 4.postcode_sector: duplicate sector 'LA1 1' (also on line 2)"),
    "a row of the wrong length": (
        _replace("LA1 3,lancaster,lancaster-fylde-wyre,lancaster-city,lancaster-central",
                 "LA1 3,lancaster,lancaster-fylde-wyre,lancaster-city"), None,
        "localities.csv: line 3: has 4 values; the header has 5"),
    "a planning area under the wrong footprint": (
        _replace("LA1 3,lancaster,lancaster-fylde-wyre,", "LA1 3,lancaster,preston,"), None,
        "localities.csv: line 3.planning_area: planning_area 'lancaster-city' lies in "
        "footprint 'lancaster-fylde-wyre' in geography.yaml, not in 'preston'"),
    "a centre under the wrong planning area": (
        _replace("LA1 3,lancaster,lancaster-fylde-wyre,lancaster-city,lancaster-central",
                 "LA1 3,lancaster,lancaster-fylde-wyre,lancaster-city,heysham"), None,
        "localities.csv: line 3.neighbourhood_centre: neighbourhood_centre 'heysham' lies in "
        "planning_area 'morecambe-heysham' in geography.yaml, not in 'lancaster-city'"),
    "a planning area geography does not know": (
        _replace("LA1 3,lancaster,lancaster-fylde-wyre,lancaster-city,",
                 "LA1 3,lancaster,lancaster-fylde-wyre,lancaster-town,"), None,
        "localities.csv: line 3.planning_area: 'lancaster-town' is not a planning area in "
        "geography.yaml"),
    "a centre with no postcode sector": (
        None, _replace("          fleetwood: \"Fleetwood Neighbourhood Centre\"\n",
                       "          fleetwood: \"Fleetwood Neighbourhood Centre\"\n"
                       "          knott-end: \"Knott End Neighbourhood Centre\"\n"),
        "geography.yaml: neighbourhood_centres.knott-end: no postcode sector in localities.csv "
        "lies in this neighbourhood centre (57 in geography.yaml, 56 in localities.csv)"),
    "a planning area listed under two footprints": (
        None, _replace("      preston-west:\n", "      fleetwood:\n        name: Fleetwood\n"
                       "        neighbourhood_centres: {fleetwood: Fleetwood}\n"
                       "      preston-west:\n"),
        "geography.yaml: footprints.preston.planning_areas.fleetwood: planning_area "
        "'fleetwood' is listed twice (also under 'lancaster-fylde-wyre')"),
    "a misspelt level of geography": (
        None, _replace("    planning_areas:\n", "    planning_area:\n"),
        "geography.yaml: footprints.lancaster-fylde-wyre.planning_area: unknown key"),
    "geography's units are not the hierarchy": (
        None, _replace("units: [footprint, planning_area, neighbourhood_centre]",
                       "units: [planning_area, footprint]"),
        "geography.yaml: units: must be the hierarchy profile.yaml declares"),
}


@pytest.mark.parametrize("case", BAD_ROWS)
def test_each_bad_row_is_named_with_its_line_and_value(tmp_path, case):
    csv_edit, geo_edit, expected = BAD_ROWS[case]
    csv_path, geography = _lancashire(tmp_path, csv_edit, geo_edit)
    _, problems = _load(LANCASHIRE_SCHEME, csv_path, geography)
    assert any(p.startswith(expected) for p in problems), problems


def test_without_geography_the_table_itself_must_keep_the_hierarchy(tmp_path):
    csv_path, _ = _lancashire(tmp_path, _replace(
        "LA1 3,lancaster,lancaster-fylde-wyre,", "LA1 3,lancaster,preston,"))
    _, problems = _load(LANCASHIRE_SCHEME, csv_path)
    assert problems == [
        "localities.csv: line 3.planning_area: planning_area 'lancaster-city' lies in footprint "
        "'preston' here but in 'lancaster-fylde-wyre' on line 2; each planning_area lies in "
        "exactly one footprint"]


def test_a_child_unit_without_its_parent_is_named(tmp_path):
    scheme = dict(LANCASHIRE_SCHEME, required=["district"])
    csv_path, _ = _lancashire(tmp_path, _replace("LA1 3,lancaster,lancaster-fylde-wyre,",
                                                 "LA1 3,lancaster,,"))
    _, problems = _load(scheme, csv_path)
    assert problems == ["localities.csv: line 3.footprint: is blank, but the row names "
                        "planning_area 'lancaster-city', which must lie in one"]


# --- Through the whole profile: rules check names it and exits 1 ----------------------------

def _csv(folder: Path, old: str, new: str) -> None:
    path = folder / "localities.csv"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _localities(change):
    def edit(meta):
        change(meta["localities"])
    return edit


def _set(key, value):
    def change(block):
        block[key] = value
    return change


BROKEN_PROFILES = {
    "an instance value that is not the service's instance": (
        lambda f: _csv(f, "LE13 0,melton,melton-hub,south-charnwood-melton,melton-north",
                       "LE13 0,melton,melton-hub,south-charnwood-melton,melton-south"),
        "localities.csv: line 12.lac_patch: 'melton-south' (LE13 0) is not an instance of "
        "service local_area_coordination in services.yaml"),
    "a service naming an undeclared column": (
        lambda f: edit_yaml(f, "services.yaml", lambda d: d["services"][1].update(
            instance_from="ward")),
        "services.yaml: services[1].instance_from: names column 'ward', which profile.yaml "
        "localities.columns does not declare (district, early_help_hub, slf_area, lac_patch)"),
    "a district geography does not name": (
        lambda f: _csv(f, "LE13 0,melton,", "LE13 0,meltonn,"),
        "localities.csv: line 12.district: 'meltonn' is not a district in geography.yaml"),
    "a hub in two districts": (
        lambda f: _csv(f, "LE13 0,melton,melton-hub", "LE13 0,charnwood,melton-hub"),
        "localities.csv: line 12.early_help_hub: early_help_hub 'melton-hub' lies in district "
        "'melton' in geography.yaml, not in 'charnwood'"),
    "no localities block": (
        lambda f: edit_yaml(f, "profile.yaml", lambda m: m.pop("localities")),
        "profile.yaml: localities: is required"),
    "a list where the localities mapping is expected": (
        lambda f: edit_yaml(f, "profile.yaml", lambda m: m.update(localities=["district"])),
        "profile.yaml: localities: is required: a mapping"),
    "columns given as a mapping": (
        lambda f: edit_yaml(f, "profile.yaml", _localities(_set("columns", {"a": 1}))),
        "profile.yaml: localities.columns: must be a list of column names"),
    "a hierarchy naming an undeclared column": (
        lambda f: edit_yaml(f, "profile.yaml", _localities(_set("hierarchy",
                                                                ["district", "ward"]))),
        "profile.yaml: localities.hierarchy: 'ward' is not one of the columns"),
    "a top unit that is not a column": (
        lambda f: edit_yaml(f, "profile.yaml", _localities(_set("top", "county"))),
        "profile.yaml: localities.top: 'county' is not one of the columns"),
    "two columns with one API name": (
        lambda f: edit_yaml(f, "profile.yaml", _localities(_set(
            "api_names", {"slf_area": "district"}))),
        "profile.yaml: localities.api_names.slf_area: 'district' is also the API name of "
        "'district'"),
    "labels as a list": (
        lambda f: edit_yaml(f, "profile.yaml", _localities(_set("labels", ["District"]))),
        "profile.yaml: localities.labels: must be a mapping"),
    "an unknown localities key": (
        lambda f: edit_yaml(f, "profile.yaml", _localities(_set("hierarchies", []))),
        "profile.yaml: localities.hierarchies: unknown key"),
    "files as a list": (
        lambda f: edit_yaml(f, "profile.yaml", lambda m: m.update(files=["checklist.yaml"])),
        "profile.yaml: files: must be a mapping"),
    "geography as a list": (
        lambda f: (f / "geography.yaml").write_text("- blaby\n", encoding="utf-8"),
        "geography.yaml: -: must be a mapping with units"),
    "a missing geography file": (
        lambda f: (f / "geography.yaml").unlink(),
        "geography.yaml: -: file not found"),
}


@pytest.mark.parametrize("case", BROKEN_PROFILES)
def test_a_broken_profile_gets_a_named_problem_and_exit_status_1(tmp_path, case):
    break_it, expected = BROKEN_PROFILES[case]
    folder = copy_profile(tmp_path)
    break_it(folder)
    with pytest.raises(ProfileError) as raised:
        load_profile(folder)
    assert any(str(p).startswith(expected) for p in raised.value.problems), \
        raised.value.problems
    status, output = check(folder)
    assert status == 1
    assert f"error: {expected}" in output


def test_rules_check_counts_each_unit():
    status, output = check("leicestershire")
    assert status == 0, output
    assert "45 postcode sectors (District 7, Early Help Hub 7, Family support area 5, " \
           "Coordinator patch 8)" in output
