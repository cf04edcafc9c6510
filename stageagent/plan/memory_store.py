"""`MemoryPlanStore`: the plan store in a dict - for tests, benchmarks and the facade,
where a run does not outlive its process. Records keep Python objects as they are."""

from __future__ import annotations

import time

from .store import LEASE_TTL_S, Lease, Record


class MemoryPlanStore:
    def __init__(self) -> None:
        self._records: dict[str, list[Record]] = {}
        self._leases: dict[str, Lease] = {}
        self._seq = 0

    async def append(self, record: Record) -> None:
        self._seq = record.seq = self._seq + 1
        log = self._records.get(record.plan_id)
        if log is None:
            log = self._records[record.plan_id] = []
        log.append(record)

    async def records(self, plan_id: str) -> list[Record]:
        return list(self._records.get(plan_id, ()))

    async def plan_ids(self) -> list[str]:
        return list(self._records)

    async def acquire_lease(self, lease: Lease, *, ttl: float = LEASE_TTL_S) -> Lease | None:
        held = self._leases.get(lease.plan_id)
        if held is not None and held.owner != lease.owner and held.is_live(ttl=ttl):
            return held
        lease.heartbeat = time.time()
        self._leases[lease.plan_id] = lease
        return None

    async def renew_lease(self, lease: Lease) -> None:
        lease.heartbeat = time.time()

    async def release_lease(self, lease: Lease) -> None:
        held = self._leases.get(lease.plan_id)
        if held is not None and held.owner == lease.owner:
            del self._leases[lease.plan_id]

    async def close(self) -> None:
        return None
