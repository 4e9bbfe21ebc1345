"""No council's names in the code: every service name, instance, locality value, district,
level name and postcode area of every profile under config/profiles/ (and the names its
texts use) appears only in that profile's data, never in triage/, workflows/, rules/ or bench/
(Python, templates, JSON). A council's wording is the profile's texts (config/texts.py)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import yaml

from config.profile import PROFILES_DIR

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("triage", "workflows", "rules", "bench")
SUFFIXES = {".py", ".html", ".json", ".txt", ".js", ".yaml", ".ini", ".mako"}
# Migrations record history as it was (a data migration may name the codes it converted).
# The demo's users and partner organisations are still Leicestershire's (gaps blocker 11:
# they move to the profile's own demo data with the Lancashire demo); nothing else may be.
SKIPPED = ("triage/migrations/",
           # a list of common passwords (sign-in refuses them); some are place names
           "triage/services/accounts/common_passwords.txt")
# Capitalised phrases of two or more words in a profile's texts ("First Response").
PHRASE = re.compile(r"[A-Z][a-z]+(?: (?:and |of )?[A-Z][a-z]+)+")


def _leaves(data) -> list[str]:
    if isinstance(data, dict):
        return [leaf for value in data.values() for leaf in _leaves(value)]
    if isinstance(data, list):
        return [leaf for value in data for leaf in _leaves(value)]
    return [data] if isinstance(data, str) else []


def _profile_terms(folder: Path) -> tuple[set[str], set[str]]:
    """(names and ids, postcode areas) one profile's data holds."""
    meta = yaml.safe_load((folder / "profile.yaml").read_text(encoding="utf-8"))
    files = meta.get("files") or {}
    names = {meta["name"]}
    texts = meta.get("texts") or {}
    if texts.get("area_name"):
        names.add(texts["area_name"])
    for value in texts.values():
        names |= set(PHRASE.findall(str(value)))
    names |= {str(v) for v in (meta.get("districts") or {}).values()}
    if files.get("geography"):  # the names of the units (districts, hubs...)
        geography = yaml.safe_load((folder / files["geography"]).read_text(encoding="utf-8"))
        names |= set(_leaves({k: v for k, v in geography.items() if k != "units"}))
    names |= {str(level["name"]) for level in meta.get("levels") or []}
    services = yaml.safe_load((folder / files.get("services", "services.yaml"))
                              .read_text(encoding="utf-8"))
    for service in services["services"]:
        names.add(service["name"])
        for instance in service.get("instances") or []:
            names |= {instance["id"], instance.get("name", instance["id"])}
    areas = set()
    with (folder / files.get("localities", "localities.csv")).open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            for column, value in row.items():
                if value and value.strip():
                    names.add(value.strip())
                    if column == "postcode_sector":
                        areas.add(re.match(r"[A-Z]+", value.strip()).group())
    return names, areas


def _patterns() -> list[tuple[str, re.Pattern]]:
    names, areas = set(), set()
    for folder in sorted(PROFILES_DIR.iterdir()):
        if (folder / "profile.yaml").exists():
            found_names, found_areas = _profile_terms(folder)
            names |= found_names
            areas |= found_areas
    out = [(name, re.compile(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])"))
           for name in sorted(names) if len(name) > 2]
    out += [(f"{area} postcode", re.compile(rf"\b{area}[0-9][0-9A-Z]?\b"))
            for area in sorted(areas)]
    return out


def _scan(root: Path = ROOT) -> list[str]:
    patterns = _patterns()
    found = []
    for base in SCANNED:
        for path in sorted((root / base).rglob("*")):
            rel = path.relative_to(root).as_posix()
            if path.suffix not in SUFFIXES or rel.startswith(SKIPPED) or not path.is_file():
                continue
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            for n, line in enumerate(lines, start=1):
                for term, pattern in patterns:
                    if pattern.search(line):
                        found.append(f"{rel}:{n}: {term!r}: {line.strip()[:100]}")
    return found


def test_the_scan_knows_each_profile_s_names():
    """The scan would see a council's names: its terms include the ones this test is for."""
    names = {term for term, _ in _patterns()}
    assert {"Leicestershire", "Leicestershire County Council", "First Response",
            "Early Help Hub", "charnwood-hub", "LE postcode"} <= names


def test_the_scan_finds_a_name_put_in_the_code_and_says_where(tmp_path):
    page = tmp_path / "triage" / "web" / "templates" / "page.html"
    page.parent.mkdir(parents=True)
    page.write_text("<p>Ask at the front door.</p>\n<p>Ring Charnwood Early Help Hub</p>\n"
                    "<p>LE11 2AB</p>\n", encoding="utf-8")
    (tmp_path / "workflows").mkdir()
    (tmp_path / "workflows" / "x.py").write_text('TEAM = "early_help_hub:melton-hub"\n')
    found = _scan(tmp_path)
    assert "triage/web/templates/page.html:2: 'Early Help Hub': <p>Ring Charnwood Early " \
           "Help Hub</p>" in found
    assert "triage/web/templates/page.html:3: 'LE postcode': <p>LE11 2AB</p>" in found
    assert "workflows/x.py:1: 'melton-hub': TEAM = \"early_help_hub:melton-hub\"" in found
    assert not [f for f in found if ":1: " in f and "page.html" in f]


def test_no_council_s_names_in_python_or_templates():
    found = _scan()
    if found:
        pytest.fail("A council's names belong in its profile (texts: or its data), not in "
                    "the code:\n" + "\n".join(found))
