"""Schema discovery and relevant-schema retrieval on the real demo databases."""

from __future__ import annotations

import pytest

from stageagent.exceptions import ToolError
from stageagent.tools.sql import (relevant_tables, retrieve_schema, schema_discovery,
                                  schema_retrieval)
from stageagent.tools.sql.retrieval import stem


def test_discovery_reads_tables_keys_counts_samples(db):
    schema = db.schema()
    assert {"departments", "employees", "products", "customers", "orders",
            "order_items", "empty_things"} <= set(schema.tables)
    orders = schema.table("orders")
    assert orders.row_count == 3000
    assert [c.name for c in orders.columns if c.primary_key] == ["id"]
    refs = {(fk.columns[0], fk.ref_table) for fk in orders.foreign_keys}
    assert refs == {("customer_id", "customers"), ("employee_id", "employees")}
    status = orders.column("status")
    assert status.samples and set(status.samples) <= {"pending", "shipped", "delivered",
                                                      "cancelled"}
    assert schema.table("products").column("Unit Price").type.upper().startswith(
        ("NUMERIC", "DECIMAL"))
    assert schema.table("empty_things").row_count == 0
    assert schema.table("empty_things").column("label").samples == []
    employees = schema.table("employees")
    assert any(fk.ref_table == "employees" for fk in employees.foreign_keys)  # self-reference


def test_comments_where_the_dialect_has_them(db):
    comment = db.schema().table("orders").column("shipped_date").comment
    if db.dialect == "sqlite":
        assert comment is None
    else:
        assert comment == "NULL until shipped"
        assert db.schema().table("orders").comment == "Sales orders (headers)"


def test_schema_is_cached_until_refresh(db):
    first = db.schema()
    assert db.schema() is first
    assert db.schema(refresh=True) is not first


def test_discovery_tool_renders_quoted_awkward_names(ctx, call, q):
    text = call(schema_discovery, ctx, tables=["products"])
    assert q("Unit Price") in text and "TABLE products (80 rows)" in text
    assert "customers" not in text
    with pytest.raises(ToolError, match="unknown table.*nosuch"):
        call(schema_discovery, ctx, tables=["nosuch"])


@pytest.mark.parametrize("question, expected", [
    ("Monthly revenue by product category in 2024", {"order_items", "products", "orders"}),
    ("Which clients from Germany placed the most orders?", {"customers", "orders"}),
    ("average salary per department", {"employees", "departments"}),
    ("How many orders were cancelled?", {"orders"}),
    ("What is the unit price of each SKU?", {"products"}),
])
def test_retrieval_picks_the_tables_a_question_needs(db, question, expected):
    chosen = relevant_tables(db.schema(), question, max_tables=3)
    assert expected <= set(chosen), chosen
    assert "stageagent_canary" not in chosen


def test_retrieval_is_smaller_than_the_full_schema(db, ctx, call):
    text = call(schema_retrieval, ctx, question="average salary per department", max_tables=2)
    assert "TABLE employees" in text and "TABLE departments" in text
    assert "TABLE order_items" not in text
    assert len(text) < len(retrieve_schema(db.schema(), "revenue orders products customers",
                                           max_tables=6))
    with pytest.raises(ToolError, match="question is empty"):
        call(schema_retrieval, ctx, question="  ")


def test_stemming_lite():
    assert [stem(w) for w in ["categories", "sales", "boxes", "orders", "status"]] == \
        ["category", "sale", "box", "order", "status"]
