"""The library logs nothing until enabled; enabled logs carry run id and stage."""

from __future__ import annotations

import json

from stageagent import ScriptedModel, call, disable_logging, enable_logging

from .helpers import events_of, make_runtime, stage


async def test_silent_by_default_then_bound_records_when_enabled(capfd):
    model = ScriptedModel([call("boom", {"reason": "x"}), "done"])
    await events_of(make_runtime().run_stage(stage(), "x", model=model))
    out, err = capfd.readouterr()
    assert "stageagent" not in err and "stage" not in err

    records: list[str] = []
    handler = enable_logging("DEBUG", records.append, json=True)
    try:
        run = make_runtime().run_stage(stage(), "x", model=ScriptedModel(["done"]))
        await events_of(run)
    finally:
        from loguru import logger

        logger.remove(handler)
        disable_logging()
    parsed = [json.loads(r)["record"] for r in records]
    assert parsed, "no records were logged"
    assert {p["extra"]["run_id"] for p in parsed} == {run.run_id}
    assert {p["extra"]["stage"] for p in parsed} == {"calc"}
    assert any("stage ended: completed" in p["message"] for p in parsed)
    assert any(p["extra"].get("iteration") == 1 and "model turn" in p["message"]
               for p in parsed), "no record bound with the iteration"
