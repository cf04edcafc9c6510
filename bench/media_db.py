"""A second sample schema with other naming habits than the demo database.

A small music shop: PascalCase tables and columns (`Invoice.InvoiceDate`, `ReportsTo`),
names with spaces (`"Invoice Line"`, `"Play Event"."Played At"`), and three kinds of
dates - ISO text (`Invoice.InvoiceDate`, `Employee.HireDate`), a real DATE
(`Customer."Signup Date"`) and integer epoch seconds (`"Play Event"."Played At"`). The SQL
tests and the verdict benchmark load it on SQLite, PostgreSQL and MariaDB so that the
validator and fixer are measured on a schema the demo generator did not make.
`random.Random(seed)` only: the same rows every time.
"""

from __future__ import annotations

import random
from pathlib import Path
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import (Column, Date, ForeignKey, Integer, MetaData, Numeric, String, Table,
                        create_engine)
from sqlalchemy.engine import Engine, make_url

from stageagent.tools.sql import Database

MEDIA_TABLES = ("Artist", "Genre", "Album", "Track", "Employee", "Customer", "Invoice",
                "Invoice Line", "Play Event")
_GENRES = ["Rock", "Jazz", "Blues", "Classical", "Electronic", "Hip Hop", "Folk", "Latin"]
_COUNTRIES = ["Brazil", "Canada", "France", "Germany", "India", "Norway", "Portugal", "USA"]
_FIRST = ["Ana", "Bjørn", "Chen", "Dara", "Émile", "Fatima", "Goran", "Hana", "Ivo", "Jules"]
_LAST = ["Almeida", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Gupta", "Hughes"]


def build_metadata(schema: str | None = None) -> MetaData:
    md = MetaData(schema=schema)
    p = f"{schema}." if schema else ""
    Table("Artist", md, Column("ArtistId", Integer, primary_key=True, autoincrement=False),
          Column("Name", String(80), nullable=False))
    Table("Genre", md, Column("GenreId", Integer, primary_key=True, autoincrement=False),
          Column("Name", String(40), nullable=False))
    Table("Album", md, Column("AlbumId", Integer, primary_key=True, autoincrement=False),
          Column("Title", String(120), nullable=False),
          Column("ArtistId", Integer, ForeignKey(f"{p}Artist.ArtistId"), nullable=False),
          Column("ReleaseYear", Integer))
    Table("Track", md, Column("TrackId", Integer, primary_key=True, autoincrement=False),
          Column("Name", String(120), nullable=False),
          Column("AlbumId", Integer, ForeignKey(f"{p}Album.AlbumId"), nullable=False),
          Column("GenreId", Integer, ForeignKey(f"{p}Genre.GenreId")),
          Column("Milliseconds", Integer, nullable=False),
          Column("UnitPrice", Numeric(10, 2), nullable=False))
    Table("Employee", md, Column("EmployeeId", Integer, primary_key=True, autoincrement=False),
          Column("FirstName", String(40), nullable=False),
          Column("LastName", String(40), nullable=False),
          Column("Title", String(40)),
          Column("ReportsTo", Integer, ForeignKey(f"{p}Employee.EmployeeId")),
          Column("HireDate", String(19), comment="ISO text 'YYYY-MM-DD HH:MM:SS'"))
    Table("Customer", md, Column("CustomerId", Integer, primary_key=True, autoincrement=False),
          Column("FirstName", String(40), nullable=False),
          Column("LastName", String(40), nullable=False),
          Column("Country", String(40), nullable=False),
          Column("Email", String(80)),
          Column("Signup Date", Date, nullable=False),
          Column("SupportRepId", Integer, ForeignKey(f"{p}Employee.EmployeeId")))
    Table("Invoice", md, Column("InvoiceId", Integer, primary_key=True, autoincrement=False),
          Column("CustomerId", Integer, ForeignKey(f"{p}Customer.CustomerId"), nullable=False),
          Column("InvoiceDate", String(19), nullable=False,
                 comment="ISO text 'YYYY-MM-DD HH:MM:SS'"),
          Column("BillingCountry", String(40)),
          Column("Total", Numeric(10, 2), nullable=False))
    Table("Invoice Line", md,
          Column("InvoiceLineId", Integer, primary_key=True, autoincrement=False),
          Column("InvoiceId", Integer, ForeignKey(f"{p}Invoice.InvoiceId"), nullable=False),
          Column("TrackId", Integer, ForeignKey(f"{p}Track.TrackId"), nullable=False),
          Column("UnitPrice", Numeric(10, 2), nullable=False),
          Column("Quantity", Integer, nullable=False))
    Table("Play Event", md, Column("Event Id", Integer, primary_key=True, autoincrement=False),
          Column("TrackId", Integer, ForeignKey(f"{p}Track.TrackId"), nullable=False),
          Column("CustomerId", Integer, ForeignKey(f"{p}Customer.CustomerId")),
          Column("Played At", Integer, nullable=False, comment="Unix epoch seconds (UTC)"))
    return md


def _people(rng: random.Random, n: int) -> list[tuple[str, str]]:
    return [(rng.choice(_FIRST), rng.choice(_LAST)) for _ in range(n)]


def generate_rows(seed: int = 11) -> dict[str, list[dict[str, Any]]]:
    rng = random.Random(seed)
    rows: dict[str, list[dict[str, Any]]] = {}
    rows["Artist"] = [{"ArtistId": i, "Name": f"Artist {i:02d}"} for i in range(1, 21)]
    rows["Genre"] = [{"GenreId": i, "Name": g} for i, g in enumerate(_GENRES, 1)]
    rows["Album"] = [{"AlbumId": i, "Title": f"Album {i:02d}", "ArtistId": rng.randint(1, 20),
                      "ReleaseYear": rng.choice([None, *range(1990, 2024)])}
                     for i in range(1, 41)]
    rows["Track"] = [{"TrackId": i, "Name": f"Track {i:03d}", "AlbumId": rng.randint(1, 40),
                      "GenreId": rng.choice([None, *range(1, 9), 1, 1, 2]),
                      "Milliseconds": rng.randint(90_000, 600_000),
                      "UnitPrice": rng.choice([0.99, 0.99, 1.29, 1.99])}
                     for i in range(1, 201)]
    rows["Employee"] = [{"EmployeeId": i, "FirstName": f, "LastName": ln,
                         "Title": "General Manager" if i == 1 else "Sales Agent",
                         "ReportsTo": None if i == 1 else 1,
                         "HireDate": f"20{10 + i:02d}-0{i % 9 + 1}-15 09:00:00"}
                        for i, (f, ln) in enumerate(_people(rng, 6), 1)]
    rows["Customer"] = [{"CustomerId": i, "FirstName": f, "LastName": ln,
                         "Country": rng.choice(_COUNTRIES),
                         "Email": None if i % 7 == 0 else f"c{i}@example.org",
                         "Signup Date": date(2021, 1, 1) + timedelta(days=rng.randint(0, 700)),
                         "SupportRepId": rng.randint(2, 6)}
                        for i, (f, ln) in enumerate(_people(rng, 50), 1)]
    invoices: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    for i in range(1, 301):
        when = datetime(2022, 1, 1) + timedelta(days=rng.randint(0, 3 * 365 - 1),
                                                hours=rng.randint(8, 20))
        items = [(rng.randint(1, 200), rng.choice([1, 1, 2])) for _ in range(rng.randint(1, 4))]
        priced = [(t, q, rows["Track"][t - 1]["UnitPrice"]) for t, q in items]
        customer = rng.randint(1, 50)
        invoices.append({"InvoiceId": i, "CustomerId": customer,
                         "InvoiceDate": when.strftime("%Y-%m-%d %H:%M:%S"),
                         "BillingCountry": rows["Customer"][customer - 1]["Country"],
                         "Total": round(sum(q * p for _, q, p in priced), 2)})
        for t, q, p in priced:
            lines.append({"InvoiceLineId": len(lines) + 1, "InvoiceId": i, "TrackId": t,
                          "UnitPrice": p, "Quantity": q})
    rows["Invoice"], rows["Invoice Line"] = invoices, lines
    start = int(datetime(2024, 1, 1, tzinfo=timezone.utc).timestamp())
    rows["Play Event"] = [{"Event Id": i, "TrackId": rng.randint(1, 200),
                           "CustomerId": rng.choice([None, *range(1, 51)]),
                           "Played At": start + rng.randint(0, 365 * 86400 - 1)}
                          for i in range(1, 801)]
    return rows


def create_media_database(url: str, *, schema: str | None = None, seed: int = 11) -> Engine:
    """(Re)create the media tables at `url` (in `schema` on PostgreSQL; in the database
    `schema` on MySQL/MariaDB, created if missing); returns a writer engine on them."""
    engine = create_engine(url)
    if schema and engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    elif schema and engine.dialect.name in ("mysql", "mariadb"):
        with engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE IF NOT EXISTS `{schema}` CHARACTER SET "
                                 "utf8mb4 COLLATE utf8mb4_unicode_ci")
        engine.dispose()
        engine = create_engine(make_url(url).set(database=schema))
        schema = None
    md = build_metadata(schema)
    md.drop_all(engine)
    md.create_all(engine)
    data = generate_rows(seed)
    with engine.begin() as conn:
        for name in MEDIA_TABLES:
            table = md.tables[f"{schema}.{name}" if schema else name]
            conn.execute(table.insert(), data[name])
    return engine


def open_media_database(backend: str, url: str | None, name: str, sqlite_dir: Path,
                        timeout: float = 5.0) -> tuple[Database, Engine]:
    """Load the media schema on `backend` and open it read-only: (database, writer)."""
    if backend == "sqlite":
        path = sqlite_dir / f"{name}.db"
        path.unlink(missing_ok=True)
        writer = create_media_database(f"sqlite:///{path}")
        return Database(path, timeout=timeout), writer
    if url is None:
        raise ValueError(f"no URL for {backend}")
    writer = create_media_database(url, schema=name)
    if backend == "postgresql":
        return Database(url, schema=name, timeout=timeout), writer
    own = make_url(url).set(database=name).render_as_string(hide_password=False)
    return Database(own, timeout=timeout), writer
