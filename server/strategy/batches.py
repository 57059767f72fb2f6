"""Batched reads of the strategy feature for the GraphQL loaders: stored demand scores,
audience comparables, travelability, typical titles of a parent genre, light micro-genre rows.
Every function takes a list of keys and returns one result per key, in order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from server.kit.batching import grouped, lists_by_key
from server.similarity.microgenres.service import MicroGenreRow
from server.strategy.service import NO_GENRE

# --- titles: demand, comparables; micro-genres: travelability ----------------------------------


@dataclass(frozen=True)
class TitleDemand:
    region_code: str
    points: int
    score: float
    percentile: float | None


@dataclass(frozen=True)
class Comparable:
    title_id: int
    overlap: float


@dataclass(frozen=True)
class Travel:
    share: float
    low: float
    high: float
    titles: int
    points: int


async def demand_of_titles(
    session: AsyncSession, keys: Sequence[tuple[int, str]]
) -> list[TitleDemand | None]:
    """Batch: (title id, region code) -> stored demand (None when it never charted there)."""
    rows = await session.execute(
        text(
            "SELECT title_id, region_code, points, score, percentile FROM title_demand "
            "WHERE title_id = ANY(:t) AND region_code = ANY(:r)"
        ),
        {"t": sorted({t for t, _ in keys}), "r": sorted({r for _, r in keys})},
    )
    found = {
        (int(r.title_id), str(r.region_code)): TitleDemand(
            str(r.region_code),
            int(r.points),
            float(r.score),
            None if r.percentile is None else float(r.percentile),
        )
        for r in rows
    }
    return [found.get(k) for k in keys]


async def comparables_of_titles(
    session: AsyncSession, title_ids: Sequence[int]
) -> list[list[Comparable]]:
    rows = await session.execute(
        text(
            "SELECT title_id, comparable_id, overlap FROM audience_comparables "
            "WHERE title_id = ANY(:t) ORDER BY title_id, rank"
        ),
        {"t": list(title_ids)},
    )
    return lists_by_key(
        ((int(r.title_id), Comparable(int(r.comparable_id), float(r.overlap))) for r in rows),
        title_ids,
    )


async def travelability_of_micro_genres(
    session: AsyncSession, ids: Sequence[int]
) -> list[Travel | None]:
    rows = await session.execute(
        text(
            "SELECT micro_genre_id, share, low, high, titles, points "
            "FROM micro_genre_travelability WHERE micro_genre_id = ANY(:ids)"
        ),
        {"ids": list(ids)},
    )
    found = {
        int(r.micro_genre_id): Travel(
            float(r.share), float(r.low), float(r.high), int(r.titles), int(r.points)
        )
        for r in rows
    }
    return [found.get(i) for i in ids]


async def micro_genre_heads(session: AsyncSession, ids: Sequence[int]) -> list[MicroGenreRow]:
    """Micro-genres without their ``top_tags`` (empty): for lists that do not select them
    (decoding 220 ``top_tags`` documents cost ~15 ms per `contentGaps` response)."""
    rows = await session.execute(
        text("SELECT id, label, parent_genre, size FROM micro_genres WHERE id = ANY(:ids)"),
        {"ids": list(ids)},
    )
    return [MicroGenreRow(int(r.id), str(r.label), r.parent_genre, int(r.size), []) for r in rows]


async def catalog_examples(
    session: AsyncSession, keys: Sequence[tuple[str, int]]
) -> list[list[int]]:
    """Batch: (parent genre, first) -> the titles of its micro-genres most typical of them
    (primary members, highest centroid similarity first)."""
    genres = sorted({g for g, _ in keys})
    depth = max((f for _, f in keys), default=0)
    rows = await session.execute(
        text(
            "SELECT genre, title_id FROM (SELECT coalesce(g.parent_genre, :none) AS genre, "
            "m.title_id, row_number() OVER (PARTITION BY coalesce(g.parent_genre, :none) "
            "ORDER BY m.similarity DESC, m.title_id) AS n "
            "FROM title_micro_genres m JOIN micro_genres g ON g.id = m.micro_genre_id "
            "WHERE m.is_primary AND coalesce(g.parent_genre, :none) = ANY(:g)) x "
            "WHERE n <= :depth ORDER BY genre, n"
        ),
        {"g": genres, "depth": depth, "none": NO_GENRE},
    )
    by_genre = grouped((str(r.genre), int(r.title_id)) for r in rows)
    return [by_genre.get(g, [])[:f] for g, f in keys]
