"""A 200-table schema shaped like a company's warehouse, for schema-retrieval figures.

Eleven business areas of core tables with foreign keys (sales, HR, inventory, finance,
marketing, support, logistics, manufacturing, IT, facilities, CRM), then what real big
schemas also carry and what makes retrieval hard: `<table>_history` and `<table>_audit`
copies with the same columns, `stg_<table>` staging tables, and `lookup_*` code tables.
A few rows per table (samples matter to retrieval); `QUESTIONS` are questions with the
tables each one needs, for recall.
"""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import create_engine

Spec = dict[str, list[str]]  # table -> "column TYPE" / "column -> parent_table"

CORE: Spec = {
    # sales
    "customers": ["name TEXT", "email TEXT", "country TEXT", "segment TEXT", "created_at DATE"],
    "product_categories": ["name TEXT", "description TEXT"],
    "products": ["name TEXT", "sku TEXT", "category_id -> product_categories", "list_price NUMERIC"],
    "sales_regions": ["name TEXT", "country TEXT"],
    "sales_reps": ["first_name TEXT", "last_name TEXT", "region_id -> sales_regions"],
    "orders": ["customer_id -> customers", "sales_rep_id -> sales_reps", "order_date DATE",
               "status TEXT"],
    "order_items": ["order_id -> orders", "product_id -> products", "quantity INTEGER",
                    "unit_price NUMERIC", "discount NUMERIC"],
    "promotions": ["name TEXT", "starts_on DATE", "ends_on DATE", "percent_off NUMERIC"],
    # hr
    "departments": ["name TEXT", "cost_center TEXT"],
    "job_titles": ["title TEXT", "grade INTEGER"],
    "employees": ["first_name TEXT", "last_name TEXT", "department_id -> departments",
                  "job_title_id -> job_titles", "hire_date DATE", "salary NUMERIC"],
    "leave_requests": ["employee_id -> employees", "starts_on DATE", "days INTEGER",
                       "kind TEXT"],
    "performance_reviews": ["employee_id -> employees", "review_date DATE", "rating INTEGER"],
    "training_courses": ["title TEXT", "hours INTEGER"],
    # inventory
    "suppliers": ["name TEXT", "country TEXT", "rating INTEGER"],
    "warehouses": ["name TEXT", "city TEXT", "capacity INTEGER"],
    "stock_levels": ["warehouse_id -> warehouses", "product_id -> products",
                     "quantity_on_hand INTEGER", "reorder_level INTEGER"],
    "purchase_orders": ["supplier_id -> suppliers", "ordered_on DATE", "expected_on DATE",
                        "received_on DATE", "status TEXT"],
    "purchase_order_lines": ["purchase_order_id -> purchase_orders", "product_id -> products",
                             "quantity INTEGER", "unit_cost NUMERIC"],
    # finance
    "currencies": ["code TEXT", "name TEXT"],
    "invoices": ["customer_id -> customers", "currency_id -> currencies", "issued_on DATE",
                 "due_on DATE", "amount NUMERIC", "paid_amount NUMERIC", "status TEXT"],
    "payments": ["invoice_id -> invoices", "paid_on DATE", "amount NUMERIC", "method TEXT"],
    "gl_accounts": ["code TEXT", "name TEXT", "kind TEXT"],
    "ledger_entries": ["account_id -> gl_accounts", "posted_on DATE", "debit NUMERIC",
                       "credit NUMERIC"],
    "budgets": ["department_id -> departments", "fiscal_year INTEGER", "amount NUMERIC"],
    "exchange_rates": ["currency_id -> currencies", "rate_date DATE", "rate NUMERIC"],
    "tax_rates": ["country TEXT", "rate NUMERIC"],
    # marketing
    "campaign_channels": ["name TEXT"],
    "campaigns": ["name TEXT", "channel_id -> campaign_channels", "starts_on DATE",
                  "budget NUMERIC"],
    "ad_spend": ["campaign_id -> campaigns", "spend_date DATE", "amount NUMERIC",
                 "clicks INTEGER", "impressions INTEGER"],
    "leads": ["campaign_id -> campaigns", "email TEXT", "created_at DATE", "converted INTEGER"],
    "email_sends": ["campaign_id -> campaigns", "sent_at DATE", "opened INTEGER"],
    "web_sessions": ["started_at DATE", "source TEXT", "pages INTEGER"],
    # support
    "support_agents": ["first_name TEXT", "last_name TEXT", "team TEXT"],
    "tickets": ["customer_id -> customers", "agent_id -> support_agents", "opened_at DATE",
                "closed_at DATE", "priority TEXT", "status TEXT"],
    "ticket_comments": ["ticket_id -> tickets", "written_at DATE", "body TEXT"],
    "sla_policies": ["priority TEXT", "response_hours INTEGER"],
    "satisfaction_surveys": ["ticket_id -> tickets", "answered_on DATE", "score INTEGER"],
    # logistics
    "carriers": ["name TEXT", "country TEXT"],
    "vehicles": ["carrier_id -> carriers", "plate TEXT", "capacity_kg INTEGER"],
    "drivers": ["carrier_id -> carriers", "name TEXT", "licence_class TEXT"],
    "delivery_routes": ["name TEXT", "distance_km NUMERIC"],
    "deliveries": ["order_id -> orders", "carrier_id -> carriers", "route_id -> delivery_routes",
                   "shipped_on DATE", "promised_on DATE", "delivered_on DATE"],
    # manufacturing
    "plants": ["name TEXT", "city TEXT"],
    "machines": ["plant_id -> plants", "name TEXT", "model TEXT", "installed_on DATE"],
    "work_orders": ["machine_id -> machines", "product_id -> products", "started_at DATE",
                    "finished_at DATE", "units INTEGER"],
    "quality_checks": ["work_order_id -> work_orders", "machine_id -> machines",
                       "checked_at DATE", "result TEXT", "defects INTEGER"],
    "bill_of_materials": ["product_id -> products", "component TEXT", "quantity NUMERIC"],
    # it
    "servers": ["hostname TEXT", "os TEXT", "datacenter TEXT"],
    "applications": ["name TEXT", "owner_team TEXT"],
    "incidents": ["application_id -> applications", "server_id -> servers",
                  "opened_at DATE", "severity TEXT", "resolved_at DATE"],
    "deployments": ["application_id -> applications", "deployed_at DATE", "version TEXT"],
    "software_licenses": ["application_id -> applications", "seats INTEGER",
                          "expires_on DATE"],
    # facilities
    "buildings": ["name TEXT", "city TEXT"],
    "rooms": ["building_id -> buildings", "name TEXT", "seats INTEGER"],
    "room_bookings": ["room_id -> rooms", "employee_id -> employees", "booked_for DATE",
                      "hours NUMERIC"],
    "maintenance_requests": ["building_id -> buildings", "opened_on DATE", "category TEXT"],
    # crm
    "contacts": ["customer_id -> customers", "name TEXT", "role TEXT"],
    "opportunities": ["customer_id -> customers", "sales_rep_id -> sales_reps", "stage TEXT",
                      "expected_close DATE", "value NUMERIC"],
    "contracts": ["customer_id -> customers", "signed_on DATE", "annual_value NUMERIC"],
}

#: question -> tables a correct query needs
QUESTIONS: dict[str, set[str]] = {
    "Total revenue by product category in 2024": {"order_items", "products",
                                                  "product_categories", "orders"},
    "Average salary per department": {"employees", "departments"},
    "Which suppliers have the most purchase orders received after the expected date?":
        {"suppliers", "purchase_orders"},
    "How many support tickets were opened per month, by priority?": {"tickets"},
    "Ad spend per campaign channel last quarter": {"ad_spend", "campaigns", "campaign_channels"},
    "Which warehouses have products with stock below the reorder level?":
        {"warehouses", "stock_levels"},
    "Average satisfaction survey score per support agent":
        {"satisfaction_surveys", "tickets", "support_agents"},
    "Share of deliveries delivered after the promised date, per carrier":
        {"deliveries", "carriers"},
    "Outstanding invoice amounts by currency": {"invoices", "currencies"},
    "Which machines had the most defects in quality checks?": {"machines", "quality_checks"},
}

_WORDS = ["alpha", "north", "prime", "delta", "urban", "nova", "summit", "harbor"]


def table_specs(n_tables: int = 200) -> Spec:
    """CORE plus history/audit/staging/lookup tables up to `n_tables`."""
    specs: Spec = dict(CORE)
    variants = []
    for name, cols in CORE.items():
        plain = [c.split(" -> ")[0] + " INTEGER" if " -> " in c else c for c in cols]
        variants += [(f"{name}_history", plain + ["valid_from DATE", "valid_to DATE"]),
                     (f"stg_{name}", plain + ["loaded_at DATE", "batch_id INTEGER"]),
                     (f"{name}_audit", ["row_id INTEGER", "changed_at DATE", "changed_by TEXT",
                                        "operation TEXT"])]
    i = 0
    while len(specs) < n_tables:
        if i < len(variants):
            specs.setdefault(*variants[i])
        else:
            specs[f"lookup_code_{i:03d}"] = ["code TEXT", "label TEXT"]
        i += 1
    return dict(list(specs.items())[:n_tables])


def _value(rng: random.Random, col: str, kind: str) -> Any:
    if kind == "INTEGER":
        return rng.randint(1, 5)
    if kind == "NUMERIC":
        return round(rng.uniform(1, 1000), 2)
    if kind == "DATE":
        return f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if col in ("status", "priority", "severity", "result", "kind", "stage"):
        return rng.choice(["open", "closed", "high", "low", "pass", "fail"])
    return f"{col} {rng.choice(_WORDS)}"


def _ddl(schema: str, name: str, cols: list[str]) -> tuple[str, list[str]]:
    defs, names = ["id INTEGER PRIMARY KEY"], ["id"]
    for col in cols:
        if " -> " in col:
            column, parent = col.split(" -> ")
            defs.append(f'{column} INTEGER REFERENCES "{schema}".{parent}(id)')
            names.append(column)
        else:
            column, kind = col.split(" ")
            defs.append(f"{column} {kind}")
            names.append(column)
    return f'CREATE TABLE "{schema}".{name} ({", ".join(defs)})', names


def create_wide_schema(url: str, schema: str, n_tables: int = 200, rows: int = 5,
                       seed: int = 3) -> int:
    """(Re)create `n_tables` tables in PostgreSQL schema `schema`; returns tables made."""
    rng = random.Random(seed)
    specs = table_specs(n_tables)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            for name, cols in specs.items():  # CORE lists parents before children
                ddl, names = _ddl(schema, name, cols)
                conn.exec_driver_sql(ddl)
                kinds = ["INTEGER"] + [("INTEGER" if " -> " in c else c.split(" ")[1])
                                       for c in cols]
                values = [[i] + [(rng.randint(1, rows) if " -> " in c else
                                  _value(rng, n, k)) for c, n, k in
                                 zip(cols, names[1:], kinds[1:])] for i in range(1, rows + 1)]
                marks = ", ".join(["%s"] * len(names))
                conn.exec_driver_sql(f'INSERT INTO "{schema}".{name} ({", ".join(names)}) '
                                     f"VALUES ({marks})", [tuple(v) for v in values])
    finally:
        engine.dispose()
    return len(specs)
