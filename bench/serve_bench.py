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
  `timeout_s` (it fails rather than hangs);
* `server_cpu_s`: CPU the server process used meanwhile. Scripted runs never wait for a
  model, so 50 of them keep the one event loop busy (SQL parsing, token counting and the
  quality evaluators run on it); the delay then is the wait for the loop, not the SSE path.
  `client_cpu_s`: the same for the bench's 200 clients (they share the machine).
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

from stageagent.tools.demo_db import create_demo_database
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
    # streams on connections of their own, never reused: an idle pooled connection the
    # server is closing (keep-alive timeout) would fail a stream that is not the server's fault
    fresh = httpx2.Limits(max_connections=clients + 10, max_keepalive_connections=0)
    async with httpx2.AsyncClient(base_url=url, timeout=120) as client, \
            httpx2.AsyncClient(base_url=url, timeout=120, limits=fresh) as streams:
        started = time.perf_counter()
        posts = await asyncio.gather(*[client.post("/v1/reports", json={"question": QUESTION})
                                       for _ in range(runs)])
        ids = [p.json()["id"] for p in posts]
        delays: list[float] = []
        received = await asyncio.gather(*[_watch(streams, ids[i % runs], delays)
                                          for i in range(clients)])
        wall = time.perf_counter() - started
        lost = 0
        stored: dict[str, list[int]] = {}
        for run_id in ids:  # the stored log, read once the runs have ended
            stored[run_id] = await _watch(streams, run_id, [])
        for index, seqs in enumerate(received):
            expected = stored[ids[index % runs]]
            lost += len(set(expected) - set(seqs)) + (len(seqs) - len(set(seqs)))
            lost += 0 if seqs == sorted(seqs) else 1
        statuses = {(await client.get(f"/v1/runs/{run_id}")).json()["status"] for run_id in ids}
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
            cpu_before, client_before = _cpu_s(server.pid), time.process_time()
            out = asyncio.run(asyncio.wait_for(_load(url, runs, clients), timeout_s))
            out["client_cpu_s"] = round(time.process_time() - client_before, 2)
            # CPU the server used under load: near wall_s x available cores means the
            # loop was saturated by the runs themselves, and that is the delay's source
            out["server_cpu_s"] = round(_cpu_s(server.pid) - cpu_before, 2)
            return out
        finally:
            server.terminate()
            server.wait(timeout=30)


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
