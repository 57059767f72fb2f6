"""The forecaster: per (title, region) features, a title-balanced logistic model, weeks and
intervals. Pure numpy/scikit-learn over in-memory data; no SQL here (see ``data.py``).

Training data are the catalog titles that charted in at least one region in the training
window. A title is described by ``TitleFacts`` (kind, origin countries, original language,
genres, its text vector from the pretrained encoder and its tags facet); a region by its code,
group and languages. The features of a (title, region) pair, all from training data alone:

1. ``log_prior``: log of the share of training titles that charted in the region;
2. ``log_kind_prior``: the same among training titles of the title's kind;
3. ``origin_match``: the region is one of the title's origin countries;
4. ``log_origin_flow``: log of the smoothed share of training titles from the same origin that
   charted in the region (max over the title's origins, ``(hits + 2 prior) / (titles + 2)``);
5. ``language_match``: the region's main language is the title's original language (or, when
   unknown, the main language of an origin country that is a region);
6. ``group_match``: an origin country is in the region's group (LATAM, EMEA, APAC, UCAN);
7. ``origin_similarity``: audience (co-charting) similarity of the origin region to the region;
8. ``knn``: similarity-weighted share of the ``k`` nearest training titles (comparables) that
   charted in the region;
9. ``genre_affinity``: mean over the title's genres of the log lift of the genre's charting
   rate in the region over the prior (smoothed);
10. ``knn_smoothed``: ``knn`` smoothed through region similarity (titles travel along cohorts).

A training title never sees itself: its comparables, origin flow and genre affinity leave it
out, exactly as a catalog title is treated at forecast time (so a forecast of a title that is
in the training data is the forecast the model would have made without its charts).

Model: ``LogisticRegression`` on the pairs with ``sample_weight = 1 / regions the training
title charted in`` (otherwise the few global hits that chart everywhere dominate), then a
monotone Platt recalibration on the unweighted pairs so probabilities match the observed rate.
"""

from __future__ import annotations

import io
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression

Matrix = npt.NDArray[np.float64]
FEATURES = (
    "log_prior",
    "log_kind_prior",
    "origin_match",
    "log_origin_flow",
    "language_match",
    "group_match",
    "origin_similarity",
    "knn",
    "genre_affinity",
    "knn_smoothed",
)
EPS = 1e-3
SMOOTH = 2.0
"""Pseudo-count of the prior in origin-flow and genre rates."""
WEEKS_PSEUDO = 1.0
"""Pseudo-weight of the region's mean in the comparables' expected weeks when charting."""
INTERVAL = (0.1, 0.9)
"""Quantiles of the weeks interval (an 80% interval)."""
QUANTILE_GRID = 21
COMPARABLES = ("content", "learned")
DEFAULT_COMPARABLES = "learned"
"""What ``contentintel train`` and ``backtest`` use unless told: the learned comparables beat
the content ones in the backtest at 2021-09-15 (README, "Learned comparables")."""


@dataclass(frozen=True)
class Params:
    k: int = 20
    """Comparables per title."""
    c: float = 1.0
    """Inverse regularisation strength of the logistic regression."""
    tag_weight: float = 0.0
    """Weight of the tags facet in comparables' similarity (the rest: the text vector)."""
    comparables: str = "learned"
    """``content``: comparables by text (and tags) cosine; ``learned``: by the learned
    comparables (``server.similarity.comparables``): the cosine of the title's audience
    profile predicted from its content with the training titles' observed profiles."""

    def __post_init__(self) -> None:
        if self.comparables not in COMPARABLES:
            raise ValueError(f"comparables must be one of {', '.join(COMPARABLES)}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "C": self.c,
            "tag_weight": self.tag_weight,
            "comparables": self.comparables,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Params:
        return cls(
            k=int(d["k"]),
            c=float(d["C"]),
            tag_weight=float(d["tag_weight"]),
            comparables=str(d.get("comparables", "content")),
        )


@dataclass(frozen=True)
class RegionInfo:
    code: str
    name: str
    group: str
    languages: tuple[str, ...]


@dataclass
class TitleFacts:
    """What the features see of a title (catalog or draft)."""

    kind: str
    origins: list[str]
    original_language: str | None
    genres: list[str]
    text: npt.NDArray[np.float32]
    """Unit text vector of the synopsis (pretrained encoder)."""
    tags: npt.NDArray[np.float32]
    """Unit tags facet (genres and tags)."""
    title_id: int | None = None
    audience: npt.NDArray[np.float64] | None = None
    """Unit audience profile predicted from the title's content by the learned comparables
    (over ``TrainingData.regions``; cross-fitted for a training title, so that it never
    comes from a fit on its own charts); None unless comparables are learned."""


@dataclass
class TrainingData:
    """Charted titles of a training window and the regions, all from weeks before a cutoff."""

    regions: list[RegionInfo]
    titles: list[TitleFacts]
    charted: npt.NDArray[np.bool_]
    """titles x regions: charted in the window."""
    weeks: npt.NDArray[np.int16]
    """titles x regions: weeks in the Top 10 in the window."""
    region_similarity: Matrix
    """regions x regions audience (co-charting) similarity, diagonal 1."""
    embedder: str
    audience: Matrix | None = None
    """titles x regions: the training titles' observed centred unit audience profiles (what
    learned comparables compare a query's predicted profile with); None unless learned."""
    comparables_model: bytes | None = None
    """The fitted ``ComparablesModel`` (``to_bytes``) that predicts a draft's profile."""

    @property
    def title_ids(self) -> list[int]:
        return [t.title_id or 0 for t in self.titles]


@dataclass
class Neighbours:
    index: npt.NDArray[np.int64]
    """queries x k: rows of the training titles, nearest first."""
    similarity: Matrix


@dataclass
class _Stats:
    prior: Matrix
    kind_prior: dict[str, Matrix]
    origin_rows: dict[str, list[int]]
    genre_rows: dict[str, list[int]]
    genre_hits: dict[str, Matrix]
    origin_hits: dict[str, Matrix]
    region_index: dict[str, int]
    region_weeks_mean: Matrix
    region_weeks_quantiles: Matrix
    """regions x QUANTILE_GRID: weeks when charted."""
    smoothing: Matrix
    """region similarity normalised by column sums (knn -> knn_smoothed)."""
    text: npt.NDArray[np.float32]
    tags: npt.NDArray[np.float32]
    title_row: dict[int, int] = field(default_factory=dict)


def _stats(data: TrainingData) -> _Stats:
    b = data.charted.astype(np.float64)
    n = max(len(data.titles), 1)
    prior = b.sum(0) / n
    kinds: dict[str, list[int]] = defaultdict(list)
    origin_rows: dict[str, list[int]] = defaultdict(list)
    genre_rows: dict[str, list[int]] = defaultdict(list)
    for i, t in enumerate(data.titles):
        kinds[t.kind].append(i)
        for o in dict.fromkeys(t.origins):
            origin_rows[o].append(i)
        for g in dict.fromkeys(t.genres):
            genre_rows[g].append(i)
    kind_prior = {k: b[rows].mean(0) for k, rows in kinds.items()}
    weeks = data.weeks.astype(np.float64)
    nr = len(data.regions)
    mean = np.zeros(nr)
    quantiles = np.zeros((nr, QUANTILE_GRID))
    grid = np.linspace(0, 1, QUANTILE_GRID)
    for r in range(nr):
        charted = weeks[data.charted[:, r], r]
        if charted.size:
            mean[r] = charted.mean()
            quantiles[r] = np.quantile(charted, grid)
        else:
            mean[r] = 1.0
            quantiles[r] = 1.0
    rs = data.region_similarity
    smoothing = rs / np.where(rs.sum(0) > 0, rs.sum(0), 1.0)
    return _Stats(
        prior=prior,
        kind_prior=kind_prior,
        origin_rows=dict(origin_rows),
        genre_rows=dict(genre_rows),
        genre_hits={g: b[rows].sum(0) for g, rows in genre_rows.items()},
        origin_hits={o: b[rows].sum(0) for o, rows in origin_rows.items()},
        region_index={r.code: i for i, r in enumerate(data.regions)},
        region_weeks_mean=mean,
        region_weeks_quantiles=quantiles,
        smoothing=smoothing,
        text=np.stack([t.text for t in data.titles]) if data.titles else np.zeros((0, 1), "f4"),
        tags=np.stack([t.tags for t in data.titles]) if data.titles else np.zeros((0, 1), "f4"),
        title_row={t.title_id: i for i, t in enumerate(data.titles) if t.title_id is not None},
    )


def title_languages(
    t: TitleFacts, regions: Sequence[RegionInfo], index: dict[str, int]
) -> set[str]:
    """The title's original language, or the main languages of its origin regions."""
    if t.original_language:
        return {t.original_language}
    return {regions[index[o]].languages[0] for o in t.origins if o in index}


def similarities(
    data: TrainingData,
    stats: _Stats,
    queries: Sequence[TitleFacts],
    tag_weight: float,
    comparables: str = "content",
) -> Matrix:
    """queries x training titles: comparables' similarity (text cosine blended with tags, or
    the learned comparables: predicted vs observed audience profiles)."""
    if comparables == "learned":
        if data.audience is None or any(q.audience is None for q in queries):
            raise ValueError("learned comparables need the titles' audience profiles")
        q_audience = np.stack([q.audience for q in queries if q.audience is not None])
        learned: Matrix = q_audience @ data.audience.T
        return learned
    q_text = np.stack([q.text for q in queries]).astype(np.float32)
    sims: Matrix = (q_text @ stats.text.T).astype(np.float64)
    if tag_weight > 0:
        q_tags = np.stack([q.tags for q in queries]).astype(np.float32)
        sims = (1 - tag_weight) * sims + tag_weight * (q_tags @ stats.tags.T)
    return sims


def neighbours(sims: Matrix, exclude: Sequence[int | None], k: int) -> Neighbours:
    sims = sims.copy()
    for i, row in enumerate(exclude):
        if row is not None:
            sims[i, row] = -np.inf
    k = max(1, min(k, sims.shape[1] - (1 if any(e is not None for e in exclude) else 0)))
    top = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return Neighbours(top, np.take_along_axis(sims, top, 1))


def knn_rates(data: TrainingData, nb: Neighbours) -> Matrix:
    w = np.clip(nb.similarity, 0, None)
    w = np.where(np.isfinite(w), w, 0)
    hits = data.charted[nb.index].astype(np.float64)  # q x k x R
    out: Matrix = np.einsum("qk,qkr->qr", w, hits) / (w.sum(1, keepdims=True) + 1e-9)
    return out


def build_features(
    data: TrainingData,
    stats: _Stats,
    queries: Sequence[TitleFacts],
    exclude: Sequence[int | None],
    params: Params,
) -> tuple[npt.NDArray[np.float64], Neighbours]:
    """(queries x regions x features, the comparables); ``exclude[i]``: training row left out."""
    nq, nr = len(queries), len(data.regions)
    nb = neighbours(
        similarities(data, stats, queries, params.tag_weight, params.comparables),
        exclude,
        params.k,
    )
    knn = knn_rates(data, nb)
    prior = stats.prior
    b = data.charted.astype(np.float64)
    x = np.zeros((nq, nr, len(FEATURES)))
    x[:, :, 0] = np.log(prior + EPS)
    rs = data.region_similarity
    groups = [r.group for r in data.regions]
    main_language = [r.languages[0] for r in data.regions]
    idx = stats.region_index
    log_prior = np.log(prior + EPS)
    for i, q in enumerate(queries):
        row = exclude[i]
        x[i, :, 1] = np.log(stats.kind_prior.get(q.kind, prior) + EPS)
        flow: Matrix | None = None
        for o in dict.fromkeys(q.origins):
            rows = stats.origin_rows.get(o, [])
            hits = stats.origin_hits.get(o, np.zeros(nr))
            count = len(rows)
            if row is not None and row in rows:
                hits, count = hits - b[row], count - 1
            f = (hits + SMOOTH * prior) / (count + SMOOTH)
            flow = f if flow is None else np.maximum(flow, f)
            if o in idx:
                r = idx[o]
                x[i, r, 2] = 1.0
                x[i, :, 6] = np.maximum(x[i, :, 6], rs[r])
                for j, g in enumerate(groups):
                    if g == data.regions[r].group:
                        x[i, j, 5] = 1.0
        x[i, :, 3] = np.log((flow if flow is not None else prior) + EPS)
        langs = title_languages(q, data.regions, idx)
        for j, lang in enumerate(main_language):
            if lang in langs:
                x[i, j, 4] = 1.0
        lifts = []
        for g in dict.fromkeys(q.genres):
            carriers = stats.genre_rows.get(g)
            if not carriers:
                continue
            hits, count = stats.genre_hits[g], len(carriers)
            if row is not None and row in carriers:
                hits, count = hits - b[row], count - 1
            rate = (hits + SMOOTH * prior) / (count + SMOOTH)
            lifts.append(np.log(rate + EPS) - log_prior)
        if lifts:
            x[i, :, 8] = np.mean(lifts, axis=0)
    x[:, :, 7] = knn
    x[:, :, 9] = knn @ stats.smoothing
    return x, nb


def _sigmoid(z: Matrix) -> Matrix:
    out: Matrix = 1.0 / (1.0 + np.exp(-z))
    return out


@dataclass
class RegionForecast:
    code: str
    probability: float
    expected_weeks: float
    low: float
    high: float


@dataclass
class TitleForecast:
    regions: list[RegionForecast]
    """Sorted by probability, highest first."""
    comparables: list[tuple[int, float]]
    """(training title id, similarity), nearest first."""


class Forecaster:
    """A fitted model together with the training data its features are computed from."""

    def __init__(self, data: TrainingData, params: Params) -> None:
        self.data = data
        self.params = params
        self.stats = _stats(data)
        self.coef = np.zeros(len(FEATURES))
        self.intercept = 0.0
        self.calibration = (1.0, 0.0)

    # --- training -----------------------------------------------------------------------------

    def training_features(self) -> npt.NDArray[np.float64]:
        x, _ = build_features(
            self.data, self.stats, self.data.titles, list(range(len(self.data.titles))), self.params
        )
        return x

    def fit(self) -> Forecaster:
        data = self.data
        if len(data.titles) < 2 or not data.charted.any():
            raise ValueError("training needs at least two titles with chart data")
        x = self.training_features()
        y = data.charted.reshape(-1)
        if y.all() or not y.any():
            raise ValueError("training needs both charting and non-charting title x region pairs")
        flat = x.reshape(-1, x.shape[-1])
        npos = data.charted.sum(1)
        weight = np.repeat(1.0 / np.maximum(npos, 1), len(data.regions))
        model = LogisticRegression(C=self.params.c, max_iter=3000)
        model.fit(flat, y, sample_weight=weight)
        self.coef = model.coef_[0].astype(np.float64)
        self.intercept = float(model.intercept_[0])
        z = flat @ self.coef + self.intercept
        platt = LogisticRegression(C=1e6, max_iter=1000)
        platt.fit(z[:, None], y)
        self.calibration = (float(platt.coef_[0][0]), float(platt.intercept_[0]))
        return self

    # --- prediction ---------------------------------------------------------------------------

    def exclusions(self, queries: Sequence[TitleFacts]) -> list[int | None]:
        return [
            self.stats.title_row.get(q.title_id) if q.title_id is not None else None
            for q in queries
        ]

    def predict(self, queries: Sequence[TitleFacts]) -> tuple[Matrix, Neighbours]:
        """(queries x regions probabilities, comparables)."""
        if not queries:
            return np.zeros((0, len(self.data.regions))), Neighbours(
                np.zeros((0, 0), np.int64), np.zeros((0, 0))
            )
        x, nb = build_features(
            self.data, self.stats, queries, self.exclusions(queries), self.params
        )
        a, b = self.calibration
        z = x @ self.coef + self.intercept
        return _sigmoid(a * z + b), nb

    def forecast(self, queries: Sequence[TitleFacts]) -> list[TitleForecast]:
        probs, nb = self.predict(queries)
        out = []
        for i in range(len(queries)):
            weeks = self._weeks(probs[i], nb.index[i], nb.similarity[i])
            regions = [
                RegionForecast(self.data.regions[r].code, float(probs[i, r]), *weeks[r])
                for r in range(len(self.data.regions))
            ]
            regions.sort(key=lambda f: (-f.probability, f.code))
            comps = [
                (self.data.titles[int(j)].title_id or 0, float(s))
                for j, s in zip(nb.index[i], nb.similarity[i], strict=True)
                if np.isfinite(s)
            ]
            out.append(TitleForecast(regions, comps))
        return out

    def _weeks(
        self, p: Matrix, rows: npt.NDArray[np.int64], sims: Matrix
    ) -> list[tuple[float, float, float]]:
        """Per region: expected weeks, and the 80% interval of weeks in the Top 10.

        When charting, a title is expected to stay as long as its comparables that charted in
        the region did (similarity-weighted, shrunk towards the region's mean by one pseudo
        title). Expected weeks = probability x that. The interval is the 10% and 90% quantiles
        of the mixture "does not chart (weeks 0) with 1 - p" and "charts, with the region's
        empirical weeks-when-charted distribution rescaled to the comparables' mean".
        """
        s = self.stats
        w = np.clip(np.where(np.isfinite(sims), sims, 0), 0, None)
        hits = self.data.charted[rows].astype(np.float64)
        weeks = self.data.weeks[rows].astype(np.float64)
        num = (w[:, None] * hits * weeks).sum(0) + WEEKS_PSEUDO * s.region_weeks_mean
        den = (w[:, None] * hits).sum(0) + WEEKS_PSEUDO
        when_charted = num / den
        scale = when_charted / np.where(s.region_weeks_mean > 0, s.region_weeks_mean, 1)
        grid = np.linspace(0, 1, QUANTILE_GRID)
        out = []
        for r in range(len(p)):
            bounds = []
            for q in INTERVAL:
                if q <= 1 - p[r]:
                    bounds.append(0.0)
                else:
                    cq = (q - (1 - p[r])) / p[r]
                    bounds.append(
                        float(np.interp(cq, grid, s.region_weeks_quantiles[r])) * scale[r]
                    )
            out.append((float(p[r] * when_charted[r]), bounds[0], bounds[1]))
        return out

    # --- storage ------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        d = self.data
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            region_codes=np.array([r.code for r in d.regions], dtype="U2"),
            region_names=np.array([r.name for r in d.regions]),
            region_groups=np.array([r.group for r in d.regions]),
            region_languages=np.array([",".join(r.languages) for r in d.regions]),
            title_ids=np.array([t.title_id or 0 for t in d.titles], dtype=np.int64),
            kinds=np.array([t.kind for t in d.titles]),
            origins=np.array(["\x1f".join(t.origins) for t in d.titles]),
            languages=np.array([t.original_language or "" for t in d.titles]),
            genres=np.array(["\x1f".join(t.genres) for t in d.titles]),
            text=self.stats.text,
            tags=self.stats.tags,
            charted=d.charted,
            weeks=d.weeks,
            region_similarity=d.region_similarity,
            coef=self.coef,
            intercept=np.array([self.intercept]),
            calibration=np.array(self.calibration),
            **self._learned_arrays(),
        )
        return buffer.getvalue()

    def _learned_arrays(self) -> dict[str, Any]:
        d = self.data
        if d.audience is None:
            return {}
        return {
            "audience": d.audience,
            "title_audience": np.stack(
                [
                    t.audience if t.audience is not None else np.zeros(len(d.regions))
                    for t in d.titles
                ]
            ),
            "comparables_model": np.frombuffer(d.comparables_model or b"", dtype=np.uint8),
        }

    @classmethod
    def from_bytes(cls, blob: bytes, params: Params, embedder: str) -> Forecaster:
        with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
            # Each ``npz[name]`` reads and decompresses the array again: read every one once
            # (indexing them per title made decoding a 540-title model take 3.3 s).
            z = {name: npz[name] for name in npz.files}
            regions = [
                RegionInfo(str(c), str(n), str(g), tuple(str(lang).split(",")))
                for c, n, g, lang in zip(
                    z["region_codes"],
                    z["region_names"],
                    z["region_groups"],
                    z["region_languages"],
                    strict=True,
                )
            ]
            kinds, origins, languages = z["kinds"], z["origins"], z["languages"]
            title_audience = z.get("title_audience")
            genres, texts, tags, title_ids = z["genres"], z["text"], z["tags"], z["title_ids"]
            titles = [
                TitleFacts(
                    kind=str(kinds[i]),
                    origins=[o for o in str(origins[i]).split("\x1f") if o],
                    original_language=str(languages[i]) or None,
                    genres=[g for g in str(genres[i]).split("\x1f") if g],
                    text=texts[i],
                    tags=tags[i],
                    title_id=int(title_ids[i]),
                    audience=title_audience[i] if title_audience is not None else None,
                )
                for i in range(len(title_ids))
            ]
            data = TrainingData(
                regions, titles, z["charted"], z["weeks"], z["region_similarity"], embedder
            )
            if "audience" in z:
                data.audience = z["audience"]
                data.comparables_model = z["comparables_model"].tobytes()
            model = cls(data, params)
            model.coef = z["coef"].astype(np.float64)
            model.intercept = float(z["intercept"][0])
            model.calibration = (float(z["calibration"][0]), float(z["calibration"][1]))
        return model


# --- metrics -----------------------------------------------------------------------------------


def ndcg_at(scores: Matrix, relevance: Matrix, k: int = 10) -> float:
    """NDCG@k with linear gains (relevance = chart points), ties broken by region order."""
    order = np.argsort(-scores, kind="stable")[:k]
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = float((relevance[order] * discounts[: len(order)]).sum())
    ideal = np.sort(relevance)[::-1][:k]
    idcg = float((ideal * discounts[: len(ideal)]).sum())
    return dcg / idcg if idcg > 0 else math.nan


def precision_at(scores: Matrix, relevance: Matrix, k: int = 10) -> float:
    order = np.argsort(-scores, kind="stable")[:k]
    return float((relevance[order] > 0).mean())


def roc_auc(scores: Matrix, positive: npt.NDArray[np.bool_]) -> float:
    """Mann-Whitney ROC-AUC (ties count half); NaN when one class is empty."""
    pos, neg = scores[positive], scores[~positive]
    if not len(pos) or not len(neg):
        return math.nan
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(pos) * len(neg)))


@dataclass(frozen=True)
class MethodScore:
    method: str
    baseline: bool
    ndcg10: float
    precision10: float
    auc: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate(method: str, baseline: bool, scores: Matrix, relevance: Matrix) -> MethodScore:
    """Mean NDCG@10, precision@10 and ROC-AUC over test titles (rows)."""
    n, p, a = [], [], []
    for i in range(scores.shape[0]):
        n.append(ndcg_at(scores[i], relevance[i]))
        p.append(precision_at(scores[i], relevance[i]))
        a.append(roc_auc(scores[i], relevance[i] > 0))

    def mean(values: list[float]) -> float:
        finite = [v for v in values if not math.isnan(v)]
        return float(np.mean(finite)) if finite else math.nan

    return MethodScore(method, baseline, mean(n), mean(p), mean(a))
