"""Observers of the world (docs/model.md §5): they read the world and never change it."""

from sim.metrics.results import RunResult
from sim.metrics.truth import StaleCause, TokenTruth, classify_token, snapshot

__all__ = ["RunResult", "StaleCause", "TokenTruth", "classify_token", "snapshot"]
