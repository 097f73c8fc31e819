"""Tokens ordered by their last activity, for uninstall-tracking probes and pruning.

Time never goes backwards in the registry, so moving a token to the end of an ordered dict whenever
it is active keeps the dict sorted by last activity. "Who has been quiet since t?" is then answered
from the front in time proportional to the answer, never by scanning every token.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator


class ActivityOrder:
    """Tokens sorted by the time they were last active (oldest first)."""

    __slots__ = ("_order",)

    def __init__(self) -> None:
        self._order: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._order)

    def touch(self, token: str, now: float) -> None:
        """Record activity of ``token`` at ``now`` (``now`` never decreases)."""
        order = self._order
        order[token] = now  # a new token goes to the end, a known one keeps its place...
        order.move_to_end(token)  # ...and is moved there

    def discard(self, token: str) -> None:
        """Forget ``token`` (removed from the registry)."""
        self._order.pop(token, None)

    def quiet_since(self, cutoff: float) -> Iterator[str]:
        """Tokens whose last activity is at or before ``cutoff``, oldest first."""
        for token, last in self._order.items():
            if last > cutoff:
                return
            yield token
