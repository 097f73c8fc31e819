"""Fitting a scenario to observations: the method of simulated moments, on scipy's least squares.

The fit minimises Σ rᵢ², rᵢ = (simulated mᵢ(θ) − observed oᵢ) / σᵢ over the parameters θ the
observations drive (:mod:`sim.calibration.parameters`), σᵢ² = the observation's squared standard
error plus the simulation's at the starting point (fixed through the fit, so the objective does
not move under it). It is a nonlinear least-squares problem with bounds, so it is solved by
:func:`scipy.optimize.least_squares` (trust region reflective), given the Jacobian this module
computes: forward differences of a fixed step per parameter, large enough to move a simulated
share by many devices, every perturbed point of a Jacobian run together on the workers. With
common random numbers, a small step would show no change at all and a noisy one a false slope.

The uncertainty of θ is the sandwich of the method of simulated moments with that weighting:
Cov(x) = (JᵀJ)⁻¹ in fit coordinates (σᵢ includes the simulation's noise), mapped to the
parameter's own scale by the delta method. A parameter is *not identified* when its 95 % interval
spans half its range or more, or when the Jacobian leaves a direction without information; an
observable is *not matched* when its residual is beyond ±3 at the fit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from sim.calibration.evaluate import Evaluator, PointMoments, RawMoments, Task
from sim.calibration.moments import MIN_DAYS, Key
from sim.calibration.observations import Observable, Observation, Observations
from sim.calibration.parameters import (
    Parameter,
    coordinates,
    fitted,
    settings,
    targets,
    value_at,
    values_of,
    with_parameters,
)
from sim.calibration.setup import Setup
from sim.scenario.errors import ScenarioError
from sim.scenario.schema import Scenario

#: a residual beyond this many standard errors at the fit: the observable is not matched
MISMATCH_Z = 3.0
#: a 95 % interval covering this share of a parameter's range or more: not identified
UNIDENTIFIED_SPAN = 0.5
#: a run of the solver that lowered χ² by more than this share is followed by another
RESTART_GAIN = 0.02
#: the smallest σ a row may have (an observation given with uncertainty 0 and a noiseless model)
MIN_SIGMA = 1e-6
Z95 = 1.959963984540054


class CalibrationError(ScenarioError):
    """The observations cannot be fitted as given (a row without a standard error, say)."""


@dataclass
class Row:
    """One observation row in the fit: observed, simulated at the fit, and the residual."""

    observation: Observation
    key: Key
    index: int
    sigma: float = math.nan
    simulated: float | None = None
    simulated_error: float = 0.0
    start: float | None = None

    @property
    def residual(self) -> float | None:
        """(simulated − observed) ÷ σ at the fit; None when the world cannot simulate it."""
        if self.simulated is None:
            return None
        return (self.simulated - self.observation.value) / self.sigma

    def record(self) -> dict[str, Any]:
        """The row as the report, ``fit.json`` and :meth:`Fit.table` give it."""
        z = self.residual
        return {
            "row": self.index,
            "observable": self.key[0].value,
            "qualifier": self.key[1],
            "observed": self.observation.value,
            "observed_se": self.observation.standard_error(),
            "simulated_at_start": self.start,
            "simulated": self.simulated,
            "simulated_se": self.simulated_error,
            "z": z,
            "matched": z is not None and abs(z) <= MISMATCH_Z,
        }


@dataclass
class Estimate:
    """A fitted parameter: start, value, standard error and 95 % interval on its own scale."""

    parameter: Parameter
    start: float
    value: float
    standard_error: float
    low: float
    high: float
    bounds: tuple[float, float]
    at_bound: bool = False
    identified: bool = True


@dataclass
class Fit:
    """The outcome of a calibration: estimates, rows, warnings, and what it cost."""

    base: Scenario
    fixed: dict[str, Any]
    setup: Setup
    estimates: list[Estimate]
    rows: list[Row]
    chi_square: float
    dof: int
    points: int
    runs: int
    iterations: int
    converged: bool
    message: str
    warnings: list[str] = field(default_factory=list)
    correlation: list[list[float | None]] = field(default_factory=list)

    @property
    def p_value(self) -> float | None:
        """The χ² test of the fit (None without degrees of freedom)."""
        if self.dof <= 0:
            return None
        return float(stats.chi2.sf(self.chi_square, self.dof))

    def values(self) -> dict[str, Any]:
        """Every key the calibrated scenario sets: the fixed ones and the fitted ones."""
        out = dict(self.fixed)
        for estimate in self.estimates:
            out[estimate.parameter.path] = estimate.value
        return out

    def scenario(self) -> Scenario:
        """The base scenario with the calibrated values."""
        return self.base.with_values(self.values())

    def table(self) -> pd.DataFrame:
        """Observed against simulated: one line per observation row in the fit."""
        return pd.DataFrame([row.record() for row in self.rows])

    def estimates_table(self) -> pd.DataFrame:
        """One line per fitted parameter: start, value, standard error, 95 % interval."""
        return pd.DataFrame(
            [
                {
                    "parameter": e.parameter.path,
                    "start": e.start,
                    "value": e.value,
                    "standard_error": e.standard_error,
                    "ci_low": e.low,
                    "ci_high": e.high,
                    "identified": e.identified,
                    "at_bound": e.at_bound,
                }
                for e in self.estimates
            ]
        )


#: a point's cache: the replications' moments at fit coordinates x, or None (not yet run)
Lookup = Callable[[tuple[float, ...]], list[RawMoments] | None]
Store = Callable[[tuple[float, ...], list[RawMoments]], None]


def fit_rows(observations: Observations) -> list[Row]:
    """The rows that take part in the fit (every one but the cadence, which is set as observed).

    A row without a standard error cannot be weighed: every such row is refused, by its index.
    """
    rows, problems = [], []
    for index, observation in enumerate(observations):
        if observation.observable is Observable.CAMPAIGN_CADENCE_DAYS:
            continue
        if observation.standard_error() is None:
            problems.append(
                (
                    f"observation[{index}]",
                    f"{observation.observable.value} needs a standard error to be fitted: give "
                    "uncertainty (the standard error, in the unit of value)",
                )
            )
            continue
        rows.append(Row(observation, targets(observation), index))
    if problems:
        raise CalibrationError(observations.file, problems)
    return rows


def _check_days(rows: Sequence[Row], days: float, file: str) -> None:
    """Refuse rows the runs are too short to measure (a reinstall needs its follow-up)."""
    problems = []
    for row in rows:
        needed = MIN_DAYS.get(row.key[0])
        if needed is not None and days < needed:
            problems.append(
                (
                    f"observation[{row.index}]",
                    f"{row.key[0].value} needs runs of at least {needed:g} days (installs or "
                    f"uninstalls followed long enough, then some to count); the runs are "
                    f"{days:g} days: give --days {needed:g} or more",
                )
            )
    if problems:
        raise CalibrationError(file, problems)


def scaled(base: Scenario, devices: int) -> Scenario:
    """The base world at ``devices`` devices, its arrivals scaled alike (the same mix of ages)."""
    population = base.population
    factor = devices / population.devices if population.devices else 1.0
    return base.with_values(
        {
            "population.devices": devices,
            "population.arrivals_per_day": population.arrivals_per_day * factor,
        }
    )


class Calibration:
    """One calibration: builds tasks for points, caches them, runs scipy's least squares."""

    def __init__(
        self,
        base: Scenario,
        observations: Observations,
        setup: Setup,
        evaluator: Evaluator,
        *,
        lookup: Lookup | None = None,
        store: Store | None = None,
        progress: Callable[[int], None] | None = None,
        report: Callable[[str], None] | None = None,
    ) -> None:
        self.base = base
        self.observations = observations
        self.setup = setup
        self.evaluator = evaluator
        self.rows = fit_rows(observations)
        self.fixed = settings(observations, base)
        self.parameters = fitted(observations, base)
        self.world = scaled(base, setup.devices)
        _check_days(self.rows, setup.days, observations.file)
        self._lookup = lookup or (lambda x: None)
        self._store = store or (lambda x, raws: None)
        self._progress = progress or (lambda runs: None)
        self._report = report or (lambda line: None)
        self._memo: dict[tuple[float, ...], PointMoments] = {}
        self.runs = 0
        self.iterations = 0

    # -- points ------------------------------------------------------------------------------

    def start(self) -> np.ndarray:
        """The base scenario's values in fit coordinates, inside their bounds."""
        return np.array(coordinates(self.parameters, self.base), dtype=float)

    def values(self, x: np.ndarray) -> np.ndarray:
        """The parameters' values at fit coordinates ``x``, in the parameters' order."""
        values = values_of(self.parameters, [float(v) for v in x], self.base)
        return np.array(list(values.values()), dtype=float)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The fit coordinates' bounds (the base's value sets a rate's)."""
        pairs = [p.bounds(float(value_at(self.base, p.path))) for p in self.parameters]
        return np.array([b[0] for b in pairs]), np.array([b[1] for b in pairs])

    def moments(self, points: Sequence[np.ndarray]) -> list[PointMoments]:
        """Each point's moments: from memory, the cache, or run (every missing point together)."""
        keys = [tuple(float(v) for v in x) for x in points]
        missing = []
        for key in keys:
            if key in self._memo or key in missing:
                continue
            cached = self._lookup(key)
            if cached is not None:
                self._memo[key] = PointMoments.of(cached)
            else:
                missing.append(key)
        if missing:
            tasks = [
                Task(self._document(key), seed, self.setup.days)
                for key in missing
                for seed in self.setup.seeds()
            ]
            raws = self.evaluator.run(tasks, done=self._ran)
            per = self.setup.replications
            for number, key in enumerate(missing):
                replications = raws[number * per : (number + 1) * per]
                self._store(key, replications)
                self._memo[key] = PointMoments.of(replications)
        return [self._memo[key] for key in keys]

    def _ran(self) -> None:
        self.runs += 1
        self._progress(self.runs)

    def _document(self, x: tuple[float, ...]) -> dict[str, Any]:
        return with_parameters(self.world, self.parameters, x, self.fixed).resolved()

    # -- the objective -----------------------------------------------------------------------

    def _residuals(self, point: PointMoments) -> np.ndarray:
        out = np.zeros(len(self.rows))
        for i, row in enumerate(self.rows):
            simulated = point.mean.get(row.key)
            if simulated is not None:
                out[i] = (simulated - row.observation.value) / row.sigma
        return out

    def _weigh(self, point: PointMoments) -> None:
        """σ of every row: the observation's error and the simulation's at the start, combined."""
        for row in self.rows:
            observed = _observed_error(row.observation)
            simulated = point.standard_error.get(row.key, 0.0)
            row.sigma = max(MIN_SIGMA, math.hypot(observed, simulated))
            row.start = point.mean.get(row.key)

    def _chi_square(self, x: np.ndarray) -> float:
        r = self._residuals(self.moments([x])[0])
        return float(r @ r)

    def _steps(self, x: np.ndarray, high: np.ndarray) -> np.ndarray:
        """Forward steps, backward where a forward one would leave the bounds."""
        steps = np.array([p.step for p in self.parameters])
        return np.where(x + steps <= high, steps, -steps)

    def run(self) -> Fit:
        """Fit, then measure the uncertainty and say what does not fit."""
        x0 = self.start()
        low, high = self.bounds()
        start_point = self.moments([x0])[0]
        self._weigh(start_point)
        if not self.parameters:
            return self._outcome(x0, np.zeros((len(self.rows), 0)), start_point, x0, None)

        def residuals(x: np.ndarray) -> np.ndarray:
            return self._residuals(self.moments([x])[0])

        def jacobian(x: np.ndarray, *, final: bool = False) -> np.ndarray:
            steps = self._steps(x, high)
            shifted = [x + np.eye(len(x))[j] * steps[j] for j in range(len(x))]
            centre, *others = self.moments([x, *shifted])
            r0 = self._residuals(centre)
            if not final:
                self.iterations += 1
                self._report(
                    f"iteration {self.iterations}: χ² = {float(r0 @ r0):.2f} over "
                    f"{len(self.rows)} rows, {self.runs} runs so far"
                )
            return np.column_stack(
                [(self._residuals(o) - r0) / s for o, s in zip(others, steps, strict=True)]
            )

        # A noisy objective makes the trust region shrink after a rejected step until the step
        # tolerance stops the solver early; while budget remains and the last run still gained,
        # the solver is restarted from where it stopped, with a fresh trust region.
        x, budget, solution = x0, self.setup.max_iterations, None
        while budget > 0:
            before = self._chi_square(x)
            solution = optimize.least_squares(
                residuals,
                x,
                jac=jacobian,
                bounds=(low, high),
                method="trf",
                x_scale="jac",
                ftol=1e-4,
                xtol=1e-4,
                gtol=1e-8,
                max_nfev=budget,
            )
            budget -= int(solution.nfev)
            x = np.asarray(solution.x, dtype=float)
            if solution.status == 0 or self._chi_square(x) > (1 - RESTART_GAIN) * before:
                break
        assert solution is not None
        x = np.asarray(solution.x, dtype=float)
        point = self.moments([x])[0]
        return self._outcome(x, jacobian(x, final=True), point, x0, solution)

    # -- the outcome -------------------------------------------------------------------------

    def _values_with_covariance(
        self, x: np.ndarray, covariance: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The values at ``x`` and their covariance (the delta method from fit coordinates)."""
        value = self.values(x)
        derivative = _delta(self.values, x)
        finite = np.where(np.isfinite(covariance), covariance, 0.0)
        mapped = derivative @ finite @ derivative.T
        for j in range(len(x)):  # a direction without information stays without it
            if not math.isfinite(covariance[j, j]):
                for i in np.flatnonzero(np.abs(derivative[:, j]) > 0):
                    mapped[i, i] = math.inf
        return value, mapped

    def _value_bounds(
        self, parameter: Parameter, j: int, low: np.ndarray, high: np.ndarray, value: np.ndarray
    ) -> tuple[float, float]:
        """The range of a parameter's value: a ratio's is 0 to the value it is a share of."""
        if parameter.scale == "log":
            return math.exp(low[j]), math.exp(high[j])
        if parameter.scale == "ratio":
            assert parameter.of is not None
            paths = [p.path for p in self.parameters]
            reference = (
                float(value[paths.index(parameter.of)])
                if parameter.of in paths
                else float(value_at(self.base, parameter.of))
            )
            return 0.0, reference
        return float(low[j]), float(high[j])

    def _outcome(
        self,
        x: np.ndarray,
        jac: np.ndarray,
        point: PointMoments,
        x0: np.ndarray,
        solution: optimize.OptimizeResult | None,
    ) -> Fit:
        for row in self.rows:
            row.simulated = point.mean.get(row.key)
            row.simulated_error = point.standard_error.get(row.key, 0.0)
        r = self._residuals(point)
        chi_square = float(r @ r)
        covariance, degenerate = _covariance(jac)
        low, high = self.bounds()
        value, value_covariance = self._values_with_covariance(x, covariance)
        start = self.values(x0)
        estimates, warnings = [], []
        for j, parameter in enumerate(self.parameters):
            sd = math.sqrt(covariance[j, j]) if math.isfinite(covariance[j, j]) else math.inf
            lo_x, hi_x = max(low[j], x[j] - Z95 * sd), min(high[j], x[j] + Z95 * sd)
            se = value_covariance[j, j]
            se = math.sqrt(se) if math.isfinite(se) and se >= 0 else math.inf
            floor, ceiling = self._value_bounds(parameter, j, low, high, value)
            if parameter.scale == "log":  # multiplicative: the interval of the log, mapped
                lo_v, hi_v = math.exp(lo_x), math.exp(hi_x)
            else:
                lo_v = max(floor, value[j] - Z95 * se)
                hi_v = min(ceiling, value[j] + Z95 * se)
            at_bound = bool(np.isclose(x[j], low[j]) or np.isclose(x[j], high[j]))
            span = (hi_x - lo_x) / (high[j] - low[j]) if high[j] > low[j] else 0.0
            identified = bool(j not in degenerate and span < UNIDENTIFIED_SPAN)
            estimates.append(
                Estimate(
                    parameter,
                    start=float(start[j]),
                    value=float(value[j]),
                    standard_error=se,
                    low=lo_v,
                    high=hi_v,
                    bounds=(floor, ceiling),
                    at_bound=at_bound,
                    identified=identified,
                )
            )
            if not identified:
                warnings.append(
                    f"{parameter.path} is not identified by these observations: its 95 % "
                    f"interval [{_g(lo_v)}, {_g(hi_v)}] spans {span:.0%} of its range (the rows "
                    f"that drive it: {', '.join(_target(t) for t in parameter.drives)})"
                )
            if at_bound:
                warnings.append(
                    f"{parameter.path} ended at the edge of its range ({_g(value[j])}): the "
                    "observations push it further than the model allows"
                )
        for row in self.rows:
            if row.simulated is None:
                warnings.append(
                    f"observation[{row.index}] ({_target(row.key)}): this world cannot simulate "
                    "it (nothing to measure it on), so it took no part in the fit"
                )
                continue
            z = row.residual
            assert z is not None
            if abs(z) > MISMATCH_Z:
                warnings.append(
                    f"observation[{row.index}] ({_target(row.key)}) is not matched: observed "
                    f"{_g(row.observation.value)} ± {_g(row.observation.standard_error() or 0)}, "
                    f"simulated {_g(row.simulated)} at the fit ({z:+.1f} σ)"
                )
        diagonal = np.diag(covariance)
        sds = np.sqrt(np.where(np.isfinite(diagonal), diagonal, np.nan))
        with np.errstate(invalid="ignore", divide="ignore"):
            correlation = covariance / np.outer(sds, sds)
        for i in range(len(self.parameters)):
            for j in range(i + 1, len(self.parameters)):
                rho = correlation[i, j]
                if math.isfinite(rho) and abs(rho) > 0.95:
                    warnings.append(
                        f"{self.parameters[i].path} and {self.parameters[j].path} are confounded "
                        f"(correlation {rho:+.2f}): the data fix a combination of them, not each"
                    )
        simulated_rows = sum(row.simulated is not None for row in self.rows)
        return Fit(
            base=self.base,
            fixed=self.fixed,
            setup=self.setup,
            estimates=estimates,
            rows=self.rows,
            chi_square=chi_square,
            dof=simulated_rows - len(self.parameters),
            points=len(self._memo),
            runs=self.runs,
            iterations=self.iterations,
            converged=bool(solution is not None and solution.status > 0),
            message=str(solution.message) if solution is not None else "nothing to fit",
            warnings=warnings,
            correlation=[[_finite(float(v)) for v in line] for line in correlation.tolist()],
        )


def _delta(values: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """∂ value / ∂ x by central differences of the (deterministic, cheap) map to values."""
    columns = []
    for j in range(len(x)):
        h = 1e-6 * max(1.0, abs(float(x[j])))
        up, down = x.copy(), x.copy()
        up[j] += h
        down[j] -= h
        columns.append((values(up) - values(down)) / (2 * h))
    return np.column_stack(columns) if columns else np.zeros((0, 0))


def _covariance(jac: np.ndarray) -> tuple[np.ndarray, set[int]]:
    """(JᵀJ)⁻¹, with infinite variance along directions J carries no information on."""
    p = jac.shape[1]
    if p == 0:
        return np.zeros((0, 0)), set()
    _, singular, vt = np.linalg.svd(jac, full_matrices=False)
    top = float(singular.max()) if singular.size else 0.0
    keep = singular > (top * 1e-6 if top > 0 else math.inf)
    covariance = (vt[keep].T / singular[keep] ** 2) @ vt[keep]
    degenerate: set[int] = set()
    for direction in vt[~keep]:
        degenerate.update(int(j) for j in np.flatnonzero(np.abs(direction) > 0.1))
    for j in degenerate:
        covariance[j, j] = math.inf
    return covariance, degenerate


def _observed_error(observation: Observation) -> float:
    """The row's standard error; a share of exactly 0 or 1 over n counts as ½ of a unit off.

    The binomial error of a share of 0 (or 1) is 0, which would make the row infinitely certain;
    the continuity-corrected share (x + ½) ÷ (n + 1) gives it the error of half a unit instead.
    """
    error = observation.standard_error() or 0.0
    n = observation.n
    if error == 0.0 and observation.uncertainty is None and n:
        p = (observation.value * n + 0.5) / (n + 1)
        error = math.sqrt(p * (1 - p) / n)
    return error


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _g(value: float) -> str:
    return f"{value:.4g}"


def _target(key: Key) -> str:
    observable, qualifier = key
    return observable.value if qualifier is None else f"{observable.value}[{qualifier}]"
