"""The ASGI app: routes of the `/v1` API and the viewer page.

    POST /v1/reports                          start a report run        -> 202 {id, ...}
    POST /v1/stages/{name}/runs               start a single-stage run  -> 202 {id, ...}
    POST /v1/plans/runs                       run an ExecutionPlan      -> 202 {id, ...}
    GET  /v1/runs                             recent runs
    GET  /v1/runs/{id}                        status, result, pending approvals, artifacts
    GET  /v1/runs/{id}/events                 SSE (ours, or ?protocol=ag-ui); Last-Event-ID
    POST /v1/runs/{id}/cancel                 ask the run to stop
    POST /v1/runs/{id}/approvals/{approval}   {"approved": bool, "reason": "..."}: a tool
                                              call or a plan step waiting for approval
    GET  /v1/runs/{id}/artifacts/{name}       report.html, chart.png, data.csv, ...
    GET  /v1/databases, /v1/stages, /healthz  what may be named; liveness
    GET  /                                    the live run viewer

`create_app(config)` returns a Starlette app to run with uvicorn or mount into another
app; its lifespan opens the store and closes runs left in flight by an earlier process.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from importlib import resources
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from .agui import AGUIRenderer
from .approvals import ApprovalBroker
from .config import ServeConfig
from .problems import Problem, handle_crash, handle_http_error, handle_problem, invalid
from .runs import RunManager
from .schemas import ApprovalDecision, PlanRunRequest, ReportRequest, StageRunRequest
from .security import BodyTooLarge, SecurityMiddleware
from .sse import HEADERS, JSONRenderer, Renderer, resume_position, stream
from .store import RunStore
from .workspace import Workspace, check_script, load_tools

MAX_LIST = 200


def _manager(request: Request) -> RunManager:
    manager: RunManager = request.app.state.manager
    return manager


async def _body(request: Request, model: type[BaseModel]) -> Any:
    """The JSON body validated into `model`, or problem JSON naming the field."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise Problem(415, "Unsupported media type", "send the body as application/json",
                      field="Content-Type", slug="unsupported-media-type")
    try:
        raw = await request.body()
    except BodyTooLarge:
        raise Problem(413, "Request too large", "the body exceeds the server's limit",
                      slug="request-too-large") from None
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise Problem(400, "Malformed JSON", f"the body is not valid JSON: "
                          f"{exc.errors()[0]['msg']}", field="(body)",
                          slug="malformed-json") from None
        raise invalid(exc) from None


def _accepted(record: Any) -> JSONResponse:
    return JSONResponse({"id": record.id, "status": record.status, "kind": record.kind,
                         "links": {"self": f"/v1/runs/{record.id}",
                                   "events": f"/v1/runs/{record.id}/events"}},
                        status_code=202, headers={"Location": f"/v1/runs/{record.id}"})


async def start_report(request: Request) -> Response:
    body = await _body(request, ReportRequest)
    return _accepted(await _manager(request).start_report(body))


async def start_stage_run(request: Request) -> Response:
    body = await _body(request, StageRunRequest)
    return _accepted(await _manager(request).start_stage(request.path_params["name"], body))


async def start_plan_run(request: Request) -> Response:
    body = await _body(request, PlanRunRequest)
    return _accepted(await _manager(request).start_plan(body))


async def list_runs(request: Request) -> Response:
    raw = request.query_params.get("limit", "50")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIST:
        raise Problem(400, "Bad request", f"limit: an integer from 1 to {MAX_LIST}",
                      field="limit", slug="bad-request")
    return JSONResponse({"runs": await _manager(request).list(int(raw))})


async def get_run(request: Request) -> Response:
    return JSONResponse(await _manager(request).view(request.path_params["id"]))


async def run_events(request: Request) -> Response:
    manager, run_id = _manager(request), request.path_params["id"]
    protocol = request.query_params.get("protocol", "stageagent")
    if protocol not in ("stageagent", "ag-ui"):
        raise Problem(400, "Bad request", "protocol: 'stageagent' (default) or 'ag-ui'",
                      field="protocol", slug="bad-request")
    after, part = resume_position(request.headers.get("last-event-id"),
                                  request.query_params.get("after"))
    if part and protocol != "ag-ui":
        raise Problem(400, "Bad request", "Last-Event-ID: ids of the form N.K exist only "
                      "in the ag-ui protocol", field="Last-Event-ID", slug="bad-request")
    record = await manager.record(run_id)
    log = await manager.event_log(run_id)
    renderer: Renderer = (AGUIRenderer(run_id, record.kind) if protocol == "ag-ui"
                          else JSONRenderer())
    return StreamingResponse(stream(log, after, renderer, manager.config.keepalive_s, part),
                             media_type="text/event-stream", headers=HEADERS)


async def cancel_run(request: Request) -> Response:
    return JSONResponse(await _manager(request).cancel(request.path_params["id"]),
                        status_code=202)


async def decide_approval(request: Request) -> Response:
    body = await _body(request, ApprovalDecision)
    run_id, approval_id = request.path_params["id"], request.path_params["approval_id"]
    await _manager(request).decide(run_id, approval_id, body.approved, body.reason)
    return JSONResponse({"id": approval_id, "approved": body.approved})


async def get_artifact(request: Request) -> Response:
    run_id, name = request.path_params["id"], request.path_params["name"]
    media_type, data = await _manager(request).artifact(run_id, name)
    headers = {"X-Content-Type-Options": "nosniff"}
    if media_type.startswith("text/html"):  # the report is self-contained: nothing may load
        headers["Content-Security-Policy"] = ("default-src 'none'; img-src data:; "
                                              "style-src 'unsafe-inline'")
    return Response(data, media_type=media_type, headers=headers)


async def databases(request: Request) -> Response:
    config: ServeConfig = request.app.state.config
    return JSONResponse({"databases": config.database_names(),
                         "default": config.default_database_name()})


async def stages(request: Request) -> Response:
    workspace: Workspace = request.app.state.workspace
    return JSONResponse({"stages": [{"name": c.name, "description": c.description,
                                     "tools": list(c.tools)} for c in workspace.stages]})


async def health(request: Request) -> Response:
    return JSONResponse({"ok": True, "active_runs": _manager(request).active})


async def viewer(request: Request) -> Response:
    page = resources.files("stageagent.serve").joinpath("static/viewer.html")
    return HTMLResponse(page.read_text(encoding="utf-8"), headers={
        "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                                   "style-src 'self' 'unsafe-inline'; "
                                   "script-src 'self' 'unsafe-inline'; frame-src 'self'"})


ROUTES = [
    Route("/", viewer, methods=["GET"]),
    Route("/healthz", health, methods=["GET"]),
    Route("/v1/reports", start_report, methods=["POST"]),
    Route("/v1/stages", stages, methods=["GET"]),
    Route("/v1/stages/{name}/runs", start_stage_run, methods=["POST"]),
    Route("/v1/plans/runs", start_plan_run, methods=["POST"]),
    Route("/v1/databases", databases, methods=["GET"]),
    Route("/v1/runs", list_runs, methods=["GET"]),
    Route("/v1/runs/{id}", get_run, methods=["GET"]),
    Route("/v1/runs/{id}/events", run_events, methods=["GET"]),
    Route("/v1/runs/{id}/cancel", cancel_run, methods=["POST"]),
    Route("/v1/runs/{id}/approvals/{approval_id}", decide_approval, methods=["POST"]),
    Route("/v1/runs/{id}/artifacts/{name}", get_artifact, methods=["GET"]),
]


def create_app(config: ServeConfig, *, tools: Iterable[Any] = ()) -> Starlette:
    """The service as an ASGI app. `tools`: extra tools for the stages (embedding apps)."""
    config.check()
    check_script(config)
    broker = ApprovalBroker(config.approval_timeout_s)
    workspace = Workspace(config, approver=broker.approve_tool,
                          tools=[*tools, *load_tools(config)])
    workspace.check_stages()  # a broken stage file stops the start, not the first request

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = RunStore(config.store, schema=config.store_schema, instance=config.instance)
        manager = RunManager(config, store, workspace, broker)
        broker.on_change = manager.on_approval_change
        broker.on_asked, broker.on_decided = manager.on_approval_asked, manager.on_approval_decided
        app.state.config, app.state.workspace, app.state.manager = config, workspace, manager
        await manager.start()
        try:
            yield
        finally:
            await manager.stop()
            workspace.close()
            store.close()

    middleware = [Middleware(SecurityMiddleware, token=config.api_token,
                             max_body_bytes=config.max_body_bytes)]
    if config.cors_origins:
        middleware.insert(0, Middleware(
            CORSMiddleware, allow_origins=config.cors_origins, allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Last-Event-ID"]))
    return Starlette(routes=ROUTES, middleware=middleware, lifespan=lifespan,
                     exception_handlers={Problem: handle_problem,
                                         HTTPException: handle_http_error,
                                         Exception: handle_crash})
