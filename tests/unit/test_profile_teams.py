"""Teams and caseload allocation as profile data (config/teams.py): the teams derived without
teams.yaml, a team of several instances from a locality unit, every broken teams.yaml or
allocation block named by file and key, and the allocation rule itself (Hypothesis)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from config.profile import PROFILES_DIR, ProfileError, load_profile
from config.teams import HOME, MOVED, OPEN_CASE, OVER_CAPACITY, allocate, choose
from tests.allocation_profile import ALLOCATION, CHARNWOOD_TEAM, allocation_profile
from triage.cli import main


def _problems(folder: Path) -> list[str]:
    with pytest.raises(ProfileError) as refused:
        load_profile(folder)
    return [str(p) for p in refused.value.problems]


def test_without_teams_yaml_every_service_and_instance_is_a_team_named_from_the_profile():
    teams = load_profile("leicestershire").teams
    hub = teams.get("early_help_hub:melton-hub")
    assert (hub.name, hub.service, hub.instances) == ("Melton Early Help Hub", "early_help_hub",
                                                      frozenset({"melton-hub"}))
    every = teams.get("early_help_hub")
    assert every.covers("early_help_hub", "blaby-hub") and every.whole_service
    assert not hub.covers("early_help_hub", "blaby-hub")
    assert "first_contact_plus:countywide" in teams  # old accounts keep working
    listed = dict(teams.choices())
    # A one-instance service is listed once; a service of several as "(all)" and each team.
    assert "first_contact_plus:countywide" not in listed
    assert listed["first_contact_plus"] == "First Contact Plus"
    assert listed["early_help_hub"] == "Early Help Hub (all)"
    assert listed["early_help_hub:melton-hub"] == "Melton Early Help Hub"
    assert "front_door" not in listed and dict(teams.choices(with_front_door=True))[
        "front_door"] == "Front door"


def test_a_team_of_a_unit_covers_every_instance_whose_locality_lies_in_it(tmp_path):
    profile = load_profile(allocation_profile(tmp_path))
    team = profile.teams.get(CHARNWOOD_TEAM)
    assert team.instances == {"loughborough-east", "shepshed"}
    assert team.covers("local_area_coordination", "shepshed")
    assert not team.covers("local_area_coordination", "melton-north")
    assert not team.covers("early_help_hub", "charnwood-hub")
    assert profile.teams.get("early_help_hub:east").instances == {"charnwood-hub", "melton-hub"}
    assert profile.team_name(CHARNWOOD_TEAM) == "Charnwood coordinators"
    listed = [tid for tid, _ in profile.teams.choices()]
    # Listed by its service, after the service's own team.
    assert listed.index(CHARNWOOD_TEAM) == listed.index("local_area_coordination") + 1
    assert profile.teams.covering("local_area_coordination", "shepshed") == (
        "local_area_coordination", "local_area_coordination:shepshed", CHARNWOOD_TEAM)


BROKEN_TEAMS = {
    "unknown service": ("  - {id: x_team, name: X, service: no_such_service}\n",
                        "teams.yaml: teams[0].service: unknown service 'no_such_service'"),
    "unknown instance": ("  - {id: x_team, name: X, service: early_help_hub, "
                         "instances: [melton-hub, nelson]}\n",
                         "teams.yaml: teams[0].instances: unknown instance 'nelson' of service "
                         "early_help_hub"),
    "unknown unit": ("  - {id: x_team, name: X, service: early_help_hub, "
                     "unit: {footprint: burnley-pendle}}\n",
                     "teams.yaml: teams[0].unit: unknown locality unit 'footprint'"),
    "unknown value": ("  - {id: x_team, name: X, service: early_help_hub, "
                      "unit: {district: pendle}}\n",
                      "teams.yaml: teams[0].unit.district: 'pendle' is not a district of the "
                      "localities"),
    "a unit holding none of the service": (
        "  - {id: x_team, name: X, service: local_area_coordination, "
        "unit: {district: blaby}}\n",
        "teams.yaml: teams[0].unit.district: no instance of local_area_coordination lies in "
        "district 'blaby'"),
    "a derived team's id": ("  - {id: early_help_hub, name: X, service: early_help_hub}\n",
                            "teams.yaml: teams[0].id: 'early_help_hub' is already a team of "
                            "the profile"),
    "both instances and a unit": (
        "  - {id: x_team, name: X, service: early_help_hub, instances: [melton-hub], "
        "unit: {district: melton}}\n", "teams.yaml: teams[0]: give instances or unit, not both"),
    "no name": ("  - {id: x_team, service: early_help_hub}\n",
                "teams.yaml: teams[0].name: is required"),
    "a bad id": ("  - {id: 'Bad Team', name: X, service: early_help_hub}\n",
                 "teams.yaml: teams[0].id: must be a lower_case id"),
}


@pytest.mark.parametrize("case", list(BROKEN_TEAMS))
def test_a_broken_teams_yaml_is_a_named_problem(tmp_path, case):
    line, expected = BROKEN_TEAMS[case]
    folder = allocation_profile(tmp_path, teams="teams:\n" + line)
    problems = _problems(folder)
    assert any(p.startswith(expected) for p in problems), problems


BROKEN_ALLOCATION = {
    "unknown service": ("allocation: {service: nope, balance_within: district}\n",
                        "profile.yaml: allocation.service: unknown service 'nope'"),
    "a statutory service": ("allocation: {service: first_response, balance_within: district}\n",
                            "profile.yaml: allocation.service: first_response is a statutory "
                            "service: its cases never move"),
    "unknown unit": ("allocation: {service: local_area_coordination, "
                     "balance_within: footprint}\n",
                     "profile.yaml: allocation.balance_within: unknown locality unit "
                     "'footprint'"),
    "a balanced service without capacities": (
        "allocation: {service: supporting_leicestershire_families, balance_within: district}\n",
        "services.yaml: supporting_leicestershire_families.instances.north-west.capacity: "
        "needs open_cases"),
    "an unknown key": ("allocation: {service: local_area_coordination, "
                       "balance_within: district, spill: county}\n",
                       "profile.yaml: allocation.spill: unknown key"),
}


@pytest.mark.parametrize("case", list(BROKEN_ALLOCATION))
def test_a_broken_allocation_is_a_named_problem(tmp_path, case):
    block, expected = BROKEN_ALLOCATION[case]
    problems = _problems(allocation_profile(tmp_path, allocation="\n" + block))
    assert any(p.startswith(expected) for p in problems), problems


def test_an_instance_lying_in_two_units_cannot_be_balanced_within_them(tmp_path):
    folder = allocation_profile(tmp_path, allocation=(
        "\nallocation: {service: supporting_leicestershire_families, "
        "balance_within: district}\n"), services={
        "capacity: {families_per_area: 120}": "capacity: {families_per_area: 120, "
                                              "open_cases: 120}"})
    problems = _problems(folder)
    assert any("lies in two districts" in p and "south-charnwood-melton" in p
               for p in problems), problems


@pytest.mark.parametrize("value", ["0", "-3", "lots", "true", "2.5"])
def test_a_capacity_must_be_a_whole_number_of_open_cases(tmp_path, value):
    folder = allocation_profile(tmp_path, services={
        "- {id: shepshed, name: Shepshed coordinator}":
            f"- {{id: shepshed, name: Shepshed coordinator, capacity: {{open_cases: {value}}}}}"})
    problems = _problems(folder)
    assert any(p.startswith("services.yaml: services[1].instances[1].capacity.open_cases: "
                            "must be a whole number of open cases") for p in problems), problems


def test_rules_check_names_a_broken_teams_yaml_and_exits_1(tmp_path):
    folder = allocation_profile(tmp_path, teams="teams:\n  - {id: x_team, name: X, service: "
                                                "wpehs_targetted}\n")
    done = CliRunner().invoke(main, ["rules", "check", "--profile", str(folder)])
    assert done.exit_code == 1, done.output
    assert "error: teams.yaml: teams[0].service: unknown service 'wpehs_targetted'" in \
        done.output
    assert done.exception is None or isinstance(done.exception, SystemExit)


def test_without_an_allocation_block_nothing_is_balanced(tmp_path):
    assert load_profile("leicestershire").allocation == ()
    profile = load_profile(allocation_profile(tmp_path, allocation=None))
    assert profile.allocation == ()
    assert load_profile(allocation_profile(tmp_path / "a", allocation=ALLOCATION)).allocation


# -- The allocation rule ---------------------------------------------------------------------

@st.composite
def units(draw):
    """A unit of 1-8 teams with capacities and open cases (some full, some over), and which
    one is the family's own."""
    size = draw(st.integers(1, 8))
    names = [f"t{i}" for i in range(size)]
    capacity = {n: draw(st.integers(1, 200)) for n in names}
    open_cases = {n: draw(st.integers(0, capacity[n] + 20)) for n in names}
    home = draw(st.sampled_from(names))
    return home, names, open_cases, capacity


@settings(max_examples=500, deadline=None)
@given(units())
def test_the_rule_stays_home_with_room_else_takes_the_most_spare_share_never_leaving(unit):
    home, group, open_cases, capacity = unit
    instance, outcome = choose(home, group, open_cases, capacity)
    assert instance in group  # never outside the unit
    if open_cases[home] < capacity[home]:
        assert (instance, outcome) == (home, HOME)
        return
    room = [i for i in group if open_cases[i] < capacity[i]]
    if not room:
        assert (instance, outcome) == (home, OVER_CAPACITY)
        return
    assert outcome == MOVED and instance != home and instance in room

    def share(i):
        return (capacity[i] - open_cases[i]) / capacity[i]
    assert share(instance) == max(share(i) for i in room)
    # Ties go to the first of the unit's order, so the same figures always give the same team.
    assert instance == next(i for i in group if i in room and share(i) == share(instance))


@settings(max_examples=200, deadline=None)
@given(units(), st.data())
def test_the_rule_depends_only_on_the_figures(unit, data):
    """Stable: the same figures give the same team whatever else is in the mapping."""
    home, group, open_cases, capacity = unit
    extra = data.draw(st.integers(0, 50))
    first = choose(home, group, open_cases, capacity)
    again = choose(home, group, {**open_cases, "elsewhere": extra},
                   {**capacity, "elsewhere": 1})
    assert first == again



@settings(max_examples=300, deadline=None)
@given(units(), st.data())
def test_a_family_with_an_open_case_stays_with_its_team_whatever_the_figures(unit, data):
    home, group, open_cases, capacity = unit
    held = data.draw(st.sampled_from(group))
    assert allocate(home, group, open_cases, capacity, held=held) == (held, OPEN_CASE)
    assert allocate(home, group, open_cases, capacity) == choose(home, group, open_cases,
                                                                 capacity)


LANCASHIRE = PROFILES_DIR / "lancashire"
LANCASHIRE_TEAMS = Path(__file__).resolve().parents[1] / "fixtures" / "lancashire-teams" / \
    "teams.yaml"


@pytest.mark.skipif(not LANCASHIRE.exists(), reason="the Lancashire profile is not on this "
                                                   "branch yet (it comes with i14-lancs)")
def test_a_lancashire_footprint_managers_team_covers_the_planning_areas_of_its_footprint(
        tmp_path):
    folder = tmp_path / "lancashire"
    shutil.copytree(LANCASHIRE, folder)
    shutil.copy(LANCASHIRE_TEAMS, folder / "teams.yaml")
    meta = (folder / "profile.yaml").read_text(encoding="utf-8")
    if "teams: teams.yaml" not in meta:
        meta = meta.replace("files:\n", "files:\n  teams: teams.yaml\n", 1)
        (folder / "profile.yaml").write_text(meta, encoding="utf-8")
    profile = load_profile(folder)
    team = profile.teams.get("wpehs_targeted:burnley-pendle")
    assert team.name == "Targeted early help, Burnley and Pendle footprint"
    assert "nelson-brierfield" in team.instances and "preston-east" not in team.instances
    allocation = profile.allocation_for("wpehs_targeted")
    assert allocation is not None and allocation.unit == "footprint"
    # The footprint team is exactly the unit allocation balances within.
    assert set(allocation.group("nelson-brierfield")) == team.instances
    assert profile.teams.refusal("wpehs_targetted:nelson") == \
        'no team "wpehs_targetted:nelson" in this council\'s profile'
    assert "wpehs_targetted:nelson" not in profile.teams
