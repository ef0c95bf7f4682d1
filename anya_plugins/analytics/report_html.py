"""An analytics report as one self-contained HTML page: a table and an SVG bar chart per
metric (``anya-ext analytics report --html``)."""

from __future__ import annotations

from html import escape

from anya_plugins.analytics.remote import AnalyticsReport
from anya_plugins.registry.analytics_charts import bar_chart


def report_html(report: AnalyticsReport) -> str:
    header = "".join(f"<th>{escape(m)}</th>" for m in report.metrics)
    rows = "".join(
        f"<tr><td>{escape(line.group)}</td>"
        + "".join(f"<td>{_cell(line.values.get(m))}</td>" for m in report.metrics)
        + "</tr>"
        for line in report.rows
    )
    charts = "".join(
        "<figure>"
        + bar_chart(f"{m} by {report.group_by}", {r.group: r.values.get(m) for r in report.rows})
        + "</figure>"
        for m in report.metrics
    )
    title = f"Anya extensions: last {report.last_days} days to {report.until}"
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>body{{font-family:sans-serif}}"
        "td,th{padding:2px 8px;text-align:left}</style></head><body>"
        f"<h1>{escape(title)}</h1><p>Registry {escape(report.registry)}; a figure fewer than "
        f"{report.min_group} installations stand behind is withheld.</p>"
        f"<table><tr><th>{escape(report.group_by)}</th>{header}</tr>{rows}</table>"
        f"{charts}</body></html>"
    )


def _cell(value: int | None) -> str:
    return "withheld" if value is None else str(value)
