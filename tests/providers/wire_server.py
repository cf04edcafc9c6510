"""A local HTTP server that speaks enough of the Anthropic Messages API and the OpenAI
Chat Completions API for the real SDK clients: JSON bodies, SSE streams (chunked, split
at arbitrary bytes), error statuses with headers, a connection dropped mid-stream, a
stream that never ends, garbage bodies.

Tests queue `Reply`s (or functions of the received request returning one); the server
answers requests in order and records what it received, so a test asserts on the exact
wire request the SDK sent. Stdlib only, one background thread per connection.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def fixture_json(name: str) -> Any:
    return json.loads(fixture_text(name))


def sse_events(text: str) -> list[str]:
    """An SSE fixture split into its events (blank-line separated), each newline-ended."""
    return [block.strip("\n") + "\n\n" for block in text.split("\n\n") if block.strip()]


@dataclass
class Reply:
    """One canned HTTP answer."""

    status: int = 200
    body: Any = None  # dict/list -> JSON, str/bytes -> sent verbatim
    headers: dict[str, str] = field(default_factory=dict)
    #: SSE events to stream (chunked transfer encoding) instead of `body`
    events: list[str] | None = None
    #: cut each event into pieces of this many bytes (split mid-JSON on purpose)
    split: int | None = None
    #: abort the connection (no final chunk) after this many events
    drop_after: int | None = None
    #: after the events, send keep-alive pings forever (until the client goes away)
    hang: bool = False
    ping: str = ": ping\n\n"

    @classmethod
    def json(cls, body: Any, status: int = 200, **headers: str) -> "Reply":
        return cls(status=status, body=body, headers=dict(headers))

    @classmethod
    def sse(cls, events: list[str] | str, **options: Any) -> "Reply":
        return cls(events=sse_events(events) if isinstance(events, str) else events, **options)


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


Responder = Reply | Callable[[Received], Reply]


class WireServer:
    def __init__(self) -> None:
        self.replies: deque[Responder] = deque()
        self.received: list[Received] = []
        self.open_connections = 0
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        server = self

        class Handler(_Handler):
            wire = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "WireServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def queue(self, *replies: Responder) -> None:
        self.replies.extend(replies)

    def wait_idle(self, seconds: float = 2.0) -> int:
        """Open connections once they dropped to zero or `seconds` passed."""
        deadline = time.monotonic() + seconds
        while self.open_connections and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.open_connections

    def _next(self, received: Received) -> Reply:
        refusal = refuse(received)
        with self._lock:
            self.received.append(received)
            if refusal is not None:  # the real API refuses before anything else happens
                return refusal
            responder = self.replies.popleft() if self.replies else None
        if responder is None:
            return Reply.json({"error": {"type": "test_error", "message": "no reply queued"}},
                              status=599)
        return responder(received) if callable(responder) else responder


#: the Anthropic API's answer to tool blocks in the history of a request without `tools`
TOOLS_REQUIRED = ("Requests which include `tool_use` or `tool_result` blocks must define "
                  "tools.")


def refuse(received: Received) -> Reply | None:
    """The 400 the real API sends for a request it refuses whatever the script says."""
    body = received.body
    if received.path.endswith("/v1/messages") and isinstance(body, dict) and not body.get("tools"):
        blocks = [block for message in body.get("messages", [])
                  if isinstance(message.get("content"), list) for block in message["content"]]
        if any(isinstance(b, dict) and b.get("type") in ("tool_use", "tool_result")
               for b in blocks):
            return Reply.json({"type": "error", "error": {
                "type": "invalid_request_error", "message": TOOLS_REQUIRED}}, status=400)
    return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wire: WireServer

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def setup(self) -> None:
        super().setup()
        with self.wire._lock:
            self.wire.open_connections += 1

    def finish(self) -> None:
        with self.wire._lock:
            self.wire.open_connections -= 1
        try:
            super().finish()
        except OSError:
            pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        reply = self.wire._next(Received("POST", self.path,
                                         {k.lower(): v for k, v in self.headers.items()}, body))
        try:
            if reply.events is None:
                self._send_body(reply)
            else:
                self._send_stream(reply)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send_body(self, reply: Reply) -> None:
        body = reply.body
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = body or b""
        self.send_response(reply.status)
        headers = {"content-type": "application/json", **reply.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _send_stream(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in {"content-type": "text/event-stream", "cache-control": "no-cache",
                            **reply.headers}.items():
            self.send_header(name, value)
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for number, event in enumerate(reply.events or []):
            if reply.drop_after is not None and number >= reply.drop_after:
                self._abort()
                return
            data = event.encode()
            step = reply.split or len(data)
            for start in range(0, len(data), step):
                self._chunk(data[start:start + step])
        while reply.hang and not self.wire.stopping.is_set():
            self._chunk(reply.ping.encode())
            time.sleep(0.02)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _abort(self) -> None:
        """Drop the connection in the middle of a chunked body."""
        self.close_connection = True
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)
