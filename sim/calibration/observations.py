"""Observations a push team has: a TOML file of what it reads off its dashboards and exports.

One ``[[observation]]`` table per observable (docs/calibration.md, "Observations", documents
every observable: meaning, denominator, window, unit and the pushsim figure it corresponds to)::

    [[observation]]
    observable = "opt_in_share"
    platform = "ios"
    value = 0.52
    n = 12000
    window = { from = 2026-09-01, to = 2026-09-30 }
    source = "our dashboard, Sept 2026"

Problems are reported as :class:`~sim.scenario.errors.ScenarioError`, like scenario files:
``obs.toml: observation[3].value: must be a share in [0, 1] (got 1.4)``.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.scenario.errors import ScenarioError
from sim.scenario.validation import describe, parse_toml, problems, read_text


class Observable(StrEnum):
    """The closed list of observables (each documented in docs/calibration.md)."""

    OPT_IN_SHARE = "opt_in_share"
    UNINSTALLED_BY_DAY1_SHARE = "uninstalled_by_day1_share"
    UNINSTALLED_BY_DAY30_SHARE = "uninstalled_by_day30_share"
    REINSTALL_SHARE = "reinstall_share"
    SESSIONS_PER_ACTIVE_USER_PER_WEEK = "sessions_per_active_user_per_week"
    MULTI_DEVICE_USER_SHARE = "multi_device_user_share"
    MULTI_USER_DEVICE_SHARE = "multi_user_device_share"
    BOUNCE_RATE = "bounce_rate"
    NOTIFICATIONS_DISABLED_SHARE = "notifications_disabled_share"
    CAMPAIGN_CADENCE_DAYS = "campaign_cadence_days"


class PlatformClass(StrEnum):
    """Where an observable is per platform: the platform, or the Android OS class."""

    IOS = "ios"
    ANDROID = "android"  # every Android device, when the dashboard does not split by OS class
    ANDROID_12_OR_LOWER = "android_12_or_lower"
    ANDROID_13_PLUS = "android_13_plus"
    WEB = "web"


class ProviderName(StrEnum):
    """The push service a bounce rate is measured against."""

    APNS = "apns"
    FCM = "fcm"
    WEBPUSH = "webpush"


class Kind(StrEnum):
    """What kind of number an observable is: it sets its bounds and its standard error."""

    SHARE = "share"  # in [0, 1]; binomial standard error from n
    RATE = "rate"  # >= 0
    DAYS = "days"  # > 0


@dataclass(frozen=True)
class Spec:
    """How an observable is written: its kind and the keys it needs."""

    kind: Kind
    per_platform: bool = False
    per_provider: bool = False


SPECS: dict[Observable, Spec] = {
    Observable.OPT_IN_SHARE: Spec(Kind.SHARE, per_platform=True),
    Observable.UNINSTALLED_BY_DAY1_SHARE: Spec(Kind.SHARE),
    Observable.UNINSTALLED_BY_DAY30_SHARE: Spec(Kind.SHARE),
    Observable.REINSTALL_SHARE: Spec(Kind.SHARE),
    Observable.SESSIONS_PER_ACTIVE_USER_PER_WEEK: Spec(Kind.RATE),
    Observable.MULTI_DEVICE_USER_SHARE: Spec(Kind.SHARE),
    Observable.MULTI_USER_DEVICE_SHARE: Spec(Kind.SHARE),
    Observable.BOUNCE_RATE: Spec(Kind.SHARE, per_provider=True),
    Observable.NOTIFICATIONS_DISABLED_SHARE: Spec(Kind.SHARE, per_platform=True),
    Observable.CAMPAIGN_CADENCE_DAYS: Spec(Kind.DAYS),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WindowModel(_Strict):
    """The dates an observable was measured over, both included."""

    start: datetime.date = Field(alias="from")
    end: datetime.date = Field(alias="to")


class ObservationModel(_Strict):
    """One ``[[observation]]`` table as written (types only; bounds are checked after)."""

    observable: Observable
    platform: PlatformClass | None = None
    provider: ProviderName | None = None
    campaign: str | None = Field(None, min_length=1)
    value: float
    n: int | None = None
    uncertainty: float | None = None
    window: WindowModel | None = None
    window_days: float | None = None
    source: str | None = None


class ObservationsModel(_Strict):
    """The whole file: a list of ``[[observation]]`` tables."""

    observation: list[ObservationModel] = Field(min_length=1)


@dataclass(frozen=True)
class Observation:
    """One validated observation row."""

    observable: Observable
    value: float
    window_days: float
    platform: PlatformClass | None = None
    provider: ProviderName | None = None
    campaign: str | None = None
    n: int | None = None
    uncertainty: float | None = None
    window_from: datetime.date | None = None
    window_to: datetime.date | None = None
    source: str | None = None

    @property
    def kind(self) -> Kind:
        """Share, rate or days."""
        return SPECS[self.observable].kind

    def standard_error(self) -> float | None:
        """The given ``uncertainty``; else, for a share with ``n``, √(p(1−p)/n); else None."""
        if self.uncertainty is not None:
            return self.uncertainty
        if self.n is not None and self.kind is Kind.SHARE:
            return math.sqrt(self.value * (1.0 - self.value) / self.n)
        return None

    @property
    def key(self) -> tuple[str, str | None, str | None, str | None]:
        """What makes a row unique: observable, platform, provider, campaign."""
        return (
            self.observable.value,
            None if self.platform is None else self.platform.value,
            None if self.provider is None else self.provider.value,
            self.campaign,
        )


def _describe_key(key: tuple[str, str | None, str | None, str | None]) -> str:
    observable, platform, provider, campaign = key
    parts = [f"observable {observable!r}"]
    if platform is not None:
        parts.append(f"platform {platform!r}")
    if provider is not None:
        parts.append(f"provider {provider!r}")
    if campaign is not None:
        parts.append(f"campaign {campaign!r}")
    return ", ".join(parts)


@dataclass(frozen=True)
class Observations:
    """The rows of an observations file, in file order."""

    file: str
    rows: tuple[Observation, ...]

    def __iter__(self) -> Iterator[Observation]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def find(
        self,
        observable: Observable | str,
        *,
        platform: PlatformClass | str | None = None,
        provider: ProviderName | str | None = None,
        campaign: str | None = None,
    ) -> Observation | None:
        """The row for that observable (and platform, provider, campaign), or None."""
        key = (
            Observable(observable).value,
            None if platform is None else PlatformClass(platform).value,
            None if provider is None else ProviderName(provider).value,
            campaign,
        )
        return next((row for row in self.rows if row.key == key), None)

    def to_frame(self) -> pd.DataFrame:
        """One row per observation, with its kind and its standard error."""
        columns = [
            "observable",
            "platform",
            "provider",
            "campaign",
            "kind",
            "value",
            "n",
            "uncertainty",
            "standard_error",
            "window_from",
            "window_to",
            "window_days",
            "source",
        ]
        records = [
            {
                "observable": row.observable.value,
                "platform": None if row.platform is None else row.platform.value,
                "provider": None if row.provider is None else row.provider.value,
                "campaign": row.campaign,
                "kind": row.kind.value,
                "value": row.value,
                "n": row.n,
                "uncertainty": row.uncertainty,
                "standard_error": row.standard_error(),
                "window_from": row.window_from,
                "window_to": row.window_to,
                "window_days": row.window_days,
                "source": row.source,
            }
            for row in self.rows
        ]
        frame = pd.DataFrame.from_records(records, columns=columns)
        frame["n"] = frame["n"].astype("Int64")
        return frame


def _check(row: ObservationModel, where: str) -> list[tuple[str, str]]:
    """Bounds and the keys each observable needs; (key path, message) per problem."""
    out: list[tuple[str, str]] = []
    spec = SPECS[row.observable]
    name = row.observable.value
    value = row.value
    if not math.isfinite(value):
        out.append((f"{where}.value", f"must be a finite number (got {describe(value)})"))
    elif spec.kind is Kind.SHARE and not 0.0 <= value <= 1.0:
        out.append((f"{where}.value", f"must be a share in [0, 1] (got {describe(value)})"))
    elif spec.kind is Kind.RATE and value < 0:
        out.append((f"{where}.value", f"must be a rate >= 0 (got {describe(value)})"))
    elif spec.kind is Kind.DAYS and value <= 0:
        out.append((f"{where}.value", f"must be a number of days > 0 (got {describe(value)})"))
    if spec.per_platform and row.platform is None:
        allowed = ", ".join(p.value for p in PlatformClass)
        out.append((f"{where}.platform", f"required for {name}; allowed: {allowed}"))
    if not spec.per_platform and row.platform is not None:
        out.append((f"{where}.platform", f"not allowed: {name} is not per platform"))
    if spec.per_provider and row.provider is None:
        allowed = ", ".join(p.value for p in ProviderName)
        out.append((f"{where}.provider", f"required for {name}; allowed: {allowed}"))
    if not spec.per_provider and row.provider is not None:
        out.append((f"{where}.provider", f"not allowed: {name} is not per provider"))
    if not spec.per_provider and row.campaign is not None:
        out.append((f"{where}.campaign", f"not allowed: {name} is not per campaign"))
    if row.n is None and row.uncertainty is None:
        out.append(
            (where, "needs n (the sample size) or uncertainty (the standard error), or both")
        )
    if row.n is not None and row.n < 1:
        out.append((f"{where}.n", f"must be a sample size >= 1 (got {describe(row.n)})"))
    if row.uncertainty is not None and not (
        math.isfinite(row.uncertainty) and row.uncertainty >= 0
    ):
        out.append(
            (
                f"{where}.uncertainty",
                f"must be a standard error >= 0 (got {describe(row.uncertainty)})",
            )
        )
    if (row.window is None) == (row.window_days is None):
        out.append(
            (
                where,
                "needs exactly one of window = { from = ..., to = ... } and window_days "
                "(the window the value was measured over)",
            )
        )
    if row.window is not None and row.window.end < row.window.start:
        out.append(
            (
                f"{where}.window",
                f"to ({row.window.end.isoformat()}) is before "
                f"from ({row.window.start.isoformat()})",
            )
        )
    if row.window_days is not None and not (math.isfinite(row.window_days) and row.window_days > 0):
        out.append(
            (
                f"{where}.window_days",
                f"must be a number of days > 0 (got {describe(row.window_days)})",
            )
        )
    return out


def _observation(row: ObservationModel) -> Observation:
    if row.window is not None:
        days = float((row.window.end - row.window.start).days + 1)
        start, end = row.window.start, row.window.end
    else:
        assert row.window_days is not None
        days, start, end = row.window_days, None, None
    return Observation(
        observable=row.observable,
        value=float(row.value),
        window_days=days,
        platform=row.platform,
        provider=row.provider,
        campaign=row.campaign,
        n=row.n,
        uncertainty=row.uncertainty,
        window_from=start,
        window_to=end,
        source=row.source,
    )


def parse_observations(document: dict[str, Any], file: str) -> Observations:
    """Validate a parsed document; every problem of the file is reported at once."""
    try:
        model = ObservationsModel.model_validate(document)
    except ValidationError as error:
        raise ScenarioError(file, problems(ObservationsModel, error)) from None
    found: list[tuple[str, str]] = []
    first: dict[tuple[str, str | None, str | None, str | None], int] = {}
    rows = []
    for index, row in enumerate(model.observation):
        where = f"observation[{index}]"
        mine = _check(row, where)
        found += mine
        if mine:
            continue
        observation = _observation(row)
        if observation.key in first:
            found.append(
                (
                    where,
                    f"duplicate of observation[{first[observation.key]}] "
                    f"(same {_describe_key(observation.key)})",
                )
            )
            continue
        first[observation.key] = index
        rows.append(observation)
    if found:
        raise ScenarioError(file, found)
    return Observations(file, tuple(rows))


def load_observations(path: str | Path) -> Observations:
    """Read and validate an observations file; raises :class:`ScenarioError` naming each problem."""
    file = str(path)
    return parse_observations(parse_toml(read_text(path), file), file)
