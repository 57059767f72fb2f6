"""Facet vectors of a title and how they combine.

Four facets: synopsis, tags, metadata and people. Each is a unit vector, except the people
facet of a title that shares no credited person with any other title, which is zero (nothing
to share: its people cosine with every title is 0, not noise). ``combined`` is the
concatenation of the four facets divided by sqrt(4), so that for a query built as
``concat(w_s * q_s, w_t * q_t, w_m * q_m, w_p * q_p) * sqrt(4) / sum(w)`` the inner product
with a stored ``combined`` vector is exactly the weighted mean of the four facet cosines (the
inner products, for a zero people facet): facet weights are a query-time choice served by one
HNSW index.

Tags, metadata and people are embedded by deterministic random projection: every feature (a
tag, a decade, an origin country, a person...) has a fixed Gaussian direction seeded by its
name, and a title's vector is the weighted sum of its features' directions. Cosine then
approximates weighted feature overlap. People are weighted by idf (``log(titles / titles
crediting them)``), so a name on 40 titles counts less than one on 3; a name credited on one
title only cannot be shared and is left out.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from server.models.dims import METADATA_DIM, PEOPLE_DIM, SYNOPSIS_DIM, TAGS_DIM, TEXT_DIM

Vector = npt.NDArray[np.float32]
Matrix = npt.NDArray[np.float32]

SYNOPSIS_PROJECTED_SHARE = 0.5
"""Share of the synopsis facet's cosine that comes from the projected (genre-structure) part."""
FACETS = 4
"""Facets in ``combined``: synopsis, tags, metadata, people."""
COMBINED_SCALE = math.sqrt(FACETS)
"""``combined`` = concatenated facets / ``COMBINED_SCALE``."""


@dataclass(frozen=True)
class FacetWeights:
    synopsis: float = 0.5
    tags: float = 0.3
    metadata: float = 0.2
    people: float = 0.0

    def __post_init__(self) -> None:
        for name, value in self.as_dict().items():
            if value < 0 or not math.isfinite(value):
                raise ValueError(f"facet weight {name} must be finite and >= 0, got {value}")
        if self.total <= 0:
            raise ValueError("at least one facet weight must be > 0")

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    @property
    def total(self) -> float:
        return self.synopsis + self.tags + self.metadata + self.people


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


PersonCredit = tuple[str, str, float]
"""(role, name, weight): role ``CAST`` or ``DIRECTOR``, weight the credit's idf weight."""


def person_weight(role: str, position: int, idf: float) -> float:
    """A credit's weight in the people facet: its idf, halved for cast billed after the 5th
    (a lead is who an audience follows) and doubled for a director."""
    if role == "DIRECTOR":
        return 2.0 * idf
    return idf if position < 5 else 0.5 * idf


def people_vector(credits: Sequence[PersonCredit]) -> Vector:
    """The people facet: idf-weighted directions of the credited names, unit length; zero when
    no name is shared with another title (``credits`` lists only shareable names)."""
    total = np.zeros(PEOPLE_DIM, dtype=np.float32)
    for _, name, weight in credits:
        total += np.float32(weight) * _direction(f"person:{name.casefold()}", PEOPLE_DIM)
    norm = float(np.linalg.norm(total))
    return total / np.float32(norm) if norm > 0 else total


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


def combined_vector(synopsis: Vector, tags: Vector, metadata: Vector, people: Vector) -> Vector:
    out: Vector = np.concatenate([synopsis, tags, metadata, people]).astype(np.float32)
    return out / np.float32(COMBINED_SCALE)


def combined_matrix(synopsis: Matrix, tags: Matrix, metadata: Matrix, people: Matrix) -> Matrix:
    """``combined_vector`` for many rows at once."""
    out: Matrix = np.concatenate([synopsis, tags, metadata, people], axis=1).astype(np.float32)
    out /= np.float32(COMBINED_SCALE)
    return out


def weighted_query(
    synopsis: Vector, tags: Vector, metadata: Vector, people: Vector, weights: FacetWeights
) -> Vector:
    """A query whose inner product with stored ``combined`` vectors is the weighted score."""
    scale = COMBINED_SCALE / weights.total
    return np.concatenate(
        [
            synopsis * np.float32(weights.synopsis * scale),
            tags * np.float32(weights.tags * scale),
            metadata * np.float32(weights.metadata * scale),
            people * np.float32(weights.people * scale),
        ]
    ).astype(np.float32)
