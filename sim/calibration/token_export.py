"""Importing a platform's token export (docs/model.md §1 R12), JSON lines, one profile a line.

Each line is a JSON object::

    {"external_id": "u1", "push_subscribe": "opted_in",
     "push_tokens": [{"app": "news", "platform": "ios", "token": "t1", "device_id": "d1",
                      "notifications_enabled": true}]}

The profile is named by ``external_id`` (identified) or ``user_aliases`` (anonymous), a
non-empty string, exactly one of the two. ``push_subscribe`` is optional (``opted_in``,
``subscribed`` or ``unsubscribed`` when present). ``push_tokens`` is required, a list of objects
with the five keys above. Other keys of a profile or a token are allowed and ignored (exports
carry many fields). Blank lines are not rows; they are counted in :attr:`ExportSummary.blank_lines`.

Strict by default: the first bad line raises :class:`TokenExportError` naming the file, the line
number and what is wrong. With ``skip_bad_rows=True`` every bad line is skipped and counted by
reason in :attr:`ExportSummary.skipped` (never silently).
"""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.calibration.observations import Observable, Observation, Observations, PlatformClass
from sim.platforms import Platform

#: the keys of one entry of ``push_tokens`` (R12)
TOKEN_KEYS = ("app", "platform", "token", "device_id", "notifications_enabled")
#: the values ``push_subscribe`` may take
SUBSCRIBE_STATES = ("opted_in", "subscribed", "unsubscribed")


class TokenExportError(ValueError):
    """A bad line of a token export: ``export.jsonl: line 3: push_tokens[0].platform: ...``."""

    def __init__(self, file: str, line: int, reason: str, message: str) -> None:
        self.file = file
        self.line = line
        #: the kind of problem, the key of :attr:`ExportSummary.skipped`
        self.reason = reason
        self.detail = message
        super().__init__(f"{file}: line {line}: {message}")


class _Bad(Exception):
    """A problem with one line: reason (the kind) and message (the detail)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class ExportToken:
    """One ``push_tokens`` entry, validated."""

    app: str
    platform: Platform
    token: str
    device_id: str
    notifications_enabled: bool


@dataclass(frozen=True)
class ExportProfile:
    """One profile line, validated."""

    line: int
    profile_id: str
    anonymous: bool
    push_subscribe: str | None
    tokens: tuple[ExportToken, ...]


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _Bad("wrong type", f"{where}: must be a string (got {json.dumps(value)})")
    if not value:
        raise _Bad("wrong type", f"{where}: must not be empty")
    return value


def _parse_line(text: str) -> tuple[str, bool, str | None, list[ExportToken]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise _Bad("not JSON", f"not JSON: {error.msg} (column {error.colno})") from None
    if not isinstance(data, dict):
        raise _Bad("wrong type", f"must be a JSON object, one profile (got {type(data).__name__})")
    has_external, has_alias = "external_id" in data, "user_aliases" in data
    if has_external and has_alias:
        raise _Bad("profile id", "has both external_id and user_aliases; a profile has one")
    if not (has_external or has_alias):
        raise _Bad("missing key", "missing key: external_id or user_aliases (the profile id)")
    key = "external_id" if has_external else "user_aliases"
    profile_id = _string(data[key], key)
    subscribe = data.get("push_subscribe")
    if subscribe is not None and subscribe not in SUBSCRIBE_STATES:
        allowed = ", ".join(SUBSCRIBE_STATES)
        raise _Bad(
            "wrong value",
            f"push_subscribe: must be one of {allowed} (got {json.dumps(subscribe)})",
        )
    if "push_tokens" not in data:
        raise _Bad("missing key", "missing key: push_tokens")
    entries = data["push_tokens"]
    if not isinstance(entries, list):
        raise _Bad("wrong type", f"push_tokens: must be a list (got {type(entries).__name__})")
    tokens = []
    for index, entry in enumerate(entries):
        where = f"push_tokens[{index}]"
        if not isinstance(entry, dict):
            raise _Bad("wrong type", f"{where}: must be a JSON object")
        for name in TOKEN_KEYS:
            if name not in entry:
                raise _Bad("missing key", f"{where}: missing key: {name}")
        platform_name = _string(entry["platform"], f"{where}.platform")
        try:
            platform = Platform(platform_name)
        except ValueError:
            allowed = ", ".join(p.value for p in Platform)
            raise _Bad(
                "unknown platform",
                f"{where}.platform: unknown platform {platform_name!r}; allowed: {allowed}",
            ) from None
        enabled = entry["notifications_enabled"]
        if not isinstance(enabled, bool):
            raise _Bad(
                "wrong type",
                f"{where}.notifications_enabled: must be true or false (got {json.dumps(enabled)})",
            )
        tokens.append(
            ExportToken(
                app=_string(entry["app"], f"{where}.app"),
                platform=platform,
                token=_string(entry["token"], f"{where}.token"),
                device_id=_string(entry["device_id"], f"{where}.device_id"),
                notifications_enabled=enabled,
            )
        )
    return profile_id, not has_external, subscribe, tokens


@dataclass(frozen=True)
class Distribution:
    """A count per unit: the mean and how many units had each count."""

    mean: float | None
    counts: Mapping[int, int]

    @property
    def units(self) -> int:
        """How many units were counted."""
        return sum(self.counts.values())

    def share_above(self, k: int) -> float | None:
        """Share of units with a count above ``k`` (None when there are none)."""
        units = self.units
        if not units:
            return None
        return sum(c for value, c in self.counts.items() if value > k) / units


def _distribution(values: list[int]) -> Distribution:
    return Distribution(
        mean=statistics.fmean(values) if values else None,
        counts=dict(sorted(Counter(values).items())),
    )


@dataclass(frozen=True)
class ExportSummary:
    """What a token export says, and what was skipped (with the reason) to read it."""

    file: str
    profiles: tuple[ExportProfile, ...]
    #: skipped lines by reason (only with ``skip_bad_rows=True``)
    skipped: Mapping[str, int] = field(default_factory=dict)
    #: every skipped line: (line number, message)
    skipped_lines: tuple[tuple[int, str], ...] = ()
    blank_lines: int = 0

    @property
    def token_count(self) -> int:
        """Tokens across every profile read."""
        return sum(len(p.tokens) for p in self.profiles)

    @property
    def skipped_count(self) -> int:
        """Lines skipped (every reason)."""
        return sum(self.skipped.values())

    def platforms(self) -> list[Platform]:
        """The platforms with at least one token, in :class:`Platform` order."""
        seen = {t.platform for p in self.profiles for t in p.tokens}
        return [p for p in Platform if p in seen]

    def tokens_per_user(self, platform: Platform | str) -> Distribution:
        """Tokens of ``platform`` per profile, over every profile read (zeros included)."""
        wanted = Platform(platform)
        return _distribution(
            [sum(1 for t in p.tokens if t.platform is wanted) for p in self.profiles]
        )

    def enabled_share(self, platform: Platform | str | None = None) -> float | None:
        """Share of tokens (of ``platform``, or all) with notifications enabled."""
        tokens = [
            t
            for p in self.profiles
            for t in p.tokens
            if platform is None or t.platform is Platform(platform)
        ]
        if not tokens:
            return None
        return sum(t.notifications_enabled for t in tokens) / len(tokens)

    def devices_per_user(self) -> Distribution:
        """Distinct device_ids per profile, over profiles holding at least one token."""
        return _distribution(
            [len({t.device_id for t in p.tokens}) for p in self.profiles if p.tokens]
        )

    def users_per_device(self) -> Distribution:
        """Distinct profiles per device_id, over every device_id in the export."""
        owners: dict[str, set[str]] = {}
        for p in self.profiles:
            for t in p.tokens:
                owners.setdefault(t.device_id, set()).add(p.profile_id)
        return _distribution([len(users) for users in owners.values()])

    def multi_device_user_share(self) -> float | None:
        """Share of profiles (with a token) on more than one device."""
        return self.devices_per_user().share_above(1)

    def multi_user_device_share(self) -> float | None:
        """Share of devices holding tokens of more than one profile."""
        return self.users_per_device().share_above(1)

    def to_observations(self, *, window_days: float = 1.0) -> Observations:
        """The observables the export gives, with their sample sizes.

        An export is a snapshot: ``window_days`` (1 by default, the day it was taken) is the
        window written on every row. Android tokens cannot be split by OS class from an export,
        so their row is for ``platform = "android"``.
        """
        if not (math.isfinite(window_days) and window_days > 0):
            raise ValueError(f"window_days must be > 0 (got {window_days})")
        source = f"token export {self.file}"
        rows = []
        for platform in self.platforms():
            n = sum(1 for p in self.profiles for t in p.tokens if t.platform is platform)
            enabled = self.enabled_share(platform)
            assert enabled is not None
            rows.append(
                Observation(
                    observable=Observable.NOTIFICATIONS_DISABLED_SHARE,
                    platform=PlatformClass(platform.value),
                    value=1.0 - enabled,
                    n=n,
                    window_days=window_days,
                    source=source,
                )
            )
        per_user, per_device = self.devices_per_user(), self.users_per_device()
        for observable, dist in (
            (Observable.MULTI_DEVICE_USER_SHARE, per_user),
            (Observable.MULTI_USER_DEVICE_SHARE, per_device),
        ):
            share = dist.share_above(1)
            if share is not None:
                rows.append(
                    Observation(
                        observable=observable,
                        value=share,
                        n=dist.units,
                        window_days=window_days,
                        source=source,
                    )
                )
        return Observations(self.file, tuple(rows))


def read_token_export(path: str | Path, *, skip_bad_rows: bool = False) -> ExportSummary:
    """Read an export of JSON lines; see the module's docstring for the shape and the errors.

    A line is bad when it is not JSON, misses a key, has a value of the wrong type or an unknown
    platform, names a profile already read, or holds a token already read (under the same or
    another profile).
    """
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise TokenExportError(file, 0, "unreadable", f"cannot read the file: {reason}") from None
    profiles: list[ExportProfile] = []
    profile_lines: dict[str, int] = {}
    token_owner: dict[str, tuple[str, int]] = {}
    skipped: Counter[str] = Counter()
    skipped_lines: list[tuple[int, str]] = []
    blank = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            blank += 1
            continue
        try:
            profile_id, anonymous, subscribe, tokens = _parse_line(line)
            if profile_id in profile_lines:
                raise _Bad(
                    "duplicate profile",
                    f"profile {profile_id!r} is already on line {profile_lines[profile_id]}",
                )
            mine: set[str] = set()
            for index, token in enumerate(tokens):
                where = f"push_tokens[{index}].token"
                if token.token in mine:
                    raise _Bad(
                        "duplicate token",
                        f"{where}: token {token.token!r} appears twice in this profile",
                    )
                mine.add(token.token)
                if token.token in token_owner:
                    owner, owner_line = token_owner[token.token]
                    raise _Bad(
                        "duplicate token",
                        f"{where}: token {token.token!r} is already under profile {owner!r} "
                        f"(line {owner_line}); a token belongs to one profile",
                    )
        except _Bad as bad:
            if not skip_bad_rows:
                raise TokenExportError(file, number, bad.reason, bad.message) from None
            skipped[bad.reason] += 1
            skipped_lines.append((number, bad.message))
            continue
        profile_lines[profile_id] = number
        for token in tokens:
            token_owner[token.token] = (profile_id, number)
        profiles.append(ExportProfile(number, profile_id, anonymous, subscribe, tuple(tokens)))
    return ExportSummary(
        file=file,
        profiles=tuple(profiles),
        skipped=dict(sorted(skipped.items())),
        skipped_lines=tuple(skipped_lines),
        blank_lines=blank,
    )
