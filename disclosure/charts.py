"""Charts as inline SVG, drawn on the server: nothing loaded from elsewhere, no script.

Each chart is an image with a text alternative (``role="img"``, ``<title>`` and ``<desc>`` named by
``aria-labelledby``); the page shows the same numbers in a data table, which is what screen readers
and exports use. Series differ by colour *and* by dash pattern and marker shape, so that they can be
told apart without colour. The legend is an HTML list after the drawing (each name whole, wrapping
on a narrow screen, beside a swatch of its line and marker). Every piece of text is escaped
(``format_html``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.html import format_html
from django.utils.safestring import SafeString

# Dark enough for 3:1 against white (WCAG 1.4.11, non-text contrast).
COLOURS = ("#0b4f8a", "#b0281c", "#1d6b35", "#8a4b00", "#6a3d9a", "#00727a", "#4a5561", "#a6166b")
DASHES = ("", "7 4", "2 3", "9 3 2 3")
MARKERS = ("circle", "square", "triangle", "diamond")

WIDTH = 760
PLOT_HEIGHT = 260
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 20, 44, 64
INK, MUTED, LINE = "#1b1f24", "#4a5561", "#c9d1da"


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float | None]  # one per label; None: no value (a gap in the line)
    notes: list[str] | None = None  # optional tooltip per point, e.g. "3/4"


def line_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    labels: list[str],
    series: list[Series],
    y_max: float = 100,
    y_ticks: tuple[float, ...] = (0, 25, 50, 75, 100),
    y_suffix: str = "%",
    x_title: str = "",
    y_title: str = "",
    empty_text: str = "",
) -> SafeString:
    """A line chart of ``series`` over ``labels`` (e.g. months), y from 0 to ``y_max``."""
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    height = MARGIN_TOP + PLOT_HEIGHT + MARGIN_BOTTOM
    step = plot_w / max(1, len(labels))

    def x(i: int) -> float:
        return MARGIN_LEFT + step * (i + 0.5)

    def y(v: float) -> float:
        return MARGIN_TOP + PLOT_HEIGHT - (v / y_max) * PLOT_HEIGHT

    parts: list[SafeString] = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {} {}" '
            'width="100%" preserveAspectRatio="xMinYMin meet" aria-labelledby="{}-title {}-desc" '
            'font-family="system-ui, sans-serif" font-size="12">',
            WIDTH,
            height,
            chart_id,
            chart_id,
        ),
        format_html('<title id="{}-title">{}</title>', chart_id, title),
        format_html('<desc id="{}-desc">{}</desc>', chart_id, description),
        format_html(
            '<text x="{}" y="22" font-size="15" font-weight="700" fill="{}">{}</text>',
            MARGIN_LEFT,
            INK,
            title,
        ),
    ]
    # Grid and y axis.
    for tick in y_ticks:
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-width="1"/>'
                '<text x="{}" y="{}" text-anchor="end" dominant-baseline="middle" fill="{}">{}{}</text>',
                MARGIN_LEFT,
                MARGIN_LEFT + plot_w,
                _n(y(tick)),
                _n(y(tick)),
                LINE,
                MARGIN_LEFT - 8,
                _n(y(tick)),
                MUTED,
                _label(tick),
                y_suffix,
            )
        )
    # Axes.
    parts.append(
        format_html(
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-width="1.5"/>'
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-width="1.5"/>',
            MARGIN_LEFT,
            MARGIN_LEFT + plot_w,
            MARGIN_TOP + PLOT_HEIGHT,
            MARGIN_TOP + PLOT_HEIGHT,
            INK,
            MARGIN_LEFT,
            MARGIN_LEFT,
            MARGIN_TOP,
            MARGIN_TOP + PLOT_HEIGHT,
            INK,
        )
    )
    # X labels (every one when they fit, else every other).
    every = 1 if step >= 52 else 2
    for i, label in enumerate(labels):
        if i % every == 0:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>',
                    _n(x(i)),
                    MARGIN_TOP + PLOT_HEIGHT + 18,
                    MUTED,
                    label,
                )
            )
    if x_title:
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>',
                _n(MARGIN_LEFT + plot_w / 2),
                MARGIN_TOP + PLOT_HEIGHT + 40,
                INK,
                x_title,
            )
        )
    if y_title:
        cy = _n(MARGIN_TOP + PLOT_HEIGHT / 2)
        parts.append(
            format_html(
                '<text x="14" y="{}" text-anchor="middle" transform="rotate(-90 14 {})" fill="{}">{}</text>',
                cy,
                cy,
                INK,
                y_title,
            )
        )
    # Series.
    if not any(v is not None for s in series for v in s.values) and empty_text:
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>',
                _n(MARGIN_LEFT + plot_w / 2),
                _n(MARGIN_TOP + PLOT_HEIGHT / 2),
                MUTED,
                empty_text,
            )
        )
    for n, s in enumerate(series):
        colour, dash, marker = _style(n)
        for segment in _segments(s.values):
            if len(segment) > 1:
                points = " ".join(f"{_n(x(i))},{_n(y(v))}" for i, v in segment)
                parts.append(
                    format_html(
                        '<polyline points="{}" fill="none" stroke="{}" stroke-width="2.5"{}/>',
                        points,
                        colour,
                        format_html(' stroke-dasharray="{}"', dash) if dash else "",
                    )
                )
        for i, v in enumerate(s.values):
            if v is None:
                continue
            note = s.notes[i] if s.notes else ""
            tip = f"{s.name} · {labels[i]}: {_label(v)}{y_suffix}" + (f" ({note})" if note else "")
            parts.append(_marker(marker, x(i), y(v), colour, tip))
    parts.append(SafeString("</svg>"))
    # The legend is HTML below the drawing: a long department name wraps on a narrow screen, where
    # text inside the drawing would shrink with it or be cut.
    if series:
        parts.append(format_html('<ul class="chart-legend" id="{}-legend">', chart_id))
        for n, s in enumerate(series):
            colour, dash, marker = _style(n)
            parts.append(
                format_html(
                    '<li><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 36 14" width="36" height="14" '
                    'aria-hidden="true" focusable="false"><line x1="2" x2="34" y1="7" y2="7" stroke="{}" '
                    'stroke-width="2.5"{}/>{}</svg><span>{}</span></li>',
                    colour,
                    format_html(' stroke-dasharray="{}"', dash) if dash else "",
                    _marker(marker, 18, 7, colour, ""),
                    s.name,
                )
            )
        parts.append(SafeString("</ul>"))
    return SafeString("".join(parts))


def _style(n: int) -> tuple[str, str, str]:
    """Colour, dash pattern and marker of the n-th series: no two of the first 32 look alike."""
    return (
        COLOURS[n % len(COLOURS)],
        DASHES[(n + n // len(COLOURS)) % len(DASHES)],
        MARKERS[(n + n // len(COLOURS)) % len(MARKERS)],
    )


def _segments(values: list[float | None]) -> list[list[tuple[int, float]]]:
    """Runs of consecutive values: a month without a value breaks the line."""
    segments: list[list[tuple[int, float]]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            if segments[-1]:
                segments.append([])
        else:
            segments[-1].append((i, v))
    return [s for s in segments if s]


def _marker(shape: str, cx: float, cy: float, colour: str, tip: str) -> SafeString:
    title = format_html("<title>{}</title>", tip) if tip else ""
    if shape == "square":
        return format_html(
            '<rect x="{}" y="{}" width="8" height="8" fill="{}">{}</rect>',
            _n(cx - 4),
            _n(cy - 4),
            colour,
            title,
        )
    if shape == "triangle":
        points = f"{_n(cx)},{_n(cy - 5)} {_n(cx + 5)},{_n(cy + 4)} {_n(cx - 5)},{_n(cy + 4)}"
        return format_html('<polygon points="{}" fill="{}">{}</polygon>', points, colour, title)
    if shape == "diamond":
        points = f"{_n(cx)},{_n(cy - 5)} {_n(cx + 5)},{_n(cy)} {_n(cx)},{_n(cy + 5)} {_n(cx - 5)},{_n(cy)}"
        return format_html('<polygon points="{}" fill="{}">{}</polygon>', points, colour, title)
    return format_html('<circle cx="{}" cy="{}" r="4.5" fill="{}">{}</circle>', _n(cx), _n(cy), colour, title)


def _n(value: float) -> str:
    """A coordinate, short."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _label(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")
