"""The processing-time chart: inline SVG drawn on the server, no script, nothing loaded from
elsewhere. It is an image with a text alternative (``role="img"``, ``<title>`` and ``<desc>``
named by ``aria-labelledby``); the page shows the same numbers in a data table. The two series
differ by colour *and* by fill pattern, and every bar is labelled with its value, so colour is
never the only cue. Every piece of text is escaped (``format_html``)."""

from __future__ import annotations

from datetime import date

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

WIDTH = 760
LABEL_W = 230
VALUE_W = 60
TOP = 56
BAR_H = 16
GROUP_GAP = 18
INK, MUTED, LINE = "#1b1f24", "#4a5561", "#c9d1da"
WITH_COLOUR, WITHOUT_COLOUR = "#1d6b35", "#0b4f8a"


def _short(text: str, limit: int = 22) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _value(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def processing_chart(rows, *, start: date, end: date, chart_id: str = "processing-chart") -> SafeString:
    """Horizontal bars per matter: median working days with a pledge, and without."""
    title = _("Median working days to a decision, with and without a pledge")
    if not rows:
        description = _("No application was decided from %(start)s to %(end)s.") % {
            "start": start,
            "end": end,
        }
    else:
        description = " ".join(
            _(
                "%(matter)s: with a pledge %(with)s days (%(n_with)d applications), without %(without)s days (%(n_without)d)."
            )
            % {
                "matter": r.name,
                "with": _value(r.with_median),
                "n_with": r.with_count,
                "without": _value(r.without_median),
                "n_without": r.without_count,
            }
            for r in rows
        )
    plot_w = WIDTH - LABEL_W - VALUE_W - 20
    top_value = max([v for r in rows for v in (r.with_median, r.without_median) if v is not None] + [1.0])
    group_h = 2 * BAR_H + GROUP_GAP
    height = TOP + max(1, len(rows)) * group_h + 10

    def bar_w(value: float | None) -> float:
        return 0.0 if value is None else round(plot_w * value / top_value, 1)

    parts: list[SafeString] = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {} {}" width="100%" '
            'preserveAspectRatio="xMinYMin meet" aria-labelledby="{}-title {}-desc" '
            'font-family="system-ui, sans-serif" font-size="12">',
            WIDTH,
            height,
            chart_id,
            chart_id,
        ),
        format_html('<title id="{}-title">{}</title>', chart_id, title),
        format_html('<desc id="{}-desc">{}</desc>', chart_id, description),
        format_html(
            '<defs><pattern id="{}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)"><rect width="6" height="6" fill="{}"/>'
            '<line x1="0" y1="0" x2="0" y2="6" stroke="#ffffff" stroke-width="2"/></pattern></defs>',
            chart_id,
            WITHOUT_COLOUR,
        ),
        format_html('<text x="0" y="18" font-size="15" font-weight="700" fill="{}">{}</text>', INK, title),
        # Legend: a swatch of each fill, with its name.
        format_html('<rect x="0" y="30" width="14" height="12" fill="{}"/>', WITH_COLOUR),
        format_html('<text x="20" y="40" fill="{}">{}</text>', INK, _("with a pledge")),
        format_html('<rect x="160" y="30" width="14" height="12" fill="url(#{}-hatch)"/>', chart_id),
        format_html('<text x="180" y="40" fill="{}">{}</text>', INK, _("without a pledge")),
    ]
    if not rows:
        parts.append(format_html('<text x="0" y="{}" fill="{}">{}</text>', TOP + 20, MUTED, description))
    for i, r in enumerate(rows):
        y = TOP + i * group_h
        bars = [
            (r.with_median, r.with_count, WITH_COLOUR, _("with a pledge")),
            (r.without_median, r.without_count, f"url(#{chart_id}-hatch)", _("without a pledge")),
        ]
        parts.append(
            format_html(
                '<g><title>{}</title><text x="0" y="{}" fill="{}">{}</text>',
                r.name,
                y + BAR_H + 4,
                INK,
                _short(r.name),
            )
        )
        for j, (value, count, fill, label) in enumerate(bars):
            by = y + j * BAR_H
            width = bar_w(value)
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {} ({})</title></rect>',
                    LABEL_W,
                    by + 1,
                    width,
                    BAR_H - 2,
                    fill,
                    label,
                    _value(value),
                    _("%(n)d applications") % {"n": count},
                )
            )
            parts.append(
                format_html(
                    '<text x="{}" y="{}" fill="{}">{}</text>',
                    LABEL_W + width + 6,
                    by + BAR_H - 3,
                    INK if value is not None else MUTED,
                    _value(value) if value is not None else _("none"),
                )
            )
        parts.append(mark_safe("</g>"))
    parts.append(
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"/>', LABEL_W, TOP - 4, LABEL_W, height - 6, LINE
        )
    )
    parts.append(mark_safe("</svg>"))
    return format_html_join("", "{}", ((p,) for p in parts))
