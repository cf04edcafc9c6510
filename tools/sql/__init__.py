"""The SQL stage's tools: discover, retrieve, validate, fix and run read-only SQL.

Tools (`@tool`, they take the database from `ctx.deps.database`): `schema_discovery`,
`schema_retrieval`, `sql_validator`, `sql_auto_fixer`, `sql_executor`; evaluator:
`sql_quality`. Each tool has a plain-Python twin for direct use (`discover_schema`,
`retrieve_schema`, `validate_sql`, `auto_fix_sql`, `execute_query`).

Modules, one concept each: `database` (read-only engine), `schema` / `rowcounts` /
`schema_budget` (discovery, cheap row counts, schema text within a token budget),
`retrieval`, `parsed` (a query read once, its tokens and trees shared by the checks
below), `functions` (the engine's function catalogue, calls as written), `syntax`
(token-level syntax problems), `name_check` + `issues` + `validate` (the validator),
`compile_check` (the engine compiles without running), `translate` + `autofix` (the
fixer), `guard` + `execute` (the read-only executor), `quality` (the stage's gate).
"""

from .autofix import FixResult, auto_fix_sql, sql_auto_fixer
from .compile_check import EngineVerdict, compile_check
from .database import (Database, DatabaseAuthError, DatabaseError, DatabaseUnreachableError,
                       QueryError, QueryTimeoutError, mask_url)
from .execute import execute_query, sql_executor
from .guard import GuardResult, UnsafeQueryError, check_read_only, ensure_read_only
from .output import SQLStageOutput
from .parsed import ParsedSQL, parse_sql
from .quality import SQLQualityEvaluator, sql_quality
from .retrieval import relevant_tables, retrieve_schema, schema_retrieval
from .rowcounts import EXACT_COUNT_LIMIT, row_counts
from .schema import Schema, TableSchema, describe_schema, discover_schema, schema_discovery
from .schema_budget import SCHEMA_TOKEN_BUDGET, fit_schema
from .translate import translate_functions
from .validate import ValidationIssue, ValidationResult, sql_validator, validate_sql

__all__ = [
    "Database", "DatabaseError", "DatabaseUnreachableError", "DatabaseAuthError",
    "QueryTimeoutError", "QueryError", "mask_url",
    "Schema", "TableSchema", "discover_schema", "describe_schema", "schema_discovery",
    "relevant_tables", "retrieve_schema", "schema_retrieval",
    "ValidationIssue", "ValidationResult", "validate_sql", "sql_validator",
    "EngineVerdict", "compile_check",
    "FixResult", "auto_fix_sql", "sql_auto_fixer", "translate_functions",
    "SCHEMA_TOKEN_BUDGET", "fit_schema", "EXACT_COUNT_LIMIT", "row_counts",
    "ParsedSQL", "parse_sql",
    "GuardResult", "UnsafeQueryError", "check_read_only", "ensure_read_only",
    "execute_query", "sql_executor",
    "SQLStageOutput", "SQLQualityEvaluator", "sql_quality",
]
