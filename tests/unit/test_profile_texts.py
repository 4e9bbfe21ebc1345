"""A council's wording is profile data (profile.yaml `texts`): every key has a neutral
default, and an unknown key or a value that is not one line of text is a named problem that
`triage rules check` reports with exit status 1."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from config.profile import PROFILES_DIR, ProfileError, load_profile, parse_postcode
from config.texts import TEXTS
from tests.profile_copies import with_texts
from triage.cli import main


def test_the_shipped_profile_says_its_own_words():
    texts = load_profile("leicestershire").texts
    assert set(texts) == set(TEXTS)
    assert texts["area_name"] == "Leicestershire"
    assert texts["statutory_front_door"] == \
        "the council's children's duty team (First Response)"
    assert texts["meeting_team"] == "Hub"
    assert texts["meeting_coordinator"] == "Hub coordinator"


def test_a_profile_without_texts_gets_neutral_words(tmp_path):
    profile = load_profile(with_texts(PROFILES_DIR / "leicestershire", tmp_path / "p", None))
    texts = profile.texts
    assert set(texts) == set(TEXTS)
    assert texts["area_name"] == "Leicestershire County Council"  # the profile's name
    assert texts["statutory_front_door"] == "the council's children's social care team"
    assert texts["meeting_coordinator"] == "Panel coordinator"
    # An example postcode in the profile's own area, from its first postcode sector.
    assert parse_postcode(texts["postcode_example"])[1] == min(profile.localities)
    assert "Leicestershire" not in " ".join(v for k, v in texts.items() if k != "area_name")


def test_some_texts_given_the_rest_default(tmp_path):
    texts = load_profile(with_texts(PROFILES_DIR / "leicestershire", tmp_path / "p",
                                    {"meeting_team": "Locality panel"})).texts
    assert texts["meeting_team"] == "Locality panel"
    assert texts["meeting_coordinator"] == "Locality panel coordinator"


@pytest.mark.parametrize(("texts", "problem"), [
    ({"welcome_banner": "Hello"}, "profile.yaml: texts.welcome_banner: unknown key; known: "
                                  "area_name, start_intro"),
    ({"area_name": ""}, "profile.yaml: texts.area_name: must be one line of text"),
    ({"area_name": ["Lancashire"]}, "profile.yaml: texts.area_name: must be one line of text"),
    ({"locality_hint": "One line.\nTwo lines."},
     "profile.yaml: texts.locality_hint: must be one line of text"),
    (["area_name"], "profile.yaml: texts: must be a mapping of key: the words shown"),
])
def test_a_wrong_text_is_named_and_rules_check_fails(tmp_path, texts, problem):
    folder = with_texts(PROFILES_DIR / "leicestershire", tmp_path / "p", texts)
    with pytest.raises(ProfileError) as err:
        load_profile(folder)
    assert any(str(p).startswith(problem) for p in err.value.problems), err.value.problems
    result = CliRunner().invoke(main, ["rules", "check", "--profile", str(folder)])
    assert result.exit_code == 1
    assert problem in result.output
    assert "Traceback" not in result.output
