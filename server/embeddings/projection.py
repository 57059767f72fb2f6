"""Transfer learning on the catalog: project the text space onto the genre structure.

A ridge regression from a title's text embedding to its genres (multi-hot) is fitted on the
catalog itself; its predictions, reduced to ``PROJECTED_DIM`` dimensions, form the projected
synopsis facet. Titles whose synopses read alike *in the ways that predict genre* land close,
which is what "comparable titles" needs and what a general-purpose sentence model lacks.

Quality is measured on titles held out from the fit: genre agreement@k is the share of a
title's k nearest neighbours that share at least one genre with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from server.embeddings.dims import PROJECTED_DIM, TEXT_DIM

Matrix = npt.NDArray[np.float32]

RIDGE_ALPHA = 1.0
HOLDOUT_SHARE = 0.2
MIN_TITLES = 50


@dataclass(frozen=True)
class Projection:
    genres: list[str]
    matrix: Matrix
    """``TEXT_DIM x PROJECTED_DIM``."""
    fitted_on: int
    metrics: dict[str, Any] = field(default_factory=dict)

    def apply(self, text: Matrix) -> Matrix:
        projected = (text @ self.matrix).astype(np.float32)
        norms = np.linalg.norm(projected, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        unit: Matrix = (projected / norms).astype(np.float32)
        return unit

    @classmethod
    def from_stored(cls, genres: list[str], flat: Sequence[float], fitted_on: int) -> Projection:
        matrix = np.asarray(flat, dtype=np.float32).reshape(TEXT_DIM, PROJECTED_DIM)
        return cls(genres=genres, matrix=matrix, fitted_on=fitted_on)


def _targets(labels: Sequence[Sequence[str]]) -> tuple[list[str], Matrix]:
    genres = sorted({g for row in labels for g in row})
    index = {g: i for i, g in enumerate(genres)}
    y = np.zeros((len(labels), len(genres)), dtype=np.float32)
    for row, names in enumerate(labels):
        for name in names:
            y[row, index[name]] = 1.0
    return genres, y


def fit_projection(
    text: Matrix, labels: Sequence[Sequence[str]], alpha: float = RIDGE_ALPHA
) -> Projection:
    """Fit on every row of ``text`` (unit vectors) with its genre names."""
    if len(labels) != text.shape[0]:
        raise ValueError("one genre list per text vector is required")
    genres, y = _targets(labels)
    y = y - y.mean(axis=0, keepdims=True)
    x = text.astype(np.float64)
    gram = x.T @ x + alpha * np.eye(x.shape[1])
    weights = np.linalg.solve(gram, x.T @ y.astype(np.float64))  # TEXT_DIM x G
    if weights.shape[1] > PROJECTED_DIM:
        # Keep the directions along which the predictions vary most.
        _, _, vt = np.linalg.svd(x @ weights, full_matrices=False)
        weights = weights @ vt[:PROJECTED_DIM].T
    matrix = np.zeros((TEXT_DIM, PROJECTED_DIM), dtype=np.float32)
    matrix[:, : weights.shape[1]] = weights
    return Projection(genres=genres, matrix=matrix, fitted_on=len(labels))


def genre_agreement(
    vectors: Matrix, labels: Sequence[Sequence[str]], queries: Sequence[int], k: int = 10
) -> float:
    """Mean share of each query's k nearest neighbours (cosine, self excluded) sharing a genre."""
    genre_sets = [frozenset(row) for row in labels]
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    shares: list[float] = []
    for start in range(0, len(queries), 512):
        block = np.asarray(queries[start : start + 512])
        scores = unit[block] @ unit.T
        scores[np.arange(len(block)), block] = -np.inf
        top = np.argpartition(-scores, k, axis=1)[:, :k]
        for row, query in enumerate(block):
            own = genre_sets[query]
            shares.append(sum(1 for n in top[row] if own & genre_sets[n]) / k)
    return float(np.mean(shares)) if shares else 0.0


def random_agreement(
    labels: Sequence[Sequence[str]], queries: Sequence[int], k: int, seed: int
) -> float:
    rng = np.random.default_rng(seed)
    genre_sets = [frozenset(row) for row in labels]
    shares = []
    for query in queries:
        picks = rng.choice(len(labels) - 1, size=k, replace=False)
        picks[picks >= query] += 1
        shares.append(sum(1 for n in picks if genre_sets[query] & genre_sets[n]) / k)
    return float(np.mean(shares)) if shares else 0.0


def evaluate_holdout(
    text: Matrix, labels: Sequence[Sequence[str]], seed: int = 7, k: int = 10
) -> dict[str, Any]:
    """Fit on 80% of the titles; report genre agreement@k for the held-out 20% as queries."""
    n = len(labels)
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    held_out = sorted(order[: int(n * HOLDOUT_SHARE)].tolist())
    train = sorted(order[int(n * HOLDOUT_SHARE) :].tolist())
    fitted = fit_projection(text[train], [labels[i] for i in train])
    projected = fitted.apply(text)
    from server.embeddings.facets import synopsis_vector

    blended = np.stack([synopsis_vector(text[i], projected[i]) for i in range(n)])
    return {
        "k": k,
        "held_out_titles": len(held_out),
        "train_titles": len(train),
        "genre_agreement_random": random_agreement(labels, held_out, k, seed),
        "genre_agreement_raw": genre_agreement(text, labels, held_out, k),
        "genre_agreement_projected": genre_agreement(projected, labels, held_out, k),
        "genre_agreement_synopsis_facet": genre_agreement(blended, labels, held_out, k),
    }
