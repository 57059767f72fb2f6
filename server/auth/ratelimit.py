"""Per-key request rate limit: a token bucket per API key (in process memory)."""

from __future__ import annotations

import time
from collections.abc import Callable


class RateLimiter:
    """``rate`` requests per second per key on average, bursts up to ``burst``; 0 = off."""

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self.clock = clock
        self.buckets: dict[object, tuple[float, float]] = {}

    def acquire(self, key: object) -> float:
        """0 when the request may go ahead; else the seconds until it could."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        tokens, last = self.buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1:
            self.buckets[key] = (tokens - 1, now)
            return 0.0
        self.buckets[key] = (tokens, now)
        return (1 - tokens) / self.rate
