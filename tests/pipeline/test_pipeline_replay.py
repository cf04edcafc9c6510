"""A recorded pipeline run replays offline to the identical event sequence.

This is what evals rely on: record the model calls of a real run once, then replay them
deterministically - the tools run again against the database, so the observations (and
so the requests) must come out byte-identical for the cassette to match.
"""

from __future__ import annotations

from stageagent import RecordingMismatchError, StageAwareFacade
from stageagent.models.record import RecordingModel, ReplayModel

from .scripts import QUESTION, expected_result, happy_model

#: timings and identities differ between runs by nature; everything else must not
VOLATILE = {"ts", "run_id", "duration_ms", "duration_s"}


def comparable(events):
    return [e.model_dump(mode="json", exclude=VOLATILE) for e in events]


async def test_recorded_pipeline_replays_to_identical_events(sqlite_db, tmp_path):
    cassette = tmp_path / "run.jsonl"
    recorder = RecordingModel(happy_model(expected_result(sqlite_db)), cassette)
    recorded = await StageAwareFacade(database=sqlite_db, model=recorder).report(QUESTION)
    assert recorded.ok
    assert len(cassette.read_text().splitlines()) == sum(
        e.type == "iteration_completed" for e in recorded.events) + 1  # + the format turn

    replayed = await StageAwareFacade(database=sqlite_db, model=ReplayModel(cassette)).report(QUESTION)
    assert replayed.ok
    assert comparable(replayed.events) == comparable(recorded.events)
    assert replayed.document == recorded.document and replayed.sql == recorded.sql


async def test_replay_refuses_a_different_question(sqlite_db, tmp_path):
    cassette = tmp_path / "run.jsonl"
    recorder = RecordingModel(happy_model(expected_result(sqlite_db)), cassette)
    await StageAwareFacade(database=sqlite_db, model=recorder).report(QUESTION)
    result = await StageAwareFacade(database=sqlite_db, model=ReplayModel(cassette)).report(
        QUESTION + " Per month, please.")
    assert not result.ok and result.failed_stage == "sql"
    assert isinstance(result.exception, RecordingMismatchError)
    assert "request not recorded" in result.error
    assert "+++ requested" in result.error and "Per month, please." in result.error
