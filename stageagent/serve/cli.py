"""`stageagent serve [--config FILE] [--host H] [--port N] [--store URL] [--script FILE]`.

Runs the service with uvicorn. Without a config file it serves the bundled demo SQLite
database as `demo` and keeps runs in `./stageagent-runs.sqlite`. `--script FILE` plays
scripted model turns (the `report --script` format) for every run: demos and tests
without a model. Off loopback it refuses to start without `STAGEAGENT_API_TOKEN`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(sub: Any) -> None:
    """Register the `serve` subcommand on the `stageagent` parser."""
    p = sub.add_parser("serve", help="run the HTTP/SSE service and the live run viewer")
    p.add_argument("--config", metavar="FILE", help="TOML server config (databases, limits)")
    p.add_argument("--host", help="bind address (default 127.0.0.1; others need "
                   "STAGEAGENT_API_TOKEN)")
    p.add_argument("--port", type=int, help="port (default 8000)")
    p.add_argument("--store", metavar="URL", help="run store: sqlite:///file or "
                   "postgresql+psycopg://... (default sqlite:///stageagent-runs.sqlite)")
    p.add_argument("--script", metavar="FILE", help="scripted model turns for every run")
    p.add_argument("--stages-dir", metavar="DIR", help="extra stage files")
    p.set_defaults(handler=serve, is_async=False)


def serve(args: argparse.Namespace) -> int:
    import uvicorn
    from stageagent.log import get_logger

    from stageagent.cli import CLIError

    from .app import create_app
    from .config import ServeConfigError, load_config
    from .store import StoreError

    try:
        config = load_config(args.config, host=args.host, port=args.port, store=args.store,
                             script=args.script, stages_dir=args.stages_dir)
        app = create_app(config)
    except (ServeConfigError, StoreError) as exc:
        raise CLIError(f"serve: {exc}") from None
    get_logger().enable("stageagent.serve")  # the service's own warnings (not the runtime's logs)
    host = f"[{config.host}]" if ":" in config.host else config.host
    print(f"stageagent serve: http://{host}:{config.port}/ (viewer), API under /v1; "
          f"databases: {', '.join(config.database_names())}; store: {config.store}"
          + ("; scripted models" if config.script else ""), file=sys.stderr, flush=True)
    uvicorn.run(app, host=config.host, port=config.port, log_level="warning",
                timeout_graceful_shutdown=5)
    return 0
