"""Incremental audience index (rule R9): who holds foreground / any tokens, per app and platform.

Kept up to date on every token change and subscription change so that audience sizes are O(1) and
audience lists cost only their own length. Members are kept in insertion-ordered dicts, never sets,
so that iteration order (and so every output) is deterministic whatever the hash seed.
"""

from __future__ import annotations

from sim.platforms import Platform
from sim.registry.records import AudienceKey, Profile


class AudienceIndex:
    """Profiles holding at least one foreground (or any) token, per (app, platform) and per app."""

    __slots__ = ("_any", "_any_targetable", "_foreground", "_foreground_targetable")

    def __init__(self) -> None:
        self._foreground: dict[AudienceKey, dict[str, None]] = {}
        self._any: dict[AudienceKey, dict[str, None]] = {}
        self._foreground_targetable: dict[AudienceKey, int] = {}
        self._any_targetable: dict[AudienceKey, int] = {}

    # -- updates -----------------------------------------------------------------------------

    def add(self, profile: Profile, app: str, platform: Platform, foreground: bool) -> None:
        """Count one more token held by ``profile``."""
        self._count(profile, app, platform, +1, any_token=True, foreground=foreground)

    def remove(self, profile: Profile, app: str, platform: Platform, foreground: bool) -> None:
        """Count one token fewer held by ``profile``."""
        self._count(profile, app, platform, -1, any_token=True, foreground=foreground)

    def set_foreground(self, profile: Profile, app: str, platform: Platform, now_fg: bool) -> None:
        """A held token switched between foreground and background-only."""
        self._count(profile, app, platform, +1 if now_fg else -1, any_token=False, foreground=True)

    def _count(
        self,
        profile: Profile,
        app: str,
        platform: Platform,
        step: int,
        *,
        any_token: bool,
        foreground: bool,
    ) -> None:
        for key in ((app, platform), (app, None)):
            if any_token:
                self._bump(profile, key, profile.any_counts, self._any, self._any_targetable, step)
            if foreground:
                self._bump(
                    profile,
                    key,
                    profile.foreground_counts,
                    self._foreground,
                    self._foreground_targetable,
                    step,
                )

    def targetability_changed(self, profile: Profile, targetable: bool) -> None:
        """The profile's subscription state moved into or out of the targetable states."""
        step = +1 if targetable else -1
        for key, count in profile.foreground_counts.items():
            if count > 0:
                self._foreground_targetable[key] = self._foreground_targetable.get(key, 0) + step
        for key, count in profile.any_counts.items():
            if count > 0:
                self._any_targetable[key] = self._any_targetable.get(key, 0) + step

    @staticmethod
    def _bump(
        profile: Profile,
        key: AudienceKey,
        counts: dict[AudienceKey, int],
        members: dict[AudienceKey, dict[str, None]],
        targetable: dict[AudienceKey, int],
        step: int,
    ) -> None:
        before = counts.get(key, 0)
        after = before + step
        if after < 0:
            raise AssertionError(f"audience count below zero for {profile.profile_id} {key}")
        if after:
            counts[key] = after
        else:
            del counts[key]
        if before == 0 and after > 0:
            members.setdefault(key, {})[profile.profile_id] = None
            if profile.state.targetable:
                targetable[key] = targetable.get(key, 0) + 1
        elif before > 0 and after == 0:
            del members[key][profile.profile_id]
            if profile.state.targetable:
                targetable[key] -= 1

    # -- queries -----------------------------------------------------------------------------

    def holders(
        self, app: str, platform: Platform | None, *, foreground_only: bool
    ) -> dict[str, None]:
        """Profiles holding a (foreground) token for the app, whatever their subscription state."""
        source = self._foreground if foreground_only else self._any
        return source.get((app, platform), {})

    def targetable_count(
        self, app: str, platform: Platform | None, *, foreground_only: bool
    ) -> int:
        """Number of holders whose subscription state is targetable (O(1))."""
        source = self._foreground_targetable if foreground_only else self._any_targetable
        return source.get((app, platform), 0)
