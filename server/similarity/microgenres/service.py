"""Read queries over micro-genres and the similarity map (the GraphQL layer calls these), and
``cluster_features``, the facet weighting content strategy clusters with too."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import BigInteger, and_, cast, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from server.catalog.service import TITLE_COLUMNS, TitleColumns, TitleFilter, as_title, title_columns
from server.catalog.service import filter_titles as filtered
from server.kit.batching import lists_by_key
from server.kit.errors import BadInput
from server.kit.pagination import check_first
from server.models.catalog import Title
from server.models.embeddings import TitleEmbedding
from server.models.similarity import MicroGenre, TitleMicroGenre, TitlePosition
from server.similarity.microgenres.clustering import cluster_features as cluster_features

MAX_MAP_NODES = 2000
MAX_MAP_NEIGHBOURS = 20
MAX_GENRE_TITLES = 100


@dataclass(frozen=True)
class MicroGenreRow:
    id: int
    label: str
    parent_genre: str | None
    size: int
    top_tags: list[dict[str, Any]]


@dataclass(frozen=True)
class MicroGenrePage:
    rows: list[MicroGenreRow]
    has_next: bool
    total: int


def _row(mg: MicroGenre) -> MicroGenreRow:
    return MicroGenreRow(mg.id, mg.label, mg.parent_genre, mg.size, list(mg.top_tags or []))


async def list_micro_genres(
    session: AsyncSession, first: int, after_id: int | None, min_size: int | None
) -> MicroGenrePage:
    """A keyset page ordered by size (largest first), then id; ``after_id`` is the last
    micro-genre of the previous page and must still exist (a re-cluster replaces them all)."""
    where = [MicroGenre.size >= min_size] if min_size is not None else []
    stmt = select(MicroGenre).where(*where).order_by(MicroGenre.size.desc(), MicroGenre.id)
    if after_id is not None:
        after_size = await session.scalar(select(MicroGenre.size).where(MicroGenre.id == after_id))
        if after_size is None:
            raise BadInput(
                "the cursor's micro-genre no longer exists (micro-genres were rebuilt): "
                "start again without `after`",
                field="after",
            )
        stmt = stmt.where(
            or_(
                MicroGenre.size < after_size,
                and_(MicroGenre.size == after_size, MicroGenre.id > after_id),
            )
        )
    rows = list((await session.scalars(stmt.limit(first + 1))).all()) if first > 0 else []
    total = await session.scalar(select(func.count(MicroGenre.id)).where(*where))
    return MicroGenrePage([_row(r) for r in rows[:first]], len(rows) > first, int(total or 0))


async def micro_genres_by_ids(
    session: AsyncSession, ids: Sequence[int]
) -> list[MicroGenreRow | None]:
    # `= ANY(array)`: one placeholder whatever the batch; `IN (...)` renders one per id, and a
    # 220-id statement is too long for psycopg's parse cache (~75 ms to re-parse per request).
    rows = await session.scalars(
        select(MicroGenre).where(MicroGenre.id == func.any(cast(list(ids), ARRAY(BigInteger))))
    )
    by_id = {r.id: _row(r) for r in rows}
    return [by_id.get(i) for i in ids]


async def micro_genres_of_titles(
    session: AsyncSession, title_ids: Sequence[int]
) -> list[list[MicroGenreRow]]:
    """Each title's micro-genres: the primary one first, then by similarity."""
    rows = await session.execute(
        select(TitleMicroGenre.title_id, MicroGenre)
        .join(MicroGenre, MicroGenre.id == TitleMicroGenre.micro_genre_id)
        .where(TitleMicroGenre.title_id.in_(title_ids))
        .order_by(
            TitleMicroGenre.title_id,
            TitleMicroGenre.is_primary.desc(),
            TitleMicroGenre.similarity.desc(),
            MicroGenre.id,
        )
    )
    return lists_by_key(((t, _row(mg)) for t, mg in rows), title_ids)


async def titles_of_micro_genres(
    session: AsyncSession, micro_genre_ids: Sequence[int], first: int
) -> dict[int, list[Title]]:
    """Up to ``first`` primary members of each micro-genre, most typical (closest to the
    centroid) first; one statement for all of them."""
    if first <= 0 or not micro_genre_ids:
        return {}
    ranked = (
        select(
            TitleMicroGenre.title_id,
            TitleMicroGenre.micro_genre_id,
            func.row_number()
            .over(
                partition_by=TitleMicroGenre.micro_genre_id,
                order_by=(TitleMicroGenre.similarity.desc(), TitleMicroGenre.title_id),
            )
            .label("rank"),
        )
        .where(TitleMicroGenre.micro_genre_id.in_(micro_genre_ids), TitleMicroGenre.is_primary)
        .subquery()
    )
    rows = await session.execute(
        select(ranked.c.micro_genre_id, Title)
        .join(Title, Title.id == ranked.c.title_id)
        .where(ranked.c.rank <= first)
        .order_by(ranked.c.micro_genre_id, ranked.c.rank)
    )
    grouped: dict[int, list[Title]] = defaultdict(list)
    for micro_genre_id, title in rows:
        grouped[micro_genre_id].append(title)
    return grouped


# --- the similarity map ----------------------------------------------------------------------


@dataclass(frozen=True)
class MapNode:
    title: TitleColumns
    x: float
    y: float
    micro_genre_id: int | None


@dataclass(frozen=True)
class MapEdge:
    source: int
    target: int
    score: float


@dataclass(frozen=True)
class SimilarityMap:
    nodes: list[MapNode]
    edges: list[MapEdge]


def check_map_args(first: int, k: int) -> None:
    check_first(first, MAX_MAP_NODES)
    check_first(k, MAX_MAP_NEIGHBOURS, minimum=0, field="k")


async def similarity_map(
    session: AsyncSession,
    flt: TitleFilter | None,
    first: int,
    k: int,
    *,
    after: int | None = None,
    columns: Collection[str] = TITLE_COLUMNS,
) -> SimilarityMap:
    """Up to ``first`` positioned titles matching the filter (by id, those past ``after``: a
    client reads a catalog larger than a page in pages), and each one's ``k`` nearest
    neighbours among them by the inner product of ``combined`` vectors (exact, in numpy over
    at most ``MAX_MAP_NODES`` vectors: bounded, and no index scan to tune). The titles are
    plain rows of the ``columns`` asked for (``id`` always), read through the session's
    connection: a 2,000-title page spent about 70 of its 160 ms of CPU building ORM
    instances."""
    check_map_args(first, k)
    cols = title_columns(columns)
    primary = (
        select(TitleMicroGenre.title_id, TitleMicroGenre.micro_genre_id)
        .where(TitleMicroGenre.is_primary)
        .subquery()
    )
    stmt = (
        filtered(
            select(
                *(getattr(Title, c) for c in cols),
                TitlePosition.x,
                TitlePosition.y,
                primary.c.micro_genre_id,
            )
            .join(TitlePosition, TitlePosition.title_id == Title.id)
            .outerjoin(primary, primary.c.title_id == Title.id),
            flt,
        )
        .order_by(Title.id)
        .limit(first)
    )
    if after is not None:
        stmt = stmt.where(Title.id > after)
    connection = await session.connection()
    end = len(cols)
    nodes = [
        MapNode(as_title(row, cols), float(row[end]), float(row[end + 1]), row[end + 2])
        for row in await connection.execute(stmt)
    ]
    if k == 0 or len(nodes) < 2:
        return SimilarityMap(nodes, [])
    ids = [n.title.id for n in nodes]
    vectors = await connection.execute(
        select(TitleEmbedding.title_id, TitleEmbedding.combined).where(
            TitleEmbedding.title_id.in_(ids)
        )
    )
    found = {tid: np.asarray(vec, dtype=np.float32) for tid, vec in vectors}
    embedded = [tid for tid in ids if tid in found]
    return SimilarityMap(nodes, nearest_edges(embedded, [found[t] for t in embedded], k))


def nearest_edges(ids: Sequence[int], vectors: Sequence[np.ndarray], k: int) -> list[MapEdge]:
    """Each id's ``k`` nearest others by inner product, best first (ties by id)."""
    if len(ids) < 2 or k <= 0:
        return []
    matrix = np.stack(vectors).astype(np.float32)
    scores = matrix @ matrix.T
    np.fill_diagonal(scores, -np.inf)
    k = min(k, len(ids) - 1)
    edges = []
    for row, source in enumerate(ids):
        best = np.argpartition(-scores[row], k - 1)[:k]
        for col in sorted(best, key=lambda c: (-scores[row, c], ids[c])):
            edges.append(MapEdge(source, ids[col], float(scores[row, col])))
    return edges
