"""Observations of a world whose parameters are known: the ground truth a calibration must find.

:func:`observe` runs a scenario once and writes down every observable as a team would, with its
sample size (shares) or standard error (means); :func:`observations_toml` gives them as an
observations file, headed by the true values. This is how ``examples/observations.toml`` is made
(``python -m sim.calibration.synthetic``) and how the parameter-recovery test makes its own.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping, Sequence
from typing import Any

from sim.calibration.moments import Key, MomentRecorder
from sim.calibration.observations import (
    SPECS,
    Kind,
    Observable,
    Observation,
    Observations,
    PlatformClass,
    ProviderName,
)
from sim.scenario.schema import Scenario
from sim.simulation import Simulation

#: the window written on each row: a snapshot is one day, a cohort or rate the whole run
_SNAPSHOTS = {
    Observable.OPT_IN_SHARE,
    Observable.MULTI_DEVICE_USER_SHARE,
    Observable.MULTI_USER_DEVICE_SHARE,
    Observable.NOTIFICATIONS_DISABLED_SHARE,
}


def observe(
    truth: Scenario,
    *,
    days: float,
    seed: int,
    keep: Sequence[Key] | None = None,
    source: str = "simulated",
) -> Observations:
    """Run ``truth`` once with ``seed`` and write down its observables (``keep``: only those)."""
    simulation = Simulation(truth.world(), seed=seed)
    try:
        recorder = MomentRecorder(simulation.world)
        simulation.run(days)
        moments = recorder.measure()
    finally:
        simulation.close()
    rows = []
    for key in keep if keep is not None else list(moments):
        observable, qualifier = key
        moment = moments.get(key)
        if moment is None:
            continue
        if moment.value is None or moment.count == 0:
            continue
        if observable is Observable.BOUNCE_RATE and qualifier is not None:
            place: dict[str, Any] = {"provider": ProviderName(qualifier)}
        elif qualifier is not None:
            place = {"platform": PlatformClass(qualifier)}
        else:
            place = {}
        window = 1.0 if observable in _SNAPSHOTS else days
        if SPECS[observable].kind is Kind.SHARE:
            size: dict[str, Any] = {"n": moment.count}
        else:
            spread = moment.spread or 0.0
            size = {"uncertainty": spread / math.sqrt(moment.count), "n": moment.count}
        rows.append(
            Observation(
                observable=observable,
                value=moment.value,
                window_days=window,
                source=source,
                **place,
                **size,
            )
        )
    return Observations(source, tuple(rows))


def observations_toml(observations: Observations, header: Sequence[str]) -> str:
    """An observations file of ``observations``, its header lines as comments."""
    lines = [f"# {line}" if line else "#" for line in header]
    for row in observations:
        lines += ["", "[[observation]]", f'observable = "{row.observable.value}"']
        if row.platform is not None:
            lines.append(f'platform = "{row.platform.value}"')
        if row.provider is not None:
            lines.append(f'provider = "{row.provider.value}"')
        lines.append(f"value = {row.value:.6g}")
        if row.n is not None:
            lines.append(f"n = {row.n}")
        if row.uncertainty is not None:
            lines.append(f"uncertainty = {row.uncertainty:.3g}")
        lines.append(f"window_days = {row.window_days:g}")
        if row.source:
            lines.append(f'source = "{row.source}"')
    return "\n".join(lines) + "\n"


#: the true values of ``examples/observations.toml``: every parameter calibration fits, moved
#: off the baseline's value, so that a fit from the baseline has somewhere to go (every other key
#: is the baseline's)
EXAMPLE_TRUTH: Mapping[str, float] = {
    "permission.ios_opt_in_share": 0.55,
    "permission.android_13_opt_in_share": 0.60,
    "permission.web_gesture_opt_in_share": 0.06,
    "permission.turn_off_per_day": 1 / 500,
    "behaviour.uninstall_by_day1_share": 0.22,
    "behaviour.uninstall_by_day30_share": 0.46,
    "behaviour.reinstall_share": 0.34,
    "behaviour.session_rate_per_day": 0.55,
}
#: the rows of the example: opt-in per OS class (a dashboard splits it), disabled shares per
#: platform (an export cannot split Android), and everything else once, never a row twice
EXAMPLE_ROWS: tuple[Key, ...] = (
    (Observable.OPT_IN_SHARE, "ios"),
    (Observable.OPT_IN_SHARE, "android_12_or_lower"),
    (Observable.OPT_IN_SHARE, "android_13_plus"),
    (Observable.OPT_IN_SHARE, "web"),
    (Observable.UNINSTALLED_BY_DAY1_SHARE, None),
    (Observable.UNINSTALLED_BY_DAY30_SHARE, None),
    (Observable.REINSTALL_SHARE, None),
    (Observable.SESSIONS_PER_ACTIVE_USER_PER_WEEK, None),
    (Observable.MULTI_DEVICE_USER_SHARE, None),
    (Observable.MULTI_USER_DEVICE_SHARE, None),
    (Observable.BOUNCE_RATE, "apns"),
    (Observable.BOUNCE_RATE, "fcm"),
    (Observable.BOUNCE_RATE, "webpush"),
    (Observable.NOTIFICATIONS_DISABLED_SHARE, "ios"),
    (Observable.NOTIFICATIONS_DISABLED_SHARE, "android"),
    (Observable.NOTIFICATIONS_DISABLED_SHARE, "web"),
    (Observable.CAMPAIGN_CADENCE_DAYS, None),
)
EXAMPLE_DEVICES = 20_000
EXAMPLE_SEED = 20_261_201


def main(argv: Sequence[str] | None = None) -> None:
    """Print the example observations file (``> examples/observations.toml``)."""
    from sim.scenario.library import packaged_file
    from sim.scenario.load import load_scenario

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--devices", type=int, default=EXAMPLE_DEVICES)
    parser.add_argument("--seed", type=int, default=EXAMPLE_SEED)
    args = parser.parse_args(argv)
    base = load_scenario(packaged_file("baseline"))
    factor = args.devices / base.population.devices
    truth = base.with_values(
        {
            **EXAMPLE_TRUTH,
            "population.devices": args.devices,
            "population.arrivals_per_day": base.population.arrivals_per_day * factor,
        }
    )
    days = base.measurement.days
    observations = observe(
        truth, days=days, seed=args.seed, source="simulated (see the header)", keep=EXAMPLE_ROWS
    )
    header = [
        "Example observations (docs/calibration.md): what a push team reads off its dashboards",
        "and exports, one row per observable. These are not a real app's: they were measured in",
        f"a simulated world whose parameters are known — the baseline scenario at {args.devices:,}",
        f"devices (arrivals scaled alike) × {days:g} days, seed {args.seed}, with these values:",
        "",
        *(f"  {path} = {value:.6g}" for path, value in EXAMPLE_TRUTH.items()),
        "",
        "so that `pushsim calibrate examples/observations.toml --scenario baseline` can be checked",
        "against the truth. Made by `python -m sim.calibration.synthetic > FILE`.",
    ]
    print(observations_toml(observations, header), end="")


if __name__ == "__main__":
    main()
