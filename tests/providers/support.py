"""Helpers shared by the provider tests."""

from __future__ import annotations

from collections.abc import Iterable

from sim.providers.answers import Action, SendResult, classify


class ScriptedRng:
    """A RandomSource that returns scripted draws and fails loudly when asked for one too many."""

    def __init__(self, values: Iterable[float]) -> None:
        self._values = list(values)
        self.draws = 0

    def random(self) -> float:
        if self.draws >= len(self._values):
            raise AssertionError(f"unexpected draw number {self.draws + 1}")
        value = self._values[self.draws]
        self.draws += 1
        return value

    @property
    def exhausted(self) -> bool:
        return self.draws == len(self._values)


def answer(result: SendResult) -> tuple[int, str, float | None, Action]:
    """The parts of an answer a row of docs/model.md §2 pins down, plus its classification."""
    return result.status, result.reason, result.timestamp, classify(result)
