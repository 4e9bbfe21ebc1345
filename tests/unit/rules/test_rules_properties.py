"""Properties of the default policy, over generated referrals (Hypothesis)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rules
from config.profile import load_profile

PROFILE = load_profile("leicestershire")
RULES = rules.load(PROFILE)
QUESTIONS = list(PROFILE.checklist.questions)
SAFEGUARDING = [q for q, v in PROFILE.checklist.questions.items() if v.kind == "safeguarding"]
STATUTORY = {s for s, v in PROFILE.services.items() if v.statutory}
ON = date(2026, 11, 2)
POSTCODES = ["LE13 0AB", "LE13 1AB", "LE11 1AB", "LE11 2AB", "NG1 5AA"]

people = st.lists(st.builds(rules.Person, role=st.just("household"),
                            date_of_birth=st.dates(date(1930, 1, 1), date(2026, 1, 1))),
                  min_size=1, max_size=4)
answers = st.dictionaries(st.sampled_from(QUESTIONS), st.booleans(), max_size=10)


def decide(ans, ppl, postcode="LE13 1AB", **kw):
    facts = rules.derive_facts(PROFILE.checklist, answers=ans, people=ppl, referral_date=ON,
                               place=PROFILE.place_for(postcode),
                               units=PROFILE.localities.columns, **kw)
    return RULES.evaluate(facts)


@settings(max_examples=300, deadline=None)
@given(ans=answers, ppl=people, sg=st.sampled_from(SAFEGUARDING))
def test_any_safeguarding_indicator_gives_level_4_and_only_statutory_routes(ans, ppl, sg):
    decision = decide({**ans, sg: True}, ppl)
    assert decision.level == 4 and decision.urgent
    assert decision.routes and {r.service for r in decision.routes} <= STATUTORY


@settings(max_examples=300, deadline=None)
@given(ans=answers, ppl=people, flip=st.sampled_from(QUESTIONS),
       postcode=st.sampled_from(POSTCODES))
def test_turning_an_answer_true_never_lowers_the_level(ans, ppl, flip, postcode):
    before = decide({**ans, flip: False}, ppl, postcode)
    after = decide({**ans, flip: True}, ppl, postcode)
    assert after.level >= before.level


@settings(max_examples=300, deadline=None)
@given(ans=answers, ppl=people, postcode=st.sampled_from(POSTCODES))
def test_level_1_exactly_when_nothing_is_true_and_2_3_always_route(ans, ppl, postcode):
    decision = decide(ans, ppl, postcode)
    assert (decision.level == 1) == (not any(ans.values()))
    if decision.level in (2, 3):
        assert decision.routes
    if postcode == "NG1 5AA":
        assert decision.needs_review and all(r.instance is None for r in decision.routes)
    else:
        assert all(r.instance for r in decision.routes)


def test_every_reason_names_its_rule_and_the_indicators_that_fired():
    decision = decide({"memory_concern": True, "social_isolation": True},
                      [rules.Person("subject", date(1935, 1, 1))], "LE13 0AB")
    by_rule = {r.rule: r for r in decision.reasons}
    assert set(by_rule) == {"L2-any-need", "R-adult-coordination"}
    assert set(by_rule["L2-any-need"].indicators) == {"memory_concern", "social_isolation"}
    assert "Melton North" in decision.routes[0].reason


def test_the_shipped_profile_passes_its_worked_examples():
    results = rules.run_examples(PROFILE, RULES)
    assert len(results) >= 30
    assert [r.name for r in results if not r.passed] == []


def test_a_graph_naming_an_unknown_indicator_or_service_is_refused(tmp_path):
    import shutil

    shutil.copytree(PROFILE.folder, tmp_path / "p")
    graph = (tmp_path / "p" / "decision-graph.json").read_text()
    graph = graph.replace("a.social_isolation", "a.loneliness").replace(
        "'first_contact_plus'", "'first_contact_minus'")
    (tmp_path / "p" / "decision-graph.json").write_text(graph)
    with pytest.raises(rules.RuleError) as caught:
        rules.load(load_profile(tmp_path / "p"))
    messages = " ".join(p.message for p in caught.value.problems)
    assert "unknown indicator 'loneliness'" in messages
    assert "unknown service 'first_contact_minus'" in messages


def test_check_reports_a_row_that_can_never_fire(tmp_path):
    import json
    import shutil

    shutil.copytree(PROFILE.folder, tmp_path / "p")
    path = tmp_path / "p" / "decision-graph.json"
    graph = json.loads(path.read_text())
    level = next(n for n in graph["nodes"] if n.get("content", {}).get("outputPath") == "level")
    rows = level["content"]["rules"]
    rows.insert(0, dict(rows[-1], _id="catch-all-first"))  # a catch-all first hides the rest
    path.write_text(json.dumps(graph))
    problems = rules.check(load_profile(tmp_path / "p"))
    dead = [p for p in problems if "can never fire" in p.message]
    assert len(dead) == len(rows) - 1  # every row but the new catch-all at the top


@settings(max_examples=300, deadline=None)
@given(ans=answers, ppl=people, postcode=st.sampled_from(POSTCODES))
def test_consent_is_per_route_and_leicestershire_s_routes_keep_their_old_consent(
        ans, ppl, postcode):
    """A route goes ahead without consent exactly when its service is statutory and its
    level does not need consent. With Leicestershire's data that is every route at level 4
    and none below it: what deciding consent for the whole referral used to do."""
    decision = decide(ans, ppl, postcode)
    level = PROFILE.level(decision.level_code)
    assert level.number == decision.level
    for route in decision.routes:
        assert route.consent_needed == (not (route.service in STATUTORY
                                             and not level.consent_needed))
        assert route.consent_needed == (decision.level_code != "4")
