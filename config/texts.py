"""A council's own wording (profile.yaml `texts:`): what the pages, hints and the API
description say about this council's services, so no council's names live in the code.

Every key has a neutral default, used when the profile leaves it out (so a new profile runs
before its wording is written); `triage rules check` names an unknown key or a value that is
not one line of text. `{placeholders}` in a default are filled from the profile."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

# key -> (what it is for, the neutral default)
TEXTS: dict[str, tuple[str, str]] = {
    "area_name": (
        "The council's area as the start page names it (Early help in <area_name>)",
        "{profile_name}"),
    "start_intro": (
        "The start page's opening paragraph",
        "One front door to early help for children, families and adults: a shared "
        "checklist, a clear decision about how much help is needed, and the right service "
        "in the right place."),
    "statutory_front_door": (
        "Who to call when a child is being harmed (the start page)",
        "the council's children's social care team"),
    "locality_hint": (
        "The hint under the household's postcode on the referral forms",
        "This decides which local teams cover them."),
    "postcode_example": (
        "An example postcode in the council's area, in hints and error messages",
        "{first_sector}AB"),
    "consent_hint": (
        "The hint on the staff and partner referral forms' consent question",
        "Early help is voluntary. Without consent, the referral is recorded but only the "
        "routes that may go ahead without it (safeguarding) are opened; the rest wait until "
        "the person agrees."),
    "consent_who": (
        "The public consent page: who the family's information is passed to",
        "To get you help, we need to pass what you have told us to the service that can "
        "help. We will tell you who."),
    "consent_exceptions": (
        "The public consent page: when information is shared without agreement",
        "If you say no, we will keep your request but we cannot pass it on until you agree. "
        "If we think someone is at risk of serious harm, we must share it anyway to keep "
        "them safe."),
    "partner_organisation_example": (
        "The example under a partner account's organisation",
        "the fire and rescue service"),
    "instance_examples": (
        "What a service instance is here, in the API description (Service instance (...))",
        "a local team"),
    "meeting_team": (
        "The name of a pathway's meeting and its team (menus, titles: <meeting_team> queue, "
        "<meeting_team> meeting); only shown when a pathway has a meeting",
        "Panel"),
    "meeting_coordinator": (
        "The role that runs a meeting, as account pages name it",
        "{meeting_team} coordinator"),
}


def load_texts(data: Any, context: Mapping[str, str],
               problem: Callable[[str, str], None]) -> dict[str, str]:
    """profile.yaml `texts`: every key's words, the neutral default where the profile has
    none. `context` fills a default's placeholders (profile_name, first_sector)."""
    texts: dict[str, str] = {}
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        problem("texts", "must be a mapping of key: the words shown")
        data = {}
    for key in sorted(set(map(str, data)) - set(TEXTS)):
        problem(f"texts.{key}", f"unknown key; known: {', '.join(TEXTS)}")
    for key, value in data.items():
        if str(key) in TEXTS and not (isinstance(value, str) and value.strip()
                                      and "\n" not in value.strip()):
            problem(f"texts.{key}", "must be one line of text")
    for key in TEXTS:
        value = data.get(key)
        if isinstance(value, str) and value.strip() and "\n" not in value.strip():
            texts[key] = value.strip()
    for key, (_, default) in TEXTS.items():  # in order: a default may use an earlier key
        if key not in texts:
            texts[key] = default.format(**{**context, **texts})
    return texts
