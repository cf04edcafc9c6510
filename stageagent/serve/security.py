"""ASGI middleware in front of the API: bearer token and request size limit.

* With a token configured (`STAGEAGENT_API_TOKEN`; required off loopback), every `/v1`
  request needs `Authorization: Bearer <token>`, compared in constant time. EventSource
  cannot send headers (nor can an <img>), so the events and artifact downloads also take
  `?access_token=`. The viewer
  page itself (`/`) holds no data and is served without it; it asks for the token.
* A body larger than `max_body_bytes` is refused with 413 - by its Content-Length before
  reading, or while reading when it has none (chunked) - so a client cannot make the
  server buffer an unbounded body.
"""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .problems import Problem, problem_response


class BodyTooLarge(Exception):
    """Raised from `receive` once a body passes the limit (the app turns it into 413)."""


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, *, token: str | None, max_body_bytes: int):
        self.app = app
        self.token = token
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if self.token and path.startswith("/v1") and not self._authorised(scope):
            await self._refuse(scope, receive, send, Problem(
                401, "Unauthorized", "this server requires 'Authorization: Bearer <token>' "
                "(the value of STAGEAGENT_API_TOKEN)", slug="unauthorized",
                headers={"WWW-Authenticate": 'Bearer realm="stageagent"'}))
            return
        length = _header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
            await self._refuse(scope, receive, send, self._too_large())
            return
        await self._limited(scope, receive, send)

    def _authorised(self, scope: Scope) -> bool:
        assert self.token is not None
        expected = f"Bearer {self.token}".encode()
        given = (_header(scope, b"authorization") or "").encode()
        if hmac.compare_digest(given, expected):
            return True
        path = scope["path"]
        if scope["method"] == "GET" and (path.endswith("/events") or "/artifacts/" in path):
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            candidate = (query.get("access_token") or [""])[0].encode()
            return hmac.compare_digest(candidate, self.token.encode())
        return False

    def _too_large(self) -> Problem:
        return Problem(413, "Request too large", f"the body exceeds {self.max_body_bytes} "
                       "bytes", slug="request-too-large")

    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await problem_response(self._too_large(), scope["path"])(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, problem: Problem) -> None:
        await problem_response(problem, scope["path"])(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None

