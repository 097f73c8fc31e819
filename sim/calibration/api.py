"""The Python API of calibration, for notebooks and tests: fit a scenario to observations.

>>> from sim.calibration import calibrate
>>> fit = calibrate("examples/observations.toml", "baseline", workers=2)  # doctest: +SKIP
>>> fit.table()  # observed against simulated at the fit  # doctest: +SKIP
>>> fit.estimates_table()  # start, value, standard error, 95 % interval  # doctest: +SKIP
>>> fit.scenario()  # the calibrated scenario, ready for simulate() or replicate()  # doctest: +SKIP

The command ``pushsim calibrate`` runs the same fit and writes it to a folder it can resume.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sim.calibration.evaluate import Evaluator
from sim.calibration.fit import Calibration, Fit
from sim.calibration.observations import Observations, load_observations
from sim.calibration.setup import Setup
from sim.scenario.library import resolve
from sim.scenario.load import load_scenario
from sim.scenario.schema import Scenario


def calibrate(
    observations: Observations | str | Path,
    base: Scenario | str | Path,
    *,
    devices: int = Setup.devices,
    days: float | None = None,
    replications: int = Setup.replications,
    seed: int = Setup.seed,
    max_iterations: int = Setup.max_iterations,
    workers: int = 1,
    progress: bool = False,
) -> Fit:
    """Fit the parameters of ``base`` the ``observations`` drive (see docs/calibration.md).

    ``observations``: an :class:`Observations` or the path of an observations file; ``base``: a
    scenario, a scenario file or a packaged scenario's name. The world runs at ``devices``
    devices (arrivals scaled alike) for ``days`` (the base's ``measurement.days`` when None),
    ``replications`` seeds from ``seed`` at every point; ``workers`` processes run them.
    ``progress=True`` prints a line per iteration to stderr.
    """
    if not isinstance(observations, Observations):
        observations = load_observations(observations)
    if not isinstance(base, Scenario):
        base = load_scenario(resolve(str(base)))
    setup = Setup(
        devices=devices,
        days=base.measurement.days if days is None else days,
        replications=replications,
        seed=seed,
        max_iterations=max_iterations,
    )
    with Evaluator(workers) as evaluator:
        calibration = Calibration(
            base,
            observations,
            setup,
            evaluator,
            report=(lambda line: print(line, file=sys.stderr)) if progress else None,
        )
        return calibration.run()
