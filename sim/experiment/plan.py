"""The plan of an experiment: its run points (sweep expansion) and its runs, each with its seed.

A *point* is one scenario to measure: the scenario itself, one combination of a ``[sweep]``, or
one side of a comparison. A *run* is one replication of one point: the point's resolved scenario
(as a plain dict, so it travels to worker processes and Dask workers) and a seed. A run depends
on nothing else, so results do not depend on the executor, the worker count or the order runs
finish in.

Run ids are ``p<point>-r<replication>`` with zero-padded numbers (``p001-r007``): sorting by run id
gives points in sweep order, replications in order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sim import __version__
from sim.experiment.seeds import run_seed
from sim.scenario.errors import ScenarioError
from sim.scenario.schema import Scenario

Kind = Literal["replicate", "sweep", "compare"]


def point_hash(scenario: Scenario) -> str:
    """A short hash of a point's scenario, ``measurement.replications`` left out.

    Adding replications to an experiment keeps its points' hashes (and, without common random
    numbers, its seeds), so ``--resume`` reuses the runs already done.
    """
    document = scenario.resolved()
    document.pop("sweep", None)
    document["measurement"].pop("replications", None)
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def column_values(values: Sequence[Any]) -> list[Any]:
    """The values of one swept parameter as one typed column.

    All booleans, all integers and all numbers stay booleans, integers and floats; anything else
    (a mix, lists, tables) becomes text, JSON for non-strings.
    """
    if all(isinstance(v, bool) for v in values):
        return list(values)
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(numbers) == len(values):
        if all(isinstance(v, int) for v in values):
            return list(values)
        return [float(v) for v in values]
    return [v if isinstance(v, str) else json.dumps(v, sort_keys=True) for v in values]


@dataclass(frozen=True)
class Point:
    """One scenario to measure: a sweep combination, a side of a comparison, or the scenario."""

    index: int
    label: str
    #: the swept key paths and their values (empty without a sweep)
    values: dict[str, Any]
    scenario: Scenario
    scenario_hash: str

    def describe_values(self) -> str:
        """``policy.uninstall_tracking = true, campaigns.every_days = 7`` (empty: no sweep)."""
        return ", ".join(f"{k} = {format_value(v)}" for k, v in self.values.items())


@dataclass(frozen=True)
class Run:
    """One replication of one point: everything a worker needs, and the labels of its rows."""

    run_id: str
    point: int
    replication: int
    seed: int
    scenario_name: str
    scenario_hash: str
    #: (key path, column value) of every swept parameter, in sweep order
    params: tuple[tuple[str, Any], ...]
    #: the point's resolved scenario (``Scenario.resolved()``)
    document: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class Plan:
    """The points and runs of one experiment."""

    kind: Kind
    name: str
    points: list[Point]
    runs: list[Run]
    replications: int
    common_random_numbers: bool
    #: the swept key paths: one result column each
    parameters: list[str]
    mode: str | None = None

    def runs_of(self, point: int) -> list[Run]:
        """The runs of point ``point``, in replication order."""
        return [run for run in self.runs if run.point == point]

    def describe(self) -> dict[str, Any]:
        """``experiment.json``: the plan, every run with its seed, and the resolved scenarios."""
        return {
            "pushsim_version": __version__,
            "kind": self.kind,
            "name": self.name,
            "replications": self.replications,
            "common_random_numbers": self.common_random_numbers,
            "sweep": {"mode": self.mode, "parameters": self.parameters} if self.mode else None,
            "columns": {
                "run_id": "p<point>-r<replication>",
                "scenario": "[scenario].name of the point",
                "scenario_hash": "hash of the point's resolved scenario "
                "(sweep applied, measurement.replications left out)",
                **{p: "swept key path" for p in self.parameters},
                "replication": "0 … replications-1",
                "seed": "the run's seed (pushsim run --seed SEED reproduces the run)",
                "metric": "time-series column, or summary.<figure> (warm-up excluded)",
                "platform": "ios, android, web or all (summary figures: all)",
                "time": "sample time in days (summary figures: the run's days)",
                "value": "the metric's value",
            },
            "points": [
                {
                    "point": point.label,
                    "scenario": point.scenario.scenario.name,
                    "scenario_hash": point.scenario_hash,
                    "values": point.values,
                    "days": point.scenario.measurement.days,
                    "warm_up_days": point.scenario.measurement.warm_up_days,
                    "base_seed": point.scenario.measurement.seed,
                    "resolved": point.scenario.resolved(),
                }
                for point in self.points
            ],
            "runs": [
                {
                    "run_id": run.run_id,
                    "point": self.points[run.point].label,
                    "replication": run.replication,
                    "seed": run.seed,
                    "scenario_hash": run.scenario_hash,
                }
                for run in self.runs
            ],
        }

    def listing(self) -> list[str]:
        """Lines that say what will run: count, then each point with its values and seeds."""
        what = f"{len(self.points)} point{'s' if len(self.points) != 1 else ''}"
        lines = [
            f"{self.kind} {self.name}: {what} × {self.replications} replication"
            f"{'s' if self.replications != 1 else ''} = {len(self.runs)} runs"
            + ("" if self.common_random_numbers else " (independent seeds per point)")
        ]
        for point in self.points:
            runs = self.runs_of(point.index)
            values = point.describe_values()
            span = f"{runs[0].run_id} … {runs[-1].run_id}" if len(runs) > 1 else runs[0].run_id
            lines.append(
                f"  {point.label}  {point.scenario.scenario.name}"
                f"{'  ' + values if values else ''}  (hash {point.scenario_hash}, runs {span})"
            )
        seeds = [run.seed for run in self.runs_of(0)]
        shown = ", ".join(str(s) for s in seeds[:4]) + (", …" if len(seeds) > 4 else "")
        if self.common_random_numbers:
            lines.append(f"  seeds by replication (every point): {shown}")
        else:
            lines.append(f"  seeds of {self.points[0].label}: {shown}")
        return lines


def format_value(value: Any) -> str:
    """A swept value as written in TOML (``false``, ``7``, ``"gesture"``, ``[1, 2]``)."""
    return json.dumps(value, ensure_ascii=False)


def _label(prefix: str, index: int, count: int) -> str:
    return f"{prefix}{index:0{max(3, len(str(count - 1)))}d}"


def build_plan(
    kind: Kind,
    name: str,
    points: Sequence[tuple[dict[str, Any], Scenario]],
    replications: int,
    *,
    common_random_numbers: bool = True,
    mode: str | None = None,
) -> Plan:
    """The runs of ``replications`` replications of each (swept values, scenario) point."""
    if replications < 1:
        raise ValueError(f"replications must be >= 1, got {replications}")
    parameters = list(points[0][0]) if points else []
    columns = {p: column_values([values[p] for values, _ in points]) for p in parameters}
    plan_points: list[Point] = []
    runs: list[Run] = []
    for index, (values, scenario) in enumerate(points):
        digest = point_hash(scenario)
        label = _label("p", index, len(points))
        plan_points.append(Point(index, label, dict(values), scenario, digest))
        params = tuple((p, columns[p][index]) for p in parameters)
        document = scenario.resolved()
        base = scenario.measurement.seed
        for replication in range(replications):
            seed = run_seed(base, replication, None if common_random_numbers else digest)
            run_id = f"{label}-{_label('r', replication, replications)}"
            runs.append(
                Run(
                    run_id,
                    index,
                    replication,
                    seed,
                    scenario.scenario.name,
                    digest,
                    params,
                    document,
                )
            )
    return Plan(
        kind, name, plan_points, runs, replications, common_random_numbers, parameters, mode
    )


def plan_replications(
    scenario: Scenario,
    replications: int | None = None,
    *,
    common_random_numbers: bool = True,
    source: str = "<scenario>",
) -> Plan:
    """``replications`` (default: ``measurement.replications``) runs of ``scenario``.

    A ``[sweep]`` in the scenario is ignored: the scenario is measured as written.
    """
    count = replications if replications is not None else scenario.measurement.replications
    point = scenario.with_values({}, source)
    return build_plan(
        "replicate",
        scenario.scenario.name,
        [({}, point)],
        count,
        common_random_numbers=common_random_numbers,
    )


def plan_sweep(
    scenario: Scenario,
    replications: int | None = None,
    *,
    common_random_numbers: bool = True,
    source: str = "<scenario>",
) -> Plan:
    """Every point of the scenario's ``[sweep]`` (one point without), each replicated."""
    count = replications if replications is not None else scenario.measurement.replications
    return build_plan(
        "sweep",
        scenario.scenario.name,
        scenario.points(source),
        count,
        common_random_numbers=common_random_numbers,
        mode=scenario.sweep.mode if scenario.sweep is not None else None,
    )


def plan_comparison(
    a: Scenario,
    b: Scenario | None,
    replications: int | None = None,
    *,
    common_random_numbers: bool = True,
    sources: tuple[str, str] = ("<A>", "<B>"),
) -> Plan:
    """Scenario ``a`` against ``b`` on the same seeds (A's ``measurement.seed``).

    With ``b`` None, ``a`` must declare a ``[sweep]`` of exactly two points: the first is A, the
    second B. ``replications`` defaults to the larger ``measurement.replications`` and must be at
    least 2 (a confidence interval needs two values).
    """
    if b is None:
        if a.sweep is None:
            raise ScenarioError(
                sources[0], [("sweep", "compare with one file needs a [sweep] of two points")]
            )
        points = a.points(sources[0])
        if len(points) != 2:
            raise ScenarioError(
                sources[0],
                [
                    (
                        "sweep",
                        f"compare with one file needs exactly 2 sweep points, got {len(points)}",
                    )
                ],
            )
        name = a.scenario.name
        mode: str | None = a.sweep.mode
        default = a.measurement.replications
    else:
        for scenario, source in ((a, sources[0]), (b, sources[1])):
            if scenario.sweep is not None:
                raise ScenarioError(
                    source, [("sweep", "compare takes scenarios without a [sweep] (or one file)")]
                )
        seed = {"measurement.seed": a.measurement.seed}
        points = [({}, a.with_values({}, sources[0])), ({}, b.with_values(seed, sources[1]))]
        name = f"{a.scenario.name}_vs_{b.scenario.name}"
        mode = None
        default = max(a.measurement.replications, b.measurement.replications)
    count = replications if replications is not None else default
    if count < 2:
        raise ScenarioError(
            sources[0],
            [
                (
                    "measurement.replications",
                    f"a comparison needs at least 2 replications (got {count}): "
                    "pass --replications R or set measurement.replications",
                )
            ],
        )
    return build_plan(
        "compare", name, points, count, common_random_numbers=common_random_numbers, mode=mode
    )
