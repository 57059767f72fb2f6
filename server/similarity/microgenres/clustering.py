"""Micro-genres: fine-grained clusters of the title space, nested under broad genres.

``cluster_catalog(conn)`` replaces every micro-genre, membership and map position in the
caller's transaction (the caller commits):

1. **Parent genre.** A title's parent is its most specific genre: the one with the fewest
   titles in the catalog, skipping *facet* genres that say where a title is from or how it
   was made ("International Movies", "Independent Movies", "Korean TV Shows": see
   ``microgenre_labels.GENRES``) unless the title has nothing else. So "Dramas, International
   Movies, Romantic Movies" is a Romantic Movie and "Crime TV Shows, International TV Shows,
   TV Dramas" a Crime TV Show. A parent with fewer than ``min_size`` titles hands them on
   to their next candidate; titles without genres form their own group.
2. **Clusters.** Each title is a weighted blend of its embedding facets (synopsis 2/3,
   tags 1/6, metadata 1/6: the story matters most, the tags and metadata then split it by
   origin, era and sub-genre), reduced by PCA. Every parent group is split by k-means into
   ``round(n / target_size)`` clusters (about 40 titles each on a large catalog). A cluster
   above the cap (5% of the titles, never below 10) is split again, and one below
   ``min_size`` joins the nearest cluster of its parent (or the nearest overall).
3. **Memberships.** Every title gets its cluster as *primary* micro-genre, with its cosine
   similarity to the cluster centroid; when another centroid is almost as close (within
   ``SECONDARY_MARGIN``) that one becomes its secondary micro-genre. ``size`` counts primary
   members only.
4. **Labels** from what over-indexes in each cluster (``microgenre_labels``).
5. **Map.** A 2-D layout of every title for the similarity map (``layout``).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sqlalchemy import Connection, insert, text
from threadpoolctl import threadpool_limits

from server.embeddings.facets import COMBINED_SCALE
from server.embeddings.pipeline import countries_of_titles
from server.embeddings.vectors import load_vectors, sync_driver
from server.models.dims import METADATA_DIM, SYNOPSIS_DIM, TAGS_DIM
from server.models.similarity import MicroGenre
from server.similarity.layout import layout_2d
from server.similarity.microgenres.labels import TitleFacts, is_facet_genre, label_clusters

Matrix = npt.NDArray[np.float32]
PhaseProgress = Callable[[str, int, int], None]
"""(phase, done, total)."""

DEFAULT_SEED = 20261128
TARGET_SIZE = 40
"""Average micro-genre size aimed at on a large catalog."""
MAX_SHARE = 0.05
"""No micro-genre holds more than this share of the clustered titles ..."""
MIN_CAP = 10
"""... unless that would mean fewer than this many titles (catalogs under 200 titles)."""
MIN_SIZE = 8
SECONDARY_MARGIN = 0.02
"""A second centroid at most this much less similar than the primary one is a secondary."""
CLUSTER_WEIGHTS = (2 / 3, 1 / 6, 1 / 6)
"""Cosine weights of the synopsis, tags and metadata facets for clustering."""
REDUCED_DIM = 64

LOCK_KEY = 0x6D6963726F67656E  # "microgen": one clustering run at a time
NUMERIC_THREADS = 1
"""OpenMP/BLAS threads for PCA and k-means (t-SNE: ``layout.NUMERIC_THREADS``)."""


@dataclass
class ClusterSummary:
    titles: int = 0
    """Titles clustered (those with an embedding)."""
    unembedded: int = 0
    """Titles without an embedding yet: not clustered (run ``contentintel embed``)."""
    micro_genres: int = 0
    parents: int = 0
    largest_size: int = 0
    largest_label: str = ""
    cap: int = 0
    secondary: int = 0
    """Titles that also got a secondary micro-genre."""
    positions: int = 0
    seconds: float = 0.0
    layout_seconds: float = 0.0

    @property
    def largest_share(self) -> float:
        return self.largest_size / self.titles if self.titles else 0.0

    @property
    def mean_size(self) -> float:
        return self.titles / self.micro_genres if self.micro_genres else 0.0


@dataclass(frozen=True)
class Sizes:
    cap: int
    target: int
    minimum: int

    @classmethod
    def for_catalog(
        cls, n: int, *, target_size: int = TARGET_SIZE, max_share: float = MAX_SHARE
    ) -> Sizes:
        cap = max(math.floor(max_share * n), MIN_CAP)
        target = max(2, min(target_size, round(cap * 0.6)))
        return cls(cap=cap, target=target, minimum=max(3, min(MIN_SIZE, target // 2)))


# --- loading ---------------------------------------------------------------------------------

_LOAD = """
SELECT t.id, t.kind, t.synopsis, t.release_year, t.maturity_rating, t.original_language
FROM titles t JOIN title_embeddings e ON e.title_id = t.id
ORDER BY t.id
"""
_LOAD_TAGS = """
SELECT tt.title_id, tg.kind::text AS kind, tg.name
FROM title_tags tt JOIN tags tg ON tg.id = tt.tag_id
ORDER BY tt.title_id, tg.kind = 'GENRE' DESC,
         CASE WHEN tg.kind = 'GENRE' THEN -tt.weight END, tg.kind, tg.name
"""
"""Tags in one statement, grouped in Python, as ``countries_of_titles`` reads the countries (as
correlated subqueries the planner could run them once per title right after a bulk write);
genres strongest first."""


def load_titles(conn: Connection) -> list[TitleFacts]:
    countries = countries_of_titles(conn)
    genres: dict[int, list[str]] = {}
    tags: dict[int, list[tuple[str, str]]] = {}
    for title_id, kind, name in conn.execute(text(_LOAD_TAGS)):
        if kind == "GENRE":
            genres.setdefault(int(title_id), []).append(str(name))
        else:
            tags.setdefault(int(title_id), []).append((str(kind), str(name)))
    return [
        TitleFacts(
            title_id=row.id,
            kind=str(row.kind.value if hasattr(row.kind, "value") else row.kind),
            synopsis=row.synopsis,
            release_year=row.release_year,
            maturity_rating=row.maturity_rating,
            original_language=row.original_language,
            countries=tuple(countries.get(row.id, ())),
            genres=tuple(genres.get(row.id, ())),
            tags=tuple(tags.get(row.id, ())),
        )
        for row in conn.execute(text(_LOAD))
    ]


def cluster_features(combined: Matrix) -> Matrix:
    """Re-weight the synopsis, tags and metadata facets stored in ``combined`` (equal quarters
    with the people facet, which micro-genres leave out) to ``CLUSTER_WEIGHTS``."""
    scale = COMBINED_SCALE
    synopsis = combined[:, :SYNOPSIS_DIM] * scale
    tags = combined[:, SYNOPSIS_DIM : SYNOPSIS_DIM + TAGS_DIM] * scale
    metadata = combined[:, SYNOPSIS_DIM + TAGS_DIM : SYNOPSIS_DIM + TAGS_DIM + METADATA_DIM]
    metadata = metadata * scale
    ws, wt, wm = (math.sqrt(w) for w in CLUSTER_WEIGHTS)
    features = np.hstack([synopsis * ws, tags * wt, metadata * wm]).astype(np.float32)
    return _normalized(features)


def _normalized(matrix: Matrix) -> Matrix:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms > 0, norms, 1)).astype(np.float32)


# --- parents ---------------------------------------------------------------------------------


def assign_parents(genres: Sequence[Sequence[str]], min_group: int) -> list[str | None]:
    """Each title's most specific genre (see the module doc); ``None`` without genres."""
    freq: Counter[str] = Counter(g for gs in genres for g in set(gs))

    def candidates(gs: Sequence[str]) -> list[str]:
        core = sorted({g for g in gs if not is_facet_genre(g)}, key=lambda g: (freq[g], g))
        facets = sorted({g for g in gs if is_facet_genre(g)}, key=lambda g: (freq[g], g))
        return core + facets

    options = [candidates(gs) for gs in genres]
    choice = [0] * len(genres)
    # Most specific first, in the order candidates are listed: a title handed on always goes
    # to a genre whose group is judged later, with the titles it received.
    order = sorted(freq, key=lambda g: (is_facet_genre(g), freq[g], g))
    members: dict[str, list[int]] = {}
    for i, opts in enumerate(options):
        if opts:
            members.setdefault(opts[0], []).append(i)
    for genre in order:
        group = members.pop(genre, [])
        if len(group) >= min_group:
            members[genre] = group
            continue
        for i in group:
            if choice[i] + 1 < len(options[i]):
                choice[i] += 1
                members.setdefault(options[i][choice[i]], []).append(i)
    return [opts[c] if opts else None for opts, c in zip(options, choice, strict=True)]


# --- clustering ------------------------------------------------------------------------------


def _kmeans(points: Matrix, k: int, seed: int) -> npt.NDArray[np.intp]:
    k = max(1, min(k, len(points)))
    if k == 1:
        return np.zeros(len(points), dtype=np.intp)
    model = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(points)
    return np.asarray(model.labels_, dtype=np.intp)


def _split_oversized(points: Matrix, labels: npt.NDArray[np.intp], sizes: Sizes, seed: int) -> None:
    """Re-split, in place, every cluster larger than the cap."""
    next_label = int(labels.max()) + 1 if len(labels) else 0
    pending = [c for c in np.unique(labels) if (labels == c).sum() > sizes.cap]
    while pending:
        c = pending.pop()
        idx = np.flatnonzero(labels == c)
        k = max(2, math.ceil(len(idx) / sizes.target))
        sub = _kmeans(points[idx], k, seed)
        if len(np.unique(sub)) < 2:  # identical points: cut in even chunks
            sub = np.arange(len(idx)) * k // len(idx)
        for s in np.unique(sub)[1:]:
            labels[idx[sub == s]] = next_label
            next_label += 1
        for c2 in np.unique(labels[idx]):
            if (labels == c2).sum() > sizes.cap:
                pending.append(int(c2))


def _centroids(points: Matrix, labels: npt.NDArray[np.intp], n: int) -> Matrix:
    sums = np.zeros((n, points.shape[1]), dtype=np.float64)
    np.add.at(sums, labels, points)
    return _normalized(sums.astype(np.float32))


def cluster_points(
    points: Matrix,
    parents: Sequence[str | None],
    sizes: Sizes,
    *,
    seed: int,
    progress: PhaseProgress | None = None,
) -> tuple[npt.NDArray[np.intp], list[str | None]]:
    """Cluster ids ``0..k-1`` per point (never crossing parents, but for merged strays), and
    each cluster's parent genre."""
    groups: dict[str | None, list[int]] = {}
    for i, parent in enumerate(parents):
        groups.setdefault(parent, []).append(i)
    order = sorted(groups, key=lambda p: (p is None, p or ""))
    labels = np.full(len(points), -1, dtype=np.intp)
    cluster_parent: list[str | None] = []
    done = 0
    for parent in order:
        idx = np.asarray(groups[parent])
        k = 1 if len(idx) < 2 * sizes.minimum else max(1, round(len(idx) / sizes.target))
        local = _kmeans(points[idx], k, seed)
        _split_oversized(points[idx], local, sizes, seed)
        _, local = np.unique(local, return_inverse=True)
        labels[idx] = local + len(cluster_parent)
        cluster_parent.extend([parent] * (int(local.max()) + 1))
        done += len(idx)
        if progress:
            progress("clustering", done, len(points))
    return _merge_small(points, labels, cluster_parent, sizes)


def _merge_small(
    points: Matrix,
    labels: npt.NDArray[np.intp],
    cluster_parent: list[str | None],
    sizes: Sizes,
) -> tuple[npt.NDArray[np.intp], list[str | None]]:
    """Fold clusters below the minimum size into their nearest neighbour that has room:
    one of the same parent when there is one, otherwise any."""
    n = len(cluster_parent)
    counts = np.bincount(labels, minlength=n)
    for c in np.argsort(counts, kind="stable"):
        if counts[c] == 0 or counts[c] >= sizes.minimum:
            continue
        centroids = _centroids(points, labels, n)
        similarity = centroids @ centroids[c]
        room = (counts > 0) & (counts + counts[c] <= sizes.cap)
        room[c] = False
        same = room & np.array([p == cluster_parent[c] for p in cluster_parent])
        pool = same if same.any() else room
        if not pool.any():
            continue
        target = int(np.argmax(np.where(pool, similarity, -np.inf)))
        labels[labels == c] = target
        counts[target] += counts[c]
        counts[c] = 0
    kept, labels = np.unique(labels, return_inverse=True)
    return labels.astype(np.intp), [cluster_parent[c] for c in kept]


@dataclass(frozen=True)
class Membership:
    title_id: int
    micro_genre: int
    """Cluster index."""
    is_primary: bool
    similarity: float


def memberships(
    title_ids: Sequence[int], features: Matrix, labels: npt.NDArray[np.intp], n_clusters: int
) -> list[Membership]:
    centroids = _centroids(features, labels, n_clusters)
    sims = features @ centroids.T
    out = []
    for row, tid in enumerate(title_ids):
        primary = int(labels[row])
        out.append(Membership(tid, primary, True, float(sims[row, primary])))
        if n_clusters > 1:
            others = sims[row].copy()
            others[primary] = -np.inf
            second = int(np.argmax(others))
            if others[second] >= sims[row, primary] - SECONDARY_MARGIN:
                out.append(Membership(tid, second, False, float(others[second])))
    return out


# --- the pipeline ----------------------------------------------------------------------------


def has_micro_genres(conn: Connection) -> bool:
    return bool(conn.execute(text("SELECT EXISTS (SELECT 1 FROM micro_genres)")).scalar())


def cluster_catalog(
    conn: Connection,
    *,
    seed: int = DEFAULT_SEED,
    target_size: int = TARGET_SIZE,
    max_share: float = MAX_SHARE,
    with_layout: bool = True,
    progress: PhaseProgress | None = None,
) -> ClusterSummary:
    """Replace micro-genres, memberships and map positions on ``conn`` (the caller commits)."""
    started = time.perf_counter()
    summary = ClusterSummary()
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    titles = load_titles(conn)
    summary.titles = len(titles)
    summary.unembedded = int(
        conn.execute(
            text(
                "SELECT count(*) FROM titles t WHERE NOT EXISTS "
                "(SELECT 1 FROM title_embeddings e WHERE e.title_id = t.id)"
            )
        ).scalar_one()
    )
    conn.execute(text("DELETE FROM micro_genres"))  # memberships go with them (CASCADE)
    conn.execute(text("DELETE FROM title_positions"))
    if not titles:
        summary.seconds = time.perf_counter() - started
        return summary
    ids = [t.title_id for t in titles]
    if progress:
        progress("loading vectors", 0, len(ids))
    features = cluster_features(load_vectors(conn, ids))
    if progress:
        progress("loading vectors", len(ids), len(ids))

    sizes = Sizes.for_catalog(len(titles), target_size=target_size, max_share=max_share)
    summary.cap = sizes.cap
    parents = assign_parents([t.genres for t in titles], sizes.minimum)
    with threadpool_limits(limits=NUMERIC_THREADS):
        reduced = _reduce(features, seed)
        labels, cluster_parent = cluster_points(
            reduced, parents, sizes, seed=seed, progress=progress
        )
    n_clusters = len(cluster_parent)
    members = memberships(ids, features, labels, n_clusters)

    if progress:
        progress("labelling", 0, len(ids))
    named = label_clusters(titles, labels.tolist(), cluster_parent)
    if progress:
        progress("labelling", len(ids), len(ids))

    counts = np.bincount(labels, minlength=n_clusters)
    result = conn.execute(
        insert(MicroGenre).returning(MicroGenre.id, sort_by_parameter_order=True),
        [
            {
                "label": n.label,
                "parent_genre": n.parent_genre,
                "size": int(counts[c]),
                "top_tags": n.top_tags,
            }
            for c, n in enumerate(named)
        ],
    )
    db_ids = [row[0] for row in result]
    _write_rows(
        conn,
        "title_micro_genres",
        ("title_id", "micro_genre_id", "is_primary", "similarity"),
        ("int8", "int8", "bool", "float4"),
        ((m.title_id, db_ids[m.micro_genre], m.is_primary, m.similarity) for m in members),
    )
    summary.micro_genres = n_clusters
    summary.parents = len({p for p in cluster_parent})
    largest = int(np.argmax(counts))
    summary.largest_size = int(counts[largest])
    summary.largest_label = named[largest].label
    summary.secondary = sum(not m.is_primary for m in members)

    if with_layout:
        layout_started = time.perf_counter()
        if progress:
            progress("map layout", 0, len(ids))
        positions = layout_2d(reduced, seed=seed, groups=labels)
        _write_rows(
            conn,
            "title_positions",
            ("title_id", "x", "y"),
            ("int8", "float4", "float4"),
            ((tid, float(x), float(y)) for tid, (x, y) in zip(ids, positions, strict=True)),
        )
        summary.positions = len(ids)
        summary.layout_seconds = time.perf_counter() - layout_started
        if progress:
            progress("map layout", len(ids), len(ids))
    conn.execute(text("ANALYZE micro_genres, title_micro_genres, title_positions"))
    summary.seconds = time.perf_counter() - started
    return summary


def _reduce(features: Matrix, seed: int) -> Matrix:
    dims = min(REDUCED_DIM, features.shape[0], features.shape[1])
    if dims < 2:
        return features
    reduced = PCA(n_components=dims, random_state=seed).fit_transform(features)
    return np.asarray(reduced, dtype=np.float32)


def _write_rows(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    types: Sequence[str],
    rows: Iterable[tuple[Any, ...]],
) -> None:
    """COPY on a sync psycopg connection; a batched INSERT otherwise."""
    names = ", ".join(columns)
    raw = sync_driver(conn)
    if raw is not None:
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT BINARY)") as copy,
        ):
            copy.set_types(list(types))
            for row in rows:
                copy.write_row(row)
        return
    params = [dict(zip(columns, row, strict=True)) for row in rows]
    if params:
        values = ", ".join(f":{c}" for c in columns)
        conn.execute(text(f"INSERT INTO {table} ({names}) VALUES ({values})"), params)
