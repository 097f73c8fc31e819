"""The plan of a report: one job per run and replication, scenarios scaled to the size."""

from __future__ import annotations

from sim.validation.runs import RUNS, SIZES, Size, plan, run_spec


def test_the_plan_has_every_run_and_replication_with_independent_seeds():
    size = Size(
        "t", devices=500, days=90.0, replications=3, closed_devices=400, rotation_devices=50
    )
    jobs = plan(size, 7)
    assert len(jobs) == len(RUNS) * 3
    assert [job.run for job in jobs[:3]] == [RUNS[0].name] * 3
    seeds = [job.seed for job in jobs if job.run == "baseline"]
    assert len(set(seeds)) == 3  # independent replications
    assert seeds == [job.seed for job in jobs if job.run == "web_push"]
    assert [job.seed for job in plan(size, 7)] == [job.seed for job in jobs]
    assert [job.seed for job in plan(size, 8)] != [job.seed for job in jobs]


def test_scenarios_are_scaled_with_their_arrivals_and_closed_forms_run_whole_periods():
    size = SIZES["small"]
    baseline, days, warm_up, _ = run_spec("baseline").build(size)
    assert baseline.population.devices == size.devices
    assert baseline.population.arrivals_per_day == 40 * size.devices / 10_000
    assert (days, warm_up) == (size.days, 30.0)
    periodic, closed_days, _, _ = run_spec("closed_periodic").build(size)
    assert periodic.population.devices == size.closed_devices
    assert (closed_days - 28.0) % 7.0 == 0.0 and closed_days <= size.days
    full = SIZES["full"]
    assert (full.devices, full.days, full.replications) == (10_000, 365.0, 8)
