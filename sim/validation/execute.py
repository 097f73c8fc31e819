"""Running the jobs of a report: here, or in worker processes that never outlive the command.

The results come back in the order of the jobs, whatever order the workers finish in, so the
report does not depend on the number of workers (:mod:`sim.workers` for the pools).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sim.validation.runs import Job, Values, measure
from sim.workers import submit_all, worker_pool

#: told after each finished job: (jobs done, jobs in all, the job)
Progress = Callable[[int, int, Job], None]


def run_jobs(
    jobs: Sequence[Job], *, workers: int = 1, progress: Progress | None = None
) -> list[Values]:
    """Every job's values, in the order of ``jobs``; ``workers`` processes when more than 1."""
    total = len(jobs)
    if workers <= 1 or total <= 1:
        values: list[Values] = []
        for job in jobs:
            values.append(measure(job))
            if progress is not None:
                progress(len(values), total, job)
        return values
    with worker_pool(min(workers, total), [__name__]) as pool:
        futures = submit_all(pool, measure, jobs)
        results: list[Values] = []
        # in job order: a later job that finished first waits its turn (the report's order)
        for done, (job, future) in enumerate(zip(jobs, futures, strict=True), start=1):
            results.append(future.result())
            if progress is not None:
                progress(done, total, job)
        return results
