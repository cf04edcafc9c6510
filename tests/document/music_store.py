"""A second sample schema the demo generator did not make: a music store with other naming
habits - PascalCase tables and columns, a table name with a space (`"Media Type"`),
DATETIME text with a time part (`2021-03-14 00:00:00`), money as NUMERIC(10,2).

Deterministic (`random.Random(seed)`), SQLite only; used by the consistency corpus.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import date, timedelta
from pathlib import Path

GENRES = ["Rock", "Jazz", "Metal", "Alternative & Punk", "Latin", "Blues", "Classical",
          "Hip Hop/Rap"]
COUNTRIES = ["USA", "Canada", "France", "Brazil", "Germany", "United Kingdom", "Czech Republic",
             "Portugal", "India", "Chile"]
MEDIA = ["MPEG audio file", "Protected AAC audio file", "AAC audio file"]

_DDL = """
CREATE TABLE Genre (GenreId INTEGER PRIMARY KEY, Name NVARCHAR(120));
CREATE TABLE "Media Type" (MediaTypeId INTEGER PRIMARY KEY, Name NVARCHAR(120));
CREATE TABLE Track (TrackId INTEGER PRIMARY KEY, Name NVARCHAR(200) NOT NULL,
    GenreId INTEGER REFERENCES Genre(GenreId), MediaTypeId INTEGER REFERENCES "Media Type",
    Milliseconds INTEGER NOT NULL, UnitPrice NUMERIC(10,2) NOT NULL);
CREATE TABLE Customer (CustomerId INTEGER PRIMARY KEY, FirstName NVARCHAR(40) NOT NULL,
    LastName NVARCHAR(20) NOT NULL, Country NVARCHAR(40));
CREATE TABLE Invoice (InvoiceId INTEGER PRIMARY KEY, CustomerId INTEGER NOT NULL
    REFERENCES Customer(CustomerId), InvoiceDate DATETIME NOT NULL,
    BillingCountry NVARCHAR(40), Total NUMERIC(10,2) NOT NULL);
CREATE TABLE InvoiceLine (InvoiceLineId INTEGER PRIMARY KEY, InvoiceId INTEGER NOT NULL
    REFERENCES Invoice(InvoiceId), TrackId INTEGER NOT NULL REFERENCES Track(TrackId),
    UnitPrice NUMERIC(10,2) NOT NULL, Quantity INTEGER NOT NULL);
"""


def create_music_store(path: str | Path, seed: int = 3) -> Path:
    """Write the music store into a new SQLite file at `path`."""
    rng = random.Random(seed)
    path = Path(path)
    con = sqlite3.connect(path)
    try:
        con.executescript(_DDL)
        con.executemany("INSERT INTO Genre VALUES (?, ?)", list(enumerate(GENRES, 1)))
        con.executemany('INSERT INTO "Media Type" VALUES (?, ?)', list(enumerate(MEDIA, 1)))
        weights = [1 / (i + 1) ** 0.9 for i in range(len(GENRES))]
        tracks = []
        for tid in range(1, 401):
            genre = rng.choices(range(1, len(GENRES) + 1), weights)[0]
            price = 1.99 if rng.random() < 0.1 else 0.99
            tracks.append((tid, f"Track {tid}", genre, rng.randint(1, 3),
                           rng.randint(120_000, 420_000), price))
        con.executemany("INSERT INTO Track VALUES (?, ?, ?, ?, ?, ?)", tracks)
        customers = [(cid, f"First{cid}", f"Last{cid}",
                      rng.choices(COUNTRIES, [1 / (i + 1) ** 0.8 for i in range(len(COUNTRIES))])[0])
                     for cid in range(1, 60)]
        con.executemany("INSERT INTO Customer VALUES (?, ?, ?, ?)", customers)
        _invoices(con, rng, customers, tracks)
        con.commit()
    finally:
        con.close()
    return path


def _invoices(con: sqlite3.Connection, rng: random.Random, customers: list[tuple],
              tracks: list[tuple]) -> None:
    start = date(2021, 1, 1)
    line_id = 1
    for iid in range(1, 700):
        day = start + timedelta(days=int(rng.triangular(0, 729, 600)))
        customer = rng.choice(customers)
        lines = []
        for track in rng.sample(tracks, rng.randint(1, 6)):
            lines.append((line_id, iid, track[0], track[5], rng.choice([1, 1, 1, 2])))
            line_id += 1
        total = round(sum(p * q for *_, p, q in lines), 2)
        con.execute("INSERT INTO Invoice VALUES (?, ?, ?, ?, ?)",
                    (iid, customer[0], f"{day.isoformat()} 00:00:00", customer[3], total))
        con.executemany("INSERT INTO InvoiceLine VALUES (?, ?, ?, ?, ?)", lines)
