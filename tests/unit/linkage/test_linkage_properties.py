"""Properties of the scorer for any records: a missing value never adds weight, the score does
not depend on which record comes first, and identical named and dated records are exact."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from config.profile import load_profile
from triage.linkage import Record, score
from triage.linkage.score import FIELDS

MATCHING = load_profile("leicestershire").matching
NAMES = ["Priya", "Pria", "Johnson", "Jonson", "Johnson-Smith", "Smith", "Smyth", "William",
         "Bill", "Zoë", "Zoe", "Anika", "Mary-Jane", "Mary", "O'Neil", "Wei", "Zhang"]
name = st.one_of(st.none(), st.sampled_from(NAMES),
                 st.text(alphabet="abcdefghijklmnopqrstuvwxyz -'", min_size=1, max_size=12))
dob = st.one_of(st.none(), st.dates(min_value=__import__("datetime").date(1950, 1, 1),
                                    max_value=__import__("datetime").date(2026, 12, 31)))
postcode = st.one_of(st.none(), st.sampled_from(["LE11 2AB", "LE11 2AD", "LE11 3AB",
                                                 "LE13 0AB", "NG5 2BB", "not one"]))
phone = st.one_of(st.none(), st.sampled_from(["07700 900123", "+44 7700 900123",
                                              "07700900456"]))
email = st.one_of(st.none(), st.sampled_from(["a@example.org", "A@example.org ",
                                              "b@example.org"]))
records = st.builds(Record, given_name=name, family_name=name, date_of_birth=dob,
                    postcode=postcode, phone=phone, email=email)


@settings(max_examples=300, deadline=None)
@given(a=records, b=records, field=st.sampled_from(FIELDS))
def test_a_missing_value_never_scores_above_the_same_value_agreeing(a, b, field):
    blank = score(replace(a, **{field: None}), b, MATCHING)
    agreeing = score(replace(a, **{field: getattr(b, field)}), b, MATCHING)
    assert blank.score <= agreeing.score + 1e-9
    assert all(c.field != field for c in blank.comparisons)  # it adds nothing, either way


@settings(max_examples=300, deadline=None)
@given(a=records, field=st.sampled_from(FIELDS))
def test_blanking_a_field_of_one_record_never_raises_its_score_with_itself(a, field):
    whole = score(a, a, MATCHING)
    blank = score(replace(a, **{field: None}), a, MATCHING)
    assert blank.score <= whole.score + 1e-9
    order = [None, "possible", "likely", "exact"]
    assert order.index(blank.band) <= order.index(whole.band)


@settings(max_examples=300, deadline=None)
@given(a=records, b=records)
def test_the_score_is_the_same_whichever_record_comes_first(a, b):
    ab, ba = score(a, b, MATCHING), score(b, a, MATCHING)
    assert abs(ab.score - ba.score) < 1e-9 and ab.band == ba.band


@settings(max_examples=300, deadline=None)
@given(a=records, g=st.sampled_from(NAMES), f=st.sampled_from(NAMES),
       born=dob.filter(lambda d: d is not None))
def test_identical_records_with_names_and_a_date_of_birth_are_exact(a, g, f, born):
    a = replace(a, given_name=g, family_name=f, date_of_birth=born)
    assert score(a, a, MATCHING).band == "exact"
