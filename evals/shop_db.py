"""The second eval database: a bookshop chain with other naming habits than the demo's.

PascalCase tables and columns (`Book.PublishedYear`), quoted names with spaces
(`"Sale Line"`, `"Unit Price"`, `"Opened On"`), a self-reference (`Store.ParentStoreId`),
NULLs where a real catalogue has gaps (genre, birth year, discount, channel) and sales
from 2024-01-01 to 2025-06-30. A model that learnt the demo schema's snake_case by heart
fails here; one that reads the schema does not. Pure function of the seed.
"""

from __future__ import annotations

import os
import random
import sqlite3
from datetime import date, timedelta
from pathlib import Path
from typing import Any

SHOP_TABLES = ("Author", "Book", "Store", "Customer", "Sale", "Sale Line")
START, END = date(2024, 1, 1), date(2025, 6, 30)

DDL = """
CREATE TABLE "Author" (AuthorId INTEGER PRIMARY KEY, FullName TEXT NOT NULL,
  Country TEXT NOT NULL, BirthYear INTEGER);
CREATE TABLE "Book" (BookId INTEGER PRIMARY KEY, Title TEXT NOT NULL,
  AuthorId INTEGER NOT NULL REFERENCES "Author"(AuthorId), Genre TEXT,
  PublishedYear INTEGER NOT NULL, "List Price" NUMERIC(8, 2) NOT NULL);
CREATE TABLE "Store" (StoreId INTEGER PRIMARY KEY, StoreName TEXT NOT NULL, City TEXT NOT NULL,
  "Opened On" DATE NOT NULL, ParentStoreId INTEGER REFERENCES "Store"(StoreId));
CREATE TABLE "Customer" (CustomerId INTEGER PRIMARY KEY, DisplayName TEXT NOT NULL,
  IsMember INTEGER NOT NULL, JoinedOn DATE NOT NULL, HomeStoreId INTEGER REFERENCES "Store"(StoreId));
CREATE TABLE "Sale" (SaleId INTEGER PRIMARY KEY, StoreId INTEGER NOT NULL REFERENCES "Store"(StoreId),
  CustomerId INTEGER REFERENCES "Customer"(CustomerId), SaleDate DATE NOT NULL, Channel TEXT);
CREATE TABLE "Sale Line" (SaleLineId INTEGER PRIMARY KEY,
  SaleId INTEGER NOT NULL REFERENCES "Sale"(SaleId), BookId INTEGER NOT NULL REFERENCES "Book"(BookId),
  Qty INTEGER NOT NULL, "Unit Price" NUMERIC(8, 2) NOT NULL, DiscountPct NUMERIC(4, 1));
"""

_GENRES = ["Fiction", "Crime", "Science", "History", "Children", "Poetry", "Travel"]
_COUNTRIES = ["United Kingdom", "France", "Japan", "Nigeria", "Chile", "Canada", "Poland"]
_FIRST = ["Ada", "Bruno", "Chiamaka", "Dmitri", "Elena", "Fumiko", "Gabriel", "Hana", "Ivo",
          "Józef", "Kwame", "Léa", "Mateo", "Nadia", "Oskar"]
_LAST = ["Achebe", "Borges", "Carter", "Dupont", "Endo", "Fischer", "García Márquez", "Hughes",
         "Ito", "Jansen", "Kowalczyk", "O'Neill"]
_WORDS = ["River", "Night", "Garden", "Atlas", "Silent", "Glass", "Winter", "Harbour", "Map",
          "Letters", "Orchard", "Storm", "Lantern", "Mirror", "Tide"]
_STORES = [("Central Books", "London", "2015-03-01", None), ("Riverside", "London", "2019-06-15", 1),
           ("Old Town", "Edinburgh", "2017-09-01", None), ("Harbour Books", "Bristol", "2021-04-10", 3),
           ("Station Kiosk", "Manchester", "2024-09-01", 1)]


def generate(seed: int = 11) -> dict[str, list[Any]]:
    rng = random.Random(seed)
    authors = [(i + 1, f"{rng.choice(_FIRST)} {rng.choice(_LAST)}", rng.choice(_COUNTRIES),
                None if i % 6 == 5 else rng.randint(1930, 1995)) for i in range(30)]
    books = []
    for i in range(120):
        genre = None if i % 17 == 16 else rng.choice(_GENRES)
        books.append((i + 1, f"The {rng.choice(_WORDS)} {rng.choice(_WORDS)} {i + 1}",
                      rng.randint(1, 30), genre, rng.randint(1995, 2025),
                      round(rng.uniform(6, 45), 2)))
    stores = [(i + 1, *s) for i, s in enumerate(_STORES)]
    customers = [(i + 1, f"{rng.choice(_FIRST)} {rng.choice(_LAST)[0]}.", int(rng.random() < 0.4),
                  (START - timedelta(days=rng.randint(0, 900))).isoformat(),
                  None if rng.random() < 0.2 else rng.randint(1, 4)) for i in range(250)]
    days = [START + timedelta(days=d) for d in range((END - START).days + 1)]
    weights = [1.8 if d.month == 12 else 1.0 for d in days]
    sales: list[tuple[Any, ...]] = []
    lines: list[tuple[Any, ...]] = []
    for sid, day in enumerate(sorted(rng.choices(days, weights=weights, k=2200)), start=1):
        store = rng.choice([1, 1, 2, 3, 3, 4] + ([5, 5] if day >= date(2024, 9, 1) else []))
        sales.append((sid, store, None if rng.random() < 0.3 else rng.randint(1, 250),
                      day.isoformat(), None if rng.random() < 0.1 else
                      rng.choice(["In store", "In store", "Web", "Phone"])))
        for book in set(rng.choices(range(1, 121), k=rng.randint(1, 3))):
            price = books[book - 1][5]
            lines.append((len(lines) + 1, sid, book, rng.choice([1, 1, 1, 2, 3]),
                          round(price * rng.choice([1.0, 1.0, 0.9]), 2),
                          None if rng.random() < 0.7 else rng.choice([5.0, 10.0, 20.0])))
    return {"Author": authors, "Book": books, "Store": stores, "Customer": customers,
            "Sale": sales, "Sale Line": lines}


def create_shop_database(path: str | os.PathLike[str], *, seed: int = 11) -> dict[str, int]:
    """(Re)create the bookshop SQLite database at `path`; returns rows per table."""
    path = Path(path)
    if path.exists():
        path.unlink()
    rows = generate(seed)
    conn = sqlite3.connect(path)
    try:
        conn.executescript(DDL)
        for table in SHOP_TABLES:
            width = len(rows[table][0])
            conn.executemany(f'INSERT INTO "{table}" VALUES ({", ".join("?" * width)})',
                             rows[table])
        conn.commit()
    finally:
        conn.close()
    return {table: len(r) for table, r in rows.items()}
