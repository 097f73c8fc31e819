"""The runs of a validation report: the sizes, what each run is, and the measurement of one run.

A run is a shipped scenario (scaled to the size: its devices and arrivals in proportion, its
days) or a closed-form world (:mod:`sim.validation.closed_forms`). :func:`plan` lists one
:class:`Job` per (run, replication), each with its own seed (independent replications,
:func:`sim.experiment.seeds.run_seeds`); :func:`measure` runs one job and returns every metric the
figures of :mod:`sim.validation.figures` read, all measured in that run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from sim.calibration.moments import MomentRecorder
from sim.calibration.observations import Observable
from sim.experiment.seeds import run_seeds
from sim.metrics.latency import ROTATION, UNINSTALL
from sim.metrics.results import RunResult
from sim.platforms import Provider
from sim.scenario.library import packaged_file
from sim.scenario.load import load_scenario
from sim.simulation import Simulation
from sim.validation import closed_forms
from sim.validation.figures import MONTH_DAYS
from sim.validation.observers import SHOWN, InactivityRule, Lives, TokenClock, WebDelivery
from sim.world.params import WorldParams

#: a run's measured values by metric name (None: nothing to measure it on in this run)
Values = dict[str, float | None]
#: the platform classes whose opt-in share calibration measures
OPT_IN_CLASSES = ("ios", "android_12_or_lower", "android_13_plus", "web")
#: web subscription age bands (days) of the delivery curve: each month of the first year, and the
#: bands around Pushpad's 3- and 9-month points
WEB_AGE_BANDS: dict[str, tuple[float, float]] = {
    **{f"month_{m}": (m * MONTH_DAYS, (m + 1) * MONTH_DAYS) for m in range(12)},
    "3_months": (2.5 * MONTH_DAYS, 3.5 * MONTH_DAYS),
    "9_months": (8.5 * MONTH_DAYS, 9.5 * MONTH_DAYS),
}
#: the Android OS class whose delivery per campaign Netcore 2024 gives
ANDROID_13 = "android_13_plus"


@dataclass(frozen=True)
class Size:
    """How big the runs are: devices and days of the scenario runs, replications of every run.

    The closed-form worlds run ``closed_devices`` devices for about ``days`` days (whole campaign
    periods), the rotation world ``rotation_devices`` for ``rotation_days``.
    """

    name: str
    devices: int
    days: float
    replications: int
    closed_devices: int
    rotation_devices: int
    rotation_days: float = 60.0


SIZES: dict[str, Size] = {
    "small": Size("small", devices=600, days=120.0, replications=3, closed_devices=600,
                  rotation_devices=200),
    "full": Size("full", devices=10_000, days=365.0, replications=8, closed_devices=10_000,
                 rotation_devices=2000),
}  # fmt: skip


@dataclass(frozen=True)
class Job:
    """One replication of one run: the world, how long, and the seed. Picklable (workers)."""

    run: str
    kind: str  # "scenario", "steady" (dead/stale closed forms) or "rotation"
    params: WorldParams
    days: float
    warm_up_days: float
    sample_every_days: float
    seed: int
    replication: int


@dataclass(frozen=True)
class RunSpec:
    """A run of the report: how to build its world at a size."""

    name: str
    kind: str
    describe: str
    build: Callable[[Size], tuple[WorldParams, float, float, float]] = field(repr=False)


def _scenario(name: str) -> Callable[[Size], tuple[WorldParams, float, float, float]]:
    def build(size: Size) -> tuple[WorldParams, float, float, float]:
        scenario = load_scenario(packaged_file(name))
        world = scenario.world()
        population = world.population
        scale = size.devices / population.devices if population.devices else 1.0
        world = world.changed(
            population={
                "devices": size.devices,
                "arrivals_per_day": population.arrivals_per_day * scale,
            }
        )
        measurement = scenario.measurement
        return (
            world,
            size.days,
            min(measurement.warm_up_days, size.days),
            measurement.sample_every_days,
        )

    return build


def _whole_periods(days: float) -> float:
    """The closed-form worlds' length: the warm-up, then whole campaign periods."""
    periods = max(1, math.floor((days - 28.0) / closed_forms.PERIOD_DAYS))
    return 28.0 + periods * closed_forms.PERIOD_DAYS


def _steady(
    world: Callable[[int], WorldParams],
) -> Callable[[Size], tuple[WorldParams, float, float, float]]:
    def build(size: Size) -> tuple[WorldParams, float, float, float]:
        return (
            world(size.closed_devices),
            _whole_periods(size.days),
            closed_forms.WARM_UP_DAYS,
            closed_forms.SAMPLE_EVERY_DAYS,
        )

    return build


def _rotation(size: Size) -> tuple[WorldParams, float, float, float]:
    return closed_forms.rotation_world(size.rotation_devices), size.rotation_days, 0.0, 1.0


RUNS: tuple[RunSpec, ...] = (
    RunSpec("baseline", "scenario", "scenarios/baseline.toml", _scenario("baseline")),
    RunSpec(
        "android13_optin",
        "scenario",
        "scenarios/android13_optin.toml",
        _scenario("android13_optin"),
    ),
    RunSpec("web_push", "scenario", "scenarios/web_push.toml", _scenario("web_push")),
    RunSpec(
        "uninstall_tracking",
        "scenario",
        "scenarios/uninstall_tracking.toml",
        _scenario("uninstall_tracking"),
    ),
    RunSpec(
        "closed_periodic",
        "steady",
        "closed-form world: steady installs, periodic campaigns, no lag",
        _steady(closed_forms.periodic_world),
    ),
    RunSpec(
        "closed_poisson",
        "steady",
        "closed-form world: steady installs, Poisson campaigns, no lag",
        _steady(closed_forms.poisson_world),
    ),
    RunSpec(
        "closed_lagged",
        "steady",
        "closed-form world: steady installs, periodic campaigns, default FCM lag",
        _steady(closed_forms.lagged_world),
    ),
    RunSpec(
        "closed_rotation",
        "rotation",
        "closed-form world: Poisson sessions and rotations (iOS)",
        _rotation,
    ),
)


def run_spec(name: str) -> RunSpec:
    """The run called ``name``."""
    for spec in RUNS:
        if spec.name == name:
            return spec
    raise KeyError(name)


def plan(size: Size, base_seed: int) -> list[Job]:
    """One job per (run, replication), runs in :data:`RUNS` order, then by replication.

    Replication ``r`` of every run has the same seed (derived from ``base_seed``); the runs are
    different worlds, and the replications of one run are independent.
    """
    seeds = run_seeds(base_seed, size.replications)
    jobs: list[Job] = []
    for spec in RUNS:
        params, days, warm_up, sample_every = spec.build(size)
        for replication, seed in enumerate(seeds):
            jobs.append(
                Job(spec.name, spec.kind, params, days, warm_up, sample_every, seed, replication)
            )
    return jobs


def measure(job: Job) -> Values:
    """Run ``job`` and return its metrics (the worker function: top level, picklable)."""
    simulation = Simulation(job.params, seed=job.seed, sample_every_days=job.sample_every_days)
    try:
        if job.kind == "scenario":
            return _measure_scenario(simulation, job)
        simulation.run(job.days)
        result = simulation.result()
    finally:
        simulation.close()
    result.warm_up_days = job.warm_up_days
    if job.kind == "steady":
        return _measure_steady(result, job)
    return _measure_rotation(result, job)


def _measure_scenario(simulation: Simulation, job: Job) -> Values:
    world = simulation.world
    recorder = MomentRecorder(world)
    clock = TokenClock(world)
    web = WebDelivery(world, clock, WEB_AGE_BANDS)
    providers = job.params.providers
    fcm_rule = InactivityRule(world, clock, Provider.FCM, providers.fcm_inactivity_days)
    web_rule = InactivityRule(world, clock, Provider.WEBPUSH, providers.web_inactivity_days)
    lives = Lives(world)
    simulation.run(job.days)
    result = simulation.result()
    result.warm_up_days = job.warm_up_days
    moments = recorder.measure()
    values: Values = {}
    for name in OPT_IN_CLASSES:
        values[f"opt_in_{name}"] = moments.value(Observable.OPT_IN_SHARE, name)
        values[f"opt_in_{name}#n"] = moments.count(Observable.OPT_IN_SHARE, name)
    for metric, observable in (
        ("uninstalled_by_day1", Observable.UNINSTALLED_BY_DAY1_SHARE),
        ("uninstalled_by_day30", Observable.UNINSTALLED_BY_DAY30_SHARE),
        ("reinstall_share", Observable.REINSTALL_SHARE),
    ):
        values[metric] = moments.value(observable, None)
        values[f"{metric}#n"] = moments.count(observable, None)
    retention, cohort = lives.retention(world.env.now)
    values["retention_day30"], values["retention_day30#n"] = retention, cohort
    values["last_open_to_uninstall_days"] = lives.last_open_to_uninstall()
    values["last_open_to_uninstall_days#n"] = len(lives.quiet_before_uninstall)
    values.update(_android_13(result))
    for band in WEB_AGE_BANDS:
        values[f"web_delivery_{band}"] = web.share(band)
        values[f"web_delivery_{band}#n"] = web.accepted.get(band, 0)
    new = web.share("month_0")
    for band in ("3_months", "9_months"):
        old = web.share(band)
        values[f"web_delivery_{band}_relative"] = old / new if old is not None and new else None
    for prefix, rule in (("fcm", fcm_rule), ("webpush", web_rule)):
        values[f"{prefix}_over_rule_rejected_share"] = rule.refused_share()
        values[f"{prefix}_over_rule_rejected_share#n"] = rule.over
        values[f"{prefix}_expired_shortest_days"] = rule.shortest()
    for prefix, platform in (("apns", "ios"), ("fcm", "android")):
        curve = result.latency_curve(UNINSTALL, platform)
        values[f"{prefix}_detection_median_days"] = curve.median
        values[f"{prefix}_detection_median_days#n"] = curve.observations
        values[f"{prefix}_undetected_30_days"] = (
            curve.at(30.0) if curve.observations and curve.last >= 30.0 else None
        )
    return values


def _android_13(result: RunResult) -> Values:
    """Per campaign after the warm-up, Android 13+ sends shown (to anyone) and displayed ÷ sent."""
    after = result.after_warm_up()
    sends = after.sends_by_os
    rows = sends[
        (sends["kind"] == "campaign") & (sends["os_class"] == ANDROID_13) & (sends["targeted"] > 0)
    ]
    shown = sum(rows[outcome.value] for outcome in sorted(SHOWN)) / rows["targeted"]
    display = after.campaign_display_shares(ANDROID_13)["share"]
    return {
        "android_13_delivered_share": float(shown.mean()) if len(shown) else None,
        "android_13_delivered_share#n": len(shown),
        "android_13_delivered_share_min": float(shown.min()) if len(shown) else None,
        "android_13_delivered_share_max": float(shown.max()) if len(shown) else None,
        "android_13_display_share": float(display.mean()) if len(display) else None,
        "android_13_display_share#n": len(display),
        "android_13_display_share_min": float(display.min()) if len(display) else None,
        "android_13_display_share_max": float(display.max()) if len(display) else None,
    }


def _measure_steady(result: RunResult, job: Job) -> Values:
    ts = result.timeseries
    window = ts[(ts["platform"] == "all") & (ts["time"] > job.warm_up_days)]
    dead = window["stale_dead"]
    stale = window["stale_dead"] + window["stale_zombie"]
    values: Values = {
        "dead_mean": float(dead.mean()) if len(dead) else None,
        "stale_mean": float(stale.mean()) if len(stale) else None,
        "dead_mean#n": len(dead),
        "stale_mean#n": len(stale),
    }
    values.update(closed_forms.expected(job.params))
    return values


def _measure_rotation(result: RunResult, job: Job) -> Values:
    lat = result.latencies
    rows = lat[
        (lat["kind"] == ROTATION)
        & (lat["start"] < job.days - closed_forms.ROTATION_MARGIN_DAYS)
        & lat["observed"]
    ]
    values: Values = {
        "rotation_mean_days": float(rows["latency_days"].mean()) if len(rows) else None,
        "rotation_mean_days#n": len(rows),
    }
    values.update(closed_forms.expected(job.params))
    return values
