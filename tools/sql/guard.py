"""The read-only guard: only one plain query may reach the database.

Allow-list, not deny-list, at the top: the sqlglot AST must be exactly one SELECT,
WITH ... SELECT or set operation (UNION/INTERSECT/EXCEPT) of selects. Below the top, every
node is checked for what can hide inside a query (a DML CTE, SELECT INTO, FOR UPDATE, a
side-effect function). Anything sqlglot cannot parse is refused: what we cannot read, we
do not run. Each refusal carries a reason the model can act on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlglot import exp

from stageagent.exceptions import StageAgentError

from .parsed import ParsedSQL, parsed_for

#: functions with side effects, file/network access, sleeps or session changes
DENIED_FUNCTIONS = frozenset({
    # PostgreSQL
    "pg_sleep", "pg_sleep_for", "pg_sleep_until", "pg_read_file", "pg_read_binary_file",
    "pg_ls_dir", "pg_stat_file", "pg_ls_logdir", "pg_ls_waldir", "pg_ls_tmpdir",
    "pg_ls_archive_statusdir", "pg_logdir_ls", "pg_file_write", "pg_file_rename",
    "pg_file_unlink", "lo_import", "lo_export", "lo_create", "lo_unlink", "lo_open", "lo_put",
    "lo_from_bytea", "lowrite", "loread", "dblink", "dblink_exec", "dblink_connect",
    "dblink_send_query", "set_config", "nextval", "setval", "pg_terminate_backend",
    "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile", "pg_switch_wal",
    "pg_create_restore_point", "pg_promote", "pg_backup_start", "pg_backup_stop",
    "pg_start_backup", "pg_stop_backup", "pg_advisory_lock", "pg_advisory_xact_lock",
    "pg_advisory_lock_shared", "pg_try_advisory_lock", "pg_try_advisory_xact_lock",
    "pg_advisory_unlock", "pg_advisory_unlock_all", "pg_notify", "txid_current",
    "pg_current_xact_id", "query_to_xml", "query_to_xml_and_xmlschema", "query_to_xmlschema",
    "cursor_to_xml", "table_to_xml", "pg_create_logical_replication_slot",
    "pg_create_physical_replication_slot", "pg_drop_replication_slot",
    "pg_replication_origin_create", "pg_import_system_collations", "pg_logical_emit_message",
    "pg_stat_reset", "pg_truncate_visibility_map", "copy",
    # MySQL / MariaDB
    "sleep", "benchmark", "load_file", "get_lock", "release_lock", "release_all_locks",
    "master_pos_wait", "source_pos_wait", "master_gtid_wait", "sys_exec", "sys_eval",
    "sys_get", "sys_set", "lastval", "next_value",
    # SQLite
    "load_extension", "readfile", "writefile", "edit", "fts3_tokenizer", "zeroblob",
    "randomblob",
})

#: node types that never belong in a read-only query, wherever they appear
_FORBIDDEN_NODES: tuple[tuple[type[exp.Expression], str], ...] = tuple(
    (getattr(exp, name), reason) for name, reason in (
        ("Insert", "INSERT writes data"), ("Update", "UPDATE writes data"),
        ("Delete", "DELETE writes data"), ("Merge", "MERGE writes data"),
        ("Create", "CREATE is DDL"), ("Drop", "DROP is DDL"), ("Alter", "ALTER is DDL"),
        ("TruncateTable", "TRUNCATE deletes data"), ("Into", "SELECT ... INTO creates a "
                                                     "table or writes a file"),
        ("Lock", "locking clauses (FOR UPDATE / FOR SHARE / LOCK IN SHARE MODE) take locks"),
        ("Copy", "COPY reads or writes files"), ("Pragma", "PRAGMA changes database settings"),
        ("Attach", "ATTACH opens another database"), ("Detach", "DETACH changes the session"),
        ("Command", "this statement is not a query"), ("Set", "SET changes session state"),
        ("Use", "USE changes the session"), ("Transaction", "transaction control"),
        ("Commit", "transaction control"), ("Rollback", "transaction control"),
        ("Grant", "GRANT changes privileges"), ("LoadData", "LOAD DATA reads files"),
        ("Analyze", "ANALYZE writes statistics"), ("Describe", "DESCRIBE is not a query"),
        ("Cache", "CACHE is not a query"), ("Uncache", "UNCACHE is not a query"),
        ("Refresh", "REFRESH is not a query"), ("Kill", "KILL ends sessions"),
        ("Revoke", "REVOKE changes privileges"), ("Comment", "COMMENT ON is DDL"),
        ("PropertyEQ", "variable assignment (:=) changes session state"),
    ) if hasattr(exp, name))

#: all of them at once: most nodes are none of them, and one isinstance says so
_FORBIDDEN_TYPES = tuple(node_type for node_type, _ in _FORBIDDEN_NODES)
_QUERY_ROOTS = (exp.Select, exp.SetOperation)
_HIDDEN_CODE = re.compile(r"/\*[!+]")


class UnsafeQueryError(StageAgentError):
    """The guard refused a statement; `reason` says why and what to send instead."""

    def __init__(self, reason: str, *, sql: str = ""):
        self.reason = reason
        self.sql = sql
        super().__init__(f"refused: {reason}")


@dataclass
class GuardResult:
    """The guard's verdict; `expression` is the parsed query when allowed."""

    allowed: bool
    reason: str = ""
    expression: exp.Expression | None = field(default=None, repr=False)


def function_name(node: exp.Func) -> str:
    """The SQL name of a function node, lower case (`PG_SLEEP` -> `pg_sleep`)."""
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    return node.sql_name().lower()


def _refuse(reason: str) -> GuardResult:
    return GuardResult(False, reason + ". Only a single read-only SELECT (optionally WITH ... "
                              "SELECT or a UNION of SELECTs) is allowed.")


def check_read_only(sql: str, dialect: str, *, parsed: ParsedSQL | None = None) -> GuardResult:
    """Decide whether `sql` is exactly one side-effect-free query in `dialect`
    (`parsed`: the caller's reading of `sql`, so it is not parsed again)."""
    if not sql or not sql.strip():
        return _refuse("empty statement")
    if _HIDDEN_CODE.search(sql):
        return _refuse("executable comments /*! ... */ and optimizer hints /*+ ... */ are not "
                       "allowed; remove them")
    parsed = parsed_for(parsed, sql, dialect)
    if parsed.statements is None:
        first = str(parsed.error).splitlines()[0]
        return _refuse(f"the statement could not be parsed as {dialect} SQL ({first}); fix the "
                       "syntax")
    statements = [s for s in parsed.statements if s is not None]
    if len(statements) != 1:
        return _refuse(f"found {len(statements)} statements; send exactly one" if statements
                       else "no statement found")
    root = statements[0]
    while isinstance(root, exp.Subquery) and isinstance(root.this, _QUERY_ROOTS):
        root = root.this
    if not isinstance(root, _QUERY_ROOTS):
        kind = root.key.upper() if not isinstance(root, exp.Command) else str(root.this).upper()
        return _refuse(f"{kind} is not a query")
    for node in root.walk():
        if isinstance(node, _FORBIDDEN_TYPES):
            reason = next(r for node_type, r in _FORBIDDEN_NODES if isinstance(node, node_type))
            return _refuse(f"{reason} ({node.sql(dialect)[:60]!r})")
        if isinstance(node, exp.Func):
            name = function_name(node)
            if name in DENIED_FUNCTIONS:
                return _refuse(f"function {name}() has side effects or touches files, the "
                               "network or the session; compute the result without it")
    return GuardResult(True, expression=root)


def ensure_read_only(sql: str, dialect: str, *,
                     parsed: ParsedSQL | None = None) -> exp.Expression:
    """The parsed query, or `UnsafeQueryError` with the guard's reason."""
    result = check_read_only(sql, dialect, parsed=parsed)
    if not result.allowed or result.expression is None:
        raise UnsafeQueryError(result.reason, sql=sql)
    return result.expression
