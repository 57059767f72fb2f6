"""Facet vectors of a title and how they combine.

Every facet is a unit vector. ``combined`` is the concatenation of the synopsis, tags and
metadata facets divided by sqrt(3), so that for a query built as
``concat(w_s * q_s, w_t * q_t, w_m * q_m) * sqrt(3) / sum(w)`` the inner product with a stored
``combined`` vector is exactly the weighted mean of the three facet cosines: facet weights are a
query-time choice served by one HNSW index.

Tags and metadata are embedded by deterministic random projection: every feature (a tag, a
decade, an origin country...) has a fixed Gaussian direction seeded by its name, and a title's
vector is the weighted sum of its features' directions. Cosine then approximates weighted
feature overlap.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from server.models.dims import METADATA_DIM, SYNOPSIS_DIM, TAGS_DIM, TEXT_DIM

Vector = npt.NDArray[np.float32]
Matrix = npt.NDArray[np.float32]

SYNOPSIS_PROJECTED_SHARE = 0.5
"""Share of the synopsis facet's cosine that comes from the projected (genre-structure) part."""


@dataclass(frozen=True)
class FacetWeights:
    synopsis: float = 0.5
    tags: float = 0.3
    metadata: float = 0.2

    def __post_init__(self) -> None:
        values = (self.synopsis, self.tags, self.metadata)
        if any(v < 0 or not math.isfinite(v) for v in values):
            raise ValueError("facet weights must be finite and >= 0")
        if sum(values) <= 0:
            raise ValueError("at least one facet weight must be > 0")

    @property
    def total(self) -> float:
        return self.synopsis + self.tags + self.metadata


DEFAULT_WEIGHTS = FacetWeights()


@dataclass(frozen=True)
class TitleFeatures:
    """What the tags and metadata facets are built from."""

    kind: str
    release_year: int | None
    maturity_rating: str | None
    duration_minutes: int | None
    seasons: int | None
    original_language: str | None
    countries: Sequence[str]
    tags: Sequence[tuple[str, str, float]]
    """(kind, name, weight)"""


@cache
def _direction(feature: str, dim: int) -> Vector:
    seed = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
    vector = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return vector / np.float32(np.linalg.norm(vector))


def _weighted(features: Sequence[tuple[str, float]], dim: int, empty: str) -> Vector:
    if not features:
        return _direction(empty, dim).copy()
    total = np.zeros(dim, dtype=np.float32)
    for feature, weight in features:
        total += np.float32(weight) * _direction(feature, dim)
    norm = float(np.linalg.norm(total))
    return total / np.float32(norm) if norm > 0 else _direction(empty, dim).copy()


def tags_vector(tags: Sequence[tuple[str, str, float]]) -> Vector:
    features = [(f"tag:{kind}:{name.casefold()}", weight) for kind, name, weight in tags]
    return _weighted(features, TAGS_DIM, "tag:none")


_KIDS = {"TV-Y", "TV-Y7", "TV-Y7-FV", "TV-G", "G"}
_FAMILY = {"TV-PG", "PG"}
_TEEN = {"TV-14", "PG-13"}
_ADULT = {"TV-MA", "R", "NC-17"}


def _audience(rating: str | None) -> str:
    if rating in _KIDS:
        return "kids"
    if rating in _FAMILY:
        return "family"
    if rating in _TEEN:
        return "teen"
    if rating in _ADULT:
        return "adult"
    return "unrated"


def metadata_features(f: TitleFeatures) -> list[tuple[str, float]]:
    features: list[tuple[str, float]] = [(f"kind:{f.kind}", 1.0)]
    if f.release_year is not None:
        decade = f.release_year // 10 * 10
        features.append((f"decade:{decade}", 0.8))
        # Neighbouring decades share an era, so 1999 and 2001 are not strangers.
        features.append((f"era:{(f.release_year - 5) // 20}", 0.4))
        features.append((f"era:{(f.release_year + 5) // 20}", 0.4))
    for position, code in enumerate(f.countries[:3]):
        features.append((f"country:{code}", 1.0 if position == 0 else 0.5))
    if f.original_language:
        features.append((f"language:{f.original_language}", 0.8))
    features.append((f"audience:{_audience(f.maturity_rating)}", 0.6))
    if f.duration_minutes is not None:
        length = (
            "short"
            if f.duration_minutes < 75
            else "long"
            if f.duration_minutes > 130
            else "feature"
        )
        features.append((f"length:{length}", 0.3))
    if f.seasons is not None:
        run = "single" if f.seasons == 1 else "few" if f.seasons <= 3 else "many"
        features.append((f"seasons:{run}", 0.3))
    return features


def metadata_vector(f: TitleFeatures) -> Vector:
    return _weighted(metadata_features(f), METADATA_DIM, "metadata:none")


def synopsis_vector(text: Vector, projected: Vector) -> Vector:
    """Concatenation whose cosine blends raw text similarity and genre-structure similarity."""
    out = np.empty(SYNOPSIS_DIM, dtype=np.float32)
    out[:TEXT_DIM] = text * np.float32(math.sqrt(1 - SYNOPSIS_PROJECTED_SHARE))
    out[TEXT_DIM:] = projected * np.float32(math.sqrt(SYNOPSIS_PROJECTED_SHARE))
    if not projected.any():
        out[:TEXT_DIM] = text  # no projection yet: the facet is the raw text alone
    return out


def synopsis_matrix(text: npt.NDArray[np.float32], projected: npt.NDArray[np.float32]) -> Matrix:
    """``synopsis_vector`` for many rows at once (row ``i`` from ``text[i]``, ``projected[i]``)."""
    out = np.empty((text.shape[0], SYNOPSIS_DIM), dtype=np.float32)
    has_projection = np.asarray(projected).any(axis=1)
    text_scale = np.where(has_projection, math.sqrt(1 - SYNOPSIS_PROJECTED_SHARE), 1.0)
    out[:, :TEXT_DIM] = text * text_scale[:, None].astype(np.float32)
    out[:, TEXT_DIM:] = projected * np.float32(math.sqrt(SYNOPSIS_PROJECTED_SHARE))
    return out


def combined_vector(synopsis: Vector, tags: Vector, metadata: Vector) -> Vector:
    return np.concatenate([synopsis, tags, metadata]).astype(np.float32) / np.float32(math.sqrt(3))


def combined_matrix(synopsis: Matrix, tags: Matrix, metadata: Matrix) -> Matrix:
    """``combined_vector`` for many rows at once."""
    out: Matrix = np.concatenate([synopsis, tags, metadata], axis=1).astype(np.float32)
    out /= np.float32(math.sqrt(3))
    return out


def weighted_query(
    synopsis: Vector, tags: Vector, metadata: Vector, weights: FacetWeights
) -> Vector:
    """A query whose inner product with stored ``combined`` vectors is the weighted score."""
    scale = math.sqrt(3) / weights.total
    return np.concatenate(
        [
            synopsis * np.float32(weights.synopsis * scale),
            tags * np.float32(weights.tags * scale),
            metadata * np.float32(weights.metadata * scale),
        ]
    ).astype(np.float32)
