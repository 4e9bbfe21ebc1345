"""Keys that names are compared by: folded spelling (matching) and sound (forgiving search)."""

from __future__ import annotations

from triage.linkage import fold_name

# Soundex's letter groups: letters that sound alike share a digit.
_GROUPS = {**dict.fromkeys("bfpv", "1"), **dict.fromkeys("cgjkqsxz", "2"),
           **dict.fromkeys("dt", "3"), "l": "4", **dict.fromkeys("mn", "5"), "r": "6"}
SOUND_KEY_LENGTH = 6


def name_key(name: str | None) -> str | None:
    """Lower-case letters only, accents folded: 'O'Néil' and 'oneil' compare equal (the
    scorer's folding, so that intake's exact match and the scorer's `same` agree)."""
    return fold_name(name)


def sound_key(name: str | None) -> str | None:
    """A Soundex-like key, six long: 'Jonson', 'Johnson' and 'Jonsen' share 'j525'.

    The first letter is kept; later letters become their group's digit, a run of one digit
    counts once (also across h and w), vowels separate runs and are dropped. Longer than
    Soundex's four so that long family names are not all one bucket.
    """
    key = name_key(name)
    if not key:
        return None
    out = [key[0]]
    last = _GROUPS.get(key[0], "")
    for letter in key[1:]:
        digit = _GROUPS.get(letter)
        if digit is None:
            if letter not in "hw":
                last = ""
            continue
        if digit != last:
            out.append(digit)
        last = digit
    return "".join(out)[:SOUND_KEY_LENGTH]
