"""Writing a `ReportResult` to disk: Markdown, self-contained HTML, and the raw artefacts.

`write_report(result, out_dir)` writes `report.md`, `report.html` (chart PNG embedded as a
data URI, the SQL, the data table, the document, the event trace; a Content-Security-Policy
that forbids every external resource), `chart.png`, `chart.vl.json`, `chart.echarts.json`,
`query.sql`, `data.csv` and `events.jsonl`. A failed run is written too - with what it
has and the error on top - because that is when someone needs to read the trace.
"""

from __future__ import annotations

import base64
import csv
import html
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import events as ev
from .exceptions import StageAgentError

if TYPE_CHECKING:
    from stageagent.tools.results import QueryResult

    from .report_result import ReportResult

#: rows of the data table in report.md / report.html (data.csv always has all of them)
TABLE_ROWS = 100
#: `ReportResult.error_type` of a run stopped by the user (Ctrl-C): the report is incomplete
INTERRUPTED = "interrupted"


# --- small renderers shared by the facade, the CLI and the report -----------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 1000 or value != int(value) else f"{value:g}"
    return str(value)


def markdown_table(result: QueryResult, max_rows: int = TABLE_ROWS) -> str:
    """The result as a Markdown table (first `max_rows` rows, with a note when cut)."""
    names = result.column_names
    if not names:
        return "(no columns)"
    esc = lambda text: str(text).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(esc(n) for n in names) + " |",
             "|" + "|".join("---" for _ in names) + "|"]
    for row in result.rows[:max_rows]:
        lines.append("| " + " | ".join(esc(_cell(v)) for v in row) + " |")
    if result.row_count > max_rows:
        lines.append(f"\n({max_rows} of {result.row_count} rows shown)")
    elif not result.rows:
        lines.append("\n(no rows)")
    return "\n".join(lines)


def chart_summary(spec: dict[str, Any]) -> dict[str, Any]:
    """Title, mark and encoded fields of a Vega-Lite spec, for the document prompt."""
    mark = spec.get("mark")
    mark = mark.get("type") if isinstance(mark, dict) else mark
    title = spec.get("title")
    title = title.get("text") if isinstance(title, dict) else title
    fields = [d["field"] for d in (spec.get("encoding") or {}).values()
              if isinstance(d, dict) and isinstance(d.get("field"), str)]
    return {"title": title or "", "mark": mark or "", "fields": list(dict.fromkeys(fields))}


def plan_mermaid(result: ReportResult) -> str:
    """The run's plan as a Mermaid flowchart, nodes coloured by step status."""
    from .plan.mermaid import to_mermaid

    assert result.plan is not None
    return to_mermaid(result.plan, result.step_statuses)


def event_summary(event: ev.BaseEvent) -> str | None:
    """One human line for an event (None for events not worth a line, e.g. text deltas)."""
    e: Any = event
    kind = event.type  # type: ignore[attr-defined]
    if kind == "run_started":
        return f"run started: {', '.join(e.stages)}"
    if kind == "stage_started":
        return (f"started ({e.model}; {len(e.tools)} tools; gate {e.quality_threshold:.2f}; "
                f"max {e.max_iterations} iterations)")
    if kind == "tool_called":
        args = json.dumps(e.arguments, ensure_ascii=False, default=str)
        return f"-> {e.tool} {args[:120] + '...' if len(args) > 120 else args}"
    if kind == "tool_result":
        status = "error" if e.is_error else "ok"
        first = e.content.strip().splitlines()[0][:120] if e.is_error and e.content.strip() else ""
        return f"<- {e.tool} {status} ({e.duration_ms:.0f} ms){': ' + first if first else ''}"
    if kind == "quality_gate":
        verdict = "passed" if e.passed else "failed"
        note = f" - {e.critiques[0][:140]}" if e.critiques and not e.passed else ""
        return f"quality {e.score:.2f} (gate {e.threshold:.2f}) {verdict}{note}"
    if kind == "output_formatted":
        return f"formatted output (attempt {e.attempt}): {'ok' if e.ok else '; '.join(e.errors[:2])}"
    if kind == "grounding_checked":
        return "grounded" if e.grounded else f"ungrounded values: {', '.join(e.ungrounded[:5])}"
    if kind == "tool_approval":
        return f"approval for {e.tool}: {'granted' if e.approved else 'denied'} {e.reason}"
    if kind == "thought":
        text = " ".join(e.text.split())
        return f"thought: {text[:160] + '...' if len(text) > 160 else text}"
    if kind == "stage_completed":
        score = f", score {e.score:.2f}" if e.score is not None else ""
        cost = f", ${e.cost_usd:.4f}" if e.cost_usd is not None else ""
        error = f" - {e.error}" if e.error else ""
        return (f"{e.reason} after {e.iterations} iteration(s){score}, "
                f"{e.usage.total_tokens:,} tokens{cost}{error}")
    if kind == "run_completed":
        cost = f", ${e.cost_usd:.4f}" if e.cost_usd is not None else ""
        return f"run completed in {e.duration_s:.1f} s, {e.usage.total_tokens:,} tokens{cost}"
    if kind == "run_failed":
        return f"run FAILED in stage {e.failed_stage!r}: {e.error}"
    return None


def event_prefix(event: ev.BaseEvent) -> str:
    if not event.stage:
        return "[run]"
    return f"[{event.stage} #{event.iteration}]" if event.iteration else f"[{event.stage}]"


# --- files ------------------------------------------------------------------------------


def write_report(result: ReportResult, out_dir: str | Path) -> dict[str, Path]:
    """Write every report file that the result has data for; returns name -> path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}

    def put(name: str, data: str | bytes) -> None:
        path = out / name
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
        written[name] = path

    put("events.jsonl", "".join(e.model_dump_json() + "\n" for e in result.events))
    if result.sql:
        put("query.sql", result.sql.strip().rstrip(";") + ";\n")
    if result.query_result is not None:
        put("data.csv", csv_text(result.query_result))
    png: bytes | None = None
    render_error = None
    if result.chart_spec is not None:
        from stageagent.tools.chart import render_png, to_echarts

        put("chart.vl.json", json.dumps(result.chart_spec, indent=2, ensure_ascii=False) + "\n")
        put("chart.echarts.json",
            json.dumps(to_echarts(result.chart_spec), indent=2, ensure_ascii=False) + "\n")
        try:
            png = render_png(result.chart_spec)
            put("chart.png", png)
        except StageAgentError as exc:  # a spec that passed the gate but Vega rejects
            render_error = str(exc)
    put("report.md", render_markdown(result, chart_file="chart.png" if png else None,
                                     render_error=render_error))
    put("report.html", render_html(result, png, render_error=render_error))
    return written


def csv_text(result: QueryResult) -> str:
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(result.column_names)
    writer.writerows([["" if v is None else v for v in row] for row in result.rows])
    return buffer.getvalue()


def _stage_rows(result: ReportResult) -> list[list[str]]:
    rows = []
    for name, stage in result.stages.items():
        usage = stage.usage
        rows.append([name, stage.reason, str(stage.iterations),
                     f"{stage.score:.2f}" if stage.score is not None else "-",
                     f"{usage.total_tokens:,}" if usage is not None else "0",
                     f"${stage.cost_usd:.4f}" if stage.cost_usd is not None else "-"])
    cost = result.cost_usd
    rows.append(["total", "ok" if result.ok else "failed", "", "",
                 f"{result.usage.total_tokens:,}", f"${cost:.4f}" if cost is not None else "-"])
    return rows


_STAGE_HEADER = ["stage", "stopped", "iterations", "score", "tokens", "cost"]


def render_markdown(result: ReportResult, *, chart_file: str | None = None,
                    render_error: str | None = None) -> str:
    parts = [f"# {result.question}\n"]
    if result.error_type == INTERRUPTED:
        parts.append(f"> **Incomplete report**: the run was interrupted during stage "
                     f"`{result.failed_stage}`; below is what existed so far. {result.error}\n")
    elif not result.ok:
        parts.append(f"> **The run failed** in stage `{result.failed_stage}`: {result.error}\n")
    if result.document:
        parts.append(result.document + "\n")
    if chart_file:
        parts.append(f"![chart]({chart_file})\n")
    if render_error:
        parts.append(f"> The chart could not be rendered: {render_error}\n")
    if result.sql:
        parts.append(f"## SQL\n\n```sql\n{result.sql.strip()}\n```\n")
    if result.query_result is not None:
        parts.append(f"## Data\n\n{markdown_table(result.query_result)}\n")
    table = [_STAGE_HEADER, ["---"] * len(_STAGE_HEADER), *_stage_rows(result)]
    parts.append("## Stages\n\n" + "\n".join("| " + " | ".join(r) + " |" for r in table) + "\n")
    if result.plan is not None:
        parts.append(f"## Plan\n\n```mermaid\n{plan_mermaid(result)}\n```\n")
    trace = [f"{e.seq:>4} {event_prefix(e)} {line}" for e in result.events
             if (line := event_summary(e)) is not None]
    parts.append("## Event trace\n\n```text\n" + "\n".join(trace) + "\n```\n")
    parts.append(f"<sub>run {result.run_id}; full events in events.jsonl</sub>\n")
    return "\n".join(parts)


# --- HTML -------------------------------------------------------------------------------

_CSS = """
body{font:15px/1.55 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
main{max-width:960px;margin:0 auto;padding:24px 28px 48px;background:#fff;min-height:100vh}
h1{font-size:1.6em;margin:.2em 0 .6em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #e3e6ea;padding-bottom:.25em}
.failed{background:#fdecea;border-left:4px solid #d93025;padding:10px 14px;margin:1em 0}
#document p{margin:.6em 0}img.chart{max-width:100%;height:auto;border:1px solid #e3e6ea}
pre{background:#f3f4f6;padding:12px;overflow:auto;font-size:13px;border-radius:4px}
table{border-collapse:collapse;font-size:13px;margin:.5em 0}th,td{border:1px solid #dde1e6;padding:3px 8px;text-align:left}
th{background:#f3f4f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
details summary{cursor:pointer;color:#3b5bdb}.muted{color:#6b7280;font-size:12px}
"""

_BULLET = re.compile(r"^\s*([-*+]|\d+[.)])\s+")
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _inline_markdown(text: str) -> str:
    """Escaped text with **bold**, *italic* and `code` (no links: nothing external)."""
    out = html.escape(text, quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    return re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", out)


def markdown_to_html(text: str) -> str:
    """The small Markdown subset a report text uses: headings, lists, paragraphs."""
    blocks: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [ln.rstrip() for ln in block.splitlines() if ln.strip()]
        if not lines:
            continue
        if all(_BULLET.match(ln) for ln in lines):
            tag = "ol" if re.match(r"^\s*\d", lines[0]) else "ul"
            items = "".join(f"<li>{_inline_markdown(_BULLET.sub('', ln))}</li>" for ln in lines)
            blocks.append(f"<{tag}>{items}</{tag}>")
        elif m := re.match(r"^(#{1,6})\s+(.*)$", lines[0]):
            level = min(len(m.group(1)) + 2, 6)  # h1/h2 belong to the report itself
            blocks.append(f"<h{level}>{_inline_markdown(m.group(2))}</h{level}>")
            if lines[1:]:
                blocks.append(f"<p>{_inline_markdown(' '.join(lines[1:]))}</p>")
        else:
            blocks.append(f"<p>{_inline_markdown(' '.join(lines))}</p>")
    return "\n".join(blocks)


def _html_table(header: list[str], rows: list[list[Any]], *,
                numeric: frozenset[int] | set[int] = frozenset()) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td{" class=num" if i in numeric else ""}>{html.escape(_cell(v))}</td>'
                         for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(result: ReportResult, png: bytes | None = None, *,
                render_error: str | None = None) -> str:
    """A single self-contained HTML page (no scripts, no external resources)."""
    esc = html.escape
    parts = [f"<h1>{esc(result.question)}</h1>"]
    if result.error_type == INTERRUPTED:
        parts.append(f'<div class="failed" id="error"><strong>Incomplete report</strong>: the run '
                     f"was interrupted during stage <code>{esc(result.failed_stage or '?')}</code>; "
                     f"below is what existed so far. {esc(result.error or '')}</div>")
    elif not result.ok:
        parts.append(f'<div class="failed" id="error"><strong>The run failed</strong> in stage '
                     f"<code>{esc(result.failed_stage or '?')}</code>: {esc(result.error or '')}</div>")
    if result.document:
        parts.append(f'<section id="document">{markdown_to_html(result.document)}</section>')
    if png:
        title = ""
        if result.chart_spec:
            title = chart_summary(result.chart_spec)["title"]
        data = base64.b64encode(png).decode("ascii")
        parts.append(f'<figure id="chart"><img class="chart" alt="{esc(title or "chart")}" '
                     f'src="data:image/png;base64,{data}"></figure>')
    if render_error:
        parts.append(f'<p class="failed">The chart could not be rendered: {esc(render_error)}</p>')
    if result.sql:
        parts.append(f'<h2>SQL</h2><pre id="sql"><code>{esc(result.sql.strip())}</code></pre>')
    query = result.query_result
    if query is not None:
        numeric = {i for i, c in enumerate(query.columns) if c.kind in ("integer", "number")}
        note = (f'<p class="muted">{TABLE_ROWS} of {query.row_count} rows shown; all rows are '
                "in data.csv.</p>" if query.row_count > TABLE_ROWS else "")
        parts.append(f'<h2>Data</h2><div id="data">'
                     f"{_html_table(query.column_names, query.rows[:TABLE_ROWS], numeric=numeric)}"
                     f"{note}</div>")
    parts.append('<h2>Stages</h2><div id="stages">'
                 f"{_html_table(_STAGE_HEADER, _stage_rows(result), numeric={2, 3, 4, 5})}</div>")
    trace_rows = [[e.seq, e.stage or "run", e.iteration, e.type, line]  # type: ignore[attr-defined]
                  for e in result.events if (line := event_summary(e)) is not None]
    if result.plan is not None:
        parts.append(f'<h2>Plan</h2><pre class="mermaid" id="plan">{esc(plan_mermaid(result))}'
                     '</pre>')
    parts.append(f'<h2>Event trace</h2><details id="trace"><summary>{len(trace_rows)} events '
                 "(all events in events.jsonl)</summary>"
                 f"{_html_table(['seq', 'stage', 'iter', 'event', 'summary'], trace_rows)}"
                 "</details>")
    parts.append(f'<p class="muted">run {esc(result.run_id)}</p>')
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(result.question)}</title><style>{_CSS}</style></head>"
            f"<body><main>{''.join(parts)}</main></body></html>\n")
