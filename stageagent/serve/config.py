"""The server's configuration: which databases exist, who may call, how much it takes.

Clients name a database (`"demo"`), never pass a URL: the URLs live here, in the server's
config file (TOML), so a caller cannot point the SQL tools at a host of its choosing.

    # stageagent-serve.toml
    host = "127.0.0.1"
    port = 8000
    store = "sqlite:///runs.sqlite"            # or postgresql+psycopg://... for deployments
    max_concurrent_runs = 8
    cors_origins = []                          # CORS stays off unless origins are named
    script = "turns.json"                      # optional: scripted models (demos, tests)
    tools = ["my_package.tools:refund"]         # extra tools the stage files may name

    [databases]
    demo = "demo"                              # the bundled demo SQLite database
    sales = "postgresql+psycopg://reader@db/sales"

The bearer token comes from the environment (`STAGEAGENT_API_TOKEN`), never from the
file. Binding to anything but loopback without a token is refused at start.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from stageagent.exceptions import StageAgentError

TOKEN_ENV = "STAGEAGENT_API_TOKEN"
MIN_TOKEN_CHARS = 16

#: the database value that means "the bundled demo SQLite database"
DEMO_DATABASE = "demo"


class ServeConfigError(StageAgentError):
    """The server configuration is invalid; names the file and the key."""

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None):
        self.path, self.key = path, key
        where = f"{path} " if path else ""
        where += f"[{key}]" if key else ""
        super().__init__(f"{where.strip()}: {message}" if where.strip() else message)


class ServeConfig(BaseModel):
    """Every setting of `stageagent serve` (see the module docstring for the file format)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    databases: dict[str, str] = Field(default_factory=lambda: {DEMO_DATABASE: DEMO_DATABASE})
    default_database: str | None = None
    store: str = "sqlite:///stageagent-runs.sqlite"
    store_schema: str | None = None
    instance: str = "default"
    stages_dir: str | None = None
    tools: list[str] = Field(default_factory=list)  # extra tools as "module:attribute"
    script: str | None = None
    default_model: str | None = None
    allowed_models: list[str] | None = None
    max_concurrent_runs: int = Field(8, ge=1)
    retry_after_s: int = Field(5, ge=1)
    max_body_bytes: int = Field(64 * 1024, ge=1024)
    max_question_chars: int = Field(4000, ge=1)
    keepalive_s: float = Field(15.0, gt=0)
    approval_timeout_s: float = Field(600.0, gt=0)
    cors_origins: list[str] = Field(default_factory=list)
    render_workers: int = Field(1, ge=0, le=16)  # processes rendering charts; 0 = a thread
    api_token: str | None = Field(None, exclude=True, repr=False)

    def database_names(self) -> list[str]:
        return list(self.databases)

    def default_database_name(self) -> str:
        return self.default_database or next(iter(self.databases))

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    def check(self, path: str | None = None) -> None:
        """Cross-field rules: a token off loopback, a default that exists, databases."""
        if not self.databases:
            raise ServeConfigError("at least one database must be named", path=path,
                                   key="databases")
        if self.default_database is not None and self.default_database not in self.databases:
            raise ServeConfigError(f"{self.default_database!r} is not one of the databases "
                                   f"({', '.join(self.databases)})", path=path,
                                   key="default_database")
        if self.api_token is not None and len(self.api_token) < MIN_TOKEN_CHARS:
            raise ServeConfigError(f"the bearer token is too short to be a secret (at least "
                                   f"{MIN_TOKEN_CHARS} characters)", path=path, key=TOKEN_ENV)
        if not self.loopback and not self.api_token:
            raise ServeConfigError(f"binding to {self.host!r} (not loopback) requires a bearer "
                                   f"token: set the environment variable {TOKEN_ENV}",
                                   path=path, key="host")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_config(path: str | os.PathLike[str] | None = None, **overrides: Any) -> ServeConfig:
    """Read the TOML file (if any), apply `overrides` (CLI flags), take the token from the
    environment, and validate - every error names the file and the key."""
    where = str(path) if path is not None else None
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ServeConfigError(f"cannot read the file: {exc.strerror}", path=where) from None
        except tomllib.TOMLDecodeError as exc:
            raise ServeConfigError(f"not valid TOML: {exc}", path=where) from None
        base = Path(path).resolve().parent
        for key in ("script", "stages_dir"):  # relative to the config file
            if isinstance(data.get(key), str):
                data[key] = str(base / data[key])
    data.update({k: v for k, v in overrides.items() if v is not None})
    data.setdefault("api_token", os.environ.get(TOKEN_ENV) or None)
    try:
        config = ServeConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ServeConfigError(first["msg"], path=where, key=key) from None
    config.check(where)
    return config
