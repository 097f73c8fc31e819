"""Speed work must not change results: the pinned run's tables hash to the same value.

If a change is *meant* to change results (a model change, not an optimisation), print the new
value with ``python -m tests.perf.fingerprint`` and update :data:`PINNED` in the same commit,
saying why in the commit message.
"""

from __future__ import annotations

from tests.perf.fingerprint import fingerprint

PINNED = "9050604936529665fbb2799f18db3c26271e944a14f46dc460d904154e47112b"


def test_the_pinned_run_gives_the_same_results():
    assert fingerprint() == PINNED
