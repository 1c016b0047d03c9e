"""Stacked bar charts as inline SVG, drawn by our own code: no JavaScript, no fonts or images from anywhere.

Each bar is one day; each coloured segment one series (source, country, verdict), with a <title> tooltip and
data-day / data-series / data-count attributes. Series beyond MAX_SERIES are drawn together as "other".
Every label is escaped (names come from crawled ads).
"""
from __future__ import annotations

from markupsafe import Markup

from output.review.triage import Series

# Okabe-Ito colours (distinguishable with colour-blindness), then greys.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000", "#999999")
MAX_SERIES = 8
OTHER = "other"
WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 10, 10, 46


def chart_series(series: Series) -> list[tuple[str, dict[str, int]]]:
    """(name, day -> count) per drawn series: the MAX_SERIES largest, then the rest summed as "other"."""
    names = series.names()
    drawn = [(n, series.counts[n]) for n in names[:MAX_SERIES]]
    rest = names[MAX_SERIES:]
    if rest:
        other: dict[str, int] = {}
        for n in rest:
            for day, c in series.counts[n].items():
                other[day] = other.get(day, 0) + c
        drawn.append((OTHER, other))
    return drawn


def nice_max(value: int) -> int:
    """The top of the y axis: the smallest 1, 2 or 5 times a power of ten that is >= value (at least 1)."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= value:
                return m * step
        step *= 10


def stacked_bars(series: Series) -> Markup:
    drawn = chart_series(series)
    days = series.days
    top = nice_max(max((series.total(d) for d in days), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(days))
    bar_w = max(1.0, min(40.0, slot * 0.8))
    parts = [Markup('<svg xmlns="http://www.w3.org/2000/svg" class="lurewatch-chart" role="img" width="{w}" height="{h}"'
                    ' viewBox="0 0 {w} {h}" aria-label="{label}" font-family="sans-serif" font-size="11">')
             .format(w=WIDTH, h=HEIGHT + 22 * ((len(drawn) + 3) // 4), label=series.title)]
    for tick in (0, top // 2, top) if top % 2 == 0 else (0, top):
        y = TOP + plot_h - plot_h * tick / top
        parts.append(Markup('<line x1="{x1}" x2="{x2}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                            '<text x="{tx}" y="{ty:.1f}" text-anchor="end">{tick}</text>')
                     .format(x1=LEFT, x2=WIDTH - RIGHT, y=y, tx=LEFT - 4, ty=y + 4, tick=tick))
    label_every = max(1, round(len(days) / 10))
    for i, day in enumerate(days):
        x = LEFT + i * slot + (slot - bar_w) / 2
        y = TOP + plot_h
        for colour, (name, counts) in zip(_colours(), drawn):
            count = counts.get(day, 0)
            if not count:
                continue
            h = plot_h * count / top
            y -= h
            parts.append(Markup('<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{c}"'
                                ' data-day="{day}" data-series="{name}" data-count="{n}"><title>{day} {name}: {n}'
                                '</title></rect>').format(x=x, y=y, w=bar_w, h=h, c=colour, day=day, name=name, n=count))
        if i % label_every == 0 or i == len(days) - 1:
            parts.append(Markup('<text x="{x:.1f}" y="{y}" text-anchor="middle">{label}</text>')
                         .format(x=x + bar_w / 2, y=TOP + plot_h + 14, label=day[5:]))
    parts.append(Markup('<line x1="{x1}" x2="{x2}" y1="{y}" y2="{y}" stroke="#333"/>')
                 .format(x1=LEFT, x2=WIDTH - RIGHT, y=TOP + plot_h))
    for i, (colour, (name, _)) in enumerate(zip(_colours(), drawn)):
        x, y = LEFT + (i % 4) * (plot_w / 4), HEIGHT - 8 + 22 * (i // 4)
        parts.append(Markup('<rect x="{x:.1f}" y="{ry}" width="12" height="12" fill="{c}"/>'
                            '<text x="{tx:.1f}" y="{y}">{name}</text>')
                     .format(x=x, ry=y - 10, c=colour, tx=x + 16, y=y, name=_short(name)))
    if not drawn:
        parts.append(Markup('<text x="{x}" y="{y}" text-anchor="middle">none in these days</text>')
                     .format(x=LEFT + plot_w / 2, y=TOP + plot_h / 2))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def _colours():
    yield from PALETTE
    while True:
        yield PALETTE[-1]


def _short(name: str, limit: int = 24) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "\u2026"

