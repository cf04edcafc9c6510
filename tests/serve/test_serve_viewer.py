"""The live run viewer in headless Chromium (Debian's, driven by Playwright) against a real
uvicorn server: start a report from the page and watch it stream; approve a tool call
from the page while the run waits. Screenshots are kept as artifacts (in the test's tmp
dir; copied to $STAGEAGENT_ARTIFACTS_DIR when set)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.pipeline.scripts import cli_script, document_text, wrong_document_text

from .server import ServerThread

CHROMIUM = "/usr/bin/chromium"


def _chromium() -> str:
    found = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if found is None:
        if os.environ.get("STAGEAGENT_REQUIRE_CHROMIUM") == "1":
            pytest.fail("chromium is not installed (STAGEAGENT_REQUIRE_CHROMIUM=1)", pytrace=False)
        pytest.skip("chromium is not installed")
    return found


@pytest.fixture
def page():
    executable = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.errors = errors
        yield page
        browser.close()
    assert not errors, errors


def _keep(path: Path) -> None:
    target = os.environ.get("STAGEAGENT_ARTIFACTS_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / path.name)


@pytest.fixture
def critiqued_settings(settings, expected, tmp_path):
    """The pipeline script with a document stage that first misquotes a figure: the gate
    fails with a critique, the model corrects itself, the gate passes."""
    script = cli_script(expected)
    script["document"] = [{"tool": "consistency_validator",
                           "args": {"text": document_text(expected)}},
                          wrong_document_text(expected), document_text(expected)]
    path = tmp_path / "critiqued.json"
    path.write_text(json.dumps(script))
    return {**settings, "script": str(path)}


def test_the_viewer_starts_a_report_and_shows_it_streaming(page, critiqued_settings, expected,
                                                          tmp_path):
    from playwright.sync_api import expect

    with ServerThread(critiqued_settings) as server:
        page.goto(server.url + "/")
        expect(page.locator("#database option")).to_have_text(["demo"])
        page.fill("#question", "What was the total revenue per product category in 2024?")
        page.click("#start")
        expect(page.locator("#run-status")).to_have_text("completed", timeout=30000)
        stages = page.locator(".stage")
        expect(stages).to_have_count(3)
        expect(stages.locator(".head b")).to_have_text(["sql", "chart", "document"])
        expect(page.locator(".stage .stage-status")).to_have_text(
            [r"passed · 1.00 · 4 it.", r"passed · 1.00 · 3 it.", r"passed · 1.00 · 3 it."])
        executor = page.locator('.tool-call[data-tool="sql_executor"]')
        expect(executor.locator(".args")).to_contain_text("SELECT p.category AS category")
        expect(executor.locator(".result")).to_contain_text('"row_count": ' +
                                                            str(expected.row_count))
        expect(page.locator('.tool-call[data-tool="chart_generator"] .args')).to_contain_text(
            '"chart_type": "bar"')
        document = page.locator('.stage[data-stage="document"]')
        expect(document.locator(".gate.failed .score")).to_have_count(1)
        expect(document.locator(".critique").first).to_be_visible()
        expect(document.locator(".gate.passed .score")).to_have_text(["quality 1.00"])
        expect(page.locator("#sql")).to_contain_text("GROUP BY p.category")
        expect(page.locator("#document")).to_have_text(document_text(expected))
        chart = page.locator("#chart img")
        expect(chart).to_be_visible()
        assert page.evaluate("document.querySelector('#chart img').naturalWidth") > 100
        expect(page.locator(".links a")).to_contain_text(["chart.png", "data.csv"])
        expect(page.locator("#runs li .badge")).to_have_text(["completed"])
        shot = tmp_path / "viewer-report.png"
        page.screenshot(path=str(shot), full_page=True)
        _keep(shot)


def _run_reads(page, run_id):
    """The page's requests for the run itself (`GET /v1/runs/{id}`), recorded from now."""
    reads: list[str] = []
    page.on("request", lambda r: reads.append(r.url)
            if r.url.split("?")[0].endswith(f"/v1/runs/{run_id}") else None)
    return reads


def test_the_viewer_shows_a_waiting_tool_call_and_approves_it(page, server, tmp_path):
    from playwright.sync_api import expect

    run_id = server.start_guarded()
    reads = _run_reads(page, run_id)
    page.goto(f"{server.url}/#run={run_id}")
    call = page.locator('.tool-call[data-tool="drop_table"]')
    expect(call.locator(".args")).to_contain_text('"table": "orders"')
    expect(page.locator("#run-status")).to_have_text("waiting_approval")
    approval = page.locator(".approval")
    expect(approval).to_contain_text("drop_table")
    shot = tmp_path / "viewer-approval.png"
    page.screenshot(path=str(shot), full_page=True)
    _keep(shot)
    approval.locator("button.approve").click()
    expect(call.locator(".result")).to_have_text("dropped orders")
    expect(call.locator(".name .badge").first).to_contain_text("approved")
    expect(page.locator("#run-status")).to_have_text("completed")
    expect(page.locator("#document")).to_contain_text("I asked to drop the orders table")
    expect(page.locator(".approval")).to_have_count(0)
    # the approval came and went with the stream: the run was read on opening and once
    # at its end, never polled
    page.wait_for_timeout(1500)
    assert len(reads) == 2, reads


def test_the_viewer_rejects_a_plan_step_from_the_stream_with_a_reason(page, server, tmp_path):
    from playwright.sync_api import expect

    run_id = server.start_report(options={"approve_steps": ["chart"]})
    reads = _run_reads(page, run_id)
    page.goto(f"{server.url}/#run={run_id}")
    approval = page.locator(".approval")
    expect(approval.locator(".what")).to_have_text("plan step chart")
    expect(approval.locator(".summary")).to_have_text("a chart of the SQL result")
    expect(page.locator("#run-status")).to_have_text("waiting_approval")
    expect(page.locator('.stage[data-stage="sql"] .stage-status')).to_contain_text("passed")
    shot = tmp_path / "viewer-plan-approval.png"
    page.screenshot(path=str(shot), full_page=True)
    _keep(shot)
    approval.locator("input.reason").fill("no charts today")
    approval.locator("button.deny").click()
    expect(page.locator(".approval")).to_have_count(0)
    expect(page.locator('#plan-steps .plan-step[data-step="chart"] .badge')).to_have_text(
        "rejected")
    expect(page.locator("#run-status")).to_have_text("failed")
    expect(page.locator("#run-error")).to_contain_text("no charts today")
    expect(page.locator('.stage[data-stage="chart"]')).to_have_count(0)  # it never ran
    decided = server.client.get(f"/v1/runs/{run_id}").json()
    assert decided["result"]["error_type"] == "rejected"
    page.wait_for_timeout(1500)
    assert len(reads) == 2, reads  # opened, ended: the wait itself came from the stream
