"""The published figures: sources cited verbatim from docs/model.md, bands, and runs that exist."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from sim.validation.figures import FIGURES, PUBLISHED, Band, figure
from sim.validation.runs import RUNS, run_spec

MODEL = Path(__file__).resolve().parents[2] / "docs" / "model.md"


def _sources_section() -> str:
    """The "Sources" section, its wrapped lines joined (one space between words)."""
    text = MODEL.read_text(encoding="utf-8")
    return " ".join(text[text.index("## Sources") :].split())


@pytest.mark.parametrize("source", PUBLISHED, ids=lambda source: source.title[:30])
def test_every_published_source_is_cited_as_docs_model_lists_it(source):
    assert f"- {source.cite()}" in _sources_section()


def test_figure_keys_are_unique_and_every_run_exists():
    keys = [f.key for f in FIGURES]
    assert len(keys) == len(set(keys))
    names = {spec.name for spec in RUNS}
    for f in FIGURES:
        assert f.run in names, f.key
        assert run_spec(f.run).name == f.run
        assert (f.band is None) == (f.expected is not None), f.key
        assert f.unit in ("share", "days", "count")
        assert f.definition and f.sources
        if f.min_days > 0 and f.why_full_size:
            assert "run" in f.why_full_size
    assert figure("ios_opt_in").run == "baseline"
    with pytest.raises(KeyError):
        figure("nope")


def test_a_band_holds_and_overlaps_with_its_open_ends():
    band = Band.range(0.46, 0.49, "46–49 %")
    assert band.holds(0.46) and band.holds(0.49) and not band.holds(0.50)
    assert band.overlaps(0.40, 0.46) and not band.overlaps(0.491, 0.5)
    below = Band(0.0, 0.10, "< 10 %", high_open=True)
    assert below.holds(0.099) and not below.holds(0.10) and not below.overlaps(0.10, 0.2)
    some = Band(0.0, 0.5, "> 0", low_open=True)
    assert not some.overlaps(0.0, 0.0) and some.overlaps(0.0, 0.01)
    assert Band(270.0, None, "≥ 270").holds(1e9)
    assert not band.overlaps(math.nan, math.nan)
    assert Band.about(0.70, "≈ 70 %").low == pytest.approx(0.65)
    assert Band.point(2.0, "closed").holds(2.0)
