"""What the forecaster learns from, read from the database for a cutoff: regions, charted
titles (regional scores recomputed from chart weeks strictly before the cutoff), their facts
and vectors, and the audience similarity of regions from the same weeks. Nothing here reads a
chart week on or after the cutoff: the backtest's no-leak property rests on it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, text

from server.audiences.service import RegionalScoreRow, cochart_weights, compute_regional_scores
from server.catalog.service import ORIGINS_SQL, TAG_LIST_SQL
from server.embeddings.facets import tags_vector
from server.forecast.model import (
    DEFAULT_COMPARABLES,
    Matrix,
    RegionInfo,
    TitleFacts,
    TrainingData,
)
from server.similarity.comparables import service as comparables


class NotEmbedded(Exception):
    def __init__(self, embedder: str, missing: int) -> None:
        super().__init__(
            f"{missing} charted titles have no {embedder} embedding: run `contentintel embed` "
            "with the configured embedder first"
        )


def load_regions(conn: Connection) -> list[RegionInfo]:
    return [
        RegionInfo(str(r.code), str(r.name), str(r.region_group), tuple(r.languages))
        for r in conn.execute(
            text("SELECT code, name, region_group, languages FROM regions ORDER BY code")
        )
    ]


def cochart_similarity(
    conn: Connection, regions: Sequence[RegionInfo], before: date | None
) -> Matrix:
    """Audience similarity of regions from chart weeks before ``before``: the co-charting
    cosine of ``server.audiences.profiles.audience_space`` (``cochart_weights``), in the order
    of ``regions``; regions without charts are 0 to every other. Diagonal 1."""
    codes, weights = cochart_weights(conn, before)
    sim: Matrix = np.zeros((len(regions), len(regions)))
    if codes:
        norms = np.linalg.norm(weights, axis=1, keepdims=True)
        unit = weights / np.where(norms > 0, norms, 1)
        charted = np.clip(unit @ unit.T, 0.0, 1.0)
        at = {code: i for i, code in enumerate(codes)}
        rows = [i for i, r in enumerate(regions) if r.code in at]
        cols = [at[regions[i].code] for i in rows]
        sim[np.ix_(rows, rows)] = charted[np.ix_(cols, cols)]
    np.fill_diagonal(sim, 1.0)
    return sim


_FACTS = f"""
SELECT t.id, t.kind::text AS kind, t.original_language,
       {ORIGINS_SQL} AS origins, {TAG_LIST_SQL} AS tags,
       e.embedder, e.text::real[] AS text
FROM titles t LEFT JOIN title_embeddings e ON e.title_id = t.id
WHERE t.id = ANY(:ids)
ORDER BY t.id
"""


@dataclass
class CatalogFacts:
    facts: TitleFacts
    embedder: str | None
    """The embedder of the stored text vector (None: not embedded)."""


def sorted_tags(tags: Sequence[tuple[str, str, float]]) -> list[tuple[str, str, float]]:
    return sorted(tags, key=lambda t: (t[0], t[1]))


def facts_of(
    kind: str,
    origins: Sequence[str],
    original_language: str | None,
    tags: Sequence[tuple[str, str, float]],
    text_vector: npt.NDArray[np.float32],
    title_id: int | None = None,
) -> TitleFacts:
    """A title's facts; ``tags`` includes its genres as (GENRE, name, 1.0)."""
    ordered = sorted_tags(tags)
    return TitleFacts(
        kind=kind,
        origins=list(dict.fromkeys(origins)),
        original_language=original_language or None,
        genres=[n for k, n, _ in ordered if k == "GENRE"],
        text=np.asarray(text_vector, dtype=np.float32),
        tags=tags_vector(ordered),
        title_id=title_id,
    )


def load_facts(conn: Connection, ids: Sequence[int]) -> dict[int, CatalogFacts]:
    """Facts of catalog titles by id (absent ids are missing from the result). Titles without
    an embedding get a zero text vector and ``embedder=None``."""
    out: dict[int, CatalogFacts] = {}
    for r in conn.execute(text(_FACTS), {"ids": list(ids)}):
        vector = np.asarray(r.text, dtype=np.float32) if r.text is not None else np.zeros(1, "f4")
        tags = [(str(k), str(n), float(w)) for k, n, w in r.tags]
        out[int(r.id)] = CatalogFacts(
            facts_of(str(r.kind), list(r.origins), r.original_language, tags, vector, int(r.id)),
            str(r.embedder) if r.embedder is not None else None,
        )
    return out


@dataclass
class Window:
    """Chart outcomes of catalog titles over the weeks before a cutoff."""

    scores: list[RegionalScoreRow]
    first_week: dict[int, date]


def chart_window(conn: Connection, before: date | None) -> Window:
    scores = compute_regional_scores(conn, before=before)
    first: dict[int, date] = {}
    for s in scores:
        if s.title_id not in first or s.first_week < first[s.title_id]:
            first[s.title_id] = s.first_week
    return Window(scores, first)


def outcome_matrices(
    scores: Sequence[RegionalScoreRow], ids: Sequence[int], regions: Sequence[RegionInfo]
) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.float64]]:
    """(weeks, points) matrices, ids x regions."""
    row = {t: i for i, t in enumerate(ids)}
    col = {r.code: j for j, r in enumerate(regions)}
    weeks = np.zeros((len(ids), len(regions)), dtype=np.int16)
    points = np.zeros((len(ids), len(regions)))
    for s in scores:
        if s.title_id in row and s.region_code in col:
            weeks[row[s.title_id], col[s.region_code]] = s.weeks_in_top10
            points[row[s.title_id], col[s.region_code]] = s.points
    return weeks, points


def load_training(
    conn: Connection,
    embedder: str,
    before: date | None,
    regions: Sequence[RegionInfo] | None = None,
    comparables: str = DEFAULT_COMPARABLES,
) -> tuple[TrainingData, dict[str, Any]]:
    """Training data from chart weeks strictly before ``before`` (every week when None), and
    facts about it: window, titles skipped for want of an embedding. With ``comparables =
    "learned"`` the learned comparables are fitted on the same weeks (``learn_audience``)."""
    regions = list(regions) if regions is not None else load_regions(conn)
    window = chart_window(conn, before)
    ids = sorted(window.first_week)
    facts = load_facts(conn, ids)
    usable = [t for t in ids if t in facts and facts[t].embedder == embedder]
    if ids and not usable:
        raise NotEmbedded(embedder, len(ids))
    weeks, _ = outcome_matrices(window.scores, usable, regions)
    data = TrainingData(
        regions=regions,
        titles=[facts[t].facts for t in usable],
        charted=weeks > 0,
        weeks=weeks,
        region_similarity=cochart_similarity(conn, regions, before),
        embedder=embedder,
    )
    if comparables == "learned" and len(usable) >= 2:
        learn_audience(conn, data, window.scores)
    last: dict[int, date] = defaultdict(lambda: date.min)
    for s in window.scores:
        last[s.title_id] = max(last[s.title_id], s.last_week)
    info = {
        "window_start": min(window.first_week.values()) if window.first_week else None,
        "window_end": max(last.values()) if last else None,
        "skipped_unembedded": len(ids) - len(usable),
    }
    return data, info


def learn_audience(
    conn: Connection, data: TrainingData, scores: Sequence[RegionalScoreRow]
) -> None:
    """Fit the learned comparables on the training titles' charts (``scores``, from the
    training weeks only): their observed profiles become the comparables' side, their
    cross-fitted predicted profiles their own query side, and the fitted model is kept to
    predict any other title's profile (``audience_of``)."""
    fitted = comparables.training_audience(
        conn,
        data.title_ids,
        [comparables.PointsRow(s.title_id, s.region_code, s.points) for s in scores],
        [r.code for r in data.regions],
    )
    data.audience = fitted.observed
    data.comparables_model = fitted.model.to_bytes()
    for title, row in zip(data.titles, fitted.crossfitted, strict=True):
        title.audience = row


def audience_of(conn: Connection, data: TrainingData, queries: Sequence[TitleFacts]) -> None:
    """Set the predicted audience profile of catalog-title queries that have none (a
    training title keeps its cross-fitted one)."""
    if data.comparables_model is None:
        return
    known = {t.title_id: t.audience for t in data.titles if t.title_id is not None}
    missing = [q for q in queries if q.audience is None and q.title_id is not None]
    for q in queries:
        if q.audience is None and q.title_id in known:
            q.audience = known[q.title_id]
    missing = [q for q in queries if q.audience is None and q.title_id is not None]
    if not missing:
        return
    model = comparables.model_from_bytes(data.comparables_model)
    ids, content = comparables.catalog_content(conn, [q.title_id or 0 for q in missing])
    predicted = comparables.predicted_audience(model, content)
    row = {t: i for i, t in enumerate(ids)}
    for q in missing:
        if q.title_id in row:
            q.audience = predicted[row[q.title_id]]
