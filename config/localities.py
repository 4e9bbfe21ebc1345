"""A council's localities: the units it divides its area into (Leicestershire's district, hub,
family support area and coordinator patch; Lancashire's footprint, planning area and
neighbourhood centre), which postcode sector lies in which, and what each is called.

profile.yaml declares the units (`localities:`); `files.localities` is the table of postcode
sectors (CSV: `postcode_sector` then the declared columns, in order); the optional
`files.geography` names the values and nests them (units, then each value with its `name` and
the values of the next unit under `<unit>s`). Every bad row or key is a named problem with
the file, the line and the value; nothing here raises on bad data.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

from config.keys import unknown_keys

SECTOR_COLUMN = "postcode_sector"
SCHEME_KEYS = ("columns", "required", "hierarchy", "top", "labels", "api_names")
_SECTOR = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]? [0-9]")
_UNIT = re.compile(r"[a-z][a-z0-9_]{0,31}")
_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# A full UK postcode: outward code (area, district) and inward code (sector digit, unit).
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9])([A-Z]{2})$")

# (file, key, message): how a problem is reported (config.profile makes it a Problem).
Report = Callable[[str, str, str], None]


def parse_postcode(raw: str) -> tuple[str, str] | None:
    """Normalise a UK postcode; return (postcode, sector) or None when it is not one."""
    compact = re.sub(r"\s+", "", str(raw or "")).upper()
    match = _POSTCODE.match(compact)
    if not match:
        return None
    outward, sector_digit, unit = match.groups()
    return f"{outward} {sector_digit}{unit}", f"{outward} {sector_digit}"


@dataclass(frozen=True)
class Place:
    """Where a household lives, as the profile's localities table says: its postcode, its
    sector and the value of every declared unit (None where the row leaves it blank)."""

    postcode: str
    sector: str
    units: Mapping[str, str | None]
    # The profile's top unit (what reports and the family record group by).
    top_unit: str | None = None

    def get(self, unit: str) -> str | None:
        return self.units.get(unit)

    def column(self, name: str) -> str | None:
        """The value of a declared column (None when blank or not declared)."""
        return self.units.get(name)

    @property
    def top(self) -> str | None:
        if self.top_unit is not None:
            return self.units.get(self.top_unit)
        return next(iter(self.units.values()), None)


@dataclass(frozen=True)
class LocalityScheme:
    """profile.yaml `localities:`: the columns after postcode_sector (in order), those every
    row must fill, the hierarchy (each value of a unit lies in exactly one value of the unit
    before it), the top unit, what the units are called, and their names in the API's
    `place` (the contract's names; by default the column's own)."""

    columns: tuple[str, ...]
    required: frozenset[str]
    hierarchy: tuple[str, ...]
    top: str
    labels: Mapping[str, str] = field(default_factory=dict)
    api_names: Mapping[str, str] = field(default_factory=dict)

    def label(self, unit: str) -> str:
        return self.labels.get(unit) or unit.replace("_", " ").capitalize()

    def api_name(self, unit: str) -> str:
        return self.api_names.get(unit, unit)

    @property
    def header(self) -> tuple[str, ...]:
        return (SECTOR_COLUMN, *self.columns)

    def parent_unit(self, unit: str) -> str | None:
        """The unit the hierarchy puts this one in (None for the first, or one outside it)."""
        if unit not in self.hierarchy:
            return None
        i = self.hierarchy.index(unit)
        return self.hierarchy[i - 1] if i else None


@dataclass(frozen=True)
class Localities:
    """The localities table, read and checked: postcode sector -> Place, with the names and
    the hierarchy geography gives (or, without geography, the one the table implies)."""

    scheme: LocalityScheme
    rows: Mapping[str, Place]
    # unit -> value -> the words shown (geography.yaml; absent values show as themselves).
    names: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # unit -> value -> the value of the unit before it in the hierarchy.
    parents: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # unit -> its values in order (geography's order; otherwise sorted).
    ordered: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # (unit, value, column) -> the values of column on rows whose unit is value.
    within: Mapping[tuple[str, str, str], frozenset[str]] = field(default_factory=dict)
    # Postcode sector -> its line in the localities file (so later checks can name it).
    lines: Mapping[str, int] = field(default_factory=dict)

    @property
    def columns(self) -> tuple[str, ...]:
        return self.scheme.columns

    @property
    def top(self) -> str:
        return self.scheme.top

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[str]:
        return iter(self.rows)

    def __contains__(self, sector: object) -> bool:
        return sector in self.rows

    def place_for(self, postcode: str) -> Place | None:
        """The household's place, or None when the profile does not cover the postcode."""
        parts = parse_postcode(postcode)
        if parts is None:
            return None
        normal, sector = parts
        row = self.rows.get(sector)
        if row is None:
            return None
        return Place(postcode=normal, sector=sector, units=row.units, top_unit=row.top_unit)

    def values(self, unit: str) -> tuple[str, ...]:
        return self.ordered.get(unit, ())

    def name_of(self, unit: str, value: str | None) -> str:
        if not value:
            return ""
        return self.names.get(unit, {}).get(value, value)

    def label(self, unit: str) -> str:
        return self.scheme.label(unit)

    def parent(self, unit: str, value: str) -> str | None:
        return self.parents.get(unit, {}).get(value)

    def instances_within(self, unit: str, value: str, column: str) -> frozenset[str]:
        """The values of `column` on the rows whose `unit` is `value` (the planning areas of a
        footprint, the coordinator patches of a hub)."""
        return self.within.get((unit, value, column), frozenset())

    def api_place(self, place: Place | None) -> dict[str, str | None] | None:
        """The API's `place`: each declared column under its API name, in order."""
        if place is None:
            return None
        return {self.scheme.api_name(c): place.get(c) for c in self.scheme.columns}


# -- profile.yaml `localities:` --------------------------------------------------------------

def load_scheme(data: Any, report: Report, file: str = "profile.yaml") -> LocalityScheme | None:
    """profile.yaml `localities:`; None (with each problem named) when it cannot be used."""
    key = "localities"
    if not isinstance(data, dict):
        report(file, key, "is required: a mapping with columns, required, hierarchy, top, "
                          "labels and api_names")
        return None
    unknown_keys(data, SCHEME_KEYS, key, lambda at, msg: report(file, at, msg))
    bad = False

    def units(name: str, value: Any, *, allow_empty: bool) -> tuple[str, ...] | None:
        if value is None and allow_empty:
            return ()
        if not isinstance(value, list) or (not value and not allow_empty):
            report(file, f"{key}.{name}", f"must be a list of column names (got {value!r})")
            return None
        found = []
        for i, unit in enumerate(value):
            if not isinstance(unit, str) or not _UNIT.fullmatch(unit):
                report(file, f"{key}.{name}[{i}]",
                       f"{unit!r} is not a column name (lower_case, at most 32 characters)")
                return None
            if unit in found:
                report(file, f"{key}.{name}[{i}]", f"{unit!r} is listed twice")
                return None
            found.append(unit)
        return tuple(found)

    columns = units("columns", data.get("columns"), allow_empty=False)
    if columns is None:
        return None
    if SECTOR_COLUMN in columns:
        report(file, f"{key}.columns", f"{SECTOR_COLUMN!r} is always the first column; do not "
                                       "declare it")
        bad = True
    required = units("required", data.get("required"), allow_empty=True)
    hierarchy = units("hierarchy", data.get("hierarchy"), allow_empty=True)
    if required is None or hierarchy is None:
        return None
    for name, listed in (("required", required), ("hierarchy", hierarchy)):
        for unit in listed:
            if unit not in columns:
                report(file, f"{key}.{name}", f"{unit!r} is not one of the columns "
                                              f"({', '.join(columns)})")
                bad = True
    top = data.get("top", hierarchy[0] if hierarchy else columns[0])
    if not isinstance(top, str) or top not in columns:
        report(file, f"{key}.top", f"{top!r} is not one of the columns ({', '.join(columns)})")
        bad = True
    labels = _unit_map(data.get("labels"), columns, f"{key}.labels", file, report,
                       lambda v: isinstance(v, str) and bool(v.strip()), "needs words")
    api_names = _unit_map(data.get("api_names"), columns, f"{key}.api_names", file, report,
                          lambda v: isinstance(v, str) and bool(_UNIT.fullmatch(v)),
                          "must be a lower_case name of at most 32 characters")
    if labels is None or api_names is None:
        return None
    seen: dict[str, str] = {}
    for column in columns:
        name = api_names.get(column, column)
        if name in seen:
            report(file, f"{key}.api_names.{column}", f"{name!r} is also the API name of "
                                                      f"{seen[name]!r}")
            bad = True
        seen[name] = column
    if bad:
        return None
    return LocalityScheme(columns=columns, required=frozenset(required), hierarchy=hierarchy,
                          top=top, labels={k: v.strip() for k, v in labels.items()},
                          api_names=api_names)


def _unit_map(data: Any, columns: Sequence[str], key: str, file: str, report: Report,
              ok: Callable[[Any], bool], message: str) -> dict[str, str] | None:
    if data is None:
        return {}
    if not isinstance(data, dict):
        report(file, key, "must be a mapping of column: value")
        return None
    good = True
    for unit, value in data.items():
        if unit not in columns:
            report(file, f"{key}.{unit}", f"is not one of the columns ({', '.join(columns)})")
            good = False
        elif not ok(value):
            report(file, f"{key}.{unit}", f"{message} (got {value!r})")
            good = False
    return dict(data) if good else None


# -- geography.yaml ---------------------------------------------------------------------------

@dataclass
class _Geography:
    names: dict[str, dict[str, str]]
    parents: dict[str, dict[str, str]]
    order: dict[str, list[str]]
    units: tuple[str, ...]


def load_geography(data: Any, scheme: LocalityScheme, file: str, report: Report
                   ) -> _Geography | None:
    """geography.yaml: `units` (the profile's hierarchy, or its first units) and the values of
    the first unit under `<unit>s`, each a name or `{name, <next unit>s: {...}}`."""
    if not isinstance(data, dict):
        report(file, "-", "must be a mapping with units and the values of the first unit")
        return None
    units = data.get("units")
    hierarchy = scheme.hierarchy
    if (not isinstance(units, list) or not units
            or tuple(units) != hierarchy[:len(units)]):
        report(file, "units", f"must be the hierarchy profile.yaml declares, or its first units "
                              f"({', '.join(hierarchy) or 'none declared'}); got {units!r}")
        return None
    units = tuple(units)
    top_key = f"{units[0]}s"
    unknown_keys(data, ("units", top_key), "", lambda at, msg: report(file, at, msg))
    geo = _Geography(names={u: {} for u in units}, parents={u: {} for u in units[1:]},
                     order={u: [] for u in units}, units=units)
    ok = _walk(data.get(top_key), 0, None, top_key, geo, file, report)
    return geo if ok else None


def _walk(level: Any, depth: int, parent: str | None, key: str, geo: _Geography, file: str,
          report: Report) -> bool:
    units = geo.units
    unit = units[depth]
    if not isinstance(level, dict) or not level:
        report(file, key, f"must be a mapping of {unit} id: its name"
                          + (f" and {units[depth + 1]}s" if depth + 1 < len(units) else ""))
        return False
    ok = True
    for value, spec in level.items():
        at = f"{key}.{value}"
        value = str(value)
        if not _VALUE.fullmatch(value):
            report(file, at, f"{value!r} is not an id (letters, digits, _ . -)")
            ok = False
            continue
        if value in geo.names[unit]:
            where = geo.parents.get(unit, {}).get(value)
            report(file, at, f"{unit} {value!r} is listed twice"
                             + (f" (also under {where!r})" if where else ""))
            ok = False
            continue
        child_key = f"{units[depth + 1]}s" if depth + 1 < len(units) else None
        if isinstance(spec, str) and child_key is None:
            name = spec
        elif isinstance(spec, dict):
            allowed = ("name", child_key) if child_key else ("name",)
            unknown_keys(spec, allowed, at, lambda a, msg: report(file, a, msg))
            name = spec.get("name")
        else:
            report(file, at, "must be a mapping with name" + (f" and {child_key}" if child_key
                                                              else ", or the name"))
            ok = False
            continue
        if not isinstance(name, str) or not name.strip():
            report(file, f"{at}.name", "needs words")
            ok = False
            continue
        geo.names[unit][value] = name.strip()
        geo.order[unit].append(value)
        if parent is not None:
            geo.parents[unit][value] = parent
        if child_key is not None:
            ok = _walk(spec.get(child_key), depth + 1, value, f"{at}.{child_key}", geo, file,
                       report) and ok
    return ok


# -- localities.csv ---------------------------------------------------------------------------

def load_localities(scheme: LocalityScheme, path: Path, report: Report,
                    geography: Path | None = None) -> Localities | None:
    """Read and check the localities table (and geography, if any): every bad row is named
    with its line and value. None when the table cannot be read at all."""
    file = path.name
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            lines = list(csv.reader(fh))
    except FileNotFoundError:
        report(file, "-", "file not found")
        return None
    except (UnicodeDecodeError, csv.Error) as exc:
        report(file, "-", f"cannot be read as UTF-8 CSV: {exc}")
        return None
    if not lines:
        report(file, "header", f"is missing: the first line must be {','.join(scheme.header)}")
        return None
    header = tuple(c.strip() for c in lines[0])
    if header != scheme.header:
        _header_problems(header, scheme, file, report)
        return None
    geo = _read_geography(scheme, geography, report) if geography is not None else None
    rows: dict[str, Place] = {}
    where: dict[str, int] = {}
    # (unit, value) -> (parent value, line) as first seen, for the hierarchy.
    seen_parent: dict[tuple[str, str], tuple[str, int]] = {}
    for n, cells in enumerate(lines[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            report(file, f"line {n}", f"has {len(cells)} values; the header has {len(header)}")
            continue
        sector = cells[0].strip().upper()
        if not _SECTOR.fullmatch(sector):
            report(file, f"line {n}.{SECTOR_COLUMN}",
                   f"{cells[0]!r} is not a postcode sector like 'LE13 0'")
            continue
        if sector in rows:
            report(file, f"line {n}.{SECTOR_COLUMN}",
                   f"duplicate sector {sector!r} (also on line {where[sector]})")
            continue
        units = {c: (v.strip() or None) for c, v in zip(scheme.columns, cells[1:], strict=True)}
        for column, value in units.items():
            if value is None and column in scheme.required:
                report(file, f"line {n}.{column}", f"is required ({sector})")
            elif value is not None and not _VALUE.fullmatch(value):
                report(file, f"line {n}.{column}", f"{value!r} is not an id (letters, digits, "
                                                   "_ . -)")
        _check_row(scheme, geo, units, n, seen_parent, file, geography, report)
        where[sector] = n
        rows[sector] = Place(postcode="", sector=sector, units=units, top_unit=scheme.top)
    parents = {unit: {value: parent for (u, value), (parent, _) in seen_parent.items()
                      if u == unit} for unit in scheme.hierarchy[1:]}
    order = {c: sorted({p.get(c) for p in rows.values()} - {None}) for c in scheme.columns}
    names: dict[str, dict[str, str]] = {}
    if geo is not None and geography is not None:
        _unused_geography(scheme, geo, rows, file, geography.name, report)
        names = geo.names
        for unit in geo.units:
            order[unit] = list(geo.order[unit])
            if unit in geo.parents:
                parents[unit] = dict(geo.parents[unit])
    return Localities(scheme=scheme, rows=rows, names=names, parents=parents,
                      ordered={u: tuple(v) for u, v in order.items()},
                      within=_within(scheme, rows), lines=where)


def _check_row(scheme: LocalityScheme, geo: _Geography | None, units: Mapping[str, str | None],
               n: int, seen_parent: dict[tuple[str, str], tuple[str, int]], file: str,
               geography: Path | None, report: Report) -> None:
    """A row's values against geography (known there, and where geography puts them) and
    against the hierarchy (each value lies in one value of the unit before it)."""
    covered = geo.units if geo is not None else ()
    for unit in covered:
        value = units[unit]
        if value is not None and value not in geo.names[unit]:
            report(file, f"line {n}.{unit}", f"{value!r} is not a "
                   f"{scheme.label(unit).lower()} in {geography.name}")
    for parent_unit, unit in pairwise(scheme.hierarchy):
        value, parent = units[unit], units[parent_unit]
        if value is None:
            continue
        if parent is None:
            report(file, f"line {n}.{parent_unit}",
                   f"is blank, but the row names {unit} {value!r}, which must lie in one")
            continue
        if unit in covered:
            expected = geo.parents[unit].get(value)
            if expected is not None and expected != parent:
                report(file, f"line {n}.{unit}",
                       f"{unit} {value!r} lies in {parent_unit} {expected!r} in "
                       f"{geography.name}, not in {parent!r}")
            continue
        first = seen_parent.setdefault((unit, value), (parent, n))
        if first[0] != parent:
            report(file, f"line {n}.{unit}",
                   f"{unit} {value!r} lies in {parent_unit} {parent!r} here but in "
                   f"{first[0]!r} on line {first[1]}; each {unit} lies in exactly one "
                   f"{parent_unit}")


def _header_problems(header: tuple[str, ...], scheme: LocalityScheme, file: str,
                     report: Report) -> None:
    want = scheme.header
    said = False
    if not header or header[0] != SECTOR_COLUMN:
        report(file, "header", f"the first column must be {SECTOR_COLUMN!r} (got "
                               f"{header[0] if header else ''!r})")
        said = True
    for column in header[1:]:
        if column not in scheme.columns:
            report(file, "header", f"unknown column {column!r}: profile.yaml localities.columns "
                                   f"declares {', '.join(scheme.columns)}")
            said = True
    for column in scheme.columns:
        if column not in header:
            report(file, "header", f"missing column {column!r}, which profile.yaml "
                                   "localities.columns declares")
            said = True
    if not said:
        report(file, "header", f"columns must be in the order {','.join(want)} (got "
                               f"{','.join(header)})")


def _read_geography(scheme: LocalityScheme, path: Path, report: Report) -> _Geography | None:
    file = path.name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        report(file, "-", "file not found")
        return None
    except yaml.YAMLError as exc:
        report(file, "-", f"not valid YAML: {exc}")
        return None
    return load_geography(data, scheme, file, report)


def _unused_geography(scheme: LocalityScheme, geo: _Geography, rows: Mapping[str, Place],
                      csv_file: str, file: str, report: Report) -> None:
    """Every value geography names has at least one postcode sector, so the counts agree."""
    for unit in geo.units:
        used = {p.get(unit) for p in rows.values()} - {None}
        for value in geo.order[unit]:
            if value not in used:
                report(file, f"{unit}s.{value}",
                       f"no postcode sector in {csv_file} lies in this "
                       f"{scheme.label(unit).lower()} ({len(geo.order[unit])} in {file}, "
                       f"{len(used)} in {csv_file})")


def _within(scheme: LocalityScheme, rows: Mapping[str, Place]
            ) -> dict[tuple[str, str, str], frozenset[str]]:
    found: dict[tuple[str, str, str], set[str]] = {}
    for place in rows.values():
        for unit in scheme.columns:
            value = place.get(unit)
            if value is None:
                continue
            for column in scheme.columns:
                other = place.get(column)
                if other is not None:
                    found.setdefault((unit, value, column), set()).add(other)
    return {k: frozenset(v) for k, v in found.items()}
