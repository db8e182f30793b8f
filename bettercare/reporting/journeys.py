"""Pathway flows people read: Sankey diagrams (SVG) and the flow tables (CSV).

Owns the drawing and the files ``bettercare journeys flows --out DIR`` writes (written
whole or not at all, :func:`bettercare.data.atomic.staged_entries`); not the counts
(:mod:`bettercare.analytics.journeys`, already suppressed).

The Sankey is plain SVG written here: matplotlib's ``Sankey`` draws the splits of a
single flow, not flows between several stages, and a plotting library that draws
multi-stage Sankeys (plotly) would be a new dependency needing a browser engine for
static output. Suppressed flows (1-7 people) are left out of the drawing and said so.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import pandas as pd

from bettercare.analytics.journeys import Pathway
from bettercare.data import safe_csv
from bettercare.data.atomic import staged_entries

_W, _H, _NODE_W, _GAP, _TOP = 900, 460, 14, 10, 50
_COLOURS = ("#005eb8", "#41b6e6", "#009639", "#ed8b00", "#7c2855", "#330072", "#768692")


def _label(text: str) -> str:
    return text.replace("_", " ")


def sankey_svg(pathway: Pathway) -> str:
    """The pathway's flows as a Sankey diagram (an SVG document)."""
    flows = pathway.flows.dropna(subset=["count"])
    flows = flows[flows["count"] > 0]
    n_stages = len(pathway.stages)
    # node value: the larger of its inflow and outflow (suppression can make them differ)
    out_v: dict[tuple[int, str], float] = {}
    in_v: dict[tuple[int, str], float] = {}
    records = flows.sort_values(["stage", "source", "target"]).to_dict("records")
    for r in records:
        s, n = int(r["stage"]), float(r["count"])
        out_v[(s, str(r["source"]))] = out_v.get((s, str(r["source"])), 0) + n
        in_v[(s + 1, str(r["target"]))] = in_v.get((s + 1, str(r["target"])), 0) + n
    nodes = sorted(set(out_v) | set(in_v))
    value = {k: max(out_v.get(k, 0), in_v.get(k, 0)) for k in nodes}
    columns = [[k for k in nodes if k[0] == i] for i in range(n_stages)]
    usable = _H - _TOP - 20
    biggest = max((sum(value[k] for k in col) for col in columns), default=1) or 1
    most_nodes = max((len(c) for c in columns), default=1)
    scale = (usable - _GAP * max(most_nodes - 1, 0)) / biggest
    x_of = {i: 20 + i * (_W - 240) / max(n_stages - 1, 1) for i in range(n_stages)}
    y_of: dict[tuple[int, str], float] = {}
    for col in columns:
        y = float(_TOP)
        for k in sorted(col, key=lambda k: -value[k]):
            y_of[k] = y
            y += value[k] * scale + _GAP
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" '
        f'viewBox="0 0 {_W} {_H}" font-family="Arial, sans-serif" font-size="11">',
        f"<title>{escape(pathway.title)}</title>",
        f'<text x="20" y="20" font-size="14" font-weight="bold">{escape(pathway.title)}</text>',
    ]
    for i, stage in enumerate(pathway.stages):
        parts.append(
            f'<text x="{x_of[i]:.1f}" y="40" fill="#425563">{escape(_label(stage))}</text>'
        )
    out_off = dict.fromkeys(nodes, 0.0)
    in_off = dict.fromkeys(nodes, 0.0)
    colour = {
        k: _COLOURS[j % len(_COLOURS)] for j, k in enumerate(sorted(nodes, key=lambda k: k[1]))
    }
    for r in records:
        s = int(r["stage"])
        a, b = (s, str(r["source"])), (s + 1, str(r["target"]))
        h = float(r["count"]) * scale
        x0, x1 = x_of[s] + _NODE_W, x_of[s + 1]
        y0 = y_of[a] + out_off[a]
        y1 = y_of[b] + in_off[b]
        out_off[a] += h
        in_off[b] += h
        xm = (x0 + x1) / 2
        parts.append(
            f'<path d="M{x0:.1f},{y0:.1f} C{xm:.1f},{y0:.1f} {xm:.1f},{y1:.1f} {x1:.1f},{y1:.1f} '
            f"L{x1:.1f},{y1 + h:.1f} C{xm:.1f},{y1 + h:.1f} {xm:.1f},{y0 + h:.1f} "
            f'{x0:.1f},{y0 + h:.1f} Z" fill="{colour[b]}" fill-opacity="0.35">'
            f"<title>{escape(_label(a[1]))} to {escape(_label(b[1]))}: "
            f"{int(r['count']):,}</title></path>"
        )
    for k in nodes:
        h = max(value[k] * scale, 1.0)
        x = x_of[k[0]]
        parts.append(
            f'<rect x="{x:.1f}" y="{y_of[k]:.1f}" width="{_NODE_W}" height="{h:.1f}" '
            f'fill="{colour[k]}"/>'
        )
        parts.append(
            f'<text x="{x + _NODE_W + 4:.1f}" y="{y_of[k] + min(h, 20) / 2 + 4:.1f}">'
            f"{escape(_label(k[1]))} ({int(value[k]):,})</text>"
        )
    hidden = int(pathway.flows["count"].isna().sum())
    note = "Counts rounded to 5."
    if hidden:
        note += f" {hidden} flow(s) of 1-7 people suppressed and not drawn."
    parts.append(f'<text x="20" y="{_H - 6}" fill="#425563">{escape(note)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write_pathways(pathways: list[Pathway], out_dir: Path) -> list[Path]:
    """Per pathway: ``<name>_flows.csv``, ``<name>_tables.csv``, ``<name>_timings.csv``, SVG."""
    names: list[str] = []
    with staged_entries(out_dir) as staged:
        for p in pathways:
            files = {
                f"{p.name}_flows.csv": p.flows,
                f"{p.name}_tables.csv": p.tables,
                f"{p.name}_timings.csv": p.timings,
            }
            for name, frame in files.items():
                safe_csv.to_csv(pd.DataFrame(frame), staged / name, index=False)
                names.append(name)
            (staged / f"{p.name}_sankey.svg").write_text(sankey_svg(p), "utf-8")
            names.append(f"{p.name}_sankey.svg")
    return [out_dir / n for n in names]
