"""HTML building blocks for notebook output: escaping, tables, badges, SQL, charts.

Everything is one self-contained fragment: a scoped `<style>` (classes prefixed `sa-`),
no scripts, no external resources, so it renders the same in Jupyter, VS Code and a
static HTML export, and nothing in it can reach the network.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

STYLE = """<style>
.sa{font:13px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:inherit;max-width:980px}
.sa h3{font-size:15px;margin:.2em 0 .5em}.sa h4{font-size:13px;margin:1.1em 0 .35em;opacity:.8}
.sa table{border-collapse:collapse;margin:.3em 0;font-size:12.5px}
.sa th,.sa td{border:1px solid rgba(128,128,128,.3);padding:3px 8px;text-align:left;vertical-align:top}
.sa th{background:rgba(128,128,128,.1);font-weight:600}
.sa td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.sa .sa-badge{display:inline-block;padding:0 7px;border-radius:9px;font-size:11.5px;font-weight:600;color:#fff}
.sa .sa-ok{background:#1e8e3e}.sa .sa-bad{background:#d93025}.sa .sa-run{background:#1a73e8}
.sa .sa-warn{background:#e37400}.sa .sa-idle{background:#80868b}
.sa .sa-tool{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;white-space:nowrap}
.sa .sa-err{color:#d93025}.sa .sa-muted{opacity:.65;font-size:12px}
.sa pre{background:rgba(128,128,128,.08);padding:8px 10px;border-radius:4px;overflow:auto;
font:12px/1.45 ui-monospace,Menlo,Consolas,monospace;margin:.3em 0;white-space:pre-wrap}
.sa .sa-kw{color:#0b57d0;font-weight:600}.sa .sa-str{color:#b3261e}.sa .sa-numlit{color:#146c2e}
.sa .sa-failed{border-left:4px solid #d93025;background:rgba(217,48,37,.07);padding:6px 10px;margin:.4em 0}
.sa .sa-text p{margin:.45em 0}.sa img.sa-chart{max-width:min(100%,640px);height:auto}
.sa details>summary{cursor:pointer;opacity:.85}
</style>"""

_OK = frozenset({"passed", "completed", "ok"})
_WARN = frozenset({"max_iterations", "budget", "loop_detected"})


#: bidirectional controls would reorder the text around them (a question could make the
#: page lie about what it shows): rendered visibly instead
_BIDI = {c: f"[U+{c:04X}]" for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]}


def esc(value: Any) -> str:
    """Escaped for HTML text and attributes; bidi controls and NULs made visible."""
    return html.escape(str(value).translate(_BIDI).replace("\0", "[NUL]"), quote=True)


def cell(value: Any) -> str:
    """A data value as table text: floats without float noise, None as empty."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 1000 else f"{value:.6g}"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10000:
        return f"{value:,}"
    return str(value)


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], *,
          numeric: Iterable[int] = (), raw: Iterable[int] = ()) -> str:
    """An HTML table; cells are escaped except the column indexes in `raw` (built HTML)."""
    numeric, raw = set(numeric), set(raw)
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(
            f'<td{" class=num" if i in numeric else ""}>{v if i in raw else esc(cell(v))}</td>'
            for i, v in enumerate(row)) + "</tr>"
        for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def badge(status: str) -> str:
    """A coloured status pill: green for passed/completed, red for failures, blue running."""
    if status in _OK:
        kind = "sa-ok"
    elif status in _WARN:
        kind = "sa-warn"
    elif status in ("running", "started"):
        kind = "sa-run"
    elif status in ("pending", ""):
        kind = "sa-idle"
    else:
        kind = "sa-bad"
    return f'<span class="sa-badge {kind}">{esc(status or "pending")}</span>'


def section(title: str, body: str) -> str:
    return f"<h4>{esc(title)}</h4>{body}"


def details(summary: str, body: str, *, open: bool = False) -> str:
    return f"<details{' open' if open else ''}><summary>{esc(summary)}</summary>{body}</details>"


def fragment(body: str, *, element_id: str = "") -> str:
    """The outer element of every rendering (the style travels with each output)."""
    ident = f' id="{esc(element_id)}"' if element_id else ""
    return f'{STYLE}<div class="sa"{ident}>{body}</div>'


def short(text: str, limit: int = 160) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "\u2026"


def tokens(usage: Any) -> str:
    """Input / output tokens; "~" marks our estimate where the provider reported none."""
    if usage is None or not (usage.input_tokens or usage.output_tokens):
        return "-"
    mark = "~" if getattr(usage, "estimated", False) else ""
    return f"{mark}{usage.input_tokens:,} / {usage.output_tokens:,}"


def money(cost: float | None) -> str:
    return "-" if cost is None else f"${cost:.4f}"


def facts(*items: str | None) -> str:
    """A muted line of facts joined by dots; None items are left out."""
    return '<span class="sa-muted">' + " \u00b7 ".join(esc(i) for i in items if i) + "</span>"


def score(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


# --- code ---------------------------------------------------------------------------------

_SQL_TOKEN = re.compile(
    r"(?P<str>'(?:[^']|'')*')|(?P<num>\b\d+(?:\.\d+)?\b)|(?P<word>\b[A-Za-z_]+\b)")
_SQL_KEYWORDS = frozenset("""
select from where group by order having limit offset join left right inner outer full cross
on as and or not in is null like between case when then else end with distinct union all
intersect except asc desc over partition count sum avg min max round coalesce cast exists
""".split())


def sql_html(sql: str) -> str:
    """SQL in a `<pre>`, highlighted by pygments when installed, else by a small tokenizer."""
    try:
        from pygments import highlight  # type: ignore[import-untyped]
        from pygments.formatters import HtmlFormatter  # type: ignore[import-untyped]
        from pygments.lexers import SqlLexer  # type: ignore[import-untyped]
    except ImportError:
        return f'<pre class="sa-sql">{_simple_sql(sql.strip())}</pre>'
    body = highlight(sql.strip(), SqlLexer(), HtmlFormatter(nowrap=True, noclasses=True))
    return f'<pre class="sa-sql">{body}</pre>'


def _simple_sql(sql: str) -> str:
    out: list[str] = []
    last = 0
    for match in _SQL_TOKEN.finditer(sql):
        out.append(html.escape(sql[last:match.start()]))
        text = html.escape(match.group())
        if match.lastgroup == "str":
            out.append(f'<span class="sa-str">{text}</span>')
        elif match.lastgroup == "num":
            out.append(f'<span class="sa-numlit">{text}</span>')
        elif match.group().lower() in _SQL_KEYWORDS:
            out.append(f'<span class="sa-kw">{text}</span>')
        else:
            out.append(text)
        last = match.end()
    out.append(html.escape(sql[last:]))
    return "".join(out)


def json_html(value: Any) -> str:
    return f"<pre>{esc(json.dumps(value, indent=2, ensure_ascii=False, default=str))}</pre>"


# --- charts -------------------------------------------------------------------------------

def chart_html(spec: dict[str, Any]) -> str:
    """The Vega-Lite chart as an inline SVG image (rendered offline by vl-convert)."""
    try:
        from stageagent.tools.chart import render_svg

        svg = render_svg(spec)
    except Exception as exc:  # noqa: BLE001 - a chart that cannot render is shown as such
        return f'<div class="sa-failed">The chart could not be rendered: {esc(exc)}</div>'
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    title = spec.get("title")
    title = title.get("text") if isinstance(title, dict) else title
    return (f'<img class="sa-chart" alt="{esc(title or "chart")}" '
            f'src="data:image/svg+xml;base64,{data}">')
