"""Exponential back-off with jitter for transient answers (rule R5).

Pure arithmetic: the jitter draw in [0, 1) is passed in by the caller, who owns the random stream.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.platforms import MINUTE, SECOND
from sim.providers.answers import SendResult


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """Back-off schedule: ``base * factor**attempt`` capped at ``cap``, with full jitter.

    A 429 waits at least ``min_429`` before the first retry (FCM's ≥ 1 minute); a Retry-After header
    is honoured as a lower bound. All durations are in days.
    """

    base: float = 10 * SECOND
    factor: float = 2.0
    cap: float = 60 * MINUTE
    min_429: float = 1 * MINUTE
    max_attempts: int = 5

    def delay(self, attempt: int, result: SendResult, jitter: float) -> float:
        """Delay before retry number ``attempt`` (0 = first retry); ``jitter`` in [0, 1)."""
        if attempt < 0:
            raise ValueError(f"attempt must be >= 0, got {attempt}")
        if not 0.0 <= jitter < 1.0:
            raise ValueError(f"jitter must be in [0, 1), got {jitter}")
        ceiling = min(self.cap, self.base * self.factor**attempt)
        # "equal jitter": half fixed, half random, so the delay never collapses to zero
        wait = ceiling / 2.0 + jitter * ceiling / 2.0
        if result.status == 429:
            wait = max(wait, self.min_429)
        if result.retry_after is not None:
            wait = max(wait, result.retry_after)
        return wait

    def should_retry(self, attempt: int) -> bool:
        """True while retry number ``attempt`` (0-based) is within the budget."""
        return attempt < self.max_attempts
