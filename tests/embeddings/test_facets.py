"""Facets: the combined vector and weighted queries, weights validation, the batch forms."""

from __future__ import annotations

import math

import numpy as np
import pytest

from server.embeddings.facets import (
    DEFAULT_WEIGHTS,
    SYNOPSIS_PROJECTED_SHARE,
    FacetWeights,
    TitleFeatures,
    combined_matrix,
    combined_vector,
    metadata_vector,
    people_vector,
    synopsis_matrix,
    synopsis_vector,
    tags_vector,
    weighted_query,
)
from server.models.dims import (
    COMBINED_DIM,
    METADATA_DIM,
    PEOPLE_DIM,
    PROJECTED_DIM,
    SYNOPSIS_DIM,
    TAGS_DIM,
    TEXT_DIM,
)


def _unit(rng: np.random.Generator, dim: int) -> np.ndarray:
    v = rng.standard_normal(dim).astype(np.float32)
    return v / np.linalg.norm(v)


def _facets(
    rng: np.random.Generator, people: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    synopsis = synopsis_vector(_unit(rng, TEXT_DIM), _unit(rng, PROJECTED_DIM))
    shared = _unit(rng, PEOPLE_DIM) if people else np.zeros(PEOPLE_DIM, dtype=np.float32)
    return synopsis, _unit(rng, TAGS_DIM), _unit(rng, METADATA_DIM), shared


def _features(**overrides: object) -> TitleFeatures:
    values: dict[str, object] = {
        "kind": "MOVIE",
        "release_year": 1999,
        "maturity_rating": "TV-MA",
        "duration_minutes": 101,
        "seasons": None,
        "original_language": "en",
        "countries": ["US", "GB"],
        "tags": [("GENRE", "Dramas", 1.0), ("MOOD", "dark", 0.8)],
    }
    values.update(overrides)
    return TitleFeatures(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "weights",
    [
        DEFAULT_WEIGHTS,
        FacetWeights(1, 0, 0),
        FacetWeights(0, 1, 0),
        FacetWeights(0, 0, 2),
        FacetWeights(0, 0, 0, 1),
        FacetWeights(0.2, 3.0, 0.7, 0.4),
    ],
)
@pytest.mark.parametrize("people", [True, False])
def test_weighted_query_times_combined_is_the_weighted_mean_of_facet_cosines(
    weights: FacetWeights, people: bool
) -> None:
    rng = np.random.default_rng(3)
    query, stored = _facets(rng), _facets(rng, people=people)
    # A zero people facet (nobody shared) scores 0 on that facet.
    cosines = [float(q @ s) for q, s in zip(query, stored, strict=True)]
    assert not people or abs(cosines[3]) > 0
    expected = (
        weights.synopsis * cosines[0]
        + weights.tags * cosines[1]
        + weights.metadata * cosines[2]
        + weights.people * cosines[3]
    ) / weights.total
    got = float(weighted_query(*query, weights) @ combined_vector(*stored))
    assert got == pytest.approx(expected, abs=1e-5)


def test_combined_is_unit_and_scores_itself_one() -> None:
    facets = _facets(np.random.default_rng(5))
    combined = combined_vector(*facets)
    assert combined.shape == (COMBINED_DIM,)
    assert np.linalg.norm(combined) == pytest.approx(1.0, abs=1e-5)
    assert float(weighted_query(*facets, DEFAULT_WEIGHTS) @ combined) == pytest.approx(
        1.0, abs=1e-5
    )


@pytest.mark.parametrize(
    ("synopsis", "tags", "metadata", "people"),
    [
        (-0.1, 1, 1, 0),
        (1, math.nan, 1, 0),
        (1, 1, math.inf, 0),
        (1, 1, 1, -1),
        (0, 0, 0, 0),
        (0.0, -0.0, 0.0, 0.0),
    ],
)
def test_facet_weights_are_validated(
    synopsis: float, tags: float, metadata: float, people: float
) -> None:
    with pytest.raises(ValueError, match="facet weight"):
        FacetWeights(synopsis, tags, metadata, people)


def test_a_bad_facet_weight_is_named() -> None:
    with pytest.raises(ValueError, match="facet weight people must be finite and >= 0"):
        FacetWeights(people=-1)


def test_facet_weights_defaults() -> None:
    assert DEFAULT_WEIGHTS.as_dict() == {
        "synopsis": 0.5,
        "tags": 0.3,
        "metadata": 0.2,
        "people": 0.0,
    }
    assert FacetWeights(0, 0, 1).total == 1


def test_synopsis_facet_blends_text_and_projected_cosines() -> None:
    rng = np.random.default_rng(9)
    text_a, text_b = _unit(rng, TEXT_DIM), _unit(rng, TEXT_DIM)
    proj_a, proj_b = _unit(rng, PROJECTED_DIM), _unit(rng, PROJECTED_DIM)
    a, b = synopsis_vector(text_a, proj_a), synopsis_vector(text_b, proj_b)
    assert a.shape == (SYNOPSIS_DIM,)
    assert np.linalg.norm(a) == pytest.approx(1.0, abs=1e-6)
    share = SYNOPSIS_PROJECTED_SHARE
    expected = (1 - share) * float(text_a @ text_b) + share * float(proj_a @ proj_b)
    assert float(a @ b) == pytest.approx(expected, abs=1e-6)


def test_synopsis_without_projection_is_the_text_alone() -> None:
    text = _unit(np.random.default_rng(1), TEXT_DIM)
    out = synopsis_vector(text, np.zeros(PROJECTED_DIM, dtype=np.float32))
    np.testing.assert_array_equal(out[:TEXT_DIM], text)
    assert not out[TEXT_DIM:].any()


def test_batch_forms_match_the_single_row_forms() -> None:
    rng = np.random.default_rng(11)
    text = np.stack([_unit(rng, TEXT_DIM) for _ in range(4)])
    projected = np.stack([_unit(rng, PROJECTED_DIM) for _ in range(4)])
    projected[2] = 0  # no projection for this row
    synopsis = synopsis_matrix(text, projected)
    for row in range(4):
        np.testing.assert_allclose(synopsis[row], synopsis_vector(text[row], projected[row]))
    tags = np.stack([_unit(rng, TAGS_DIM) for _ in range(4)])
    metadata = np.stack([_unit(rng, METADATA_DIM) for _ in range(4)])
    people = np.stack([_unit(rng, PEOPLE_DIM) for _ in range(4)])
    combined = combined_matrix(synopsis, tags, metadata, people)
    for row in range(4):
        np.testing.assert_allclose(
            combined[row],
            combined_vector(synopsis[row], tags[row], metadata[row], people[row]),
            rtol=1e-6,
        )


def test_tags_vector_is_deterministic_unit_and_reflects_overlap() -> None:
    drama = tags_vector([("GENRE", "Dramas", 1.0), ("MOOD", "dark", 0.8)])
    assert drama.shape == (TAGS_DIM,)
    assert np.linalg.norm(drama) == pytest.approx(1.0, abs=1e-6)
    # Case-insensitive names, independent of order.
    np.testing.assert_allclose(
        drama, tags_vector([("MOOD", "Dark", 0.8), ("GENRE", "dramas", 1.0)])
    )
    close = tags_vector([("GENRE", "Dramas", 1.0)])
    far = tags_vector([("GENRE", "Stand-Up Comedy", 1.0)])
    assert drama @ close > 0.6 > abs(float(drama @ far))
    empty = tags_vector([])
    assert np.linalg.norm(empty) == pytest.approx(1.0, abs=1e-6)


def test_metadata_vector_is_unit_and_closer_for_alike_titles() -> None:
    base = metadata_vector(_features())
    assert base.shape == (METADATA_DIM,)
    assert np.linalg.norm(base) == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_array_equal(base, metadata_vector(_features()))
    neighbour_year = metadata_vector(_features(release_year=2001))
    other = metadata_vector(
        _features(
            kind="SHOW",
            release_year=1965,
            countries=["JP"],
            maturity_rating="TV-Y",
            original_language="ja",
            duration_minutes=None,
            seasons=4,
        )
    )
    assert base @ neighbour_year > base @ other
    bare = metadata_vector(
        _features(
            release_year=None,
            maturity_rating=None,
            duration_minutes=None,
            original_language=None,
            countries=[],
            tags=[],
        )
    )
    assert np.linalg.norm(bare) == pytest.approx(1.0, abs=1e-6)


def test_people_vector_weighs_rare_shared_names_more() -> None:
    lead = [("CAST", "Robert De Niro", 3.0), ("CAST", "Joe Pesci", 4.0)]
    assert np.linalg.norm(people_vector(lead)) == pytest.approx(1.0, abs=1e-6)
    assert not people_vector([]).any()  # nobody shared: a zero facet, cosine 0 with anyone
    rare = people_vector([("CAST", "Joe Pesci", 4.0), ("CAST", "Somebody Else", 4.0)])
    common = people_vector([("CAST", "Robert De Niro", 3.0), ("CAST", "Somebody Else", 4.0)])
    # Sharing the rarer name (higher idf weight) scores higher than sharing the common one.
    assert float(people_vector(lead) @ rare) > float(people_vector(lead) @ common) > 0.1
    # Names are case-insensitive.
    np.testing.assert_allclose(
        people_vector([("CAST", "joe pesci", 1.0)]), people_vector([("CAST", "Joe Pesci", 1.0)])
    )
