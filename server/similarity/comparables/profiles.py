"""Audience profiles and the audience overlap@k measure of a comparables method.

A title's *audience profile* is its share of chart points per region (points = 11 - rank,
summed over weeks; ``server.audiences.scores``), minus the mean profile of the charting titles
(centred, so titles that chart everywhere do not look like everyone's comparable). The overlap
of two titles is the cosine of their centred profiles. A method's **overlap@k** is the mean
overlap between each query title and its ``k`` nearest comparables among the candidate titles
(itself excluded).

Two settings (``bench/comparables.py`` prints both):

- *all titles*: queries and candidates are every charting title, profiles over every week;
- *time split* at a cutoff: the queries are the titles that first chart on or after it, their
  profiles from those weeks; candidates are the titles that charted before it, their profiles
  and the centring mean from the weeks before it. Whatever a method fits, it fits on the
  candidates' pre-cutoff data: the queries' charts are only used to score it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float64]
Indices = npt.NDArray[np.intp]

K = 10
"""Comparables per title in overlap@k (the issue's overlap@10)."""


@dataclass(frozen=True)
class PointsRow:
    """Chart points of a title in a region (``RegionalScoreRow`` has these fields)."""

    title_id: int
    region_code: str
    points: int


@dataclass
class Profiles:
    """Centred audience profiles of titles, unit length, rows in ``title_ids`` order."""

    title_ids: list[int]
    regions: list[str]
    points: Matrix
    """titles x regions: chart points."""
    mean: npt.NDArray[np.float64]
    """The mean share profile that was subtracted."""
    unit: Matrix
    """titles x regions: centred shares, L2-normalised (a zero row stays zero)."""

    @property
    def totals(self) -> npt.NDArray[np.float64]:
        total: npt.NDArray[np.float64] = self.points.sum(axis=1)
        return total


def audience_profiles(
    rows: Sequence[PointsRow],
    regions: Sequence[str] | None = None,
    mean: npt.NDArray[np.float64] | None = None,
) -> Profiles:
    """Profiles of the titles in ``rows`` over ``regions`` (default: the regions in ``rows``),
    centred by ``mean`` (default: the mean share profile of these titles)."""
    titles = sorted({r.title_id for r in rows})
    codes = sorted({r.region_code for r in rows}) if regions is None else list(regions)
    ti = {t: i for i, t in enumerate(titles)}
    ri = {c: j for j, c in enumerate(codes)}
    points = np.zeros((len(titles), len(codes)))
    for r in rows:
        if r.region_code in ri:
            points[ti[r.title_id], ri[r.region_code]] += r.points
    totals = points.sum(axis=1, keepdims=True)
    shares = points / np.where(totals > 0, totals, 1.0)
    if mean is not None:
        centre = np.asarray(mean, dtype=np.float64)
    else:
        centre = shares.mean(axis=0) if len(titles) else np.zeros(len(codes))
    if centre.shape != (len(codes),):
        raise ValueError(f"mean has {centre.shape} entries for {len(codes)} regions")
    centred = shares - centre
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    unit = centred / np.where(norms > 0, norms, 1.0)
    return Profiles(titles, codes, points, centre, unit)


def top_k(scores: Matrix, k: int = K, exclude: Sequence[int | None] | None = None) -> Indices:
    """Per row, the column indices of the ``k`` highest scores, best first (ties by column);
    ``exclude[i]`` is a column left out of row ``i`` (the title itself)."""
    s = np.array(scores, dtype=np.float64, copy=True)
    if exclude is not None:
        for i, col in enumerate(exclude):
            if col is not None:
                s[i, col] = -np.inf
    k = min(k, s.shape[1] - (1 if exclude is not None else 0))
    order: Indices = np.argsort(-s, axis=1, kind="stable")[:, :k]
    return order


def overlap_at(queries: Matrix, candidates: Matrix, chosen: Indices) -> float:
    """Mean over query rows of the mean cosine between the query's profile (unit row of
    ``queries``) and its chosen candidates' (rows of ``candidates`` indexed by ``chosen``)."""
    if not len(queries):
        return float("nan")
    cos = np.einsum("qr,qkr->qk", queries, candidates[chosen])
    return float(cos.mean())


def self_exclusions(query_ids: Sequence[int], candidate_ids: Sequence[int]) -> list[int | None]:
    at = {t: j for j, t in enumerate(candidate_ids)}
    return [at.get(t) for t in query_ids]
