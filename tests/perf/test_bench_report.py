"""The derived figures of a benchmark run (benchmarks/report.py): what `make bench` records."""

from __future__ import annotations

import pytest

from benchmarks.report import RUN_COLUMNS, _run_cells, derive, median, median_index, spread


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


@pytest.mark.parametrize(
    ("values", "expected"),
    [([3.0], 0), ([9.0, 7.0, 8.0], 2), ([4.0, 1.0, 3.0, 2.0], 3), ([5.0, 5.0, 5.0], 1)],
)
def test_the_median_run_is_a_real_run_the_lower_middle_for_an_even_count(
    values: list[float], expected: int
) -> None:
    assert median_index(values) == expected
    assert median(values) == sorted(values)[(len(values) - 1) // 2]


def test_no_values_have_no_median() -> None:
    with pytest.raises(ValueError, match="no values"):
        median_index([])


def test_repeated_runs_show_their_spread_beside_the_median() -> None:
    run = {"devices": 10_000, "days": 365.0, "status": "ok"}
    run["derived"] = derive(_world(10_000, 365.0, 13.8), None, [14.2, 13.8, 15.0])
    cells = dict(zip(RUN_COLUMNS, _run_cells(run), strict=True))
    assert cells["wall s"] == "13.8"
    assert cells["wall s, all runs"] == "13.8–15.0"
    assert spread([2.0]) == "2.0"
    assert spread([]) == "—"


def test_a_single_run_is_its_own_spread() -> None:
    derived = derive(_world(10_000, 365.0, 13.8), None)
    assert derived["wall_seconds_runs"] == [13.8]
