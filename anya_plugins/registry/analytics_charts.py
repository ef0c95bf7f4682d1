"""Server-side SVG line charts of daily counts: no script, no charting library, one string.

Each chart plots one line per group (at most :data:`MAX_LINES`, the largest totals; the rest
summed into ``others``) over the given days, with a y axis scaled to the largest count and a
legend. Text is escaped: group names come from uploads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Final

MAX_LINES: Final = 6
COLOURS: Final = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#7f7f7f")
WIDTH, HEIGHT = 640, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 160, 28, 36


def line_chart(title: str, series: Mapping[str, Mapping[str, int]], days: Sequence[str]) -> str:
    """An ``<svg>`` of ``series`` (``{group: {day: count}}``) over ``days``."""
    lines = _top_lines(series)
    peak = max((count for counts in lines.values() for count in counts.values()), default=0)
    top = max(1, peak)
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    step = plot_w / max(1, len(days) - 1)

    def x(n: int) -> float:
        return _LEFT + n * step

    def y(count: int) -> float:
        return _TOP + plot_h - plot_h * count / top

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
        f'<text x="{_LEFT}" y="18" font-size="14" font-family="sans-serif">{escape(title)}</text>',
        f'<line x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{_LEFT + plot_w}" y2="{_TOP + plot_h}" '
        'stroke="#444"/>',
        f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{_TOP + plot_h}" stroke="#444"/>',
        _label(_LEFT - 6, y(top) + 4, str(top), anchor="end"),
        _label(_LEFT - 6, y(0) + 4, "0", anchor="end"),
    ]
    if days:
        parts.append(_label(x(0), HEIGHT - 14, days[0], anchor="start"))
        parts.append(_label(x(len(days) - 1), HEIGHT - 14, days[-1], anchor="end"))
    if not lines:
        parts.append(_label(_LEFT + plot_w / 2, _TOP + plot_h / 2, "no data yet", anchor="middle"))
    for n, (group, counts) in enumerate(lines.items()):
        colour = COLOURS[n % len(COLOURS)]
        points = " ".join(f"{x(i):.1f},{y(counts.get(day, 0)):.1f}" for i, day in enumerate(days))
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}">'
            f"<title>{escape(group)}: {sum(counts.values())}</title></polyline>"
        )
        legend_y = _TOP + 14 + n * 18
        parts.append(
            f'<rect x="{WIDTH - _RIGHT + 12}" y="{legend_y - 9}" width="10" height="10" '
            f'fill="{colour}"/>'
        )
        parts.append(_label(WIDTH - _RIGHT + 28, legend_y, group, anchor="start"))
    parts.append("</svg>")
    return "\n".join(parts)


def _top_lines(series: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    """The :data:`MAX_LINES` groups with the largest totals (ties by name); the rest summed."""
    ranked = sorted(
        ((group, counts) for group, counts in series.items() if sum(counts.values())),
        key=lambda item: (-sum(item[1].values()), item[0]),
    )
    lines = {group: dict(counts) for group, counts in ranked[:MAX_LINES]}
    others: dict[str, int] = {}
    for _group, counts in ranked[MAX_LINES:]:
        for day, count in counts.items():
            others[day] = others.get(day, 0) + count
    if others:
        lines["others"] = others
    return lines


def _label(x: float, y: float, text: str, *, anchor: str) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="11" font-family="sans-serif" '
        f'text-anchor="{anchor}">{escape(text)}</text>'
    )


def bar_chart(title: str, values: Mapping[str, int | None]) -> str:
    """An ``<svg>`` of horizontal bars, one per group (a withheld figure is drawn as text)."""
    row_h = 20
    height = _TOP + row_h * max(1, len(values)) + 10
    label_w = 180
    plot_w = WIDTH - label_w - 60
    top = max((v for v in values.values() if v is not None), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}">',
        f'<text x="4" y="18" font-size="14" font-family="sans-serif">{escape(title)}</text>',
    ]
    for n, (group, value) in enumerate(values.items()):
        y = _TOP + n * row_h
        parts.append(_label(label_w - 6, y + 14, group, anchor="end"))
        if value is None:
            parts.append(_label(label_w + 4, y + 14, "withheld", anchor="start"))
            continue
        width = plot_w * value / top
        parts.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{width:.1f}" height="{row_h - 6}" '
            f'fill="{COLOURS[0]}"/>'
        )
        parts.append(_label(label_w + width + 4, y + 14, str(value), anchor="start"))
    parts.append("</svg>")
    return "\n".join(parts)
