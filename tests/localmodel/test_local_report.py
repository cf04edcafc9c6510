"""`stageagent report --model <local id>`: the whole pipeline against the demo database
through the real local server, with no network. A 135M model will not write good SQL; what
must hold is an honest ending (the failing stage and why) and the report files on disk."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from stageagent.stages import __path__ as BUNDLED_STAGES


def bounded_stages(directory: Path) -> Path:
    """The bundled stage files with fewer iterations: the same pipeline in CI time."""
    directory.mkdir()
    for source in Path(list(BUNDLED_STAGES)[0]).glob("*.toml"):
        text = re.sub(r"(?m)^max_iterations = \d+", "max_iterations = 2", source.read_text())
        text = re.sub(r"(?m)^format_retries = \d+", "format_retries = 1", text)
        (directory / source.name).write_text(text)
    return directory


def test_report_runs_end_to_end_on_the_local_model(model_id, tmp_path):
    out = tmp_path / "report"
    env = {k: v for k, v in os.environ.items()
           if k not in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "STAGEAGENT_MODEL")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")  # its own demo database
    done = subprocess.run(
        [sys.executable, "-m", "stageagent", "report", "How many orders were placed in 2024?",
         "--model", model_id, "--out", str(out), "--stages-dir",
         str(bounded_stages(tmp_path / "stages"))],
        capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stderr
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    assert events[0]["type"] == "run_started"
    assert events[-1]["type"] in ("run_completed", "run_failed")
    stages = [e for e in events if e["type"] == "stage_completed"]
    assert stages and all(e["reason"] for e in stages)
    report = (out / "report.md").read_text()
    if events[-1]["type"] == "run_failed":
        assert done.returncode == 1
        failed = events[-1]["failed_stage"]
        assert f"stage `{failed}`" in report  # the report names the stage and the reason
        assert stages[-1]["reason"] in report
    else:
        assert done.returncode == 0 and (out / "chart.png").exists()
    assert any(e["type"] == "thought" for e in events)  # the model really answered
