"""The local stack run as one self-contained HTML page: the pipeline diagram with each stage's
counts and status, charts of the events' outcomes and of each stage's time, the reconciliation,
where the outputs lie, and the AWS-only settings that did not apply.

Written by hand as inline SVG: the page must open anywhere without scripts, fonts or network,
and a handful of boxes and bars does not justify a charting dependency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

GREEN, RED, GREY, BLUE = "#2e7d32", "#c62828", "#9e9e9e", "#1565c0"


def write_html_report(report: Mapping[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html_report(report))
    return path


def html_report(report: Mapping[str, Any]) -> str:
    stages = report["stages"]
    verdict = ("Reconciled: nothing lost" if report["reconciled"]
               else f"NOT reconciled: the {report['failed_stage']} stage failed" + (f": {report['failure']}" if report["failure"] else ""))
    sections = [
        f"<h1>Cauce local stack</h1><p class=\"{'ok' if report['reconciled'] else 'bad'}\">{escape(verdict)}</p>",
        f"<p>{report['events']:,} events generated, {report['records_put']:,} records put (re-deliveries included), "
        f"{report['seconds']:.1f} s end to end. Lake: <code>{escape(report['lake'])}</code></p>",
        "<p>" + escape(_memory_line(report)) + "</p>",
        "<h2>Pipeline</h2>" + _diagram(report),
        "<h2>Where the events went</h2>" + _bars(_outcomes(report), unit="records"),
        "<h2>Time by stage</h2>" + _bars([(name, stages[name]["seconds"]) for name in stages if "seconds" in stages[name]], unit="s"),
        "<h2>Reconciliation</h2>" + _table(["stage", "check", "result"],
                                            [(c["stage"], c["check"], "ok" if c["ok"] else "FAILED") for c in report["checks"]]),
    ]
    workflow = stages.get("workflow")
    if workflow:
        sections.append(f"<h2>{escape(workflow.get('name', 'workflow'))}</h2>" + _table(["state", "status"], workflow["states"]))
    sections.append("<h2>Outputs</h2>" + _table(["output", "where"], list(report["outputs"].items())))
    settings = report.get("not_applicable_locally") or {}
    if settings:
        sections.append("<h2>AWS-only settings (accepted, not applied locally)</h2>"
                        + _table(["locally", "settings"], [(reason, ", ".join(paths)) for reason, paths in settings.items()]))
    style = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#212121}"
             "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}"
             ".ok{color:#2e7d32;font-weight:bold}.bad{color:#c62828;font-weight:bold}code{background:#f5f5f5}")
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Cauce local stack</title>"
            f"<style>{style}</style></head><body>{''.join(sections)}</body></html>\n")


def _memory_line(report: Mapping[str, Any]) -> str:
    stages = report["stages"]
    held = [f"{stages['kinesis']['max_records_held']:,} records in the stream" if "kinesis" in stages else None,
            f"{stages['firehose']['max_buffered_bytes'] / 2**20:.1f} MB in Firehose buffers" if stages.get("firehose") else None,
            f"{stages['analytics']['max_records_held']:,} records in the analytics windows" if "analytics" in stages else None]
    return (f"Peak memory {report['peak_memory_mb']:,} MB (Spark's JVM apart); held at most: "
            + ", ".join(h for h in held if h) + ".")


def _status(report: Mapping[str, Any], stage: str) -> str:
    if report["failed_stage"] == stage:
        return RED
    return GREEN if stage in report["stages"] else GREY


def _diagram(report: Mapping[str, Any]) -> str:
    stages = report["stages"]
    firehose = stages.get("firehose") or {}
    crawler = stages.get("crawler") or {}
    workflow = stages.get("workflow") or {}
    apps = (stages.get("analytics") or {}).get("apps", {})
    boxes = [  # (stage, x, y, title, detail)
        ("kinesis", 10, 60, "Kinesis stream", f"{stages.get('kinesis', {}).get('records', 0):,} records"),
        ("firehose", 200, 10, "Firehose + transform", f"{firehose.get('delivered', 0):,} delivered, {firehose.get('processing_failed', 0):,} failed"),
        ("crawler", 390, 10, "Glue crawler", f"{len(crawler.get('tables', []))} table(s), {crawler.get('files', 0)} files"),
        ("workflow", 580, 10, workflow.get("name", "workflow"), f"{workflow.get('status', 'not run')}: {workflow.get('rows_written', 0):,} curated"),
        ("analytics", 200, 120, "SQL analytics", ", ".join(f"{a['rows']} windows" for a in apps.values()) or "no apps"),
    ]
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="770" height="190" font-size="12">',
             '<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto">'
             '<path d="M0,0 L8,4 L0,8 z" fill="#616161"/></marker></defs>']
    for x1, y1, x2, y2 in ((170, 92, 200, 42), (360, 42, 390, 42), (550, 42, 580, 42), (170, 92, 200, 152)):
        parts.append(f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#616161" marker-end="url(#arrow)"/>')
    for stage, x, y, title, detail in boxes:
        color = _status(report, stage)
        parts.append(f'<rect x="{x}" y="{y}" width="160" height="64" rx="6" fill="white" stroke="{color}" stroke-width="2"/>'
                     f'<text x="{x + 8}" y="{y + 20}" font-weight="bold" fill="{color}">{escape(title[:22])}</text>')
        for number, line in enumerate(_box_lines(detail)):  # what fits in the box: two lines of about 21 characters
            parts.append(f'<text x="{x + 8}" y="{y + 38 + 15 * number}">{escape(line)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _box_lines(detail: str, width: int = 21) -> list[str]:
    """A box's detail on at most two lines, broken after a comma or colon where it is too long for one."""
    if len(detail) <= width:
        return [detail]
    for separator in (", ", ": "):
        head, found, tail = detail.partition(separator)
        if found:
            return [(head + separator.strip())[:width], tail[:width]]
    return [detail[:width], detail[width:2 * width]]


def _outcomes(report: Mapping[str, Any]) -> list[tuple[str, float]]:
    stages = report["stages"]
    firehose = stages.get("firehose") or {}
    workflow = stages.get("workflow") or {}
    rows = [("curated", workflow.get("rows_written", 0)), ("quarantined by the job", workflow.get("rows_quarantined", 0)),
            ("re-deliveries removed", report["expected"]["duplicates"] if workflow else 0),
            ("processing-failed (Firehose)", firehose.get("processing_failed", 0)), ("dropped (Firehose)", firehose.get("dropped", 0))]
    if not workflow:
        rows.insert(0, ("delivered, not processed", firehose.get("delivered", 0)))
    return rows


def _bars(rows: Sequence[tuple[str, float]], unit: str) -> str:
    top = max([value for _, value in rows] + [1e-9])
    height = 22 * len(rows) + 4
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="770" height="{height}" font-size="12">']
    for index, (label, value) in enumerate(rows):
        y = 4 + 22 * index
        width = 400 * value / top
        shown = f"{value:,.1f} {unit}" if isinstance(value, float) else f"{value:,} {unit}"
        parts.append(f'<text x="0" y="{y + 14}">{escape(label)}</text>'
                     f'<rect x="220" y="{y}" width="{width:.1f}" height="16" fill="{BLUE}"/>'
                     f'<text x="{226 + width:.1f}" y="{y + 13}">{escape(shown)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
