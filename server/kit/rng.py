"""Seeded random streams, so that generated data does not depend on the order it is made in."""

from __future__ import annotations

import random


def sub_rng(seed: int, stream: str) -> random.Random:
    """An independent random stream for a feature derived from the catalog of ``seed``."""
    return random.Random(f"{seed}:{stream}")
