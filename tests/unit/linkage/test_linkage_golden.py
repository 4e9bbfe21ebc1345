"""The golden file (tests/data/matching_golden.csv): labelled pairs of records, typos,
nicknames, hyphenated and swapped names, moves, missing and transposed dates, and the people
who must not be merged (twins, a father and son with one name, siblings, neighbours)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from config.profile import load_profile
from triage.linkage import Record, score

GOLDEN = Path(__file__).parents[2] / "data" / "matching_golden.csv"
FIELDS = ("given", "family", "dob", "postcode", "phone", "email")


def _record(row: dict[str, str], side: str) -> Record:
    value = {f: (row[f"{side}_{f}"] or None) for f in FIELDS}
    return Record(given_name=value["given"], family_name=value["family"],
                  date_of_birth=date.fromisoformat(value["dob"]) if value["dob"] else None,
                  postcode=value["postcode"], phone=value["phone"], email=value["email"])


@pytest.fixture(scope="module")
def scored():
    matching = load_profile("leicestershire").matching
    rows = list(csv.DictReader(GOLDEN.open(encoding="utf-8")))
    return [(row["kind"], row["same_person"] == "yes",
             score(_record(row, "a"), _record(row, "b"), matching)) for row in rows]


def test_the_golden_file_has_every_kind_of_pair_asked_for(scored):
    kinds = {kind for kind, _, _ in scored}
    assert len(scored) >= 60
    assert {"typo_given", "typo_family", "nickname", "hyphenated", "double_barrelled",
            "swapped", "twins", "father_son", "moved_house", "missing_dob",
            "transposed_dob"} <= kinds


def test_nobody_different_is_banded_exact(scored):
    assert [(k, m.reasons) for k, same, m in scored if not same and m.band == "exact"] == []


def test_no_twins_and_no_father_and_son_are_exact_or_likely(scored):
    assert [(k, m.band, m.reasons) for k, _, m in scored
            if k in ("twins", "father_son") and m.band in ("exact", "likely")] == []


def test_moving_house_keeps_a_person_likely(scored):
    assert all(m.band in ("exact", "likely") for k, _, m in scored if k == "moved_house")


def test_recall_at_possible_is_at_least_95_percent_and_precision_is_reported(scored):
    true_pairs = [m for _, same, m in scored if same]
    found = [m for m in true_pairs if m.band is not None]
    recall = len(found) / len(true_pairs)
    figures = {}
    for cut in (("exact",), ("exact", "likely"), ("exact", "likely", "possible")):
        banded = [same for _, same, m in scored if m.band in cut]
        figures[cut[-1]] = (sum(banded) / len(banded), sum(banded) / len(true_pairs))
    print(f"\ngolden: {len(scored)} pairs, {len(true_pairs)} the same person; "
          + ", ".join(f"at {band} or better: precision {p:.2f}, recall {r:.2f}"
                      for band, (p, r) in figures.items()))
    assert recall >= 0.95
    assert figures["exact"][0] == 1.0
    assert figures["likely"][0] >= 0.95
