"""Incremental audience index (rule R9): who holds foreground / any tokens, per app and platform.

Kept up to date on every token change and subscription change so that audience sizes are O(1) and
audience lists cost only their own length. Members are kept in insertion-ordered dicts, never sets,
so that iteration order (and so every output) is deterministic whatever the hash seed.
"""

from __future__ import annotations

from collections.abc import Callable

from sim.platforms import Platform
from sim.registry.records import EMPTY, TARGETABLE, AudienceKey, Profile, is_shared, one_each


class AudienceIndex:
    """Profiles holding at least one foreground (or any) token, per (app, platform) and per app."""

    __slots__ = (
        "_any",
        "_any_targetable",
        "_app_keys",
        "_foreground",
        "_foreground_targetable",
        "_keys",
    )

    def __init__(self) -> None:
        self._foreground: dict[AudienceKey, dict[str, None]] = {}
        self._any: dict[AudienceKey, dict[str, None]] = {}
        self._foreground_targetable: dict[AudienceKey, int] = {}
        self._any_targetable: dict[AudienceKey, int] = {}
        self._keys: dict[tuple[str, Platform], tuple[AudienceKey, AudienceKey]] = {}
        self._app_keys: dict[str, AudienceKey] = {}

    # -- updates -----------------------------------------------------------------------------

    def add(self, profile: Profile, app: str, platform: Platform, foreground: bool) -> None:
        """Count one more token held by ``profile``."""
        self._count(profile, app, platform, foreground, self._up)

    def remove(self, profile: Profile, app: str, platform: Platform, foreground: bool) -> None:
        """Count one token fewer held by ``profile``."""
        self._count(profile, app, platform, foreground, self._down)

    def _count(
        self,
        profile: Profile,
        app: str,
        platform: Platform,
        foreground: bool,
        move: Callable[..., dict[AudienceKey, int]],
    ) -> None:
        """Move the profile's counts (``_up`` or ``_down``) for any token, and for foreground."""
        keys = self._keys.get((app, platform)) or self._new_keys(app, platform)
        targetable = profile.state in TARGETABLE
        profile.any_counts = move(
            profile, keys, profile.any_counts, self._any, self._any_targetable, targetable
        )
        if foreground:
            profile.foreground_counts = move(
                profile,
                keys,
                profile.foreground_counts,
                self._foreground,
                self._foreground_targetable,
                targetable,
            )

    def set_foreground(self, profile: Profile, app: str, platform: Platform, now_fg: bool) -> None:
        """A held token switched between foreground and background-only."""
        keys = self._keys.get((app, platform)) or self._new_keys(app, platform)
        move = self._up if now_fg else self._down
        profile.foreground_counts = move(
            profile,
            keys,
            profile.foreground_counts,
            self._foreground,
            self._foreground_targetable,
            profile.state in TARGETABLE,
        )

    def _new_keys(self, app: str, platform: Platform) -> tuple[AudienceKey, AudienceKey]:
        """The pair of audience keys of (app, platform), shared by every profile."""
        app_key = self._app_keys.setdefault(app, (app, None))
        keys = self._keys[(app, platform)] = ((app, platform), app_key)
        return keys

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
    def _up(
        profile: Profile,
        keys: tuple[AudienceKey, AudienceKey],
        counts: dict[AudienceKey, int],
        members: dict[AudienceKey, dict[str, None]],
        targetable_counts: dict[AudienceKey, int],
        targetable: bool,
    ) -> dict[AudienceKey, int]:
        """Add one to the profile's count under both keys; returns the counts to keep."""
        if counts is EMPTY:  # its first token: the profile joins both keys' holders
            for key in keys:
                _join(profile.profile_id, key, members, targetable_counts, targetable)
            return one_each(keys)  # shared counts while the profile holds one token
        if is_shared(counts):
            counts = dict(counts)  # the profile's own dict, from its second token on
        for key in keys:
            before = counts.get(key, 0)
            counts[key] = before + 1
            if not before:
                _join(profile.profile_id, key, members, targetable_counts, targetable)
        return counts

    @staticmethod
    def _down(
        profile: Profile,
        keys: tuple[AudienceKey, AudienceKey],
        counts: dict[AudienceKey, int],
        members: dict[AudienceKey, dict[str, None]],
        targetable_counts: dict[AudienceKey, int],
        targetable: bool,
    ) -> dict[AudienceKey, int]:
        """Take one from the profile's count under both keys; returns the counts to keep."""
        if is_shared(counts):
            if counts is one_each(keys):  # its one token: the profile leaves both keys' holders
                for key in keys:
                    _leave(profile.profile_id, key, members, targetable_counts, targetable)
                return EMPTY
            counts = dict(counts)  # (none held, or another key's: refused below)
        for key in keys:
            before = counts.get(key, 0)
            if before > 1:
                counts[key] = before - 1
            elif not before:
                raise AssertionError(f"audience count below zero for {profile.profile_id} {key}")
            else:
                del counts[key]
                _leave(profile.profile_id, key, members, targetable_counts, targetable)
        return counts if counts else EMPTY

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


def _join(
    profile_id: str,
    key: AudienceKey,
    members: dict[AudienceKey, dict[str, None]],
    targetable_counts: dict[AudienceKey, int],
    targetable: bool,
) -> None:
    """The profile now holds a token under ``key``: one more holder."""
    holders = members.get(key)
    if holders is None:
        holders = members[key] = {}
    holders[profile_id] = None
    if targetable:
        targetable_counts[key] = targetable_counts.get(key, 0) + 1


def _leave(
    profile_id: str,
    key: AudienceKey,
    members: dict[AudienceKey, dict[str, None]],
    targetable_counts: dict[AudienceKey, int],
    targetable: bool,
) -> None:
    """The profile no longer holds a token under ``key``: one holder fewer."""
    del members[key][profile_id]
    if targetable:
        targetable_counts[key] -= 1
