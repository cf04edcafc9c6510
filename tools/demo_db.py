"""A deterministic sample sales database for demos, tests and evals.

`create_demo_database(url_or_path, seed=7)` writes departments, employees, products,
customers, orders and order_items for 2023-2024 into SQLite, PostgreSQL or MariaDB/MySQL
through SQLAlchemy Core. The data is shaped like a real report backend's: a few customers
and products dominate (Zipf weights), orders peak in Q4 and grow year on year, some values
are NULL, and some names are awkward on purpose (`"Unit Price"` with a space, upper-case
`"SKU"`, O'Brien, unicode) so quoting bugs show up in tests, not in production.
Only `random.Random(seed)` is used: the same seed gives the same rows on every run.
"""

from __future__ import annotations

import os
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (Column, Date, ForeignKey, Integer, MetaData, Numeric, String, Table,
                        create_engine, inspect, text)
from sqlalchemy.engine import Connection, make_url

from stageagent.exceptions import StageAgentError

#: SQLite `PRAGMA application_id` of a file this module wrote ("STAG")
SQLITE_APPLICATION_ID = 0x53544147
DEMO_TABLES = ("departments", "employees", "products", "customers", "orders", "order_items")
START = date(2023, 1, 1)
END = date(2024, 12, 31)

_DEPARTMENTS = ["Sales", "Marketing", "Engineering", "Support", "Finance", "Operations",
                "Human Resources", "Logistics"]
_FIRST = ["Anna", "Ben", "Chloé", "David", "Eva", "Farid", "Grace", "Hiroshi", "Ines", "Jonas",
          "Kateřina", "Liam", "Maya", "Noah", "Olivia", "Pedro", "Quinn", "Rosa", "Sven", "Yuki"]
_LAST = ["O'Brien", "Müller", "Smith", "García", "Nguyen", "Kowalski", "Rossi", "Dubois",
         "Andersson", "Tanaka", "Okafor", "Novák", "Silva", "Schmidt", "Brown", "D'Angelo"]
_CATEGORIES = {
    "Hardware": ["Laptop", "Monitor", "Keyboard", "Mouse", "Dock", "Headset", "Webcam"],
    "Software": ["Licence", "Subscription", "Add-on", "Suite"],
    "Services": ["Installation", "Training", "Support Plan", "Consulting"],
    "Furniture": ["Desk", "Chair", "Lamp", "Shelf"],
}
_TIERS = ["Basic", "Pro", "Max", "Eco", "Plus", "Ultra", "Mini", "XL"]
_CUSTOMER_STEMS = ["O'Brien & Sons", "Müller GmbH", "Café Zoë", "Société Générale Démo",
                   "東京商事", "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne",
                   "Hooli", "Vandelay", "Soylent", "Tyrell", "Cyberdyne", "Wonka", "Gekko",
                   "Oceanic", "Nakatomi"]
_SUFFIXES = ["Ltd", "Inc", "AG", "SA", "Co", "LLC", "Group", "Partners"]
_COUNTRIES = [("Germany", "Berlin"), ("Germany", "München"), ("France", "Paris"),
              ("United Kingdom", "London"), ("Ireland", "Dublin"), ("Japan", "Tōkyō"),
              ("United States", "New York"), ("United States", "Austin"), ("Spain", "Sevilla"),
              ("Brazil", "São Paulo")]
_SEGMENTS = ["Enterprise", "SMB", "Consumer"]
#: Q4 peak, slow summer
_MONTH_WEIGHT = [0.8, 0.75, 0.9, 0.9, 0.95, 0.85, 0.75, 0.8, 1.0, 1.3, 1.6, 2.1]


def build_metadata(schema: str | None = None) -> MetaData:
    """The demo tables, with foreign keys and comments (emitted where the dialect can)."""
    md = MetaData(schema=schema)
    prefix = f"{schema}." if schema else ""
    Table("departments", md,
          Column("id", Integer, primary_key=True, autoincrement=False),
          Column("name", String(60), nullable=False, comment="Department name"),
          Column("budget", Numeric(12, 2), comment="Annual budget in EUR"),
          comment="Organisational units")
    Table("employees", md,
          Column("id", Integer, primary_key=True, autoincrement=False),
          Column("first_name", String(60), nullable=False),
          Column("last_name", String(60), nullable=False),
          Column("email", String(120), comment="Work e-mail; NULL for contractors"),
          Column("department_id", Integer, ForeignKey(f"{prefix}departments.id"),
                 nullable=False),
          Column("manager_id", Integer, ForeignKey(f"{prefix}employees.id"),
                 comment="Line manager; NULL for department heads"),
          Column("hire_date", Date, nullable=False),
          Column("salary", Numeric(10, 2), comment="Yearly gross salary in EUR"),
          comment="Staff, including the sales representatives who own orders")
    Table("products", md,
          Column("id", Integer, primary_key=True, autoincrement=False),
          Column("SKU", String(20), nullable=False, unique=True, comment="Stock keeping unit"),
          Column("name", String(80), nullable=False),
          Column("category", String(40), comment="Product category; NULL if unclassified"),
          Column("Unit Price", Numeric(10, 2), nullable=False, comment="List price in EUR"),
          Column("launched_on", Date),
          comment="Catalogue of things we sell")
    Table("customers", md,
          Column("id", Integer, primary_key=True, autoincrement=False),
          Column("name", String(120), nullable=False, comment="Company or person name"),
          Column("email", String(120)),
          Column("country", String(60), nullable=False),
          Column("city", String(60)),
          Column("segment", String(20), nullable=False,
                 comment="Enterprise, SMB or Consumer"),
          Column("signup_date", Date, nullable=False),
          comment="Clients who place orders")
    Table("orders", md,
          Column("id", Integer, primary_key=True, autoincrement=False),
          Column("customer_id", Integer, ForeignKey(f"{prefix}customers.id"), nullable=False),
          Column("employee_id", Integer, ForeignKey(f"{prefix}employees.id"),
                 comment="Sales representative; NULL for web-shop orders"),
          Column("order_date", Date, nullable=False),
          Column("status", String(20), nullable=False,
                 comment="pending, shipped, delivered or cancelled"),
          Column("shipped_date", Date, comment="NULL until shipped"),
          comment="Sales orders (headers)")
    Table("order_items", md,
          Column("id", Integer, primary_key=True, autoincrement=False),
          Column("order_id", Integer, ForeignKey(f"{prefix}orders.id"), nullable=False),
          Column("product_id", Integer, ForeignKey(f"{prefix}products.id"), nullable=False),
          Column("quantity", Integer, nullable=False),
          Column("unit_price", Numeric(10, 2), nullable=False,
                 comment="Price actually charged per unit in EUR (revenue = quantity * "
                         "unit_price * (1 - discount))"),
          Column("discount", Numeric(4, 2), comment="Fraction 0..0.3; NULL means none"),
          comment="Order lines: which products, how many, at what price")
    return md


def _zipf(n: int, s: float) -> list[float]:
    return [1.0 / (rank ** s) for rank in range(1, n + 1)]


def generate_rows(seed: int = 7) -> dict[str, list[dict[str, Any]]]:
    """The demo rows per table; pure function of `seed`."""
    rng = random.Random(seed)
    money = lambda x: round(x, 2)  # noqa: E731 - tiny local helper

    departments = [{"id": i + 1, "name": name, "budget": money(rng.uniform(2e5, 3e6))}
                   for i, name in enumerate(_DEPARTMENTS)]
    departments[-1]["budget"] = None

    employees: list[dict[str, Any]] = []
    for i in range(60):
        dept = (i % len(departments)) + 1
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        head = i < len(departments)
        employees.append({
            "id": i + 1, "first_name": first, "last_name": last,
            "email": None if rng.random() < 0.1 else
            f"{first}.{last}{i}@example.com".lower().replace("'", ""),
            "department_id": dept, "manager_id": None if head else dept,
            "hire_date": START - timedelta(days=rng.randint(0, 3000)),
            "salary": money(rng.uniform(38000, 140000))})
    sales_reps = [e["id"] for e in employees if e["department_id"] == 1]

    products: list[dict[str, Any]] = []
    for i in range(80):
        category = rng.choice(list(_CATEGORIES))
        base = {"Hardware": 180, "Software": 90, "Services": 400, "Furniture": 250}[category]
        products.append({
            "id": i + 1, "SKU": f"SKU-{1000 + i}",
            "name": f"{rng.choice(_CATEGORIES[category])} {rng.choice(_TIERS)} {i + 1}",
            "category": None if i % 37 == 36 else category,
            "Unit Price": money(base * rng.lognormvariate(0, 0.6)),
            "launched_on": START - timedelta(days=rng.randint(-300, 900))})

    customers: list[dict[str, Any]] = []
    for i in range(400):
        stem = _CUSTOMER_STEMS[i] if i < len(_CUSTOMER_STEMS) else rng.choice(_CUSTOMER_STEMS)
        country, city = rng.choice(_COUNTRIES)
        name = stem if i < len(_CUSTOMER_STEMS) else f"{stem} {rng.choice(_SUFFIXES)} {i}"
        customers.append({
            "id": i + 1, "name": name,
            "email": None if rng.random() < 0.15 else f"contact{i}@customer{i}.example",
            "country": country, "city": None if rng.random() < 0.05 else city,
            "segment": rng.choices(_SEGMENTS, weights=[2, 5, 3])[0],
            "signup_date": START - timedelta(days=rng.randint(0, 1500))})

    days = [START + timedelta(days=d) for d in range((END - START).days + 1)]
    day_weights = [_MONTH_WEIGHT[d.month - 1] * (1.25 if d.year == 2024 else 1.0)
                   for d in days]
    customer_weights = _zipf(len(customers), 1.1)
    product_weights = _zipf(len(products), 1.0)
    rng.shuffle(product_weights)
    order_days = sorted(rng.choices(days, weights=day_weights, k=3000))

    orders: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    for oid, day in enumerate(order_days, start=1):
        status = rng.choices(["delivered", "shipped", "pending", "cancelled"],
                             weights=[70, 12, 10, 8])[0]
        shipped = None if status in ("pending", "cancelled") else day + timedelta(
            days=rng.randint(1, 9))
        orders.append({
            "id": oid,
            "customer_id": rng.choices(range(1, len(customers) + 1), customer_weights)[0],
            "employee_id": None if rng.random() < 0.2 else rng.choice(sales_reps),
            "order_date": day, "status": status, "shipped_date": shipped})
        for pid in set(rng.choices(range(1, len(products) + 1), product_weights,
                                   k=rng.randint(1, 5))):
            price = products[pid - 1]["Unit Price"]
            items.append({
                "id": len(items) + 1, "order_id": oid, "product_id": pid,
                "quantity": max(1, int(rng.paretovariate(1.6))),
                "unit_price": money(price * rng.uniform(0.9, 1.0)),
                "discount": None if rng.random() < 0.6 else rng.choice([0.05, 0.1, 0.15, 0.2])})
    return {"departments": departments, "employees": employees, "products": products,
            "customers": customers, "orders": orders, "order_items": items}


class ForeignTablesError(StageAgentError):
    """Tables named like the demo's exist, and this project did not create them."""

    def __init__(self, tables: list[str], where: str):
        self.tables = tables
        super().__init__(
            f"{where} already has table(s) {', '.join(tables)} that stageagent did not create; "
            "refusing to drop them. Use another database or schema, or pass replace=True "
            "(--replace) to drop and recreate them.")


def foreign_tables(conn: Connection, md: MetaData, schema: str | None) -> list[str]:
    """Existing tables with demo names that were not written by `create_demo_database`:
    a SQLite file carries our application id; on servers our tables carry our comments."""
    inspector = inspect(conn)
    existing = [t for t in DEMO_TABLES if inspector.has_table(t, schema=schema)]
    if not existing:
        return []
    if conn.dialect.name == "sqlite":
        app_id = conn.exec_driver_sql("PRAGMA application_id").scalar()
        return [] if app_id == SQLITE_APPLICATION_ID else existing
    ours = md.tables
    key = (lambda t: f"{schema}.{t}") if schema else (lambda t: t)
    return [t for t in existing
            if (inspector.get_table_comment(t, schema=schema) or {}).get("text")
            != ours[key(t)].comment]


def _engine_url(url_or_path: str | os.PathLike[str]) -> str:
    text_ = os.fspath(url_or_path)
    if "://" not in text_:
        return f"sqlite:///{Path(text_).resolve()}"
    return text_


def create_demo_database(url_or_path: str | os.PathLike[str], *, seed: int = 7,
                         schema: str | None = None, replace: bool = False) -> dict[str, int]:
    """(Re)create the demo tables and load them; returns rows written per table.

    Args:
        url_or_path: SQLAlchemy URL (SQLite, PostgreSQL, MariaDB/MySQL) or a SQLite path.
        seed: random seed; the same seed writes identical data.
        schema: PostgreSQL schema / MySQL database to write into (created if missing).
        replace: also drop tables with demo names that this function did not create.

    Only the demo tables are dropped and recreated; other tables are left alone, and a
    user's own `customers`, `orders`, ... raise `ForeignTablesError` unless `replace`.
    """
    url = make_url(_engine_url(url_or_path))
    engine = create_engine(url)
    backend = url.get_backend_name()
    try:
        with engine.begin() as conn:
            if schema and backend == "postgresql":
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            elif schema and backend in ("mysql", "mariadb"):
                conn.execute(text(f"CREATE DATABASE IF NOT EXISTS `{schema}` "
                                  "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
            if backend == "sqlite":
                conn.exec_driver_sql("PRAGMA foreign_keys = ON")
            md = build_metadata(schema)
            foreign = [] if replace else foreign_tables(conn, md, schema)
            if foreign:
                raise ForeignTablesError(foreign, f"{url.render_as_string(hide_password=True)}"
                                         + (f" (schema {schema})" if schema else ""))
            md.drop_all(conn)
            md.create_all(conn)
            if backend == "sqlite":
                conn.exec_driver_sql(f"PRAGMA application_id = {SQLITE_APPLICATION_ID}")
            rows = generate_rows(seed)
            for name in DEMO_TABLES:
                conn.execute(md.tables[f"{schema}.{name}" if schema else name].insert(),
                             rows[name])
    finally:
        engine.dispose()
    return {name: len(r) for name, r in rows.items()}


if __name__ == "__main__":  # pragma: no cover - manual helper
    import sys

    print(create_demo_database(sys.argv[1] if len(sys.argv) > 1 else "demo.db"))
