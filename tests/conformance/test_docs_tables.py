"""The conformance tables shown in the docs are what ``pushsim conform`` prints today."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.conformance.command import conform

REPO = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^(R\d+)\s+(follows|deviates|untested)\s+(\d+/\d+)", re.MULTILINE)


def _block_after(text: str, marker: str) -> str:
    """The first fenced block after ``marker``."""
    start = text.index("```\n", text.index(marker)) + 4
    return text[start : text.index("```", start)]


def _rows(text: str) -> list[tuple[str, str, str]]:
    return ROW.findall(text)


@pytest.mark.parametrize(
    ("document", "marker", "model"),
    [
        ("docs/registries.md", "### The reference registry", "reference"),
        (
            "docs/registries.md",
            "Its conformance table (`pushsim conform subscriptions`",
            "subscriptions",
        ),
        (
            "README.md",
            "```\npushsim conform examples/",  # the output block, after the commands' block
            "examples/registries/detach_on_logout.py:build",
        ),
    ],
)
def test_the_table_in_the_docs_is_the_one_conform_prints(
    document: str, marker: str, model: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    shown = _block_after((REPO / document).read_text(), marker)
    printed = conform(model, operations=50).render()
    shown_rows = _rows(shown)
    assert shown_rows, f"no table rows found in {document} after {marker!r}"
    printed_rows = _rows(printed)
    if "..." in shown:  # an abridged table: the rows shown are the printed ones
        assert set(shown_rows) <= set(printed_rows)
    else:
        assert shown_rows == printed_rows
    summary = re.search(r"follows \d+/\d+ rules \(\d+ %\)", shown)
    assert summary is not None and summary.group(0) in printed
