"""Calibration inputs: the observations a push team has, and its platform's token export.

``observations``: a documented TOML format for what a team reads off its dashboards
(docs/calibration.md); ``token_export``: an importer for an R12-shaped export (JSON lines) that
derives the observables it can.
"""

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
