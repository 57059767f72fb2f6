"""The genre projection: fitting recovers structure, storage round trips, agreement by hand."""

from __future__ import annotations

import numpy as np
import pytest

from server.embeddings.projection import (
    Projection,
    evaluate_holdout,
    fit_and_evaluate,
    fit_projection,
    genre_agreement,
    random_agreement,
    select_alpha,
)
from server.models.dims import PROJECTED_DIM, TEXT_DIM


def _synthetic(
    n: int, genres: int, noise: float, seed: int = 0
) -> tuple[np.ndarray, list[list[str]]]:
    """Titles whose text is their genres' directions plus strong genre-irrelevant content.

    Every text also carries a large random mix of a few "nuisance" directions (what a plot is
    about beyond its genre), so raw nearest neighbours follow the nuisance more than the genre;
    ``noise`` scales it. Every fifth title has a second genre.
    """
    rng = np.random.default_rng(seed)
    directions = rng.standard_normal((genres + 6, TEXT_DIM))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    centres, nuisance = directions[:genres], directions[genres:]
    labels: list[list[str]] = []
    rows = []
    for i in range(n):
        first = i % genres
        own = sorted({first, (first + 1 + i // genres) % genres} if i % 5 == 0 else {first})
        labels.append([f"g{g:02d}" for g in own])
        vector = (
            centres[own].sum(axis=0)
            + noise * rng.standard_normal(len(nuisance)) @ nuisance
            + 0.3 * rng.standard_normal(TEXT_DIM) / np.sqrt(TEXT_DIM)
        )
        rows.append(vector / np.linalg.norm(vector))
    return np.asarray(rows, dtype=np.float32), labels


def test_genre_agreement_by_hand() -> None:
    # Five titles on a line (2-d, but cosine needs angles: use directions at these angles).
    angles = np.radians([0, 10, 25, 90, 100])
    vectors = np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)
    labels = [["A"], ["A", "B"], ["B"], ["C"], ["A", "C"]]
    # Neighbours by angle: 0 -> 10, 25; 25 -> 10, 0; 90 -> 100, 25.
    # Query 0: {A} vs 10 {A,B} yes, 25 {B} no -> 1/2. Query 2: {B} vs {A,B} yes, {A} no -> 1/2.
    # Query 3: {C} vs 100 {A,C} yes, 25 {B} no -> 1/2.
    assert genre_agreement(vectors, labels, [0, 2, 3], k=2) == pytest.approx(0.5)
    # k=1: 0 -> 10 (yes), 2 -> 10 (yes), 3 -> 100 (yes), 4 -> 90 {C} (yes), 1 -> 0 {A} (yes).
    assert genre_agreement(vectors, labels, [0, 1, 2, 3, 4], k=1) == pytest.approx(1.0)
    # Self is excluded even when another title has the same vector, and ties go to the lower
    # row: title 1 duplicated as title 2; the query 2's nearest is 1, not itself.
    dup = vectors.copy()
    dup[2] = dup[1]
    assert genre_agreement(dup, [["A"], ["X"], ["Y"], ["C"], ["C"]], [2], k=1) == 0.0
    assert genre_agreement(dup, [["A"], ["Y"], ["Y"], ["C"], ["C"]], [2], k=1) == 1.0


def test_random_agreement_is_seeded_and_near_the_base_rate() -> None:
    labels = [["A"] if i % 4 == 0 else ["B"] for i in range(400)]
    queries = list(range(0, 400, 3))
    first = random_agreement(labels, queries, 10, seed=1)
    assert first == random_agreement(labels, queries, 10, seed=1)
    # A query shares a genre with a random other title with probability ~ its genre's share.
    expected = np.mean([0.25 if q % 4 == 0 else 0.75 for q in queries])
    assert first == pytest.approx(expected, abs=0.05)


def test_fit_recovers_the_genre_structure() -> None:
    text, labels = _synthetic(600, genres=8, noise=2.0)
    train, held = list(range(480)), list(range(480, 600))
    projection = fit_projection(text[train], [labels[i] for i in train])
    assert projection.genres == [f"g{g:02d}" for g in range(8)]
    assert projection.fitted_on == 480
    projected = projection.apply(text)
    assert projected.shape == (600, PROJECTED_DIM)
    np.testing.assert_allclose(np.linalg.norm(projected, axis=1), 1.0, rtol=1e-5)
    # Each held-out title's most probable genre is one of its own.
    top = projected[held, :8].argmax(axis=1)
    hits = np.mean([projection.genres[g] in labels[i] for g, i in zip(top, held, strict=True)])
    assert hits > 0.9
    raw = genre_agreement(text, labels, held)
    assert raw < 0.5
    assert genre_agreement(projected, labels, held) > max(raw + 0.1, 0.9)


def test_apply_accepts_one_vector() -> None:
    text, labels = _synthetic(100, genres=4, noise=1.0)
    projection = fit_projection(text, labels)
    np.testing.assert_allclose(projection.apply(text[3]), projection.apply(text)[3], rtol=1e-6)


def test_stored_form_round_trips() -> None:
    text, labels = _synthetic(200, genres=6, noise=1.5)
    projection = fit_projection(text, labels)
    flat = projection.to_stored()
    assert len(flat) == (TEXT_DIM + 1 + PROJECTED_DIM) * 6
    loaded = Projection.from_stored(projection.genres, flat, projection.fitted_on)
    np.testing.assert_allclose(loaded.apply(text), projection.apply(text), atol=1e-6)
    with pytest.raises(ValueError, match="stored projection"):
        Projection.from_stored(projection.genres[:5], flat, 200)


def test_a_linear_projection_as_stored_by_earlier_versions_still_loads() -> None:
    rng = np.random.default_rng(2)
    matrix = rng.standard_normal((TEXT_DIM, PROJECTED_DIM)).astype(np.float32)
    loaded = Projection.from_stored(["A", "B"], matrix.ravel().tolist(), 10)
    text = rng.standard_normal((3, TEXT_DIM)).astype(np.float32)
    expected = text @ matrix
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(loaded.apply(text), expected, rtol=1e-5)
    assert loaded.to_stored() == matrix.ravel().tolist()


def test_more_genres_than_projected_dims_are_reduced() -> None:
    text, labels = _synthetic(700, genres=70, noise=1.0)
    projection = fit_projection(text, labels)
    assert len(projection.genres) == 70
    projected = projection.apply(text)
    assert projected.shape == (700, PROJECTED_DIM)
    np.testing.assert_allclose(np.linalg.norm(projected, axis=1), 1.0, rtol=1e-5)
    loaded = Projection.from_stored(projection.genres, projection.to_stored(), 700)
    np.testing.assert_allclose(loaded.apply(text), projected, atol=1e-6)
    assert genre_agreement(projected, labels, list(range(0, 700, 7))) > 0.9


def test_fit_rejects_bad_input() -> None:
    text, labels = _synthetic(60, genres=3, noise=1.0)
    with pytest.raises(ValueError, match="one genre list per text vector"):
        fit_projection(text, labels[:-1])
    with pytest.raises(ValueError, match="at least one genre"):
        fit_projection(text, [[] for _ in labels])
    with pytest.raises(ValueError, match="384 dimensions"):
        fit_projection(text[:, :100], labels)


def test_alpha_is_chosen_on_the_given_titles_only() -> None:
    text, labels = _synthetic(500, genres=6, noise=3.0, seed=4)
    alpha, scores = select_alpha(text, labels)
    assert set(scores) == {"0.3", "0.1", "0.03"}
    assert scores[f"{alpha:g}"] == max(scores.values())
    # Labels of titles outside the given rows cannot matter: same rows, same choice.
    assert select_alpha(text, labels) == (alpha, scores)


def test_evaluate_holdout_is_deterministic_and_shows_the_gain() -> None:
    text, labels = _synthetic(600, genres=10, noise=2.0, seed=1)
    first = evaluate_holdout(text, labels)
    assert first == evaluate_holdout(text, labels)
    assert first["held_out_titles"] == 120
    assert first["train_titles"] == 480
    assert first["k"] == 10
    assert first["alpha"] in (0.3, 0.1, 0.03)
    assert first["genre_agreement_random"] < first["genre_agreement_raw"]
    assert first["genre_agreement_raw"] + 0.1 < first["genre_agreement_projected"]
    assert first["genre_agreement_synopsis_facet"] > first["genre_agreement_raw"]


def test_fit_and_evaluate_fits_on_everything_with_the_holdout_figures() -> None:
    text, labels = _synthetic(600, genres=10, noise=2.0, seed=1)
    projection = fit_and_evaluate(text, labels)
    assert projection.fitted_on == 600
    assert projection.metrics == evaluate_holdout(text, labels)
    cold = fit_projection(text, labels, alpha=projection.metrics["alpha"])
    # Warm-started from the 80% fit, it lands where a fit from scratch does.
    agreement = (projection.apply(text) * cold.apply(text)).sum(axis=1)
    assert agreement.min() > 0.99


def test_warm_start_matches_genres_by_name() -> None:
    text, labels = _synthetic(300, genres=5, noise=1.0, seed=2)
    partial = fit_projection(
        text[:100], [[g for g in row if g != "g04"] or ["g00"] for row in labels[:100]]
    )
    assert "g04" not in partial.genres
    full = fit_projection(text, labels, warm_start=partial)
    assert full.genres == [f"g{g:02d}" for g in range(5)]
    held = list(range(0, 300, 3))
    assert genre_agreement(full.apply(text), labels, held) > 0.9
