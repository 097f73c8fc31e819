"""Speed work must not change results: the pinned run's tables hash to the same value.

If a change is *meant* to change results (a model change, not an optimisation), print the new
value with ``python -m tests.perf.fingerprint`` and update :data:`PINNED` in the same commit,
saying why in the commit message.
"""

from __future__ import annotations

from tests.perf.fingerprint import fingerprint

PINNED = "d3b7585e70acc7b0e020de2c072076d4f4ced11245f9db1828a144d00fc080e5"


def test_the_pinned_run_gives_the_same_results():
    assert fingerprint() == PINNED
