"""examples/report.ipynb executed by a real Jupyter kernel; its outputs are checked."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "report.ipynb"
_ROW = re.compile(r'<tr><td>(\w+)</td><td><span class="sa-badge [\w-]+">(\w+)</span>')


class RecordingClient(NotebookClient):
    """Keeps every display message the kernel sent (nbclient folds updates into outputs)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.displays: list[tuple[str, str, str]] = []  # (msg_type, display_id, html)

    def process_message(self, msg: dict[str, Any], cell: Any, cell_index: int) -> Any:
        content = msg["content"]
        display_id = (content.get("transient") or {}).get("display_id")
        if display_id and msg["msg_type"] in ("display_data", "update_display_data"):
            self.displays.append((msg["msg_type"], display_id,
                                  content["data"].get("text/html", "")))
        return super().process_message(msg, cell, cell_index)


def stage_statuses(html: str) -> dict[str, str]:
    return dict(_ROW.findall(html))


def kernel_manager(kernels: Path) -> KernelManager:
    """A kernel running this very interpreter (whatever other "python3" specs exist)."""
    spec = kernels / "stageagent-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "stageagent tests", "language": "python"}))
    return KernelManager(kernel_name="stageagent-test",
                         kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, RecordingClient]:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    workdir = tmp_path_factory.mktemp("notebook")
    client = RecordingClient(nb, km=kernel_manager(workdir / "kernels"), timeout=180,
                             resources={"metadata": {"path": str(workdir)}})
    client.execute()
    return nb, client


def outputs_of(nb: Any, source_start: str) -> list[Any]:
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(source_start)]
    assert not [o for o in cell.outputs if o.output_type == "error"]
    return cell.outputs


def test_the_live_view_updated_while_the_run_streamed(executed):
    nb, client = executed
    live_ids = {d for kind, d, html in client.displays
                if kind == "display_data" and 'id="sa-live-' in html}
    assert len(live_ids) == 1
    (live_id,) = live_ids
    updates = [html for kind, d, html in client.displays
               if d == live_id and kind == "update_display_data"]
    states = [stage_statuses(html) for html in updates]
    # seen mid-run: the SQL stage done while the document stage had not started
    assert {"sql": "passed", "chart": "running", "document": "pending"} in states
    assert states[-1] == {"sql": "passed", "chart": "passed", "document": "passed"}
    assert 'sa-badge sa-ok">completed</span>' in updates[-1]
    assert "run completed in" in updates[-1]  # the newest-events log

    display, result = outputs_of(nb, "run = facade.run(QUESTION)")
    assert display.output_type == "display_data"
    assert display.data["text/html"] == updates[-1]  # the notebook keeps the final state
    assert "LiveView completed" in display.data["text/plain"]


def test_the_report_result_renders_richly(executed):
    nb, _ = executed
    result = outputs_of(nb, "run = facade.run(QUESTION)")[-1]
    assert result.output_type == "execute_result"
    html = result.data["text/html"]
    assert "What was the total revenue per product category in 2024?</h3>" in html
    assert stage_statuses(html) == {"sql": "passed", "chart": "passed", "document": "passed"}
    assert re.search(r'<img class="sa-chart" alt="Revenue by product category, 2024" '
                     r'src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]{1000,}">', html)
    sql = re.search(r'<pre class="sa-sql">(.*?)</pre>', html, re.S).group(1)
    assert re.search(r'<span style="[^"]+">SELECT</span>', sql)  # highlighted by pygments
    assert "ROUND" in sql and "order_items" in sql
    assert "Total revenue across the 4 product categories in 2024 was" in html
    assert "<td>Services</td>" in html  # the data table
    assert "Iterations (9)" in html and "sql_executor&nbsp;\u2713" in html


def test_a_stage_result_renders_richly(executed):
    nb, _ = executed
    (out,) = outputs_of(nb, 'result.stages["sql"]')
    html = out.data["text/html"]
    assert "<h3>Stage sql</h3>" in html and 'sa-ok">passed</span>' in html
    assert '<pre class="sa-sql">' in html and "<td>Services</td>" in html
    assert "Turns (5)" in html
    assert out.data["text/plain"].startswith("StageResult(")


def test_run_sync_works_inside_the_kernel_loop(executed):
    nb, _ = executed
    (out,) = outputs_of(nb, "again = ")
    assert out.output_type == "stream" and out.text.split() == ["True", "True"]
