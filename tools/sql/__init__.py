"""The SQL stage's tools: discover, retrieve, validate, fix and run read-only SQL.

Tools (`@tool`, they take the database from `ctx.deps.database`): `schema_discovery`,
`schema_retrieval`, `sql_validator`, `sql_auto_fixer`, `sql_executor`; evaluator:
`sql_quality`. Each tool has a plain-Python twin for direct use (`discover_schema`,
`retrieve_schema`, `validate_sql`, `auto_fix_sql`, `execute_query`).
"""

from .autofix import FixResult, auto_fix_sql, sql_auto_fixer
from .database import (Database, DatabaseAuthError, DatabaseError, DatabaseUnreachableError,
                       QueryError, QueryTimeoutError, mask_url)
from .execute import execute_query, sql_executor
from .guard import GuardResult, UnsafeQueryError, check_read_only, ensure_read_only
from .output import SQLStageOutput
from .quality import SQLQualityEvaluator, sql_quality
from .retrieval import relevant_tables, retrieve_schema, schema_retrieval
from .schema import Schema, TableSchema, describe_schema, discover_schema, schema_discovery
from .validate import ValidationIssue, ValidationResult, sql_validator, validate_sql

__all__ = [
    "Database", "DatabaseError", "DatabaseUnreachableError", "DatabaseAuthError",
    "QueryTimeoutError", "QueryError", "mask_url",
    "Schema", "TableSchema", "discover_schema", "describe_schema", "schema_discovery",
    "relevant_tables", "retrieve_schema", "schema_retrieval",
    "ValidationIssue", "ValidationResult", "validate_sql", "sql_validator",
    "FixResult", "auto_fix_sql", "sql_auto_fixer",
    "GuardResult", "UnsafeQueryError", "check_read_only", "ensure_read_only",
    "execute_query", "sql_executor",
    "SQLStageOutput", "SQLQualityEvaluator", "sql_quality",
]
