"""The learned comparables model: a title's content -> its predicted audience profile, so that
the cosine of two titles' vectors predicts their audience overlap (transfer learning from the
pretrained text encoder and the catalog facets to the audience space). Pure numpy; no SQL.

Fit, on the titles with chart history (before a cutoff, for the time split):

1. inputs ``X``: a title's facets side by side (unit blocks: synopsis text, its genre
   projection, tags, metadata, people) and one-hot origin countries, original language and
   kind (values seen on at least two training titles), scaled by ``Params.one_hot``;
2. targets ``Y``: the titles' centred unit audience profiles (``profiles.py``);
3. ridge regression ``W = X^T (X X^T + lam I)^-1 Y`` (the dual form: a few hundred titles, a
   thousand input dimensions); ``X W`` is a title's *predicted* audience profile.

A title's comparables vector is its audience profile in region coordinates (zero-padded to
``COMPARABLE_DIM``), unit length: the *observed* centred profile when the title has chart
history in the model's window, else the *predicted* one. The predicted one needs content only,
so every title has one: drafts, new titles, the catalog's long tail. The comparables of a new
title are then the titles whose audiences look like the audience predicted for it (what Netflix
comparables combine: what a title is about, who made it, who watched the others).

Measured on the real data at the 2021-09-15 time split (``bench/comparables.py``): one-hot
weight 2 and lam 30 were the best of a grid (one-hot 0/0.5/1/2/3, lam 1..100); without the
one-hot block overlap@10 drops from 0.21 to 0.16, without the people facet by ~0.01;
predicted-vs-predicted (candidates' content only) scores 0.11-0.15.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from server.models.dims import COMPARABLE_DIM

Matrix = npt.NDArray[np.float64]
Vectors = npt.NDArray[np.float32]

BLOCKS = ("text", "projected", "tags", "metadata", "people")
"""The facet blocks a title is described by (``TitleEmbedding`` columns)."""
MIN_VALUE_TITLES = 2
"""A one-hot value (origin, language, kind) enters the inputs when this many training titles
have it."""


@dataclass(frozen=True)
class Params:
    lam: float = 30.0
    """Ridge penalty."""
    one_hot: float = 2.0
    """Scale of the one-hot block (origins, language, kind) next to the unit facet blocks."""

    def as_dict(self) -> dict[str, Any]:
        return {"lam": self.lam, "one_hot": self.one_hot}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Params:
        return cls(lam=float(d["lam"]), one_hot=float(d["one_hot"]))


@dataclass
class Content:
    """What the model reads of titles: facet blocks (rows in title order) and the one-hot
    values of each title (``origin:KR``, ``language:ko``, ``kind:SHOW``)."""

    facets: Mapping[str, Vectors]
    values: Sequence[Sequence[str]]

    def __len__(self) -> int:
        return len(self.values)

    def rows(self, index: Sequence[int]) -> Content:
        return Content(
            {b: np.asarray(v)[list(index)] for b, v in self.facets.items()},
            [self.values[i] for i in index],
        )


def one_hot_values(kind: str, origins: Sequence[str], language: str | None) -> list[str]:
    return [
        f"kind:{kind}",
        *(f"origin:{o}" for o in dict.fromkeys(origins)),
        *([f"language:{language}"] if language else []),
    ]


def _unit(matrix: Matrix) -> Matrix:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    out: Matrix = matrix / np.where(norms > 0, norms, 1.0)
    return out


def pad(profiles: Matrix) -> Vectors:
    """Unit rows zero-padded to ``COMPARABLE_DIM`` (what is stored and searched)."""
    if profiles.shape[1] > COMPARABLE_DIM:
        raise ValueError(
            f"{profiles.shape[1]} regions do not fit the {COMPARABLE_DIM}-dim comparables vector"
        )
    out = np.zeros((profiles.shape[0], COMPARABLE_DIM), dtype=np.float32)
    out[:, : profiles.shape[1]] = _unit(profiles)
    return out


@dataclass
class ComparablesModel:
    params: Params
    regions: list[str]
    vocabulary: list[str]
    """One-hot values, in input column order."""
    coef: Matrix
    """input dims x regions: the ridge map from content to a predicted profile."""
    mean: npt.NDArray[np.float64]
    """The mean share profile the training profiles were centred by."""

    def inputs(self, content: Content) -> Matrix:
        blocks = [_unit(np.asarray(content.facets[b], dtype=np.float64)) for b in BLOCKS]
        at = {v: j for j, v in enumerate(self.vocabulary)}
        hot = np.zeros((len(content), len(self.vocabulary)))
        for i, values in enumerate(content.values):
            for v in values:
                if v in at:
                    hot[i, at[v]] = 1.0
        out: Matrix = np.hstack([*blocks, hot * self.params.one_hot])
        return out

    @classmethod
    def fit(
        cls,
        content: Content,
        targets: Matrix,
        regions: Sequence[str],
        mean: npt.NDArray[np.float64],
        params: Params | None = None,
    ) -> ComparablesModel:
        """``targets``: the training titles' centred unit profiles, rows as in ``content``."""
        params = params or Params()
        if len(content) < 2:
            raise ValueError("fitting comparables needs at least two titles with chart history")
        counts = Counter(v for values in content.values for v in dict.fromkeys(values))
        vocabulary = sorted(v for v, n in counts.items() if n >= MIN_VALUE_TITLES)
        model = cls(params, list(regions), vocabulary, np.zeros(0), np.asarray(mean, float))
        x = model.inputs(content)
        gram = x @ x.T
        alpha = np.linalg.solve(gram + params.lam * np.eye(len(gram)), targets)
        model.coef = x.T @ alpha
        return model

    def predicted(self, content: Content) -> Matrix:
        """titles x regions: predicted centred profiles (not normalised)."""
        out: Matrix = self.inputs(content) @ self.coef
        return out

    def vectors(self, content: Content) -> Vectors:
        """titles x COMPARABLE_DIM: unit predicted profiles, zero-padded."""
        return pad(self.predicted(content))

    # --- storage ---------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            regions=np.array(self.regions, dtype="U8"),
            vocabulary=np.array(self.vocabulary),
            coef=self.coef.astype(np.float32),
            mean=self.mean,
            params=np.array([self.params.lam, self.params.one_hot]),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> ComparablesModel:
        with np.load(io.BytesIO(blob), allow_pickle=False) as z:
            lam, one_hot = (float(v) for v in z["params"])
            return cls(
                Params(lam=lam, one_hot=one_hot),
                [str(r) for r in z["regions"]],
                [str(v) for v in z["vocabulary"]],
                z["coef"].astype(np.float64),
                z["mean"].astype(np.float64),
            )
