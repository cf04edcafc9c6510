"""`SQLitePlanStore`: the default durable store - one SQLite file, append-only records.

WAL journal with `synchronous=NORMAL`: a committed record survives the process being
killed (kill -9), and writers in other processes wait on the file lock (busy timeout)
instead of failing. Each transition is one INSERT and one commit; nothing is rewritten.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable

from .serialize import dumps, loads
from .store import LEASE_TTL_S, Lease, Record

SCHEMA = """
CREATE TABLE IF NOT EXISTS plan_records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    step_id TEXT,
    data TEXT NOT NULL,
    ts REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS plan_records_plan ON plan_records (plan_id, seq);
CREATE TABLE IF NOT EXISTS plan_leases (
    plan_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    heartbeat REAL NOT NULL
);
"""
#: seconds a writer waits for another connection's lock (the busy timeout, and the
#: budget for opening a file that other stores are setting up at the same moment)
LOCK_TIMEOUT_S = 30.0


class SQLitePlanStore:
    """Plans in one SQLite file (created with its tables on first use)."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._conn = sqlite3.connect(self.path, timeout=LOCK_TIMEOUT_S, isolation_level=None,
                                     check_same_thread=False)
        self._lock = threading.Lock()
        try:
            self._set_up()
        except BaseException:
            self._conn.close()
            raise

    def _set_up(self) -> None:
        """WAL mode and the tables, retried while another store sets the file up."""
        retry_while_locked(lambda: (self._conn.execute("PRAGMA journal_mode=WAL"),
                                    self._conn.execute("PRAGMA synchronous=NORMAL"),
                                    self._conn.executescript(SCHEMA)), LOCK_TIMEOUT_S)

    async def append(self, record: Record) -> None:
        text = dumps(record.data)
        with self._lock:
            cursor = self._conn.execute(
                "INSERT INTO plan_records (plan_id, kind, step_id, data, ts) "
                "VALUES (?, ?, ?, ?, ?)",
                (record.plan_id, record.kind, record.step_id, text, record.ts))
            record.seq = cursor.lastrowid or 0

    async def records(self, plan_id: str) -> list[Record]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT plan_id, kind, step_id, data, ts, seq FROM plan_records "
                "WHERE plan_id = ? ORDER BY seq", (plan_id,)).fetchall()
        return [Record(p, k, s, loads(d), t, q) for p, k, s, d, t, q in rows]

    async def plan_ids(self) -> list[str]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT plan_id FROM plan_records GROUP BY plan_id ORDER BY MIN(seq)").fetchall()
        return [r[0] for r in rows]

    async def acquire_lease(self, lease: Lease, *, ttl: float = LEASE_TTL_S) -> Lease | None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                row = self._conn.execute(
                    "SELECT plan_id, owner, pid, host, heartbeat FROM plan_leases "
                    "WHERE plan_id = ?", (lease.plan_id,)).fetchone()
                if row is not None:
                    held = Lease(*row)
                    if held.owner != lease.owner and held.is_live(ttl=ttl):
                        self._conn.execute("ROLLBACK")
                        return held
                lease.heartbeat = time.time()
                self._conn.execute(
                    "INSERT OR REPLACE INTO plan_leases VALUES (?, ?, ?, ?, ?)",
                    (lease.plan_id, lease.owner, lease.pid, lease.host, lease.heartbeat))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return None

    async def renew_lease(self, lease: Lease) -> None:
        lease.heartbeat = time.time()
        with self._lock:
            self._conn.execute("UPDATE plan_leases SET heartbeat = ? WHERE plan_id = ? "
                               "AND owner = ?", (lease.heartbeat, lease.plan_id, lease.owner))

    async def release_lease(self, lease: Lease) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM plan_leases WHERE plan_id = ? AND owner = ?",
                               (lease.plan_id, lease.owner))

    async def close(self) -> None:
        with self._lock:
            self._conn.close()


def retry_while_locked(setup: Callable[[], object], timeout_s: float) -> None:
    """Run `setup` (statements that switch a file to WAL, create tables), again while
    SQLite says "database is locked", for at most `timeout_s`. Switching a file to WAL
    needs its exclusive lock, and SQLite refuses at once - the busy timeout does not
    apply - while another connection is setting up the same new file."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            setup()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)
