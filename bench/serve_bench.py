"""Service load: many SSE clients on many concurrent scripted report runs, on loopback.

`python -m bench serve --json` starts `stageagent serve` in a subprocess (scripted models,
the demo SQLite database, a SQLite run store in a temp dir) on 127.0.0.1, starts `runs`
reports at once and attaches `clients` SSE clients spread over them, each reading its
run's stream from the start to the terminal event. It prints one JSON object:

* `clients`, `runs`: what ran;
* `events_lost`: over all clients, events of the stored log a client did not get, plus
  any it got twice or out of order (0 is the only good value);
* `p99_ms` / `p50_ms`: delay from an event's timestamp (`ts`, set when it was emitted) to
  its arrival at a client, over the events emitted after that client connected (the
  earlier ones are catch-up, not delay);
* `wall_s`: from the first POST to the last stream's end; the whole bench is bounded by
  `timeout_s` (it fails rather than hangs).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2

from stageagent.tools.sql import Database

from stageagent.demo_db import create_demo_database
from tests.pipeline.scripts import QUESTION, cli_script, expected_result

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _setup(tmp: Path, runs: int) -> Path:
    db_path = tmp / "demo.sqlite"
    create_demo_database(db_path)
    db = Database(str(db_path))
    try:
        (tmp / "script.json").write_text(json.dumps(cli_script(expected_result(db))))
    finally:
        db.close()
    config = tmp / "serve.toml"
    config.write_text(f'store = "sqlite:///{tmp / "runs.sqlite"}"\nscript = "script.json"\n'
                      f"max_concurrent_runs = {runs}\nkeepalive_s = 5\n"
                      f'[databases]\ndemo = "{db_path}"\n')
    return config


async def _watch(client: httpx2.AsyncClient, run_id: str, delays: list[float]) -> list[int]:
    seqs: list[int] = []
    connected = time.time()
    async with client.stream("GET", f"/v1/runs/{run_id}/events") as response:
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                arrived = time.time()
                event = json.loads(line[6:])
                seqs.append(event["seq"])
                if event["ts"] >= connected:
                    delays.append(arrived - event["ts"])
    return seqs


async def _load(url: str, runs: int, clients: int) -> dict[str, Any]:
    limits = httpx2.Limits(max_connections=clients + runs + 10,
                           max_keepalive_connections=clients + runs + 10)
    async with httpx2.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        started = time.perf_counter()
        posts = await asyncio.gather(*[client.post("/v1/reports", json={"question": QUESTION})
                                       for _ in range(runs)])
        ids = [p.json()["id"] for p in posts]
        delays: list[float] = []
        watchers = [_watch(client, ids[i % runs], delays) for i in range(clients)]
        received = await asyncio.gather(*watchers)
        wall = time.perf_counter() - started
        lost = 0
        statuses = set()
        for index, seqs in enumerate(received):
            run_id = ids[index % runs]
            async with client.stream("GET", f"/v1/runs/{run_id}/events") as response:
                stored = [json.loads(line[6:])["seq"] async for line in response.aiter_lines()
                          if line.startswith("data: ")]
            lost += len(set(stored) - set(seqs)) + (len(seqs) - len(set(seqs)))
            lost += 0 if seqs == sorted(seqs) else 1
        for run_id in ids:
            statuses.add((await client.get(f"/v1/runs/{run_id}")).json()["status"])
    delays.sort()
    p99 = delays[int(0.99 * (len(delays) - 1))] if delays else None
    return {"clients": clients, "runs": runs, "events_lost": lost,
            "p99_ms": round(p99 * 1000, 1) if p99 is not None else None,
            "p50_ms": round(statistics.median(delays) * 1000, 1) if delays else None,
            "live_events_measured": len(delays), "wall_s": round(wall, 2),
            "run_statuses": sorted(statuses)}


def run(quick: bool = False, runs: int = 50, clients: int = 200,
        timeout_s: float = 300) -> dict[str, Any]:
    if quick:
        runs, clients = 5, 20
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as name:
        tmp = Path(name)
        config = _setup(tmp, runs)
        port = _free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("STAGEAGENT_API_TOKEN", None)
        server = subprocess.Popen([sys.executable, "-m", "stageagent", "serve", "--config",
                                   str(config), "--host", "127.0.0.1", "--port", str(port)],
                                  cwd=tmp, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_up(url, server)
            return asyncio.run(asyncio.wait_for(_load(url, runs, clients), timeout_s))
        finally:
            server.terminate()
            server.wait(timeout=30)


def _wait_up(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx2.get(url + "/healthz", timeout=2)
            return
        except httpx2.TransportError:
            if server.poll() is not None or time.monotonic() > deadline:
                err = server.stderr.read().decode() if server.stderr else ""
                raise RuntimeError(f"stageagent serve did not start: {err[-2000:]}") from None
            time.sleep(0.05)
