"""Calibration: the observations a push team has, its token export, and fitting a scenario to them.

``observations``: a documented TOML format for what a team reads off its dashboards
(docs/calibration.md); ``token_export``: an importer for an R12-shaped export (JSON lines) that
derives the observables it can; ``moments``: the same observables measured in a simulated world;
``fit`` (with ``parameters`` and ``evaluate``): the method of simulated moments that fits a
scenario to them; ``api``: :func:`calibrate`; ``store`` and ``command``: ``pushsim calibrate``.
"""

from sim.calibration.api import calibrate
from sim.calibration.fit import CalibrationError, Fit, Setup
from sim.calibration.moments import MomentRecorder, Moments
from sim.calibration.observations import (
    Kind,
    Observable,
    Observation,
    Observations,
    PlatformClass,
    ProviderName,
    load_observations,
    parse_observations,
)
from sim.calibration.token_export import ExportSummary, TokenExportError, read_token_export

__all__ = [
    "CalibrationError",
    "Fit",
    "MomentRecorder",
    "Moments",
    "Setup",
    "calibrate",
    "ExportSummary",
    "Kind",
    "Observable",
    "Observation",
    "Observations",
    "PlatformClass",
    "ProviderName",
    "TokenExportError",
    "load_observations",
    "parse_observations",
    "read_token_export",
]
