"""Which scenario parameter each observable calibrates, and the coordinates the fit moves it in.

The table :data:`PARAMETERS` is the mapping docs/calibration.md shows: a parameter is fitted when
the observations hold at least one of its observables, and the rows without a parameter of their
own (bounce rates, the other platforms' disabled shares, the per-class opt-in shares a parameter
does not set) still count in the fit as checks of the whole model. ``campaign_cadence_days`` is
not fitted: it is a decision of the team, so it is set as observed.

Not fitted: ``population.shared_device_share``. Changing it redraws the households (the
population stream draws the sharers of each shared device), so no draw is common between two of
its values and every moment moves with the new population; and the share of users on more than
one device, the observable that could drive it, moves little with it (most such users hold the
stale token of a replaced device). Its rows, ``multi_device_user_share`` and
``multi_user_device_share``, are checks of the fitted world.

A share moves on its own scale within the schema's bounds ([0, 1]). A rate moves on the log
scale, within the schema's bounds intersected with a factor of :data:`RATE_SPAN` either side of
the base scenario's value (a log scale has no room for the schema's lower bound of 0, and a fit
that needs a rate 100 times the base's says more about the base than any fit can).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from sim.calibration.observations import Observable, Observation, Observations
from sim.scenario.schema import Scenario

#: a rate is fitted within this factor of the base scenario's value, either side
RATE_SPAN = 100.0
#: an observable and its qualifier (platform class or provider; None where it has none)
Target = tuple[Observable, str | None]


@dataclass(frozen=True)
class Parameter:
    """A fitted scenario parameter: its key path, scale, and the observables that drive it."""

    path: str
    #: "share": the value itself; "log": its logarithm; "ratio": its share of the parameter
    #: ``of`` (so that a share bounded by another is a box constraint for the optimiser)
    scale: Literal["share", "log", "ratio"]
    drives: tuple[Target, ...]
    #: the forward difference step of the fit's Jacobian, in fit coordinates
    step: float
    why: str
    of: str | None = None

    def bounds(self, base_value: float) -> tuple[float, float]:
        """The fit coordinates' bounds: the schema's, for a rate a span around the base."""
        if self.scale == "ratio":
            return 0.0, 1.0
        low, high = schema_bounds(self.path)
        if self.scale == "share":
            return low, high
        low = max(low, base_value / RATE_SPAN)
        high = min(high, base_value * RATE_SPAN)
        return math.log(low), math.log(high)


#: every parameter calibration can fit, in the order fits and reports list them
PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        "permission.ios_opt_in_share",
        "share",
        ((Observable.OPT_IN_SHARE, "ios"),),
        0.1,
        "the share of iOS users who grant the first prompt",
    ),
    Parameter(
        "permission.android_13_opt_in_share",
        "share",
        ((Observable.OPT_IN_SHARE, "android_13_plus"), (Observable.OPT_IN_SHARE, "android")),
        0.1,
        "the share of Android 13+ users who grant the runtime prompt",
    ),
    Parameter(
        "permission.web_gesture_opt_in_share",
        "share",
        ((Observable.OPT_IN_SHARE, "web"),),
        0.03,
        "the share of visitors shown the prompt on a gesture who grant it (web_prompt = gesture)",
    ),
    Parameter(
        "permission.web_page_load_opt_in_share",
        "share",
        ((Observable.OPT_IN_SHARE, "web"),),
        0.01,
        "the share of visitors who grant a page-load prompt (web_prompt = page_load)",
    ),
    Parameter(
        "permission.turn_off_per_day",
        "log",
        (
            (Observable.OPT_IN_SHARE, "android_12_or_lower"),
            (Observable.NOTIFICATIONS_DISABLED_SHARE, "android_12_or_lower"),
        ),
        0.15,
        "how often notifications are turned off in settings: Android ≤ 12 has no prompt, so its "
        "disabled share is this rate's doing",
    ),
    Parameter(
        "behaviour.uninstall_by_day1_share",
        "ratio",
        ((Observable.UNINSTALLED_BY_DAY1_SHARE, None),),
        0.05,
        "installs uninstalled on day 0–1, fitted as a share of those uninstalled by day 30 (the "
        "uninstall curve needs day 1 ≤ day 30)",
        of="behaviour.uninstall_by_day30_share",
    ),
    Parameter(
        "behaviour.uninstall_by_day30_share",
        "share",
        ((Observable.UNINSTALLED_BY_DAY30_SHARE, None),),
        0.02,
        "installs uninstalled within 30 days",
    ),
    Parameter(
        "behaviour.reinstall_share",
        "share",
        ((Observable.REINSTALL_SHARE, None),),
        0.02,
        "uninstallers who reinstall",
    ),
    Parameter(
        "behaviour.session_rate_per_day",
        "log",
        ((Observable.SESSIONS_PER_ACTIVE_USER_PER_WEEK, None),),
        0.1,
        "the median session rate while active",
    ),
)


def schema_bounds(path: str) -> tuple[float, float]:
    """The bounds the scenario schema puts on the number at ``path`` (section.key)."""
    section, key = path.split(".")
    model: type[BaseModel] = Scenario.model_fields[section].annotation  # type: ignore[assignment]
    low, high = -math.inf, math.inf
    for rule in model.model_fields[key].metadata:
        for name, better in (("ge", max), ("gt", max)):
            if getattr(rule, name, None) is not None:
                low = better(low, float(getattr(rule, name)))
        for name in ("le", "lt"):
            if getattr(rule, name, None) is not None:
                high = min(high, float(getattr(rule, name)))
    return low, high


def value_at(scenario: Scenario, path: str) -> Any:
    """The value of the key ``section.key`` in ``scenario``."""
    section, key = path.split(".")
    return getattr(getattr(scenario, section), key)


def targets(observation: Observation) -> Target:
    """The (observable, qualifier) an observation row measures."""
    qualifier = observation.platform or observation.provider
    return (observation.observable, None if qualifier is None else qualifier.value)


def fitted(observations: Observations, base: Scenario) -> list[Parameter]:
    """The parameters the observations drive, given the base scenario's own choices."""
    present = {targets(row) for row in observations}
    chosen = []
    for parameter in PARAMETERS:
        if parameter.path == "permission.web_gesture_opt_in_share" and (
            base.permission.web_prompt != "gesture"
        ):
            continue
        if parameter.path == "permission.web_page_load_opt_in_share" and (
            base.permission.web_prompt != "page_load"
        ):
            continue
        if any(target in present for target in parameter.drives):
            chosen.append(parameter)
    return chosen


def settings(observations: Observations, base: Scenario) -> dict[str, Any]:
    """The keys set as observed rather than fitted: the campaign cadence."""
    row = observations.find(Observable.CAMPAIGN_CADENCE_DAYS)
    if row is None:
        return {}
    if base.campaigns.schedule == "poisson":
        return {"campaigns.rate_per_day": 1.0 / row.value}
    return {"campaigns.every_days": row.value}


def coordinates(parameters: Sequence[Parameter], base: Scenario) -> list[float]:
    """The base scenario's values in fit coordinates, inside their bounds."""
    out = []
    for parameter in parameters:
        value = float(value_at(base, parameter.path))
        if parameter.scale == "log":
            x = math.log(value) if value > 0 else -math.inf
        elif parameter.scale == "ratio":
            assert parameter.of is not None
            reference = float(value_at(base, parameter.of))
            x = value / reference if reference > 0 else 0.0
        else:
            x = value
        low, high = parameter.bounds(value)
        out.append(min(max(x, low), high))
    return out


def values_of(
    parameters: Sequence[Parameter], x: Sequence[float], base: Scenario
) -> dict[str, float]:
    """Each parameter's value at fit coordinates ``x`` (a ratio after what it is a share of)."""
    values: dict[str, float] = {}
    for parameter, coordinate in zip(parameters, x, strict=True):
        if parameter.scale == "log":
            values[parameter.path] = math.exp(float(coordinate))
        elif parameter.scale == "share":
            values[parameter.path] = float(coordinate)
    for parameter, coordinate in zip(parameters, x, strict=True):
        if parameter.scale == "ratio":
            assert parameter.of is not None
            reference = values.get(parameter.of, float(value_at(base, parameter.of)))
            values[parameter.path] = float(coordinate) * reference
    return {parameter.path: values[parameter.path] for parameter in parameters}


def with_parameters(
    base: Scenario, parameters: Sequence[Parameter], x: Sequence[float], fixed: dict[str, Any]
) -> Scenario:
    """The base scenario with the fixed keys and each parameter at fit coordinate ``x``.

    The uninstall curve cannot lose everyone at day 30 unless it does on day 1 too: a day-30
    share of exactly 1 with less on day 1 is run just below 1.
    """
    values: dict[str, Any] = {**fixed, **values_of(parameters, x, base)}
    day1, day30 = "behaviour.uninstall_by_day1_share", "behaviour.uninstall_by_day30_share"
    if values.get(day30) == 1.0 and values.get(day1, value_at(base, day1)) < 1.0:
        values[day30] = math.nextafter(1.0, 0.0)
        if day1 in values:
            values[day1] = min(values[day1], values[day30])
    return base.with_values(values)
