"""The referral's answers load the same through the fast path as through the checklist's
schema: the same values in checklist order for a valid object, the same messages otherwise."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError, fields

from config.profile import load_profile
from tests.profile_ids import selected_profiles
from triage.schemas.referral import AnswersField, _answers_schema

VALUES = st.one_of(st.none(), st.booleans(), st.integers(0, 1), st.text(max_size=3),
                   st.floats(allow_nan=False), st.lists(st.booleans(), max_size=1))


def _load(field, value):
    try:
        return "ok", field.deserialize(value, "answers", {"answers": value})
    except ValidationError as exc:
        return "error", exc.messages


@pytest.mark.parametrize("profile_id", selected_profiles())
def test_the_fast_path_answers_as_the_schema_does(profile_id):
    checklist = load_profile(profile_id).checklist
    schema = _answers_schema(checklist)
    fast = AnswersField(schema, list(checklist.questions), required=True)
    plain = fields.Nested(schema, required=True)
    questions = list(checklist.questions)
    answers = st.dictionaries(st.one_of(st.sampled_from(questions), st.text(max_size=8)),
                              VALUES, max_size=len(questions) + 2)
    valid = st.dictionaries(st.sampled_from(questions), st.one_of(st.none(), st.booleans()))

    @settings(max_examples=300, deadline=None)
    @given(st.one_of(answers, valid, VALUES, st.lists(valid, max_size=1)))
    def check(value):
        assert _load(fast, value) == _load(plain, value)
        outcome, loaded = _load(fast, value)
        if outcome == "ok":  # in checklist order, as the schema gives them
            assert list(loaded) == [q for q in questions if q in value]

    check()
