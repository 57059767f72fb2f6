"""Similar titles and title search: the only place their SQL is built.

Similar titles rank by the weighted mean of four facet cosines (synopsis, tags, metadata,
people). The stored ``combined`` vector is ``concat(synopsis, tags, metadata, people) / 2`` of
unit facets (a zero people facet for a title that shares nobody), so the query
``combined(source) * scale(weights)`` (element-wise, built in SQL) equals ``weighted_query`` of
the source's facets, and its inner product with a neighbour's ``combined`` is exactly that
weighted mean: one HNSW index (``vector_ip_ops``) serves every choice of weights, and a batch of
sources is one statement (a LATERAL join per source). The people score is the inner product of
the people facets (their cosine, and 0 when either title shares nobody).

Filters are applied inside the nearest-neighbour scan. With pgvector's iterative index scans
(``hnsw.iterative_scan = relaxed_order``) the scan keeps going until ``first`` rows pass the
filter, so a selective filter still fills the page; relaxed order means rows can come back
slightly out of order, so the outer query sorts by score again.

Search fuses two ranked lists: keyword (Postgres full text over name and synopsis, plus
trigram word similarity on the name so typos still match) and semantic (the query embedded by
the configured embedder against each title's text vector); HYBRID is their reciprocal-rank
fusion.
"""

from __future__ import annotations

import asyncio
import enum
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import numpy as np
from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    Select,
    Subquery,
    Text,
    any_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, REAL, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from server.catalog.service import (
    TITLE_COLUMNS,
    TitleColumns,
    TitleFilter,
    as_title,
    hashable_filter,
    title_columns,
)
from server.catalog.service import filter_titles as filtered
from server.config import EmbedderName
from server.embeddings.embedders import Embedder, get_embedder
from server.embeddings.facets import DEFAULT_WEIGHTS, FACETS, FacetWeights
from server.kit import pagination
from server.kit.errors import BadInput, NotFound
from server.kit.text import websearch_text
from server.models.catalog import Credit, CreditRole, Person, Tag, TagKind, Title, TitleTag
from server.models.dims import (
    COMBINED_DIM,
    METADATA_DIM,
    PEOPLE_DIM,
    SYNOPSIS_DIM,
    TAGS_DIM,
    TEXT_DIM,
)
from server.models.embeddings import TitleEmbedding
from server.models.similarity import TitleComparable

MAX_FIRST = 500
RRF_K = 60
"""Reciprocal-rank fusion constant: a hit ranked r in a list scores 1 / (RRF_K + r)."""
MIN_DEPTH = 50
"""Each list feeding the fusion is fetched at least this deep (and at least 3 * first)."""
MAX_QUERY_LENGTH = 500


class SimilarityMode(enum.StrEnum):
    CONTENT = "CONTENT"
    COMPARABLES = "COMPARABLES"


class SearchMode(enum.StrEnum):
    KEYWORD = "KEYWORD"
    SEMANTIC = "SEMANTIC"
    HYBRID = "HYBRID"


@dataclass(frozen=True)
class FacetScores:
    synopsis: float
    tags: float
    metadata: float
    people: float


@dataclass(frozen=True)
class SharedTag:
    kind: TagKind
    name: str
    weight: float
    """The weaker of the two titles' weights: how strongly the tag applies to both."""


@dataclass(frozen=True)
class SharedPerson:
    name: str
    roles: list[CreditRole]
    """The roles the person has in both titles (cast, director), or in either when none is
    common to both."""
    weight: float
    """The name's idf in the catalog, ``log(titles / titles crediting the name)``: a name on
    few titles says more than one on many."""


@dataclass(frozen=True)
class Neighbour:
    title: TitleColumns
    score: float
    facets: FacetScores | None
    """None unless asked for (``explain``), as ``shared_tags`` and ``shared_people``."""
    shared_tags: list[SharedTag] | None
    shared_people: list[SharedPerson] | None


@dataclass(frozen=True)
class SearchHit:
    title: Title
    score: float
    keyword_rank: int | None
    semantic_rank: int | None


class TitleNotEmbedded(NotFound):
    def __init__(self, title_id: int) -> None:
        super().__init__(
            f"title {title_id} has no embedding yet: run `contentintel embed`", field="titleId"
        )


class NoComparables(NotFound):
    def __init__(self, title_id: int) -> None:
        super().__init__(
            f"title {title_id} has no learned comparables vector: run `contentintel "
            "comparables` (after `contentintel embed` and a Top 10 ingest)",
            field="titleId",
        )


def check_first(first: int | None, default: int = 10) -> int:
    """``first`` of similar titles and search: 1..``MAX_FIRST`` (``server.kit.pagination``)."""
    return pagination.check_first(first, MAX_FIRST, default=default)


# --- similar titles -----------------------------------------------------------------------------


_BLOCKS = (
    ("w_synopsis", SYNOPSIS_DIM),
    ("w_tags", TAGS_DIM),
    ("w_metadata", METADATA_DIM),
    ("w_people", PEOPLE_DIM),
)


def facet_factors(weights: FacetWeights) -> tuple[float, float, float, float]:
    """Per-facet factors turning a stored ``combined`` vector into the weighted query.

    ``combined`` holds each unit facet divided by sqrt(4); ``weighted_query`` holds it times
    ``w * sqrt(4) / sum(w)``: the factor for a facet block is ``4 * w / sum(w)``.
    """
    factor = FACETS / weights.total
    return (
        weights.synopsis * factor,
        weights.tags * factor,
        weights.metadata * factor,
        weights.people * factor,
    )


def weight_scale(weights: FacetWeights) -> np.ndarray[Any, np.dtype[np.float32]]:
    """The element-wise scale vector the SQL builds from ``facet_factors``."""
    blocks = zip(facet_factors(weights), (dim for _, dim in _BLOCKS), strict=True)
    return np.concatenate([np.full(dim, f, dtype=np.float32) for f, dim in blocks])


def _scale_vector() -> Any:
    """``weight_scale`` built in SQL from four parameters (cheaper than binding 1024 floats)."""

    def block(name: str, dim: int) -> Any:
        return func.array_fill(bindparam(name, type_=REAL), literal_column(f"ARRAY[{dim}]"))

    blocks = [block(name, dim) for name, dim in _BLOCKS]
    joined = func.array_cat(func.array_cat(blocks[0], blocks[1]), func.array_cat(*blocks[2:]))
    return cast(joined, Vector(COMBINED_DIM))


def similar_params(ids: Sequence[int], first: int, weights: FacetWeights) -> dict[str, Any]:
    """Execution parameters of ``similar_statement``."""
    factors = facet_factors(weights)
    return {
        "ids": list(ids),
        "first": first,
        **{name: factor for (name, _), factor in zip(_BLOCKS, factors, strict=True)},
    }


@lru_cache(maxsize=256)
def similar_statement(
    flt: TitleFilter | None,
    mode: SimilarityMode = SimilarityMode.CONTENT,
    explain: bool = True,
    columns: tuple[str, ...] = TITLE_COLUMNS,
) -> Select[Any]:
    """Rows ``(source_id, score, title columns, [synopsis, tags, metadata, people scores,
    shared tags, shared people])``: the facet scores and shared tags and people only when
    ``explain`` (they cost about 0.7x the nearest-neighbour scan itself on the real catalog),
    the neighbour's ``columns`` only (``title_columns``: ``id`` first, always).

    Built once per filter, mode, explain and columns (building this statement costs more than
    running it); sources, ``first`` and weights are bind parameters (``similar_params``).
    Public so that bench/similarity.py can time the very same SQL through plain psycopg.

    CONTENT ranks by the weighted facet score (``combined``, inner product HNSW); COMPARABLES
    by the cosine of the learned comparables vectors (``title_comparables``, cosine HNSW: the
    predicted audience overlap), the facet scores still given as the explanation.
    """
    source = aliased(TitleEmbedding, name="source")
    source_comparable = aliased(TitleComparable, name="source_comparable")
    source_columns = [
        source.title_id.label("source_id"),
        source.combined.op("*", return_type=Vector(COMBINED_DIM))(_scale_vector()).label("q"),
        source.synopsis,
        source.tags,
        source.metadata_.label("metadata"),
        source.people,
    ]
    base = select(*source_columns)
    if mode is SimilarityMode.COMPARABLES:
        base = select(*source_columns, source_comparable.vector.label("audience")).join(
            source_comparable, source_comparable.title_id == source.title_id
        )
    src = base.where(source.title_id == any_(bindparam("ids", type_=ARRAY(BigInteger)))).subquery(
        "src"
    )
    e = aliased(TitleEmbedding, name="e")
    if mode is SimilarityMode.COMPARABLES:
        c = aliased(TitleComparable, name="c")
        distance = c.vector.cosine_distance(src.c.audience)
        score = 1 - distance
        candidates = select(c.title_id.label("title_id")).join(e, e.title_id == c.title_id)
    else:
        distance = e.combined.max_inner_product(src.c.q)  # negative inner product
        score = -distance
        candidates = select(e.title_id.label("title_id"))
    facets = (
        (1 - e.synopsis.cosine_distance(src.c.synopsis)).label("synopsis_score"),
        (1 - e.tags.cosine_distance(src.c.tags)).label("tags_score"),
        (1 - e.metadata_.cosine_distance(src.c.metadata)).label("metadata_score"),
        (-e.people.max_inner_product(src.c.people)).label("people_score"),
    )
    nearest = candidates.add_columns(score.label("score"), *(facets if explain else ()))
    if flt is not None:
        # the filter's conditions read the title; every embedding has one (a foreign key),
        # so without a filter the join would only cost a lookup per neighbour
        nearest = filtered(nearest.join(Title, Title.id == e.title_id), flt)
    nearest_lateral = (
        nearest.where(e.title_id != src.c.source_id)
        .order_by(distance)
        .limit(bindparam("first", type_=Integer))
        .correlate(src)
        .lateral("n")
    )

    mine, theirs = aliased(TitleTag, name="mine"), aliased(TitleTag, name="theirs")
    shared_weight = func.least(mine.weight, theirs.weight)
    shared = (
        select(
            func.json_agg(
                aggregate_order_by(
                    func.json_build_array(Tag.kind, Tag.name, shared_weight),
                    shared_weight.desc(),
                    Tag.kind,
                    Tag.name,
                )
            )
        )
        .select_from(mine)
        .join(theirs, theirs.tag_id == mine.tag_id)
        .join(Tag, Tag.id == mine.tag_id)
        .where(mine.title_id == src.c.source_id, theirs.title_id == nearest_lateral.c.title_id)
        .scalar_subquery()
    )
    shared_people = _shared_people(src.c.source_id, nearest_lateral.c.title_id)
    neighbour = aliased(Title, name="t")
    explanation = (
        (
            nearest_lateral.c.synopsis_score,
            nearest_lateral.c.tags_score,
            nearest_lateral.c.metadata_score,
            nearest_lateral.c.people_score,
            shared.label("shared_tags"),
            shared_people.label("shared_people"),
        )
        if explain
        else ()
    )
    return (
        select(
            src.c.source_id,
            nearest_lateral.c.score,
            *(getattr(neighbour, key).label(key) for key in columns),
            *explanation,
        )
        .select_from(src)
        .outerjoin(nearest_lateral, true())
        .outerjoin(neighbour, neighbour.id == nearest_lateral.c.title_id)
        # Relaxed-order scans may return rows slightly out of order: sort again.
        .order_by(src.c.source_id, nearest_lateral.c.score.desc(), nearest_lateral.c.title_id)
    )


def _shared_people(source_id: Any, neighbour_id: Any) -> Any:
    """JSON ``[[name, [roles in the source], [roles in the neighbour], idf]]`` of the people
    credited on both titles, highest idf first (then name); idf over the catalog as in the
    people facet."""
    mine, theirs, anyone = (
        aliased(Credit, name="my_credit"),
        aliased(Credit, name="their_credit"),
        aliased(Credit, name="any_credit"),
    )
    both = (
        select(
            mine.person_id.label("person_id"),
            func.array_agg(func.distinct(mine.role)).label("mine"),
            func.array_agg(func.distinct(theirs.role)).label("theirs"),
        )
        .join(theirs, theirs.person_id == mine.person_id)
        .where(mine.title_id == source_id, theirs.title_id == neighbour_id)
        .group_by(mine.person_id)
        # The source and the neighbour come from the enclosing statement: never from here.
        .correlate_except(mine, theirs)
        .subquery("both_people")
    )
    titles = select(func.count()).select_from(Title).scalar_subquery()
    df = (
        select(func.count(func.distinct(anyone.title_id)))
        .where(anyone.person_id == both.c.person_id)
        .scalar_subquery()
    )
    idf = func.ln(cast(titles, Float) / df)
    return (
        select(
            func.json_agg(
                aggregate_order_by(
                    func.json_build_array(Person.name, both.c.mine, both.c.theirs, idf),
                    idf.desc(),
                    Person.name,
                )
            )
        )
        .select_from(both)
        .join(Person, Person.id == both.c.person_id)
        .scalar_subquery()
    )


def _roles(mine: Sequence[str], theirs: Sequence[str]) -> list[CreditRole]:
    common = set(mine) & set(theirs)
    return sorted(CreditRole(r) for r in (common or set(mine) | set(theirs)))


def _cosine(value: float) -> float:
    """A cosine computed in float32, clamped to [-1, 1] (identical vectors give 1.0000001)."""
    return min(1.0, max(-1.0, float(value)))


async def similar_for_titles(
    session: AsyncSession,
    ids: Sequence[int],
    first: int,
    flt: TitleFilter | None = None,
    weights: FacetWeights = DEFAULT_WEIGHTS,
    mode: SimilarityMode = SimilarityMode.CONTENT,
    *,
    explain: bool = True,
    columns: Collection[str] = TITLE_COLUMNS,
) -> dict[int, list[Neighbour]]:
    """The ``first`` nearest titles of each source, best first, in one statement.

    Sources without an embedding (or, in COMPARABLES mode, a comparables vector) and unknown
    ids are absent from the result; a source with one but no neighbour passing the filter maps
    to an empty list. ``weights`` only shape the facet scores' weighted mean in CONTENT mode.
    Facet scores, shared tags and shared people only when ``explain``; the neighbours'
    ``columns`` only (others are None).
    """
    check_first(first)
    if not ids:
        return {}
    cols = title_columns(columns)
    connection = await session.connection()
    rows = await connection.execute(
        similar_statement(hashable_filter(flt), mode, explain, cols),
        similar_params(ids, first, weights),
    )
    found: dict[int, list[Neighbour]] = defaultdict(list)
    end = 2 + len(cols)
    for row in rows:
        bucket = found[row[0]]
        if row[2] is None:  # an embedded source with no neighbour (LEFT JOIN LATERAL)
            continue
        facets, shared, people = None, None, None
        if explain:
            synopsis, tags, metadata, people_score, shared_tags, shared_people = row[end:]
            facets = FacetScores(
                _cosine(synopsis), _cosine(tags), _cosine(metadata), _cosine(people_score)
            )
            shared = [SharedTag(TagKind(k), n, float(w)) for k, n, w in shared_tags or ()]
            people = [
                SharedPerson(n, _roles(mine, theirs), float(w))
                for n, mine, theirs, w in shared_people or ()
            ]
        bucket.append(
            Neighbour(as_title(row[2:end], cols), _cosine(row[1]), facets, shared, people)
        )
    return dict(found)


async def similar_titles(
    session: AsyncSession,
    title_id: int,
    first: int,
    flt: TitleFilter | None = None,
    weights: FacetWeights = DEFAULT_WEIGHTS,
    mode: SimilarityMode = SimilarityMode.CONTENT,
    *,
    explain: bool = True,
    columns: Collection[str] = TITLE_COLUMNS,
) -> list[Neighbour]:
    """Titles nearest to ``title_id``; ``NotFound`` when it does not exist, is not embedded
    or (COMPARABLES) has no comparables vector."""
    found = await similar_for_titles(
        session, [title_id], first, flt, weights, mode, explain=explain, columns=columns
    )
    if title_id in found:
        return found[title_id]
    exists = await session.scalar(select(Title.id).where(Title.id == title_id))
    if exists is None:
        raise NotFound(f"no title with id {title_id}", field="titleId")
    embedded = await session.scalar(
        select(TitleEmbedding.title_id).where(TitleEmbedding.title_id == title_id)
    )
    if embedded is None:
        raise TitleNotEmbedded(title_id)
    raise NoComparables(title_id)


# --- search -------------------------------------------------------------------------------------


@cache
def query_embedder(name: EmbedderName) -> Embedder:
    """One embedder per process and setting (loading MiniLM takes seconds)."""
    return get_embedder(name)


async def embed_query(name: EmbedderName, query: str) -> tuple[str, np.ndarray[Any, Any]]:
    """(embedder name, unit vector) of a search query; the model runs in a worker thread."""
    embedder = await asyncio.to_thread(query_embedder, name)
    matrix = await asyncio.to_thread(embedder.embed, [query])
    return embedder.name, matrix[0]


def clean_query(query: str) -> str:
    cleaned = " ".join(query.split())
    if not cleaned:
        raise BadInput("query must not be empty", field="query")
    if len(cleaned) > MAX_QUERY_LENGTH:
        raise BadInput(f"query must be at most {MAX_QUERY_LENGTH} characters", field="query")
    return cleaned


def search_depth(first: int) -> int:
    """How deep each ranked list is fetched before fusion."""
    return max(MIN_DEPTH, 3 * first)


def _ranked(inner: Select[Any], name: str) -> Subquery:
    """(id, score, rank) from a subquery of (id, score); ranks are 1-based, best first."""
    sub = inner.subquery(f"{name}_rows")
    return select(
        sub.c.id,
        sub.c.score,
        func.row_number().over(order_by=(sub.c.score.desc(), sub.c.id)).label("rank"),
    ).subquery(name)


_QUERY = bindparam("query", type_=Text)
_WEB_QUERY = bindparam("web_query", type_=Text)
_DEPTH = bindparam("depth", type_=Integer)


def _keyword_list(flt: TitleFilter | None) -> Select[Any]:
    """Full-text matches on name and synopsis plus trigram fuzzy matches on the name.

    Score = name score + text score / 2. The name score (0..1, 1 for the exact name) is the mean
    of the trigram word similarity (the query is found inside the name, typos allowed) and the
    whole-name similarity (an exact name beats a longer one containing it); it counts only for
    names above the word-similarity threshold. The text score is the full-text rank scaled into
    0..1 (``ts_rank`` normalisation 32), halved so that a longer name containing the query and
    repeating it in its synopsis does not beat the exact name. A near-exact name ranks first,
    typos still match, and synopsis-only matches follow by full-text rank.
    """
    tsquery = func.websearch_to_tsquery(literal_column("'english'::regconfig"), _WEB_QUERY)
    text_match = Title.search_vector.op("@@")(tsquery)
    name_match = _QUERY.op("<%")(Title.name)  # word_similarity >= threshold: GIN trigram index
    name_score = case(
        (
            name_match,
            (func.word_similarity(_QUERY, Title.name) + func.similarity(_QUERY, Title.name)) / 2,
        ),
        else_=0.0,
    )
    text_score = case((text_match, func.ts_rank(Title.search_vector, tsquery, 32)), else_=0.0)
    score = (name_score + text_score / 2).label("score")
    inner = (
        select(Title.id.label("id"), score)
        .where(or_(text_match, name_match))
        .order_by(score.desc(), Title.id)
        .limit(_DEPTH)
    )
    return filtered(inner, flt)


def _semantic_list(flt: TitleFilter | None) -> Select[Any]:
    e = aliased(TitleEmbedding, name="e")
    distance = e.text.cosine_distance(bindparam("query_vector", type_=Vector(TEXT_DIM)))
    inner = (
        select(e.title_id.label("id"), (1 - distance).label("score"))
        .join(Title, Title.id == e.title_id)
        .where(e.embedder == bindparam("embedder", type_=Text))
        .order_by(distance)
        .limit(_DEPTH)
    )
    return filtered(inner, flt)


@lru_cache(maxsize=256)
def search_statement(mode: SearchMode, flt: TitleFilter | None) -> Select[Any]:
    """Rows ``(Title, score, keyword rank, semantic rank)``, built once per mode and filter.

    Parameters: ``query``, ``depth`` and ``first``; unless KEYWORD, ``query_vector`` and
    ``embedder``. Each list is ranked (``row_number``) in SQL; HYBRID fuses them there.
    """
    keyword = _ranked(_keyword_list(flt), "keyword") if mode is not SearchMode.SEMANTIC else None
    semantic = _ranked(_semantic_list(flt), "semantic") if mode is not SearchMode.KEYWORD else None
    hit = aliased(Title, name="t")
    first = bindparam("first", type_=Integer)
    if keyword is not None and semantic is not None:
        fused = (
            func.coalesce(1.0 / (RRF_K + keyword.c.rank), 0.0)
            + func.coalesce(1.0 / (RRF_K + semantic.c.rank), 0.0)
        ).label("score")
        return (
            select(
                hit,
                fused,
                keyword.c.rank.label("keyword_rank"),
                semantic.c.rank.label("semantic_rank"),
            )
            .select_from(keyword)
            .join(semantic, keyword.c.id == semantic.c.id, full=True)
            .join(hit, hit.id == func.coalesce(keyword.c.id, semantic.c.id))
            .order_by(fused.desc(), func.least(keyword.c.rank, semantic.c.rank), hit.id)
            .limit(first)
        )
    only = keyword if keyword is not None else semantic
    assert only is not None
    return (
        select(
            hit,
            only.c.score.cast(Float).label("score"),
            (only.c.rank if only is keyword else null()).label("keyword_rank"),
            (only.c.rank if only is semantic else null()).label("semantic_rank"),
        )
        .join(hit, hit.id == only.c.id)
        .order_by(only.c.rank)
        .limit(first)
    )


async def search_titles(
    session: AsyncSession,
    query: str,
    mode: SearchMode,
    first: int,
    flt: TitleFilter | None = None,
    query_vector: tuple[str, np.ndarray[Any, Any]] | None = None,
) -> list[SearchHit]:
    """Ranked hits; ``query_vector`` (from ``embed_query``) is required unless KEYWORD.

    Scores: KEYWORD = keyword score; SEMANTIC = cosine similarity; HYBRID = sum over both
    lists of 1 / (60 + rank). Ranks are positions in each list (fetched ``search_depth``
    deep), None when the title is not in that list.
    """
    check_first(first)
    depth = search_depth(first)
    cleaned = clean_query(query)
    params: dict[str, Any] = {
        "query": cleaned,
        "web_query": websearch_text(cleaned),
        "depth": depth,
        "first": first,
    }
    if mode is not SearchMode.KEYWORD:
        if query_vector is None:
            raise ValueError(f"{mode} search needs the query vector")
        params["embedder"], params["query_vector"] = query_vector
    rows = (await session.execute(search_statement(mode, hashable_filter(flt)), params)).all()
    if mode is not SearchMode.KEYWORD and not rows:
        await _check_embedded(session, params["embedder"])
    return [
        SearchHit(
            title=title,
            score=float(score),
            keyword_rank=int(k) if k is not None else None,
            semantic_rank=int(s) if s is not None else None,
        )
        for title, score, k, s in rows
    ]


async def _check_embedded(session: AsyncSession, embedder: str) -> None:
    """Semantic search found nothing: say so when the catalog is not embedded with ``embedder``."""
    stored = await session.execute(
        select(TitleEmbedding.embedder, func.count())
        .group_by(TitleEmbedding.embedder)
        .order_by(func.count().desc())
    )
    counts: dict[str, int] = {name: n for name, n in stored}
    if counts.get(embedder):
        return
    if counts:
        others = ", ".join(counts)
        raise NotFound(
            f"no titles are embedded with {embedder} (found {others}): run "
            "`contentintel embed` with the configured embedder",
            field="query",
        )
    raise NotFound("no titles are embedded yet: run `contentintel embed`", field="query")
