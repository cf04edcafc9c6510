"""`PostgresPlanStore`: plans in PostgreSQL, for backends (psycopg 3, async).

The same append-only records and lease as the SQLite store. Appends are single INSERTs
in autocommit; the lease is taken under `SELECT ... FOR UPDATE`, so two executors racing
for one plan cannot both win. `table_prefix` keeps several stores (or test runs) apart
in one database. Needs the `postgres` extra (`psycopg[binary]`).
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from ..exceptions import PlanError
from .serialize import dumps, loads
from .store import LEASE_TTL_S, Lease, Record


def _psycopg_url(url: str) -> str:
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


class PostgresPlanStore:
    """Args: url (`postgresql://` or SQLAlchemy's `postgresql+psycopg://`), table_prefix."""

    def __init__(self, url: str, *, table_prefix: str = "stageagent_plan"):
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,40}", table_prefix):
            raise PlanError(f"table_prefix {table_prefix!r} must be a lower-case SQL "
                            "identifier (letters, digits, _; at most 41 characters)")
        self.url = _psycopg_url(url)
        self.table_prefix = table_prefix
        self.records_table = f"{table_prefix}_records"
        self.leases_table = f"{table_prefix}_leases"
        self._conn: Any = None
        self._lock = asyncio.Lock()

    async def _connection(self) -> Any:
        if self._conn is None:
            import psycopg

            conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self.records_table} ("
                "seq BIGSERIAL PRIMARY KEY, plan_id TEXT NOT NULL, kind TEXT NOT NULL, "
                "step_id TEXT, data JSONB NOT NULL, ts DOUBLE PRECISION NOT NULL)")
            await conn.execute(
                f"CREATE INDEX IF NOT EXISTS {self.records_table}_plan "
                f"ON {self.records_table} (plan_id, seq)")
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self.leases_table} (plan_id TEXT PRIMARY KEY, "
                "owner TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL, "
                "heartbeat DOUBLE PRECISION NOT NULL)")
            self._conn = conn
        return self._conn

    async def append(self, record: Record) -> None:
        text = dumps(record.data)
        async with self._lock:
            conn = await self._connection()
            cursor = await conn.execute(
                f"INSERT INTO {self.records_table} (plan_id, kind, step_id, data, ts) "
                "VALUES (%s, %s, %s, %s::jsonb, %s) RETURNING seq",
                (record.plan_id, record.kind, record.step_id, text, record.ts))
            row = await cursor.fetchone()
            record.seq = int(row[0])

    async def records(self, plan_id: str) -> list[Record]:
        async with self._lock:
            conn = await self._connection()
            cursor = await conn.execute(
                f"SELECT plan_id, kind, step_id, data::text, ts, seq FROM {self.records_table} "
                "WHERE plan_id = %s ORDER BY seq", (plan_id,))
            rows = await cursor.fetchall()
        return [Record(p, k, s, loads(d), t, q) for p, k, s, d, t, q in rows]

    async def plan_ids(self) -> list[str]:
        async with self._lock:
            conn = await self._connection()
            cursor = await conn.execute(
                f"SELECT plan_id FROM {self.records_table} GROUP BY plan_id ORDER BY MIN(seq)")
            rows = await cursor.fetchall()
        return [r[0] for r in rows]

    async def acquire_lease(self, lease: Lease, *, ttl: float = LEASE_TTL_S) -> Lease | None:
        async with self._lock:
            conn = await self._connection()
            async with conn.transaction():
                await conn.execute(
                    f"INSERT INTO {self.leases_table} VALUES (%s, '', 0, '', 0) "
                    "ON CONFLICT (plan_id) DO NOTHING", (lease.plan_id,))
                cursor = await conn.execute(
                    f"SELECT plan_id, owner, pid, host, heartbeat FROM {self.leases_table} "
                    "WHERE plan_id = %s FOR UPDATE", (lease.plan_id,))
                held = Lease(*(await cursor.fetchone()))
                if held.owner and held.owner != lease.owner and held.is_live(ttl=ttl):
                    return held
                lease.heartbeat = time.time()
                await conn.execute(
                    f"UPDATE {self.leases_table} SET owner = %s, pid = %s, host = %s, "
                    "heartbeat = %s WHERE plan_id = %s",
                    (lease.owner, lease.pid, lease.host, lease.heartbeat, lease.plan_id))
        return None

    async def renew_lease(self, lease: Lease) -> None:
        lease.heartbeat = time.time()
        async with self._lock:
            conn = await self._connection()
            await conn.execute(f"UPDATE {self.leases_table} SET heartbeat = %s "
                               "WHERE plan_id = %s AND owner = %s",
                               (lease.heartbeat, lease.plan_id, lease.owner))

    async def release_lease(self, lease: Lease) -> None:
        async with self._lock:
            conn = await self._connection()
            await conn.execute(f"DELETE FROM {self.leases_table} WHERE plan_id = %s AND "
                               "owner = %s", (lease.plan_id, lease.owner))

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
