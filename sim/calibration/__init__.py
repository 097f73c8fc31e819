"""Calibration: the observations a push team has, its token export, and fitting a scenario to them.

``observations``: a documented TOML format for what a team reads off its dashboards
(docs/calibration.md); ``token_export``: an importer for an R12-shaped export (JSON lines) that
derives the observables it can; ``moments``: the same observables measured in a simulated world;
``fit`` (with ``parameters`` and ``evaluate``): the method of simulated moments that fits a
scenario to them; ``api``: :func:`calibrate`; ``store`` and ``command``: ``pushsim calibrate``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.calibration.api import calibrate
    from sim.calibration.fit import CalibrationError, Fit
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
    from sim.calibration.setup import Setup
    from sim.calibration.token_export import ExportSummary, TokenExportError, read_token_export

#: where each public name lives: imported on first use, so that ``pushsim calibrate --help``
#: (which imports sim.calibration.command) loads neither the world nor scipy
_HOMES = {
    "calibrate": "api",
    "CalibrationError": "fit",
    "Fit": "fit",
    "MomentRecorder": "moments",
    "Moments": "moments",
    "Setup": "setup",
    "Kind": "observations",
    "Observable": "observations",
    "Observation": "observations",
    "Observations": "observations",
    "PlatformClass": "observations",
    "ProviderName": "observations",
    "load_observations": "observations",
    "parse_observations": "observations",
    "ExportSummary": "token_export",
    "TokenExportError": "token_export",
    "read_token_export": "token_export",
}

__all__ = [
    "CalibrationError",
    "ExportSummary",
    "Fit",
    "Kind",
    "MomentRecorder",
    "Moments",
    "Observable",
    "Observation",
    "Observations",
    "PlatformClass",
    "ProviderName",
    "Setup",
    "TokenExportError",
    "calibrate",
    "load_observations",
    "parse_observations",
    "read_token_export",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
