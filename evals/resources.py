"""Databases and query results shared by the cases of one eval run.

A case names its database (`demo`, `shop`, a SQLite path or a SQLAlchemy URL); the run
opens each once. Results of gold and predicted queries - their rows, their validation,
the tables and columns they read - are cached by (database, SQL): a read-only query on
an unchanged database returns the same rows, one case's evaluators ask for the same
query up to four times, and with `--repeat` or a dataset that asks the same thing twice
the harness would otherwise run it again and again.
A gold query that fails raises `BrokenCaseError`, so the case is reported broken.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from stageagent.tools.results import QueryResult
from stageagent.tools.sql import Database, DatabaseError, UnsafeQueryError, execute_query

from .errors import BrokenCaseError, EvalError

#: rows an evaluated query may return (the model's own tool keeps its own limit)
EVAL_ROW_LIMIT = 20000


def _create_demo(path: Path) -> None:
    from stageagent.tools.demo_db import create_demo_database

    create_demo_database(path)


def _create_shop(path: Path) -> None:
    from .shop_db import create_shop_database

    create_shop_database(path)


BUILTIN_DATABASES = {"demo": _create_demo, "shop": _create_shop}
_build_lock = threading.Lock()


def cache_dir() -> Path:
    root = os.environ.get("STAGEAGENT_CACHE_DIR") or Path.home() / ".cache" / "stageagent"
    return Path(root)


def builtin_database(name: str, directory: Path | None = None) -> Path:
    """The path of a bundled SQLite database, built on first use (atomically)."""
    directory = Path(directory) if directory else cache_dir() / "evals"
    path = directory / f"{name}.sqlite"
    with _build_lock:
        if not path.exists():
            directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=directory, suffix=".sqlite.tmp")
            os.close(fd)
            try:
                BUILTIN_DATABASES[name](Path(tmp))
                os.replace(tmp, path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
    return path


class Resources:
    """Opened databases and cached query results for one run (close when done)."""

    def __init__(self, *, base_dir: str | Path | None = None,
                 databases: dict[str, str | Database] | None = None,
                 cache_dir: str | Path | None = None):
        self.base_dir = Path(base_dir) if base_dir else Path.cwd()
        self._named = dict(databases or {})
        self._cache_dir = Path(cache_dir) if cache_dir else None
        self._open: dict[str, Database] = {}
        self._results: dict[tuple[str, str], QueryResult | BaseException] = {}
        self._validations: dict[tuple[str, str], Any] = {}
        self._linked: dict[tuple[str, str], frozenset[str] | BaseException] = {}
        self._mappings: dict[str, dict[str, dict[str, str]]] = {}
        self.facades: dict[str, Any] = {}

    def judge_model(self, spec: str | None, ctx: Any = None) -> Any:
        """The model an `LLMJudge` uses; an `Evaluation` replaces this with its own."""
        from stageagent.models import infer_model

        if spec is None:
            raise EvalError("LLMJudge needs `model` when run outside an Evaluation")
        return infer_model(spec)

    def database(self, name: str | None) -> Database:
        if not name:
            raise BrokenCaseError("the case names no database (inputs.database)")
        db = self._open.get(name)
        if db is not None:
            return db
        target = self._named.get(name)
        if isinstance(target, Database):
            self._open[name] = target
            return target
        try:
            url = str(target) if target is not None else self._resolve(name)
            db = Database(url, row_limit=EVAL_ROW_LIMIT)
            db.ping()
        except (DatabaseError, OSError) as exc:
            raise BrokenCaseError(f"database {name!r} cannot be opened: {exc}") from exc
        self._open[name] = db
        return db

    def _resolve(self, name: str) -> str:
        if name in BUILTIN_DATABASES:
            return str(builtin_database(name, self._cache_dir))
        if "://" in name:
            return name
        path = Path(name)
        path = path if path.is_absolute() else self.base_dir / path
        if not path.exists():
            raise BrokenCaseError(f"database file {str(path)!r} does not exist (built-in "
                                  f"databases: {', '.join(BUILTIN_DATABASES)})")
        return str(path)

    def run(self, database: str | None, sql: str) -> QueryResult:
        """The cached result of `sql` on `database`; raises what the executor raised."""
        key = (database or "", sql)
        hit = self._results.get(key)
        if hit is None:
            try:
                hit = execute_query(self.database(database), sql)
            except (DatabaseError, UnsafeQueryError, EvalError) as exc:
                hit = exc
            self._results[key] = hit
        if isinstance(hit, BaseException):
            raise hit
        return hit

    def validate(self, database: str | None, sql: str) -> Any:
        """The cached sqlglot validation of `sql` against the database's schema (its
        verdict and issues; no `qualified_sql`, which costs an optimizer pass)."""
        from stageagent.tools.sql import validate_sql

        key = (database or "", sql)
        hit = self._validations.get(key)
        if hit is None:
            db = self.database(database)
            hit = self._validations[key] = validate_sql(sql, db.schema(), db.dialect,
                                                        qualify_columns=False)
        return hit

    def linked(self, database: str | None, sql: str) -> frozenset[str]:
        """The cached schema-linking items of `sql` (see `schema_linking`); raises what
        qualifying raised (sqlglot's errors, ValueError)."""
        from sqlglot.errors import SqlglotError

        from .schema_linking import linked_items, schema_mapping

        key = (database or "", sql)
        hit = self._linked.get(key)
        if hit is None:
            db = self.database(database)
            mapping = self._mappings.get(key[0])
            if mapping is None:
                mapping = self._mappings[key[0]] = schema_mapping(db.schema())
            try:
                hit = linked_items(sql, mapping, db.dialect)
            except (SqlglotError, ValueError) as exc:
                hit = exc
            self._linked[key] = hit
        if isinstance(hit, BaseException):
            raise hit
        return hit

    def gold(self, database: str | None, sql: str) -> QueryResult:
        """The gold query's result; a gold that does not run makes the case broken."""
        try:
            return self.run(database, sql)
        except BrokenCaseError:
            raise
        except (DatabaseError, UnsafeQueryError) as exc:
            raise BrokenCaseError(f"the gold SQL does not run: {exc}") from exc

    def after_fork(self) -> None:
        """In a forked worker: open fresh connections (never share the parent's)."""
        self._open = {name: db for name, db in self._open.items()
                      if isinstance(self._named.get(name), Database)}
        self.facades = {}

    def close(self) -> None:
        for facade in self.facades.values():
            facade.close()
        for name, db in self._open.items():
            if not isinstance(self._named.get(name), Database):
                db.close()
        self._open.clear()
