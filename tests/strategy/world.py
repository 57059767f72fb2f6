"""A small world with hand-made micro-genres and charts, for the strategy tests.

Four micro-genres: "Nordic Noir Shows" (4 titles, under-supplied and topping Brazil's charts),
"Big Comedies" (20 titles, charting in the US, a little in Brazil), "Family Dramas" (12 titles,
charting a little everywhere) and "Silent Films" (12 titles, never charting). Unmatched chart
entries ("Not In Catalog N") make coverage < 1.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection

from server.audiences.ingest import ingest_viewing_bytes
from server.catalog.ingest import merge_titles, validate_rows
from server.catalog.readers import RawRow
from server.catalog.records import RecordValidator
from server.embeddings.embedders import HashingEmbedder
from server.embeddings.pipeline import embed_catalog
from server.strategy.pipeline import rescore
from tests.audiences.charts import NAMES, country_tsv
from tests.helpers import title_record

NAMES.setdefault("BR", "Brazil")
NAMES.setdefault("PT", "Portugal")

WEEKS = (
    "2021-08-01",
    "2021-08-08",
    "2021-08-15",
    "2021-08-22",
    "2021-08-29",
    "2021-09-05",
    "2021-09-12",
    "2021-09-19",
)
GENRES = {
    "Nordic Noir Shows": ("Crime TV Shows", "noir", 4),
    "Big Comedies": ("Comedies", "comedy", 20),
    "Family Dramas": ("Dramas", "drama", 12),
    "Silent Films": ("Classic Movies", "silent", 12),
}


def build(conn: Connection) -> dict[str, int]:
    """Titles, micro-genres, embeddings and charts on a sync connection; returns micro-genre
    label -> id."""
    genre_ids = catalog(conn)
    embed_catalog(conn, HashingEmbedder())
    charts(conn)
    return genre_ids


async def abuild(aconn: AsyncConnection, embed: Callable[[], Awaitable[object]]) -> dict[str, int]:
    """``build`` inside the async test transaction (``embed``: the similarity tests' fixture)."""
    genre_ids = await aconn.run_sync(catalog)
    await embed()
    await aconn.run_sync(charts)
    return genre_ids


def catalog(conn: Connection) -> dict[str, int]:
    """Titles and micro-genres; returns micro-genre label -> id."""
    records = []
    for label, (genre, stem, n) in GENRES.items():
        for i in range(n):
            show = stem == "noir"
            records.append(
                title_record(
                    external_id=f"{stem}{i}",
                    name=f"{stem.title()} Story {i}",
                    kind="SHOW" if show else "MOVIE",
                    seasons=1 if show else None,
                    duration_minutes=None if show else 95,
                    genres=[genre],
                    origin_countries=["SE"] if show else ["US"],
                    synopsis=f"A {stem} tale number {i} about {label.lower()}.",
                )
            )
    batch = validate_rows((RawRow(i, r) for i, r in enumerate(records, start=1)), RecordValidator())
    assert not batch.rejected, batch.rejected
    # executemany: COPY needs a sync driver, and the GraphQL tests build this under run_sync.
    merge_titles(conn, batch.titles, use_copy=False)
    ids = dict(conn.execute(text("SELECT external_id, id FROM titles")).all())
    genre_ids: dict[str, int] = {}
    for label, (genre, stem, n) in GENRES.items():
        genre_ids[label] = conn.execute(
            text(
                "INSERT INTO micro_genres (label, parent_genre, size, top_tags) "
                "VALUES (:l, :p, :n, '[]') RETURNING id"
            ),
            {"l": label, "p": genre, "n": n},
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO title_micro_genres (title_id, micro_genre_id, is_primary, similarity) "
                "VALUES (:t, :g, true, :s)"
            ),
            [{"t": ids[f"{stem}{i}"], "g": genre_ids[label], "s": 0.9 - i / 100} for i in range(n)],
        )
    return genre_ids


def charts(conn: Connection) -> None:
    """Brazil, the US and Portugal's charts; scores and strategy are recomputed by the ingest."""
    rows: list[tuple[object, ...]] = []
    for w, week in enumerate(WEEKS):
        # Brazil: the Nordic shows top the TV chart (and rise), comedies and dramas below.
        rows += [("BR", week, "TV", r + 1, f"Noir Story {r}") for r in range(4)]
        rows += [("BR", week, "TV", 5 + r, f"Not In Catalog {r}") for r in range(3)]
        rows += [("BR", week, "Films", r + 1, f"Comedy Story {(r + w) % 20}") for r in range(2)]
        rows += [("BR", week, "Films", 3 + r, f"Drama Story {(r + w) % 12}") for r in range(3)]
        # The US: comedies on top; Portugal like Brazil but no noir.
        for region in ("US", "PT"):
            rows += [
                (region, week, "Films", r + 1, f"Comedy Story {(r + 2 * w) % 20}") for r in range(6)
            ]
            rows += [
                (region, week, "Films", 7 + r, f"Drama Story {(r + w) % 12}") for r in range(3)
            ]
    ingest_viewing_bytes(conn, country_tsv(rows), "top10-countries", rescore=rescore)
