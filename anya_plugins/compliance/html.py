"""A compliance report as one self-contained HTML page (inline style, no scripts), for people
and for the PDF printed from it."""

from __future__ import annotations

from html import escape

from anya_plugins.compliance.evidence import Evidence
from anya_plugins.compliance.report import ComplianceReport, ControlResult

_STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 32px; color: #1d2433; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; }
.meta { color: #5b6477; font-size: 13px; }
.summary { display: flex; gap: 16px; margin: 18px 0; }
.card { border: 1px solid #d6dbe6; border-radius: 6px; padding: 10px 16px; font-size: 14px; }
.card b { font-size: 22px; display: block; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border: 1px solid #d6dbe6; padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: #eef1f7; }
.supported { color: #0b6b2e; font-weight: bold; } .gap { color: #a3141c; font-weight: bold; }
ul { margin: 4px 0; padding-left: 18px; } code { font-size: 12px; }
"""


def render_html(report: ComplianceReport) -> str:
    title = f"{report.standard_name} compliance report, {report.period}"
    organization = f"{escape(report.organization)} &middot; " if report.organization else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>{_STYLE}</style></head>
<body>
<h1>{escape(title)}</h1>
<div class="meta">{organization}from {escape(report.period_start[:10])} to before
{escape(report.period_end[:10])} (UTC) &middot; generated {escape(report.generated)}</div>
<div class="summary">
<div class="card"><b>{len(report.controls)}</b>controls</div>
<div class="card"><b class="supported">{report.supported}</b>supported by evidence</div>
<div class="card"><b class="gap">{len(report.gaps)}</b>gaps</div>
</div>
<h2>Controls</h2>
<table><tr><th>Control</th><th>Title</th><th>Status</th><th>Evidence</th></tr>
{"".join(_control_row(control) for control in report.controls)}
</table>
<h2>Gaps</h2>
{_gaps(report.gaps)}
<h2>Evidence</h2>
<table><tr><th>Evidence</th><th>Present</th><th>Summary</th><th>Records</th></tr>
{"".join(_evidence_row(item) for item in report.evidence)}
</table>
</body></html>
"""


def _control_row(control: ControlResult) -> str:
    return (
        f"<tr><td><b>{escape(control.id)}</b></td><td>{escape(control.title)}</td>"
        f'<td class="{control.status}">{control.status}</td>'
        f"<td>{escape(', '.join(control.evidence))}</td></tr>\n"
    )


def _gaps(gaps: tuple[ControlResult, ...]) -> str:
    if not gaps:
        return "<p>None: every control has its evidence for the period.</p>"
    items = "".join(
        f"<li><b>{escape(control.id)}</b> {escape(control.title)}<ul>"
        + "".join(f"<li>{escape(gap)}</li>" for gap in control.gaps)
        + "</ul></li>"
        for control in gaps
    )
    return f"<ul>{items}</ul>"


def _evidence_row(item: Evidence) -> str:
    shown = list(item.records[:8])
    more = len(item.records) - len(shown)
    records = "".join(f"<li><code>{escape(line)}</code></li>" for line in shown)
    if more:
        records += f"<li>and {more} more (JSON report)</li>"
    gaps = "".join(f'<li class="gap">{escape(gap)}</li>' for gap in item.gaps[:5])
    return (
        f"<tr><td>{escape(item.title)}<br><code>{escape(item.kind)}</code></td>"
        f'<td class="{"supported" if item.present else "gap"}">'
        f"{'yes' if item.present else 'no'}</td>"
        f"<td>{escape(item.summary)}</td><td><ul>{records}{gaps}</ul></td></tr>\n"
    )
