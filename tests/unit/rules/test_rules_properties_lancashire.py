"""Properties of Lancashire's policy, over generated referrals (Hypothesis)."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

import rules
from config.profile import load_profile

PROFILE = load_profile("lancashire")
RULES = rules.load(PROFILE)
QUESTIONS = list(PROFILE.checklist.questions)
CHILD_THRESHOLDS = {q: PROFILE.checklist.kinds[v.kind].sets_level
                    for q, v in PROFILE.checklist.questions.items()
                    if v.kind in ("child_protection", "child_in_need", "looked_after")
                    and q != "domestic_abuse_high_risk"}
STATUTORY = {s for s, v in PROFILE.services.items() if v.statutory}
ON = date(2026, 11, 2)
IN_COUNTY = ["PR1 1AB", "PR2 3AB", "BB9 7AB", "OL13 0AB", "WN8 9AB", "LA1 1AB", "BB1 4AB"]
OUT_OF_COUNTY = ["FY1 1AB", "FY4 4QT", "BB1 1EE", "BB2 6AP", "M1 1AE"]

people = st.lists(st.builds(rules.Person, role=st.just("household"),
                            date_of_birth=st.dates(date(1930, 1, 1), date(2026, 1, 1))),
                  min_size=1, max_size=4)
answers = st.dictionaries(st.sampled_from(QUESTIONS), st.booleans(), max_size=10)
postcodes = st.sampled_from(IN_COUNTY + OUT_OF_COUNTY)


def decide(ans, ppl, postcode="PR1 1AB", **kw):
    facts = rules.derive_facts(PROFILE.checklist, answers=ans, people=ppl, referral_date=ON,
                               place=PROFILE.place_for(postcode),
                               units=PROFILE.localities.columns, **kw)
    return RULES.evaluate(facts)


@settings(max_examples=300, deadline=None)
@given(ans=answers, ppl=people, q=st.sampled_from(sorted(CHILD_THRESHOLDS)))
def test_a_children_s_threshold_is_a_statutory_level_routed_to_children_s_social_care(
        ans, ppl, q):
    decision = decide({**ans, q: True}, ppl)
    assert decision.level == 4 and decision.level_code in ("4a", "4b", "4c")
    # The first rule wins: the level is never below the one this answer's kind sets.
    order = ["4b", "4c", "4a"]
    assert order.index(decision.level_code) <= order.index(CHILD_THRESHOLDS[q])
    services = {r.service for r in decision.routes}
    assert "childrens_social_care" in services
    assert services - {"childrens_social_care", "adult_social_care"} <= (
        {"wpehs_targeted"} if decision.level_code == "4a" else set())


@settings(max_examples=300, deadline=None)
@given(ans=answers, ppl=people, postcode=postcodes)
def test_an_adult_at_risk_always_adds_adult_social_care_which_never_waits(ans, ppl, postcode):
    decision = decide({**ans, "adult_at_risk": True}, ppl, postcode)
    assert decision.safeguarding["adult"]
    (asc,) = [r for r in decision.routes if r.service == "adult_social_care"]
    assert asc.consent_needed is False


@settings(max_examples=300, deadline=None)
@given(ans=answers, ppl=people, flip=st.sampled_from(QUESTIONS), postcode=postcodes,
       info=st.booleans())
def test_turning_an_answer_true_never_lowers_the_level(ans, ppl, flip, postcode, info):
    before = decide({**ans, flip: False}, ppl, postcode, information_only=info)
    after = decide({**ans, flip: True}, ppl, postcode, information_only=info)
    assert after.level >= before.level


@settings(max_examples=400, deadline=None)
@given(ans=answers, ppl=people, postcode=postcodes, info=st.booleans(),
       step_down=st.booleans())
def test_consent_flags_place_and_levels_hold_for_every_referral(ans, ppl, postcode, info,
                                                                step_down):
    decision = decide(ans, ppl, postcode, information_only=info, step_down=step_down)
    level = PROFILE.level(decision.level_code)
    assert level.number == decision.level and decision.urgent == level.urgent
    assert decision.routes
    # Consent per route: early help always waits for it; Adult Social Care never does;
    # Children's Social Care waits only for Child in Need (4a).
    for route in decision.routes:
        if route.service not in STATUTORY:
            assert route.consent_needed
        elif route.service == "adult_social_care":
            assert not route.consent_needed
        else:
            assert route.consent_needed == (decision.level_code == "4a")
    assert decision.safeguarding["child"] == (decision.level_code == "4b")
    nothing = not any(ans.values())
    assert (decision.level_code in ("0", "1")) == nothing
    if nothing:
        assert decision.level_code == ("0" if info else "1")
    if postcode in OUT_OF_COUNTY:
        assert decision.needs_review and all(r.instance is None for r in decision.routes)
    else:
        assert not decision.needs_review and all(r.instance for r in decision.routes)
