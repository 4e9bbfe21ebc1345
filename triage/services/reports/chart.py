"""A report's chart: a Vega-Lite bar chart of its chart measure, rendered to SVG on the server
with vl-convert (no JavaScript in the page), every bar labelled for screen readers with its
period, member and value. The same numbers always follow as a table.

Rendering costs a few tens of milliseconds once the renderer is warm; figures change only when
the tallies are recounted, so charts are kept per spec (small LRU)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from typing import Any

from triage.services.reports.catalogue import PERIODS

# GOV.UK Design System colours (each at least 3:1 against white, WCAG 1.4.11).
COLOURS = ["#1d70b8", "#d4351c", "#00703c", "#4c2c92", "#f47738", "#5694ca", "#912b88",
           "#28a197", "#b58840", "#505a5f"]
KEEP = 64
_cache: OrderedDict[str, str] = OrderedDict()
_lock = threading.Lock()


def _text(value: Any, kind: str) -> str:
    if value is None:
        return "no figure"
    if kind == "share":
        return f"{value:.0%}"
    return f"{value:,}" if isinstance(value, int) else f"{value}"


def spec_for(found: Any) -> dict[str, Any]:
    """The Vega-Lite spec of a report's figures (found: figures.Figures)."""
    report, measure = found.report, found.report.chart_measure
    by, dimension = found.by, found.dimension
    series_dim = dimension if by in PERIODS else None
    member_dim = by if by not in PERIODS else None
    values = []
    for row in found.rows:
        x = row[by]
        if member_dim:
            x = found.labels.get(member_dim, {}).get(x, x)
        series = (found.labels.get(series_dim, {}).get(row[series_dim], row[series_dim])
                  if series_dim else "")
        value = row.get(measure.id)
        what = ", ".join(p for p in (str(x), series) if p)
        values.append({"x": str(x), "series": series, "y": value if value is not None else 0,
                       "desc": f"{what}: {_text(value, measure.kind)} "
                               f"{measure.label.lower()}"})
    n = max(1, len(values))
    encoding: dict[str, Any] = {
        "x": {"field": "x", "type": "ordinal", "sort": None, "title": None,
              "axis": {"labelAngle": -40, "labelLimit": 180, "labelFontSize": 13}},
        "y": {"field": "y", "type": "quantitative", "title": measure.label,
              "axis": {"format": ".0%" if measure.kind == "share" else ",d",
                       "labelFontSize": 13, "titleFontSize": 14}},
        "description": {"field": "desc"},
    }
    if series_dim:
        encoding["color"] = {"field": "series", "type": "nominal",
                             "title": found.group_keys[-1].replace("_", " ").capitalize(),
                             "scale": {"range": COLOURS}}
        encoding["xOffset"] = {"field": "series"}
    else:
        encoding["color"] = {"value": COLOURS[0]}
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "description": f"{report.title}: {measure.label} by "
                       f"{' and '.join(k.replace('_', ' ') for k in found.group_keys)}",
        "width": min(900, max(320, 36 * n)), "height": 260,
        "data": {"values": values},
        "mark": {"type": "bar", "aria": True, "tooltip": False},
        "encoding": encoding,
        "config": {"aria": True, "font": "Arial, sans-serif", "view": {"stroke": None}},
    }


def render_svg(spec: dict[str, Any], label: str) -> str:
    """The chart as SVG markup whose root names the chart; cached by spec."""
    key = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    import vl_convert

    svg = vl_convert.vegalite_to_svg(spec)
    # Name the chart on its root; the bars keep their own labels (graphics-symbol roles).
    safe_label = (label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
                  .replace(">", "&gt;"))
    svg = svg.replace("<svg ", f'<svg role="graphics-document document" '
                               f'aria-label="{safe_label}" focusable="false" ', 1)
    with _lock:
        _cache[key] = svg
        while len(_cache) > KEEP:
            _cache.popitem(last=False)
    return svg


def chart_svg(found: Any) -> str:
    spec = spec_for(found)
    return render_svg(spec, spec["description"])
