"""RFC 9457 problem details: every error the service answers is one of these.

A client gets `application/problem+json` with `type`, `title`, `status`, `detail` and -
for a bad request - `field` (a dotted path into the JSON body, e.g. `options.chart`) and
`errors` (every invalid field with its message), so it can point at what to fix.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

PROBLEM_TYPE = "https://stageagent.dev/problems/"
MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    """Raise in a route to answer with problem JSON."""

    def __init__(self, status: int, title: str, detail: str = "", *, field: str | None = None,
                 errors: list[dict[str, str]] | None = None, slug: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.field = field
        self.errors = errors
        self.slug = slug or title.lower().replace(" ", "-")
        self.headers = headers or {}

    def body(self, instance: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {"type": PROBLEM_TYPE + self.slug, "title": self.title,
                               "status": self.status}
        if self.detail:
            out["detail"] = self.detail
        if instance:
            out["instance"] = instance
        if self.field is not None:
            out["field"] = self.field
        if self.errors:
            out["errors"] = self.errors
        return out


def field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """`("options", "chart")` -> `options.chart`; list indexes as `history[2].role`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def invalid(exc: ValidationError, prefix: str = "") -> Problem:
    """A 422 naming every invalid field of a request body."""
    errors = []
    for error in exc.errors(include_url=False):
        loc = [p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        path = field_path(([prefix] if prefix else []) + loc) or "(body)"
        errors.append({"field": path, "message": error["msg"]})
    first = errors[0]
    return Problem(422, "Invalid request", f"{first['field']}: {first['message']}",
                   field=first["field"], errors=errors, slug="invalid-request")


def problem_response(problem: Problem, instance: str = "") -> Response:
    return JSONResponse(problem.body(instance), status_code=problem.status,
                        media_type=MEDIA_TYPE, headers=problem.headers)


async def handle_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return problem_response(exc, request.url.path)


async def handle_http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 as problem JSON too."""
    status = getattr(exc, "status_code", 500)
    detail = getattr(exc, "detail", "") or ""
    titles = {404: "Not found", 405: "Method not allowed"}
    return problem_response(Problem(status, titles.get(status, "HTTP error"), str(detail)),
                            request.url.path)


async def handle_crash(request: Request, exc: Exception) -> Response:
    """An unexpected exception: 500 as problem JSON, no traceback to the client."""
    return problem_response(Problem(500, "Internal server error",
                                    f"{type(exc).__name__} (see the server log)",
                                    slug="internal-server-error"), request.url.path)
