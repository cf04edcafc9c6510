"""Where runs, their events and their artifacts are kept: SQLite or PostgreSQL.

One SQLAlchemy Core implementation for both (SQLite by default, PostgreSQL for
deployments). Three tables: `runs` (one row per run: kind, status, request, result),
`run_events` (the JSON of every event, keyed by run id and seq) and `run_artifacts`
(report.html, chart.png, data.csv, ... as bytes - so a server restarted elsewhere on the
same PostgreSQL still serves them).

The methods are synchronous (SQLAlchemy engines are); the run manager calls them through
a worker thread. At start-up `interrupt_in_flight()` closes the runs an earlier process of
the same `instance` left running - it was killed or crashed - so they are reported as
interrupted instead of staying "running" for ever.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from stageagent.exceptions import StageAgentError
from stageagent.plan.sqlite_store import retry_while_locked

#: statuses of a run that has not ended
IN_FLIGHT = ("running", "waiting_approval")


class StoreError(StageAgentError):
    """The run store cannot be opened or written."""


@dataclass
class RunRecord:
    """One run as stored (and as `GET /v1/runs/{id}` shows it)."""

    id: str
    kind: str                 # "report", "stage" or "plan"
    target: str               # the database name (reports) or the stage name
    status: str               # running, waiting_approval, completed, failed, cancelled, interrupted
    created_at: float
    updated_at: float
    request: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    error: str | None = None
    instance: str = "default"


def _tables(schema: str | None) -> tuple[MetaData, Table, Table, Table]:
    meta = MetaData(schema=schema)
    runs = Table(
        "stageagent_runs", meta,
        Column("id", String(64), primary_key=True),
        Column("kind", String(16), nullable=False),
        Column("target", String(200), nullable=False),
        Column("status", String(32), nullable=False, index=True),
        Column("instance", String(200), nullable=False),
        Column("created_at", Float, nullable=False, index=True),
        Column("updated_at", Float, nullable=False),
        Column("request", Text, nullable=False),
        Column("result", Text),
        Column("error", Text),
    )
    events = Table(
        "stageagent_run_events", meta,
        Column("run_id", String(64), primary_key=True),
        Column("seq", Integer, primary_key=True, autoincrement=False),
        Column("type", String(64), nullable=False),
        Column("data", Text, nullable=False),
    )
    artifacts = Table(
        "stageagent_run_artifacts", meta,
        Column("run_id", String(64), primary_key=True),
        Column("name", String(200), primary_key=True),
        Column("media_type", String(100), nullable=False),
        Column("data", LargeBinary, nullable=False),
    )
    return meta, runs, events, artifacts


class RunStore:
    """Runs, events and artifacts in one SQL database (a SQLAlchemy URL)."""

    def __init__(self, url: str, *, schema: str | None = None, instance: str = "default"):
        self.instance = instance
        try:
            self.engine: Engine = create_engine(url, pool_pre_ping=True)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise StoreError(f"cannot open the run store {url!r}: {exc}") from exc
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._meta, self.runs, self.events, self.artifacts = _tables(schema)
        try:
            self._meta.create_all(self.engine)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot create the run tables in {self.engine.url!r}: "
                             f"{str(exc).splitlines()[0]}") from exc

    def close(self) -> None:
        self.engine.dispose()

    # --- runs ------------------------------------------------------------------------

    def create_run(self, record: RunRecord) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(self.runs).values(
                id=record.id, kind=record.kind, target=record.target, status=record.status,
                instance=record.instance, created_at=record.created_at,
                updated_at=record.updated_at, request=json.dumps(record.request),
                result=None, error=None))

    def finish_run(self, run_id: str, status: str, result: dict[str, Any] | None,
                   error: str | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(self.runs).where(self.runs.c.id == run_id).values(
                status=status, updated_at=time.time(), error=error,
                result=json.dumps(result) if result is not None else None))

    def set_status(self, run_id: str, status: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(self.runs).where(self.runs.c.id == run_id).values(
                status=status, updated_at=time.time()))

    def get_run(self, run_id: str) -> RunRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(self.runs).where(self.runs.c.id == run_id)).first()
        return _record(row) if row is not None else None

    def list_runs(self, limit: int = 50) -> list[RunRecord]:
        query = select(self.runs).order_by(self.runs.c.created_at.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [_record(row) for row in conn.execute(query)]

    def interrupt_in_flight(self) -> list[str]:
        """Mark this instance's unfinished runs `interrupted`; returns their ids."""
        with self.engine.begin() as conn:
            ids = [r.id for r in conn.execute(select(self.runs.c.id).where(
                self.runs.c.status.in_(IN_FLIGHT), self.runs.c.instance == self.instance))]
            if ids:
                conn.execute(update(self.runs).where(self.runs.c.id.in_(ids)).values(
                    status="interrupted", updated_at=time.time(),
                    error="the server stopped while the run was in flight"))
        return ids

    # --- events ----------------------------------------------------------------------

    def append_events(self, rows: Sequence[tuple[str, int, str, str]]) -> None:
        """(run_id, seq, type, json) rows - of any runs - in one transaction."""
        if not rows:
            return
        with self.engine.begin() as conn:
            conn.execute(insert(self.events), [
                {"run_id": run_id, "seq": seq, "type": kind, "data": data}
                for run_id, seq, kind, data in rows])

    def load_events(self, run_id: str) -> list[tuple[int, str]]:
        query = (select(self.events.c.seq, self.events.c.data)
                 .where(self.events.c.run_id == run_id).order_by(self.events.c.seq))
        with self.engine.connect() as conn:
            return [(row.seq, row.data) for row in conn.execute(query)]

    def last_seq(self, run_id: str) -> int:
        query = select(func.max(self.events.c.seq)).where(self.events.c.run_id == run_id)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    # --- artifacts -------------------------------------------------------------------

    def put_artifacts(self, run_id: str, items: Iterable[tuple[str, str, bytes]]) -> None:
        rows = [{"run_id": run_id, "name": n, "media_type": m, "data": d} for n, m, d in items]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(insert(self.artifacts), rows)

    def artifact_names(self, run_id: str) -> list[str]:
        query = (select(self.artifacts.c.name).where(self.artifacts.c.run_id == run_id)
                 .order_by(self.artifacts.c.name))
        with self.engine.connect() as conn:
            return [row.name for row in conn.execute(query)]

    def get_artifact(self, run_id: str, name: str) -> tuple[str, bytes] | None:
        query = select(self.artifacts.c.media_type, self.artifacts.c.data).where(
            self.artifacts.c.run_id == run_id, self.artifacts.c.name == name)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return (row.media_type, bytes(row.data)) if row is not None else None

    def drop_tables(self) -> None:
        """Remove the three tables (tests, and `stageagent serve` never calls it)."""
        self._meta.drop_all(self.engine)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=5000")
    # WAL: readers do not block the event writer (retried while another server process
    # is setting up the same new file: that refusal does not wait on the busy timeout)
    retry_while_locked(lambda: (cursor.execute("PRAGMA journal_mode=WAL"),
                                cursor.execute("PRAGMA synchronous=NORMAL")), 5.0)
    cursor.close()


def _record(row: Any) -> RunRecord:
    return RunRecord(id=row.id, kind=row.kind, target=row.target, status=row.status,
                     created_at=row.created_at, updated_at=row.updated_at,
                     request=json.loads(row.request),
                     result=json.loads(row.result) if row.result else None,
                     error=row.error, instance=row.instance)
