"""What a calibration writes: the calibrated scenario file, the fit as JSON, and the report.

The scenario file ``extends`` the base and sets only what the fit changed, each number with its
source (the observation rows it was fitted to, or set from) and its 95 % interval, as every number
of a scenario file carries its source. The report shows observed against simulated (at the start
and at the fit), the estimates with their uncertainty, and the warnings.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from typing import Any

from sim.calibration.fit import MISMATCH_Z, Estimate, Fit
from sim.calibration.observations import Observable, Observation
from sim.calibration.parameters import targets


def _number(value: float) -> str:
    return repr(float(value))


def _g(value: float | None, digits: int = 4) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.{digits}g}"


def _row_label(observation: Observation) -> str:
    observable, qualifier = targets(observation)
    return observable.value if qualifier is None else f"{observable.value}[{qualifier}]"


def _cited(rows: list[tuple[int, Observation]], file: str) -> str:
    parts = []
    for index, observation in rows:
        source = f', "{observation.source}"' if observation.source else ""
        parts.append(f"{_row_label(observation)} = {_g(observation.value)} (row {index}{source})")
    return f"{'; '.join(parts)} in {file}"


def scenario_toml(fit: Fit, *, extends: str, observations_file: str) -> str:
    """The calibrated scenario: ``extends`` the base, the fitted and set keys with their sources."""
    base = fit.base.scenario
    by_target: dict[tuple[Observable, str | None], list[tuple[int, Observation]]] = defaultdict(
        list
    )
    for row in fit.rows:
        by_target[row.key].append((row.index, row.observation))
    lines = [
        f"# {base.name}, calibrated by `pushsim calibrate` to the observations in",
        f"# {observations_file} (method of simulated moments; docs/calibration.md). The keys",
        "# below are fitted to those observations (or, for the cadence, set from them), each with",
        "# the rows it was fitted to and the fit's 95 % interval; every other key is the base's.",
        f"extends = {json.dumps(extends)}",
        "",
        "[scenario]",
        f"name = {json.dumps(_name(base.name))}",
        f"description = {json.dumps(f'{base.name} calibrated to {observations_file}.')}",
    ]
    sections: dict[str, list[str]] = defaultdict(list)
    for path, value in fit.fixed.items():
        section, key = path.split(".")
        sections[section].append(
            f"{key} = {_number(value)}  # set from campaign_cadence_days in {observations_file}"
        )
    for estimate in fit.estimates:
        section, key = estimate.parameter.path.split(".")
        drivers = [pair for target in estimate.parameter.drives for pair in by_target[target]]
        interval = f"95 % interval [{_g(estimate.low)}, {_g(estimate.high)}]"
        note = "" if estimate.identified else "; NOT identified by these observations"
        sections[section].append(
            f"{key} = {_number(estimate.value)}  # fitted to {_cited(drivers, observations_file)}"
            f"; {interval}{note}"
        )
    for section, entries in sections.items():
        lines += ["", f"[{section}]", *entries]
    return "\n".join(lines) + "\n"


def _name(base: str) -> str:
    suffix = "_calibrated"
    return base[: 64 - len(suffix)] + suffix


def fit_json(fit: Fit) -> str:
    """The fit as JSON: estimates, rows, warnings, the χ² test, the setup and its cost."""
    document: dict[str, Any] = {
        "setup": {
            "devices": fit.setup.devices,
            "days": fit.setup.days,
            "replications": fit.setup.replications,
            "seed": fit.setup.seed,
            "max_iterations": fit.setup.max_iterations,
        },
        "fixed": fit.fixed,
        "estimates": [_estimate(e) for e in fit.estimates],
        "rows": [r.record() for r in fit.rows],
        "chi_square": fit.chi_square,
        "dof": fit.dof,
        "p_value": fit.p_value,
        "converged": fit.converged,
        "message": fit.message,
        "points": fit.points,
        "runs": fit.runs,
        "iterations": fit.iterations,
        "correlation": fit.correlation,
        "warnings": fit.warnings,
    }
    return json.dumps(document, indent=2, allow_nan=False) + "\n"


def _estimate(e: Estimate) -> dict[str, Any]:
    return {
        "parameter": e.parameter.path,
        "start": e.start,
        "value": e.value,
        "standard_error": e.standard_error if math.isfinite(e.standard_error) else None,
        "ci_low": e.low,
        "ci_high": e.high,
        "bounds": list(e.bounds),
        "identified": e.identified,
        "at_bound": e.at_bound,
        "observables": [_label(t) for t in e.parameter.drives],
    }


def _label(target: tuple[Observable, str | None]) -> str:
    observable, qualifier = target
    return observable.value if qualifier is None else f"{observable.value}[{qualifier}]"


def report_markdown(fit: Fit, *, observations_file: str, base_file: str, command: str) -> str:
    """The report: inputs, observed against simulated, estimates, warnings, how to use it."""
    s = fit.setup
    lines = [
        f"# Calibration of {fit.base.scenario.name} to {observations_file}",
        "",
        f"`{command}`",
        "",
        f"- Base scenario: `{base_file}` (hash {fit.base.digest()}).",
        f"- Observations: `{observations_file}`, {len(fit.rows)} rows in the fit.",
        f"- World: {s.devices:,} devices (arrivals scaled alike) × {s.days:g} days, "
        f"{s.replications} replications per point (seeds {s.seed}–{s.seed + s.replications - 1}, "
        "the same at every point: common random numbers).",
        f"- Fit: method of simulated moments, scipy `least_squares` (trust region reflective) "
        f"with forward-difference Jacobians; {fit.iterations} Jacobians, {fit.points} points, "
        f"{fit.runs} runs (this invocation; points read from an earlier one are not counted). "
        f"Stopped: {fit.message}",
        f"- χ² = {fit.chi_square:.2f} over {fit.dof} degrees of freedom"
        + (f" (p = {fit.p_value:.3g})." if fit.p_value is not None else "."),
        "",
        "## Warnings",
        "",
    ]
    lines += [f"- {w}" for w in fit.warnings] or [
        "None: every row matched within ±3 σ, and every parameter is identified."
    ]
    lines += [
        "",
        "## Fitted parameters",
        "",
        "| parameter | start | fitted | standard error | 95 % interval | range | identified |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in fit.estimates:
        lines.append(
            f"| `{e.parameter.path}` | {_g(e.start)} | {_g(e.value)} | {_g(e.standard_error, 2)} "
            f"| [{_g(e.low)}, {_g(e.high)}] | [{_g(e.bounds[0])}, {_g(e.bounds[1])}] | "
            f"{'yes' if e.identified else '**no**'}{' (at its bound)' if e.at_bound else ''} |"
        )
    if not fit.estimates:
        lines.append("| (none: no row of these observations drives a parameter) | | | | | | |")
    for path, value in fit.fixed.items():
        lines.append(f"| `{path}` | | {_g(value)} (set, not fitted) | | | | |")
    lines += [
        "",
        "## Observed against simulated",
        "",
        f"σ combines the observation's standard error and the simulation's; z = (simulated − "
        f"observed) ÷ σ at the fit, matched when |z| ≤ {MISMATCH_Z:g}.",
        "",
        "| row | observable | observed ± s.e. | simulated at the start | simulated at the fit | z "
        "| matched |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in fit.rows:
        z = r.residual
        lines.append(
            f"| {r.index} | {_row_label(r.observation)} | {_g(r.observation.value)} ± "
            f"{_g(r.observation.standard_error(), 2)} | {_g(r.start)} | {_g(r.simulated)} ± "
            f"{_g(r.simulated_error, 2)} | {'—' if z is None else f'{z:+.2f}'} | "
            f"{'—' if z is None else ('yes' if abs(z) <= MISMATCH_Z else '**no**')} |"
        )
    lines += [
        "",
        "## Using it",
        "",
        "`calibrated.toml` extends the base scenario and sets the keys above; run it with "
        "`pushsim run calibrated.toml` (it keeps the base's size). `fit.json` holds every number "
        "of this report. A parameter that is not identified kept a value the data do not pin "
        "down: read its interval, not its value.",
    ]
    return "\n".join(lines) + "\n"
