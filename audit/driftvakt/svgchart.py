"""Line charts of rates (0-100 %) as inline SVG: no script, no external asset, printable.

A point is a run; a missing rate (nothing judged) breaks the line rather than dropping to 0.
Each point carries a <title> (its time and value) for a reader who points at it, and the
chart an aria-label saying what it shows and its last value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from markupsafe import Markup

INK, GRID, LINE = "#1b2127", "#d6dce2", "#0b4f7a"


def _segments(values: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    """Runs of consecutive points that have a value."""
    segments: list[list[tuple[int, float]]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            if segments[-1]:
                segments.append([])
        else:
            segments[-1].append((i, v))
    return [s for s in segments if s]


def line_chart(
    values: Sequence[float | None],
    labels: Sequence[str],
    title: str,
    percent: Callable[[float], str],
    *,
    width: int = 640,
    height: int = 180,
    small: bool = False,
) -> Markup:
    """One series of rates; ``labels`` names each point (a run's time), ``percent`` formats
    a rate in the reader's language."""
    left, right, top, bottom = (6, 6, 18, 6) if small else (44, 12, 12, 24)
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(values) - 1, 1)

    def x(i: int) -> float:
        return left + plot_w * (i / n if len(values) > 1 else 0.5)

    def y(v: float) -> float:
        return top + plot_h * (1 - v)

    last = next((v for v in reversed(values) if v is not None), None)
    said = f"{title}: {percent(last)}" if last is not None else title
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(said)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(said)}</title>",
    ]
    grid = (0.0, 0.5, 1.0) if small else (0.0, 0.25, 0.5, 0.75, 1.0)
    for g in grid:
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(g):.1f}" y2="{y(g):.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        if not small:
            parts.append(
                f'<text x="{left - 6}" y="{y(g) + 4:.1f}" text-anchor="end" font-size="11" '
                f'fill="{INK}">{escape(percent(g))}</text>'
            )
    if small:
        parts.append(
            f'<text x="{left}" y="12" font-size="12" font-weight="600" fill="{INK}">'
            f"{escape(title)}</text>"
        )
        if last is not None:
            parts.append(
                f'<text x="{width - right}" y="12" text-anchor="end" font-size="12" '
                f'fill="{INK}">{escape(percent(last))}</text>'
            )
    elif labels:
        for i in sorted({0, len(labels) - 1}):
            anchor = "start" if i == 0 else "end"
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - 6}" text-anchor="{anchor}" font-size="11" '
                f'fill="{INK}">{escape(labels[i])}</text>'
            )
    for segment in _segments(values):
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in segment)
        parts.append(
            f'<polyline fill="none" stroke="{LINE}" stroke-width="{1.5 if small else 2}" '
            f'points="{points}"/>'
        )
        for i, v in segment:
            tip = f"{labels[i]}: {percent(v)}" if i < len(labels) else percent(v)
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="{2 if small else 3}" '
                f'fill="{LINE}"><title>{escape(tip)}</title></circle>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 -- every text in it is escaped above
