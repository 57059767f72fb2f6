"""The 2-D layout of the similarity map: t-SNE over the PCA-reduced cluster features.

Each title is first pulled ``GROUP_PULL`` of the way towards the mean of its micro-genre,
so that micro-genres read as islands on the map while similar titles (and similar
micro-genres) still sit close together. t-SNE (scikit-learn, Barnes-Hut, fixed seed) keeps
neighbourhoods: titles close in the embedding space sit close on the map. Its cost grows
with the number of titles, so above ``MAX_FIT`` titles it is fitted on a fixed random
sample and every other title is placed at the distance-weighted mean of its ``NEIGHBOURS``
nearest sampled titles (plus a little seeded jitter, so titles with the same neighbours do
not stack). On the real catalog (8.8k titles) this takes ~10-15 s on two cores instead of
~45 s for a full fit, and the map looks the same at any zoom a person uses. Coordinates
are centred and scaled into [-1, 1].
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from threadpoolctl import threadpool_limits

Matrix = npt.NDArray[np.float32]

MAX_FIT = 2500
NEIGHBOURS = 7
TSNE_DIM = 50
"""Dimensions fed to t-SNE (PCA first, as the scikit-learn docs recommend)."""
PERPLEXITY = 30.0
GROUP_PULL = 0.4
NUMERIC_THREADS = 1
"""OpenMP/BLAS threads. One: on a busy machine spinning OpenMP threads made t-SNE 3-4x
slower (18 s instead of 5 s for 2,500 points on two loaded cores)."""
ITERATIONS = 500


def layout_2d(
    points: Matrix,
    *,
    seed: int,
    groups: npt.NDArray[np.intp] | None = None,
    pull: float = GROUP_PULL,
    max_fit: int = MAX_FIT,
) -> Matrix:
    """An ``(n, 2)`` array of map coordinates in [-1, 1] for the rows of ``points``;
    ``groups`` (a micro-genre index per row) pulls each row towards its group's mean."""
    with threadpool_limits(limits=NUMERIC_THREADS):
        return _layout(points, seed, groups, pull, max_fit)


def _layout(
    points: Matrix,
    seed: int,
    groups: npt.NDArray[np.intp] | None,
    pull: float,
    max_fit: int,
) -> Matrix:
    n = len(points)
    if n == 0:
        return np.zeros((0, 2), dtype=np.float32)
    x = np.asarray(points, dtype=np.float64)
    if groups is not None and pull > 0:
        sums = np.zeros((int(groups.max()) + 1, x.shape[1]))
        np.add.at(sums, groups, x)
        means = sums / np.maximum(np.bincount(groups), 1)[:, None]
        x = (1 - pull) * x + pull * means[groups]
    if n < 4:
        return _scaled(_pca2(x))
    if x.shape[1] > TSNE_DIM and n > TSNE_DIM:
        x = np.asarray(PCA(n_components=TSNE_DIM, random_state=seed).fit_transform(x))
    rng = np.random.default_rng(seed)
    fit = np.sort(rng.choice(n, size=max_fit, replace=False)) if n > max_fit else np.arange(n)
    embedded = _tsne(x[fit], seed)
    out = np.zeros((n, 2), dtype=np.float64)
    out[fit] = embedded
    rest = np.setdiff1d(np.arange(n), fit)
    if len(rest):
        out[rest] = _interpolate(x[fit], embedded, x[rest], rng)
    return _scaled(out)


def _tsne(x: npt.NDArray[np.floating], seed: int) -> npt.NDArray[np.float64]:
    perplexity = min(PERPLEXITY, max(1.0, (len(x) - 1) / 3))
    model = TSNE(
        n_components=2,
        perplexity=perplexity,
        init="pca",
        learning_rate="auto",
        max_iter=ITERATIONS,
        angle=0.6,
        random_state=seed,
    )
    return np.asarray(model.fit_transform(x), dtype=np.float64)


def _interpolate(
    fitted: npt.NDArray[np.floating],
    embedded: npt.NDArray[np.float64],
    others: npt.NDArray[np.floating],
    rng: np.random.Generator,
) -> npt.NDArray[np.float64]:
    k = min(NEIGHBOURS, len(fitted))
    spread = float(np.median(np.ptp(embedded, axis=0))) / 300
    out = np.empty((len(others), 2), dtype=np.float64)
    fitted_sq = (fitted**2).sum(axis=1)
    for start in range(0, len(others), 1024):
        chunk = others[start : start + 1024]
        dist = (chunk**2).sum(axis=1)[:, None] + fitted_sq[None, :] - 2 * chunk @ fitted.T
        nearest = np.argpartition(dist, k - 1, axis=1)[:, :k]
        d = np.take_along_axis(dist, nearest, axis=1).clip(min=0)
        weights = 1.0 / (np.sqrt(d) + 1e-6)
        weights /= weights.sum(axis=1, keepdims=True)
        out[start : start + len(chunk)] = np.einsum("nk,nkd->nd", weights, embedded[nearest])
    return out + rng.normal(scale=spread, size=out.shape)


def _pca2(points: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    centred = points - points.mean(axis=0)
    if len(points) < 2 or not centred.any():
        return np.zeros((len(points), 2))
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    coords = centred @ vt[:2].T
    if coords.shape[1] < 2:
        coords = np.hstack([coords, np.zeros((len(points), 1))])
    return np.asarray(coords, dtype=np.float64)


def _scaled(coords: npt.NDArray[np.floating]) -> Matrix:
    centred = coords - (coords.max(axis=0) + coords.min(axis=0)) / 2
    extent = float(np.abs(centred).max())
    scaled = centred / extent if extent > 0 else centred
    return np.asarray(scaled, dtype=np.float32)
