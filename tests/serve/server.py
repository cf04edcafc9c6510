"""A real uvicorn server in a thread on 127.0.0.1 (free port), and a small SSE reader."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import uvicorn

from stageagent.serve import ServeConfig, create_app

TERMINAL = {"run_completed", "run_failed"}


class ServerThread:
    """`with ServerThread(settings) as s:` -> `s.url`, `s.client` (httpx2)."""

    def __init__(self, settings: dict[str, Any], **app_kwargs: Any):
        self.config = ServeConfig(**settings)
        self.app = create_app(self.config, **app_kwargs)
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=0,
                                                    log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = ""
        self.client: httpx2.Client

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        headers = ({"Authorization": f"Bearer {self.config.api_token}"}
                   if self.config.api_token else {})
        self.client = httpx2.Client(base_url=self.url, timeout=30, headers=headers)
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        self.server.should_exit = True
        self.thread.join(timeout=30)

    # --- helpers -------------------------------------------------------------------

    def start_report(self, **body: Any) -> str:
        body.setdefault("question", "What was the total revenue per product category in 2024?")
        response = self.client.post("/v1/reports", json=body)
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    def start_guarded(self) -> str:
        response = self.client.post("/v1/stages/guarded/runs", json={"input": "drop orders"})
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    def wait(self, run_id: str, *, until: Any = None, timeout: float = 60) -> dict[str, Any]:
        """Poll `GET /v1/runs/{id}` until `until(view)` (default: the run has ended)."""
        until = until or (lambda v: v["status"] not in ("running", "waiting_approval"))
        deadline = time.monotonic() + timeout
        while True:
            view = self.client.get(f"/v1/runs/{run_id}").json()
            if until(view):
                return view
            if time.monotonic() > deadline:
                raise AssertionError(f"run {run_id} never got there: {view}")
            time.sleep(0.02)

    def pending_approval(self, run_id: str) -> dict[str, Any]:
        view = self.wait(run_id, until=lambda v: v["pending_approvals"])
        return dict(view["pending_approvals"][0])


def sse_messages(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """Parse SSE lines into messages {"id", "data", "comment"} (data JSON-decoded)."""
    message: dict[str, Any] = {}
    for line in lines:
        if line == "":
            if message:
                yield message
            message = {}
        elif line.startswith(":"):
            yield {"comment": line[1:].strip()}
        elif line.startswith("id: "):
            value = line[4:]  # ours: the seq; AG-UI's may also be "seq.k"
            message["id"] = int(value) if value.isdigit() else value
        elif line.startswith("data: "):
            message["data"] = json.loads(line[6:])
        elif line.startswith("retry: "):
            message["retry"] = int(line[7:])


def read_events(client: httpx2.Client, run_id: str, *, last_event_id: int | str | None = None,
                protocol: str | None = None, stop_after: int | None = None,
                stop_when: Any = None) -> tuple[list[dict[str, Any]], list[str]]:
    """Read a run's SSE stream: (messages with data, comments). Stops at the end of the
    stream, or - dropping the connection - after `stop_after` events / when `stop_when`."""
    headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
    params = {"protocol": protocol} if protocol else {}
    events: list[dict[str, Any]] = []
    comments: list[str] = []
    with client.stream("GET", f"/v1/runs/{run_id}/events", headers=headers,
                       params=params) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        for message in sse_messages(response.iter_lines()):
            if "comment" in message:
                comments.append(message["comment"])
                if stop_when is not None and stop_when(events, comments):
                    break
                continue
            if "data" not in message:
                continue
            events.append(message)
            if stop_after is not None and len(events) >= stop_after:
                break
            if stop_when is not None and stop_when(events, comments):
                break
    return events, comments
