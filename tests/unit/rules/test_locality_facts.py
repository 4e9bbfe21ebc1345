"""The rules read where a household lives through generic facts: `in_area` (the profile covers
the postcode) and `within.<unit>` (the place has a value for that locality unit), so a route
such as Leicestershire's coordinator patch is a rule on `within.lac_patch`, not a fact the
code names. The checker explores these facts and names a rule reading an undeclared unit."""

from __future__ import annotations

from datetime import date

from click.testing import CliRunner

import rules
from config.profile import load_profile
from tests.level_variants import copy_profile, edit_graph, row, table
from triage.cli_rules import rules_group

PROFILE = load_profile("leicestershire")
RULES = rules.load(PROFILE)
ON = date(2026, 11, 2)
ADULT = [rules.Person(role="subject", date_of_birth=date(1960, 1, 1))]


def check(folder) -> tuple[int, str]:
    result = CliRunner().invoke(rules_group, ["check", "--profile", str(folder)])
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    return result.exit_code, result.output


def _facts(postcode: str, **answers: bool) -> rules.Facts:
    return rules.derive_facts(PROFILE.checklist, answers=answers, people=ADULT,
                              referral_date=ON, place=PROFILE.place_for(postcode),
                              units=PROFILE.localities.columns)


def test_within_is_true_for_each_unit_the_place_has():
    context = _facts("LE13 0AB").context
    assert context["in_area"] is True
    assert context["within"] == {"district": True, "early_help_hub": True, "slf_area": True,
                                 "lac_patch": True}
    assert _facts("LE13 1AB").context["within"]["lac_patch"] is False  # Melton, no patch


def test_outside_the_area_every_unit_is_false():
    context = _facts("NG1 5AA").context
    assert context["in_area"] is False
    assert context["within"] == dict.fromkeys(PROFILE.localities.columns, False)


def test_an_isolated_adult_in_a_patch_goes_to_their_coordinator_and_elsewhere_to_fcp():
    in_patch = RULES.evaluate(_facts("LE13 0AB", social_isolation=True))
    assert [(r.service, r.instance) for r in in_patch.routes] == \
        [("local_area_coordination", "melton-north")]
    no_patch = RULES.evaluate(_facts("LE13 1AB", social_isolation=True))
    assert [(r.service, r.instance) for r in no_patch.routes] == \
        [("first_contact_plus", "countywide")]


def _routes_row_reads(field: str):
    def edit(graph):
        content = table(graph, "routes")
        column = next(i for i in content["inputs"] if "social_isolation" in i["field"])
        column["field"] = field
    return edit


def test_a_rule_reading_an_undeclared_unit_is_named(tmp_path):
    folder = copy_profile(tmp_path)
    edit_graph(folder, _routes_row_reads("within.ward and a.social_isolation == true"))
    status, output = check(folder)
    assert status == 1
    assert "reads within.ward, but 'ward' is not a locality column in profile.yaml " \
           "(district, early_help_hub, slf_area, lac_patch)" in output


def test_the_level_table_may_read_a_unit_and_the_check_explores_it(tmp_path):
    """A level row that needs the household in a coordinator patch: the checker tries both
    values of within.lac_patch, so a row shadowed by it is still found."""
    folder = copy_profile(tmp_path)

    def edit(graph):
        content = table(graph, "level")
        first = content["rules"][0]
        content["inputs"].append({"id": "lvl_within", "name": "In a patch",
                                  "field": "within.lac_patch"})
        for r in content["rules"]:
            r["lvl_within"] = ""
        shadowed = dict(row(content, "L3-complex-need"), _id="L3-patch-copy")
        shadowed["lvl_within"] = "true"
        content["rules"].insert(content["rules"].index(row(content, "L3-complex-need")) + 1,
                                shadowed)
        assert first is content["rules"][0]

    edit_graph(folder, edit)
    status, output = check(folder)
    assert status == 1
    assert "(L3-patch-copy): can never fire" in output
    assert "reads a fact the check does not know" not in output
