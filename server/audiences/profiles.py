"""Country taste profiles and audience cohorts.

**Taste profile** of a region, from its regional scores (``server.audiences.scores``):

- a taste vector: the score-weighted mean of the ``combined`` embeddings of the catalog titles
  that charted there, L2-normalised, stored in pgvector (``region_tastes``);
- genre and micro-genre mix: a genre's *share* of the region is the score mass of its
  charting titles carrying the genre over the region's total score mass; its *lift* is that
  share over the genre's share of the global mix (every region's charts pooled). Lift > 1:
  over-indexed in the region. ``titles`` counts the region's charting titles carrying it.

**Cohorts** cluster regions by audience similarity =
``COCHART_WEIGHT`` x co-charting similarity + (1 - ``COCHART_WEIGHT``) x taste similarity.
Co-charting similarity is the cosine of the regions' chart vectors over every chart entry
(catalog title or not): ``sqrt(points) x idf``, with ``idf = log(regions / regions where the
entry charted)``, so global hits that chart everywhere weigh little and shared regional hits
much. Taste similarity is the cosine of the taste vectors after removing their mean over
regions (what is distinctive, not what every region watches). Average-linkage agglomerative
clustering on ``1 - similarity``; the number of cohorts is given or chosen by silhouette.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.metrics import silhouette_score
from sqlalchemy import Connection, text

from server.audiences.scores import compute_regional_scores
from server.embeddings.vectors import load_vectors
from server.kit.batching import grouped

Matrix = npt.NDArray[np.float64]

COCHART_WEIGHT = 0.8
"""Weight of co-charting in audience similarity (the rest: taste-vector similarity)."""
AUTO_COHORTS = range(5, 9)
"""Cohort counts tried when none is given; the best silhouette wins."""
SUB_COHORT_MAX = 20
"""Sub-cohorts aim at no more than this many regions (a marketing unit): the best silhouette
among the cuts that keep every sub-cohort at this size or below wins; when no cut does, the
best silhouette overall (the data says otherwise)."""
SPLIT_MIN = 6
"""A top-level cohort with fewer regions is not split into sub-cohorts."""
SUB_COHORTS = range(2, 13)
"""Sub-cohort counts tried inside a top-level cohort."""
MIN_TITLES = 3
"""A genre needs this many charting titles in a region/cohort to be listed as over-indexed."""
GROUP_NAMES = {
    "LATAM": "Latin America",
    "EMEA": "Europe, Middle East & Africa",
    "APAC": "Asia-Pacific",
    "UCAN": "US & Canada",
}


@dataclass(frozen=True)
class MixEntry:
    key: str | int
    titles: int
    share: float
    lift: float


@dataclass
class ProfilesSummary:
    regions: int = 0
    tastes: int = 0
    genres: int = 0
    micro_genres: int = 0
    embedder: str | None = None
    seconds: float = 0.0


# --- genre mix -------------------------------------------------------------------------------


def mix(
    scores: Sequence[tuple[int, str, float]],
    labels: Mapping[int, Sequence[str | int]],
    groups: Mapping[str, Any] | None = None,
) -> dict[Any, list[MixEntry]]:
    """Share and lift of each label (genre, micro-genre) per group of regions.

    ``scores``: (title, region, score); ``labels``: title -> its labels; ``groups``: region ->
    group (default: each region its own group). The global mix pools every region.
    """
    group_of = groups if groups is not None else {r: r for _, r, _ in scores}
    mass: dict[Any, float] = defaultdict(float)
    label_mass: dict[Any, dict[str | int, float]] = defaultdict(lambda: defaultdict(float))
    label_titles: dict[Any, dict[str | int, set[int]]] = defaultdict(lambda: defaultdict(set))
    global_mass = 0.0
    global_label: dict[str | int, float] = defaultdict(float)
    for title, region, score in scores:
        global_mass += score
        for label in labels.get(title, ()):
            global_label[label] += score
        group = group_of.get(region)
        if group is None:
            continue
        mass[group] += score
        for label in labels.get(title, ()):
            label_mass[group][label] += score
            label_titles[group][label].add(title)
    out: dict[Any, list[MixEntry]] = {}
    for group, per_label in label_mass.items():
        entries = []
        for label, m in per_label.items():
            share = m / mass[group]
            base = global_label[label] / global_mass
            entries.append(MixEntry(label, len(label_titles[group][label]), share, share / base))
        entries.sort(key=lambda e: (-e.lift, str(e.key)))
        out[group] = entries
    return out


LIFT_REPLICATES = 400
LIFT_LEVEL = 0.90


def lift_lower_bounds(
    scores: Sequence[tuple[int, str, float]],
    labels: Mapping[int, Sequence[str | int]],
    replicates: int = LIFT_REPLICATES,
    seed: int = 20261202,
) -> dict[tuple[str, str | int], float]:
    """Per (region, label): the 5th percentile of the label's lift in the region when the
    region's charting titles are resampled (a Poisson(1) weight per title), the global mix
    held fixed. A label carried by one or two titles vanishes from many replicates, so its
    lower bound is low however large its lift: ranking by it keeps such labels off the top
    (the same rule as ``sceneTagLift`` and ``contentGaps``)."""
    global_mass = sum(score for _, _, score in scores)
    global_label: dict[str | int, float] = defaultdict(float)
    by_region: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for title, region, score in scores:
        by_region[region].append((title, score))
        for label in labels.get(title, ()):
            global_label[label] += score
    if global_mass <= 0:
        return {}
    rng = np.random.default_rng(seed)
    out: dict[tuple[str, str | int], float] = {}
    for region in sorted(by_region):
        rows = by_region[region]
        keys = sorted({lb for t, _ in rows for lb in labels.get(t, ())}, key=str)
        if not keys:
            continue
        column = {k: i for i, k in enumerate(keys)}
        member = np.zeros((len(rows), len(keys)))
        for i, (title, _) in enumerate(rows):
            for label in labels.get(title, ()):
                member[i, column[label]] = 1.0
        mass = np.array([score for _, score in rows])
        weights = rng.poisson(1.0, size=(replicates, len(rows))) * mass
        totals = weights.sum(axis=1, keepdims=True)
        shares = (weights @ member) / np.where(totals > 0, totals, 1.0)
        base = np.array([global_label[k] / global_mass for k in keys])
        lows = np.percentile(shares / base, (1 - LIFT_LEVEL) / 2 * 100, axis=0)
        for k, low in zip(keys, lows, strict=True):
            out[(region, k)] = float(low)
    return out


def over_indexed(
    entries: Sequence[MixEntry], first: int, min_titles: int = MIN_TITLES
) -> list[MixEntry]:
    return [e for e in entries if e.lift > 1 and e.titles >= min_titles][:first]


def _load_scores(conn: Connection) -> list[tuple[int, str, float]]:
    return [
        (int(r.title_id), str(r.region_code), float(r.score))
        for r in conn.execute(text("SELECT title_id, region_code, score FROM regional_scores"))
    ]


def load_genres(conn: Connection, title_ids: Sequence[int]) -> dict[int, list[str]]:
    rows = conn.execute(
        text(
            "SELECT tt.title_id, tg.name FROM title_tags tt JOIN tags tg ON tg.id = tt.tag_id "
            "WHERE tg.kind = 'GENRE' AND tt.title_id = ANY(:ids)"
        ),
        {"ids": list(title_ids)},
    )
    return grouped((int(r.title_id), str(r.name)) for r in rows)


def load_micro_genres(conn: Connection, title_ids: Sequence[int]) -> dict[int, list[int]]:
    rows = conn.execute(
        text(
            "SELECT title_id, micro_genre_id FROM title_micro_genres "
            "WHERE is_primary AND title_id = ANY(:ids)"
        ),
        {"ids": list(title_ids)},
    )
    return grouped((int(r.title_id), int(r.micro_genre_id)) for r in rows)


# --- taste profiles --------------------------------------------------------------------------


@dataclass(frozen=True)
class Taste:
    vector: Matrix
    titles: int
    embedder: str


def taste_vectors(conn: Connection, scores: Sequence[tuple[int, str, float]]) -> dict[str, Taste]:
    """Per region: the score-weighted mean of its titles' ``combined`` embeddings, unit length.
    ``scores`` are (title, region, score), e.g. ``compute_regional_scores(conn, before=...)``
    for a backtest. Regions whose titles have no embedding are left out. Reads only."""
    title_ids = sorted({t for t, _, _ in scores})
    embedded = {
        int(r.title_id): str(r.embedder)
        for r in conn.execute(
            text("SELECT title_id, embedder FROM title_embeddings WHERE title_id = ANY(:ids)"),
            {"ids": title_ids},
        )
    }
    if not embedded:
        return {}
    ids = sorted(embedded)
    vectors = load_vectors(conn, ids).astype(np.float64)
    row = {t: i for i, t in enumerate(ids)}
    embedder = Counter(embedded.values()).most_common(1)[0][0]
    sums: dict[str, Matrix] = {}
    counts: Counter[str] = Counter()
    for title, region, score in scores:
        if title in row:
            sums[region] = sums.get(region, 0) + score * vectors[row[title]]
            counts[region] += 1
    out = {}
    for region, total in sums.items():
        norm = float(np.linalg.norm(total))
        if norm > 0:
            out[region] = Taste(total / norm, counts[region], embedder)
    return out


def compute_taste_profiles(conn: Connection) -> ProfilesSummary:
    """Recompute every region's taste vector and genre/micro-genre mix from the stored
    regional scores (run ``persist_scores`` first); replaces the stored profiles."""
    started = time.perf_counter()
    summary = ProfilesSummary()
    scores = _load_scores(conn)
    title_ids = sorted({t for t, _, _ in scores})
    conn.execute(
        text(
            "DELETE FROM region_tastes; DELETE FROM region_genres; DELETE FROM region_micro_genres"
        )
    )
    summary.regions = len({r for _, r, _ in scores})

    tastes = taste_vectors(conn, scores)
    rows = [
        {"r": region, "e": t.embedder, "v": _vector(t.vector), "n": t.titles}
        for region, t in sorted(tastes.items())
    ]
    if rows:
        conn.execute(
            text(
                "INSERT INTO region_tastes (region_code, embedder, taste, titles) "
                "VALUES (:r, :e, CAST(:v AS vector), :n)"
            ),
            rows,
        )
        summary.tastes, summary.embedder = len(rows), str(rows[0]["e"])

    genres = load_genres(conn, title_ids)
    genre_lows = lift_lower_bounds(scores, genres)
    genre_rows = [
        {
            "r": region,
            "g": e.key,
            "n": e.titles,
            "s": e.share,
            "l": e.lift,
            "low": genre_lows.get((region, e.key)),
        }
        for region, entries in mix(scores, genres).items()
        for e in entries
    ]
    if genre_rows:
        conn.execute(
            text(
                "INSERT INTO region_genres (region_code, genre, titles, share, lift, lift_low) "
                "VALUES (:r, :g, :n, :s, :l, :low)"
            ),
            genre_rows,
        )
    micro_labels = load_micro_genres(conn, title_ids)
    lows = lift_lower_bounds(scores, micro_labels)
    micro_rows = [
        {
            "r": region,
            "g": e.key,
            "n": e.titles,
            "s": e.share,
            "l": e.lift,
            "low": lows.get((region, e.key)),
        }
        for region, entries in mix(scores, micro_labels).items()
        for e in entries
    ]
    if micro_rows:
        conn.execute(
            text(
                "INSERT INTO region_micro_genres (region_code, micro_genre_id, titles, share, "
                "lift, lift_low) VALUES (:r, :g, :n, :s, :l, :low)"
            ),
            micro_rows,
        )
    summary.genres, summary.micro_genres = len(genre_rows), len(micro_rows)
    summary.seconds = time.perf_counter() - started
    return summary


def _vector(values: Matrix) -> str:
    return "[" + ",".join(f"{v:.6g}" for v in values) + "]"


# --- audience similarity -------------------------------------------------------------------


@dataclass
class AudienceSpace:
    """Regions (sorted codes) and their pairwise audience similarity (symmetric, diag 1)."""

    regions: list[str]
    similarity: Matrix
    cochart: Matrix
    taste: Matrix | None = None

    def index(self, code: str) -> int:
        return self.regions.index(code)


def _cosine(matrix: Matrix) -> Matrix:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit = matrix / np.where(norms > 0, norms, 1)
    sim: Matrix = np.clip(unit @ unit.T, -1.0, 1.0)
    return sim


def cochart_weights(conn: Connection, before: date | None = None) -> tuple[list[str], Matrix]:
    """Regions with chart rows (sorted) and, per region, ``sqrt(points) x idf`` over every chart
    entry (catalog title or not), from the chart weeks before ``before`` (all when None): the
    vectors whose cosine is the co-charting similarity. Reads only."""
    rows = conn.execute(
        text(
            """
            SELECT region_code, kind::text || ':' || show_title AS entry, sum(11 - rank) AS points
            FROM (SELECT region_code, week, kind, show_title, min(rank) AS rank
                  FROM top10_country_weeks
                  WHERE CAST(:before AS date) IS NULL OR week < CAST(:before AS date)
                  GROUP BY 1, 2, 3, 4) w
            GROUP BY 1, 2
            """
        ),
        {"before": before},
    ).all()
    regions = sorted({str(r.region_code) for r in rows})
    if not regions:
        return [], np.zeros((0, 0))
    entries = sorted({str(r.entry) for r in rows})
    ri = {r: i for i, r in enumerate(regions)}
    ei = {e: i for i, e in enumerate(entries)}
    points = np.zeros((len(regions), len(entries)))
    for r in rows:
        points[ri[r.region_code], ei[r.entry]] = float(r.points)
    spread = (points > 0).sum(axis=0)
    idf = np.log(len(regions) / spread)
    if len(regions) == 1 or not idf.any():
        idf = np.ones_like(idf)
    weights: Matrix = np.sqrt(points) * idf
    return regions, weights


def audience_space(
    conn: Connection, cochart_weight: float = COCHART_WEIGHT, before: date | None = None
) -> AudienceSpace:
    """Pairwise audience similarity of every region with chart rows (see the module doc).

    With ``before``, only chart weeks strictly before that date count, for co-charting and for
    the taste vectors (recomputed from ``compute_regional_scores(conn, before)`` instead of
    the stored ones), so a backtest sees nothing from after its cutoff. Reads only.
    """
    regions, weights = cochart_weights(conn, before)
    if not regions:
        return AudienceSpace([], np.zeros((0, 0)), np.zeros((0, 0)))
    cochart = _cosine(weights)

    if before is None:
        tastes = {
            str(r.region_code): np.asarray(_as_list(r.taste), dtype=np.float64)
            for r in conn.execute(
                text("SELECT region_code, taste::real[] AS taste FROM region_tastes")
            )
        }
    else:
        scored = [
            (s.title_id, s.region_code, s.score)
            for s in compute_regional_scores(conn, before=before)
        ]
        tastes = {region: t.vector for region, t in taste_vectors(conn, scored).items()}
    taste: Matrix | None = None
    similarity = cochart
    if len(tastes) >= 2 and all(r in tastes for r in regions):
        stacked = np.vstack([tastes[r] for r in regions])
        taste = _cosine(stacked - stacked.mean(axis=0))
        similarity = cochart_weight * cochart + (1 - cochart_weight) * taste
    np.fill_diagonal(similarity, 1.0)
    return AudienceSpace(regions, similarity, cochart, taste)


def _as_list(value: Any) -> list[float]:
    return [float(v) for v in value]


# --- cohorts --------------------------------------------------------------------------------


@dataclass
class CohortResult:
    label: str
    members: list[tuple[str, float]]
    """(region code, mean similarity to the other members), most central first."""
    top_genres: list[dict[str, Any]] = field(default_factory=list)
    children: list[CohortResult] = field(default_factory=list)
    """Sub-cohorts (level 2), largest first; empty when the cohort is not split."""
    silhouette: float | None = None
    """Silhouette of the split into ``children`` (within this cohort's regions)."""


@dataclass
class CohortsSummary:
    cohorts: list[CohortResult]
    silhouette: float | None
    k: int
    profiles: ProfilesSummary
    seconds: float = 0.0
    leaf_silhouette: float | None = None
    """Silhouette over all regions of the finest partition (sub-cohorts, and top-level cohorts
    that are not split)."""


def region_distance(space: AudienceSpace) -> Matrix:
    """``1 - similarity``, symmetric, zero diagonal, no negatives."""
    distance = np.clip(1 - space.similarity, 0, None)
    np.fill_diagonal(distance, 0)
    out: Matrix = (distance + distance.T) / 2
    return out


def _cut(
    distance: Matrix, options: Sequence[int], max_size: int | None = None
) -> tuple[list[int], float | None]:
    """Average-linkage cuts of ``distance`` into each count of ``options``: the best
    silhouette (among the cuts with no cluster above ``max_size``, when any), renumbered
    largest first (equal sizes in the order their first member appears)."""
    n = len(distance)
    tree = linkage(squareform(distance, checks=False), "average")
    best: tuple[bool, float, list[int]] | None = None
    for count in options:
        labels = [int(x) for x in fcluster(tree, count, "maxclust")]
        if len(set(labels)) < 2:
            score = -1.0
        else:
            score = float(silhouette_score(distance, labels, metric="precomputed"))
        fits = max_size is None or max(Counter(labels).values()) <= max_size
        if best is None or (fits, score) > (best[0], best[1]):
            best = (fits, score, labels)
    if best is None:
        return [0] * n, None
    _, score, raw = best
    order = sorted(set(raw), key=lambda c: (-raw.count(c), raw.index(c)))
    renumber = {c: i for i, c in enumerate(order)}
    return [renumber[c] for c in raw], (score if len(set(raw)) > 1 else None)


def cluster_regions(space: AudienceSpace, k: int | None = None) -> tuple[list[int], float | None]:
    """Cohort number per region (0-based, largest cohort first) and the silhouette."""
    n = len(space.regions)
    if n == 0:
        return [], None
    if n <= 2:
        return [0] * n, None
    options = [k] if k else [c for c in AUTO_COHORTS if c < n] or [min(2, n - 1)]
    return _cut(region_distance(space), options)


def split_cohort(
    distance: Matrix, max_size: int = SUB_COHORT_MAX
) -> tuple[list[int], float | None]:
    """Sub-cohort number per member of one cohort (``distance`` between its members), and
    the silhouette of the split; one sub-cohort (no split) below ``SPLIT_MIN`` members."""
    n = len(distance)
    if n < SPLIT_MIN:
        return [0] * n, None
    options = [c for c in SUB_COHORTS if c < n]
    return _cut(distance, options, max_size)


def compute_cohorts(
    conn: Connection, k: int | None = None, cochart_weight: float = COCHART_WEIGHT
) -> CohortsSummary:
    """Recompute taste profiles, then cluster regions into labelled cohorts; replaces the
    stored cohorts."""
    started = time.perf_counter()
    profiles = compute_taste_profiles(conn)
    space = audience_space(conn, cochart_weight)
    labels, silhouette = cluster_regions(space, k)
    names = {
        str(r.code): (str(r.name), str(r.region_group), list(r.languages))
        for r in conn.execute(text("SELECT code, name, region_group, languages FROM regions"))
    }
    scores = _load_scores(conn)
    genres = load_genres(conn, sorted({t for t, _, _ in scores}))
    distance = region_distance(space) if space.regions else np.zeros((0, 0))
    subs: list[int] = [0] * len(labels)
    splits: dict[int, float | None] = {}
    for cohort in sorted(set(labels)):
        idx = [i for i, c in enumerate(labels) if c == cohort]
        sub, splits[cohort] = split_cohort(distance[np.ix_(idx, idx)])
        for i, number in zip(idx, sub, strict=True):
            subs[i] = number
    cohort_of = {space.regions[i]: c for i, c in enumerate(labels)}
    sub_of = {space.regions[i]: (c, subs[i]) for i, c in enumerate(labels)}
    cohort_mix = mix(scores, genres, cohort_of)
    sub_mix = mix(scores, genres, sub_of)
    # Credible lower bounds of the lifts, pooled per cohort and per sub-cohort like the mixes.
    cohort_lows = lift_lower_bounds(
        [(t, str(cohort_of[r]), v) for t, r, v in scores if r in cohort_of], genres
    )
    sub_lows = lift_lower_bounds(
        [(t, f"{sub_of[r][0]}.{sub_of[r][1]}", v) for t, r, v in scores if r in sub_of], genres
    )

    def result(
        idx: Sequence[int], entries: Sequence[MixEntry], lows: Mapping[str | int, float]
    ) -> CohortResult:
        members = []
        for i in idx:
            others = [space.similarity[i, j] for j in idx if j != i]
            members.append((space.regions[i], float(np.mean(others)) if others else 1.0))
        members.sort(key=lambda m: (-m[1], m[0]))
        ranked = sorted(
            over_indexed(entries, len(entries)),
            key=lambda e: (-lows.get(e.key, 0.0), -e.lift, str(e.key)),
        )
        top = [
            {
                "name": e.key,
                "lift": round(e.lift, 3),
                "lift_low": round(lows.get(e.key, 0.0), 3),
                "titles": e.titles,
            }
            for e in ranked[:5]
        ]
        return CohortResult(_label(members, names, top), members, top)

    def lows_of(found: Mapping[tuple[str, str | int], float], key: str) -> dict[str | int, float]:
        return {label: low for (group, label), low in found.items() if group == key}

    results: list[CohortResult] = []
    for cohort in sorted(set(labels)):
        idx = [i for i, c in enumerate(labels) if c == cohort]
        parent = result(idx, cohort_mix.get(cohort, []), lows_of(cohort_lows, str(cohort)))
        parent.silhouette = splits[cohort]
        if len({subs[i] for i in idx}) > 1:
            for number in sorted({subs[i] for i in idx}):
                members = [i for i in idx if subs[i] == number]
                parent.children.append(
                    result(
                        members,
                        sub_mix.get((cohort, number), []),
                        lows_of(sub_lows, f"{cohort}.{number}"),
                    )
                )
        results.append(parent)
    leaf_of = {(labels[i], subs[i]) for i in range(len(labels))}
    numbering = {key: n for n, key in enumerate(sorted(leaf_of))}
    leaves = [numbering[(labels[i], subs[i])] for i in range(len(labels))]
    leaf_silhouette = (
        float(silhouette_score(distance, leaves, metric="precomputed"))
        if 1 < len(set(leaves)) < len(leaves)
        else None
    )
    _store_cohorts(conn, results)
    return CohortsSummary(
        results,
        silhouette,
        len(results),
        profiles,
        time.perf_counter() - started,
        leaf_silhouette,
    )


def _store_cohorts(conn: Connection, results: Sequence[CohortResult]) -> None:
    """Replace the stored cohorts: top-level ones (level 1) and their sub-cohorts (level 2);
    each region's row names its top-level cohort and its sub-cohort (null when its cohort is
    not split)."""
    conn.execute(text("DELETE FROM cohorts"))

    def insert(cohort: CohortResult, parent: int | None) -> int:
        new_id: int = conn.execute(
            text(
                "INSERT INTO cohorts (label, size, top_genres, parent_id, level) "
                "VALUES (:l, :n, CAST(:g AS jsonb), :p, :v) RETURNING id"
            ),
            {
                "l": cohort.label,
                "n": len(cohort.members),
                "g": _json(cohort.top_genres),
                "p": parent,
                "v": 1 if parent is None else 2,
            },
        ).scalar_one()
        return new_id

    for cohort in results:
        cohort_id = insert(cohort, None)
        sub_of: dict[str, int] = {}
        for child in cohort.children:
            child_id = insert(child, cohort_id)
            sub_of.update({code: child_id for code, _ in child.members})
        conn.execute(
            text(
                "INSERT INTO cohort_members (region_code, cohort_id, sub_cohort_id, similarity) "
                "VALUES (:r, :c, :sub, :s)"
            ),
            [
                {"r": code, "c": cohort_id, "sub": sub_of.get(code), "s": max(min(sim, 1.0), -1.0)}
                for code, sim in cohort.members
            ],
        )


def _label(
    members: Sequence[tuple[str, float]],
    names: Mapping[str, tuple[str, str, list[str]]],
    top: Sequence[Mapping[str, Any]],
) -> str:
    """ "South Korea, Thailand, Taiwan +7 (Asia-Pacific) · Korean TV Shows, Anime Series"."""
    lead = [names[c][0] if c in names else c for c, _ in members[:3]]
    more = len(members) - len(lead)
    head = ", ".join(lead) + (f" +{more}" if more > 0 else "")
    group_counts = Counter(names[c][1] for c, _ in members if c in names)
    where = ""
    if group_counts:
        group, n = group_counts.most_common(1)[0]
        if n / len(members) >= 0.6:
            where = f" ({GROUP_NAMES.get(group, group)})"
    tail = ", ".join(str(g["name"]) for g in top[:2])
    return head + where + (f" · {tail}" if tail else "")


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)
