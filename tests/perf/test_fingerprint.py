"""Speed work must not change results: the pinned run's tables hash to the same value.

If a change is *meant* to change results (a model change, not an optimisation), print the new
value with ``python -m tests.perf.fingerprint`` and update :data:`PINNED` in the same commit,
saying why in the commit message.
"""

from __future__ import annotations

from tests.perf.fingerprint import fingerprint

PINNED = "113b25bcf59097f70cee02990cd0546bd7b1d5c6e8b413746a39270f9b5f4dc1"


def test_the_pinned_run_gives_the_same_results():
    assert fingerprint() == PINNED
