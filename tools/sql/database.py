"""`Database`: one SQLAlchemy engine per URL, read-only on every connection it hands out.

The SQL tools never write, so the engine is made read-only at connect time (SQLite
`mode=ro` + `PRAGMA query_only`, PostgreSQL `default_transaction_read_only`, MariaDB/MySQL
`SET SESSION TRANSACTION READ ONLY`): even a statement that slipped past the guard meets a
connection that refuses it. Driver errors become the typed `DatabaseError` family, with the
URL's password masked.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from stageagent.exceptions import StageAgentError

if TYPE_CHECKING:
    from .schema import Schema

#: SQLAlchemy dialect name -> sqlglot dialect name
SQLGLOT_DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres", "mysql": "mysql",
                    "mariadb": "mysql"}


class DatabaseError(StageAgentError):
    """A database could not be reached or refused a query. The URL is password-masked."""

    def __init__(self, message: str, *, url: str = ""):
        self.url = url
        super().__init__(f"{url}: {message}" if url else message)
        self.message = message


class DatabaseUnreachableError(DatabaseError):
    """No connection: host down, wrong port, missing file, unknown database."""


class DatabaseAuthError(DatabaseError):
    """The server refused the credentials."""


class QueryTimeoutError(DatabaseError):
    """The statement ran past its time limit and was cancelled."""


class QueryError(DatabaseError):
    """The database rejected the statement (syntax, unknown column, read-only violation...)."""


def _quoted_identifier(name: str) -> str:
    """A PostgreSQL identifier, quoted: a search_path entry keeps its case, spaces and
    commas (unquoted, `Sales` would name the schema `sales`)."""
    return '"' + name.replace('"', '""') + '"'


def mask_url(url: str | URL) -> str:
    """The URL as text with its password replaced by `***`."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return str(url)


def _to_url(url_or_path: str | os.PathLike[str]) -> URL:
    text = os.fspath(url_or_path)
    if "://" not in text:
        return make_url(f"sqlite:///{Path(text).resolve()}")
    return make_url(text)


_AUTH_MARKERS = ("password authentication failed", "access denied", "authentication failed",
                 "no password supplied", "28p01", "(1045")
_TIMEOUT_MARKERS = ("statement timeout", "canceling statement", "max_statement_time",
                    "max_execution_time", "interrupted", "querycanceled")


def translate_error(exc: BaseException, url: str, *, connecting: bool = False) -> DatabaseError:
    """Classify a driver error into the `DatabaseError` family (message kept, URL masked)."""
    orig = getattr(exc, "orig", None) or exc
    text = f"{type(orig).__name__}: {orig}".strip()
    low = text.lower()
    if any(m in low for m in _AUTH_MARKERS):
        return DatabaseAuthError(f"authentication failed: {text}", url=url)
    if any(m in low for m in _TIMEOUT_MARKERS) and not connecting:
        return QueryTimeoutError(f"query cancelled by the statement timeout: {text}", url=url)
    if connecting or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
        return DatabaseUnreachableError(f"cannot connect: {text}", url=url)
    return QueryError(text, url=url)


class Database:
    """A read-only handle on one database, shared by the SQL tools of a run.

    Args:
        url: a SQLAlchemy URL (`postgresql+psycopg://...`, `mysql+pymysql://...`,
            `sqlite:///file.db`) or a path to a SQLite file.
        schema: PostgreSQL schema (search_path) / MySQL database to use; None = default.
        timeout: statement timeout in seconds for every query.
        row_limit: the most rows a query may return to the model.
        connect_timeout: seconds to wait for a server connection.
    """

    def __init__(self, url: str | os.PathLike[str], *, schema: str | None = None,
                 timeout: float = 10.0, row_limit: int = 1000, connect_timeout: float = 5.0,
                 engine_options: dict[str, Any] | None = None):
        try:
            self._url = _to_url(url)
        except ArgumentError as exc:
            raise DatabaseError(f"not a database URL or path: {exc}") from exc
        self.url = mask_url(self._url)
        self.backend = self._url.get_backend_name()
        if self.backend not in SQLGLOT_DIALECTS:
            raise DatabaseError(f"unsupported database backend {self.backend!r}; use sqlite, "
                                "postgresql or mysql/mariadb", url=self.url)
        self.dialect = SQLGLOT_DIALECTS[self.backend]
        self.schema_name = schema
        self.timeout = float(timeout)
        self.row_limit = int(row_limit)
        self._schema_cache: Schema | None = None
        self._functions: frozenset[str] | None = None
        self._lock = threading.Lock()
        try:
            self.engine: Engine = self._create_engine(connect_timeout, engine_options or {})
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise DatabaseError(f"cannot create an engine: {exc}", url=self.url) from exc

    # -- engine -------------------------------------------------------------------------

    def _create_engine(self, connect_timeout: float, options: dict[str, Any]) -> Engine:
        url = self._url
        connect_args: dict[str, Any] = {}
        if self.backend == "sqlite":
            database = url.database or ""
            if database and database != ":memory:" and not database.startswith("file:"):
                if not Path(database).exists():
                    raise DatabaseUnreachableError(f"SQLite file {database!r} does not exist",
                                                   url=self.url)
                # mode=ro: the file is opened read-only by SQLite itself
                url = url.set(database=f"file:{Path(database).resolve()}?mode=ro",
                              query={**url.query, "uri": "true"})
            connect_args["check_same_thread"] = False
        else:
            connect_args["connect_timeout"] = max(1, int(connect_timeout))
        engine = create_engine(url, connect_args=connect_args, pool_pre_ping=True, **options)
        event.listen(engine, "connect", self._on_connect)
        return engine

    def _on_connect(self, dbapi_conn: Any, _record: Any) -> None:
        """Make every new connection read-only for its whole life."""
        cursor = dbapi_conn.cursor()
        try:
            if self.backend == "sqlite":
                cursor.execute("PRAGMA query_only = ON")
            elif self.backend == "postgresql":
                if self.schema_name:  # quoted: the name as given ("Sales", "a,b")
                    cursor.execute("SELECT set_config('search_path', %s, false)",
                                   (_quoted_identifier(self.schema_name),))
                cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            else:
                if self.schema_name:
                    cursor.execute(f"USE `{self.schema_name.replace('`', '``')}`")
                cursor.execute("SET SESSION TRANSACTION READ ONLY")
        finally:
            cursor.close()
        if self.backend == "postgresql":
            dbapi_conn.commit()  # psycopg opened a transaction for the SETs

    @property
    def is_mariadb(self) -> bool:
        return bool(getattr(self.engine.dialect, "is_mariadb", False))

    def connect(self) -> Any:
        """A SQLAlchemy connection, with connection failures as typed errors."""
        try:
            return self.engine.connect()
        except DBAPIError as exc:
            raise translate_error(exc, self.url, connecting=True) from exc

    def ping(self) -> None:
        """Raise `DatabaseUnreachableError` / `DatabaseAuthError` unless a connection works."""
        conn = self.connect()
        conn.close()

    # -- schema cache -------------------------------------------------------------------

    def schema(self, *, refresh: bool = False) -> "Schema":
        """The discovered schema, cached on this Database until `refresh=True`."""
        from .schema import discover_schema

        with self._lock:
            if self._schema_cache is None or refresh:
                self._schema_cache = discover_schema(self)
            return self._schema_cache

    def clear_schema_cache(self) -> None:
        self._schema_cache = None
        self._functions = None

    def functions(self) -> frozenset[str] | None:
        """Names of the functions the engine provides (one catalogue query, cached)."""
        if self._schema_cache is not None:
            return self._schema_cache.functions
        if self._functions is None:
            from .functions import engine_functions

            conn = self.connect()
            try:
                self._functions = engine_functions(conn, self.backend)
            finally:
                conn.rollback()
                conn.close()
        return self._functions

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Database({self.url!r}, dialect={self.dialect!r})"
