"""Every ```python block of README.md runs (examples never run go stale), at small sizes.

Each block runs in its own namespace, in order, with a temporary folder as the working folder
(the blocks write ``results/...``) holding a copy of the repository's ``scenarios/`` and
``examples/``, so the blocks' relative paths work and nothing is written into the repository.

How the sizes are reduced, and why that cannot hide a block: the code of a block runs as written.
Only the heavy entry points are wrapped, and they shrink what they are *given*, never what they
do: every scenario loaded (``load_scenario``, ``parse_scenario``, the experiments' scenario paths:
all go through ``sim.scenario.load.scenario_from_dict``) gets ``--set`` overrides that lower
devices, arrivals, days, warm-up and replications to the caps below (never raise them);
``simulate``, ``simulate_sharded``, ``run_scenario`` (``days=``) and ``Simulation`` (its
parameters, and the day ``Simulation.run`` advances to; a step past the cap stays at it) get the
same caps on their parameters and days;
``replicate``, ``sweep`` and ``compare`` get at most ``REPLICATIONS`` replications and ``WORKERS``
workers (their results do not depend on the number of workers). A guard then checks every world
that is built and every run: a world larger than the caps, or a run longer than ``DAYS``, fails
the test naming what to cap, so a README example that reaches the simulation another way cannot
run at full size unnoticed. Each cap applied is recorded and printed (``pytest -s`` shows them).
"""

from __future__ import annotations

import copy
import functools
import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import sim.experiment.api
import sim.experiment.comparison
import sim.runner
import sim.scenario.load
import sim.sharding
import sim.simulation
from sim.world.params import PopulationParams, WorldParams
from sim.world.world import World

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
#: the optional extras' packages: a block that needs one is skipped only where it is missing
OPTIONAL = {"httpx", "starlette", "uvicorn", "distributed", "dask"}

#: the caps: large enough that every figure and plot has data, small enough for seconds
DEVICES = 200
ARRIVALS_PER_DAY = 2.0
DAYS = 15.0
WARM_UP_DAYS = 5.0
REPLICATIONS = 2
WORKERS = 1

BLOCK = re.compile(r"^```python\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """Every ```python block of ``text``: (line of its opening fence, code)."""
    return [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in BLOCK.finditer(text)]


BLOCKS = python_blocks(README.read_text(encoding="utf-8"))


def test_the_extraction_finds_every_block() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(BLOCKS) == text.count("```python\n") >= 6
    codes = "\n".join(code for _, code in BLOCKS)
    for name in ("simulate(", "run_scenario(", "write_run(", "replicate(", "Registry()"):
        assert name in codes


class Caps:
    """The wrapped entry points, and the record of every cap applied (printed after a block)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.applied: list[str] = []
        self.monkeypatch = monkeypatch

    def note(self, where: str, name: str, before: object, after: object) -> None:
        if before != after:
            self.applied.append(f"{where}: {name} {before} -> {after}")

    def install(self) -> None:
        self.cap_scenarios()
        self.cap_simulate()
        self.cap_experiments()
        self.guard()

    def small_params(self, params: WorldParams | None, where: str) -> WorldParams:
        params = params if params is not None else WorldParams()
        population = params.population
        devices = min(population.devices, DEVICES)
        arrivals = min(population.arrivals_per_day, ARRIVALS_PER_DAY)
        self.note(where, "devices", population.devices, devices)
        self.note(where, "arrivals_per_day", population.arrivals_per_day, arrivals)
        small = population.model_copy(update={"devices": devices, "arrivals_per_day": arrivals})
        return params.model_copy(update={"population": small})

    def small_days(self, days: float, where: str) -> float:
        small = min(days, DAYS)
        self.note(where, "days", days, small)
        return small

    def cap_scenarios(self) -> None:
        original = sim.scenario.load.scenario_from_dict

        def capped(raw: dict[str, Any], source: str, overrides: Sequence[str] = ()) -> Any:
            declared = original(copy.deepcopy(raw), source, overrides)
            population, measurement = declared.population, declared.measurement
            days = min(measurement.days, DAYS)
            caps = {
                "population.devices": (population.devices, min(population.devices, DEVICES)),
                "population.arrivals_per_day": (
                    population.arrivals_per_day,
                    min(population.arrivals_per_day, ARRIVALS_PER_DAY),
                ),
                "measurement.days": (measurement.days, days),
                "measurement.warm_up_days": (
                    measurement.warm_up_days,
                    min(measurement.warm_up_days, WARM_UP_DAYS, days / 3),
                ),
                "measurement.replications": (
                    measurement.replications,
                    min(measurement.replications, REPLICATIONS),
                ),
            }
            extra = []
            for key, (before, after) in caps.items():
                self.note(source, key, before, after)
                if before != after:
                    extra.append(f"{key}={after}")
            return original(raw, source, [*overrides, *extra])

        self.monkeypatch.setattr(sim.scenario.load, "scenario_from_dict", capped)

    def cap_simulate(self) -> None:
        simulate = sim.simulation.simulate
        sharded = sim.sharding.simulate_sharded

        @functools.wraps(simulate)
        def small_simulate(params: WorldParams | None = None, **kwargs: Any) -> Any:
            params = self.small_params(params, "simulate")
            kwargs["days"] = self.small_days(kwargs.get("days", 365.0), "simulate")
            if "warm_up_days" in kwargs:
                kwargs["warm_up_days"] = min(kwargs["warm_up_days"], WARM_UP_DAYS)
            return simulate(params, **kwargs)

        @functools.wraps(sharded)
        def small_sharded(params: WorldParams, **kwargs: Any) -> Any:
            params = self.small_params(params, "simulate_sharded")
            kwargs["days"] = self.small_days(kwargs["days"], "simulate_sharded")
            workers = min(kwargs.get("workers", 1), WORKERS)
            self.note("simulate_sharded", "workers", kwargs.get("workers", 1), workers)
            kwargs["workers"] = workers
            return sharded(params, **kwargs)

        self.monkeypatch.setattr(sim.simulation, "simulate", small_simulate)
        self.monkeypatch.setattr(sim.sharding, "simulate_sharded", small_sharded)

        simulation = sim.simulation.Simulation
        build, run = simulation.__init__, simulation.run

        @functools.wraps(build)
        def small_build(self_: Any, params: WorldParams | None = None, **kwargs: Any) -> None:
            build(self_, self.small_params(params, "Simulation"), **kwargs)

        @functools.wraps(run)
        def small_run(self_: Any, days: float) -> None:
            small = self.small_days(days, "Simulation.run")
            if small < days and small == self_.world.env.now:
                return  # already at the cap: a later step (run(90) after run(30)) stays there
            run(self_, small)

        self.monkeypatch.setattr(simulation, "__init__", small_build)

        run_scenario = sim.runner.run_scenario

        @functools.wraps(run_scenario)
        def small_run_scenario(scenario: Any, **kwargs: Any) -> Any:
            if kwargs.get("days") is not None:
                kwargs["days"] = self.small_days(kwargs["days"], "run_scenario")
            return run_scenario(scenario, **kwargs)

        self.monkeypatch.setattr(sim.runner, "run_scenario", small_run_scenario)
        self.monkeypatch.setattr(simulation, "run", small_run)

    def small_experiment(self, function: Callable[..., Any], scenarios: int) -> Callable[..., Any]:
        """``function`` with at most REPLICATIONS replications and WORKERS workers.

        ``scenarios``: how many positional scenarios come before ``replications, workers``.
        """
        name = function.__name__
        slots = ((scenarios, "replications", REPLICATIONS), (scenarios + 1, "workers", WORKERS))

        @functools.wraps(function)
        def small(*args: Any, **kwargs: Any) -> Any:
            positional = list(args)
            for slot, key, cap in slots:
                if len(positional) > slot:
                    before = positional[slot]
                    positional[slot] = None if before is None else min(before, cap)
                    self.note(name, key, before, positional[slot])
                elif kwargs.get(key) is not None:
                    before = kwargs[key]
                    kwargs[key] = min(before, cap)
                    self.note(name, key, before, kwargs[key])
            return function(*positional, **kwargs)

        return small

    def cap_experiments(self) -> None:
        api, comparison = sim.experiment.api, sim.experiment.comparison
        # `from sim.experiment import replicate` looks the name up in these modules when it runs
        self.monkeypatch.setattr(api, "replicate", self.small_experiment(api.replicate, 1))
        self.monkeypatch.setattr(api, "sweep", self.small_experiment(api.sweep, 1))
        self.monkeypatch.setattr(
            comparison, "compare", self.small_experiment(comparison.compare, 2)
        )

    def guard(self) -> None:
        """No world beyond the caps, no run beyond DAYS: whatever path a block takes."""
        build, run = World.__init__, World.run

        @functools.wraps(build)
        def guarded_build(
            world: World, params: WorldParams | None = None, *a: Any, **k: Any
        ) -> None:
            population = (params or WorldParams()).population
            assert population.devices <= DEVICES, (
                f"a world of {population.devices} devices: cap the entry point that built it"
            )
            assert population.arrivals_per_day <= ARRIVALS_PER_DAY, (
                f"a world with {population.arrivals_per_day} arrivals a day: cap its entry point"
            )
            build(world, params, *a, **k)

        @functools.wraps(run)
        def guarded_run(world: World, until: float) -> None:
            assert until <= DAYS, f"a run to day {until}: cap the entry point that ran it"
            run(world, until)

        self.monkeypatch.setattr(World, "__init__", guarded_build)
        self.monkeypatch.setattr(World, "run", guarded_run)


@pytest.fixture
def small(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Caps]:
    """A working folder with copies of the scenarios and examples; the entry points capped."""
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    caps = Caps(monkeypatch)
    caps.install()
    yield caps


@pytest.mark.parametrize(
    ("line", "code"),
    [
        pytest.param(line, code, id=f"block{i + 1}-line{line}")
        for i, (line, code) in enumerate(BLOCKS)
    ],
)
def test_a_readme_block_runs(line: int, code: str, small: Caps) -> None:
    namespace: dict[str, Any] = {"__name__": f"readme_line{line}"}
    compiled = compile(code, f"README.md (block at line {line})", "exec")
    try:
        exec(compiled, namespace)
    except ImportError as error:
        if error.name is None or error.name.partition(".")[0] not in OPTIONAL:
            raise
        pytest.skip(f"needs the optional {error.name}")  # `make test` installs them all
    print(f"README.md line {line}: " + ("; ".join(small.applied) or "ran as written"))


def test_the_guard_stops_a_world_the_caps_missed(small: Caps) -> None:
    with pytest.raises(AssertionError, match="10000 devices"):
        World(WorldParams(population=PopulationParams(devices=10_000)))
    world = World(WorldParams(population=PopulationParams(devices=10)))
    with pytest.raises(AssertionError, match="a run to day 90"):
        world.run(90)
