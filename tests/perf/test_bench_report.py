"""The derived figures of a benchmark run (benchmarks/report.py): what `make bench` records."""

from __future__ import annotations

import pytest

from benchmarks.report import RUN_COLUMNS, _run_cells, derive


def _world(devices: int, days: float, seconds: float) -> dict[str, object]:
    return {
        "devices": devices,
        "days": days,
        "events_dispatched": 1000,
        "seconds_loop": seconds * 0.9,
        "seconds_total": seconds,
        "campaigns": [{"targeted": 100, "seconds": 0.01}],
        "processes": devices,
        "devices_ever": devices,
        "baseline_rss_kib": 1000,
        "peak_rss_kib": 2000,
    }


@pytest.mark.parametrize(
    ("devices", "days", "seconds", "expected"),
    [(10_000, 365.0, 13.8, 1.38), (100_000, 365.0, 266.5, 2.665), (1_000, 73.0, 2.0, 10.0)],
)
def test_seconds_per_thousand_device_years(
    devices: int, days: float, seconds: float, expected: float
) -> None:
    derived = derive(_world(devices, days, seconds), None)
    assert derived["seconds_per_1000_device_years"] == pytest.approx(expected)


def test_an_empty_world_has_no_such_figure() -> None:
    assert derive(_world(0, 365.0, 1.0), None)["seconds_per_1000_device_years"] is None


def test_the_table_has_a_cell_per_column() -> None:
    run = {"devices": 10_000, "days": 365.0, "status": "ok"}
    run["derived"] = derive(_world(10_000, 365.0, 13.8), None)
    cells = _run_cells(run)
    assert len(cells) == len(RUN_COLUMNS)
    assert cells[-1] == "1.38"
