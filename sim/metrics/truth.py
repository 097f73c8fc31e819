"""What is really true about the registry's tokens and audience (DESIGN §5).

Pure functions of the world's state at ``now``: they read devices, providers and the registry and
change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sim.platforms import PROVIDER_OF, Platform
from sim.providers import TokenDeath
from sim.registry import TokenRecord
from sim.world.world import World


class TokenTruth(StrEnum):
    """What a send to a registry token would really do now."""

    LIVE = "live"  # accepted and shown (foreground) / reaching the app
    DEAD = "dead"  # the provider would reject it
    ZOMBIE = "zombie"  # accepted, never shown


class StaleCause(StrEnum):
    """Why a token the registry holds would not display."""

    UNINSTALL_UNDETECTED = "uninstall_undetected"  # dead: uninstalled, no bounce yet
    ROTATED = "rotated"  # dead: the device has a newer token
    EXPIRED = "expired"  # dead: provider inactivity expiry
    REVOKED = "revoked"  # dead: web subscription deleted
    APNS_PRE_410 = "apns_pre_410"  # zombie: in the provider's report lag after uninstall
    SAFARI_REVOKED = "safari_revoked"  # zombie: revoked Safari subscription still answers 200
    PERMISSION_OFF = "permission_off"  # zombie: notifications off, not yet reported


_DEAD_CAUSE = {
    TokenDeath.UNINSTALL: StaleCause.UNINSTALL_UNDETECTED,
    TokenDeath.REINSTALL: StaleCause.UNINSTALL_UNDETECTED,
    TokenDeath.DATA_CLEARED: StaleCause.UNINSTALL_UNDETECTED,
    TokenDeath.RESTORE: StaleCause.ROTATED,
    TokenDeath.OS_REINSTALL: StaleCause.ROTATED,
    TokenDeath.APP_UPDATE: StaleCause.ROTATED,
    TokenDeath.ROTATION: StaleCause.ROTATED,
    TokenDeath.INACTIVITY: StaleCause.EXPIRED,
    TokenDeath.PERMISSION_REVOKED: StaleCause.REVOKED,
}


def classify_token(
    world: World, record: TokenRecord, now: float
) -> tuple[TokenTruth, StaleCause | None]:
    """Whether a send to ``record`` now would be rejected, silently dropped, or shown."""
    service = world.providers[PROVIDER_OF[record.platform]]
    if not service.accepts(now, record.token):
        death = service.death(record.token)
        cause = _DEAD_CAUSE[death[0]] if death is not None else StaleCause.REVOKED
        return TokenTruth.DEAD, cause
    if not service.delivers(now, record.token):
        death = service.death(record.token)
        if death is not None and death[0] is TokenDeath.PERMISSION_REVOKED:
            return TokenTruth.ZOMBIE, StaleCause.SAFARI_REVOKED
        return TokenTruth.ZOMBIE, StaleCause.APNS_PRE_410
    device = world.actions.installs.get(record.device)
    if device is None or not device.installed or device.token != record.token:
        return TokenTruth.ZOMBIE, StaleCause.APNS_PRE_410
    if record.foreground and not device.shows_notifications:
        return TokenTruth.ZOMBIE, StaleCause.PERMISSION_OFF
    return TokenTruth.LIVE, None


@dataclass(slots=True)
class Snapshot:
    """Belief and truth at one instant, by platform (``None`` key: all platforms)."""

    believed: dict[Platform | None, int] = field(default_factory=dict)
    truly: dict[Platform | None, int] = field(default_factory=dict)
    unknown: dict[Platform | None, int] = field(default_factory=dict)
    tokens: dict[Platform | None, int] = field(default_factory=dict)
    foreground_tokens: dict[Platform | None, int] = field(default_factory=dict)
    dead: dict[Platform | None, int] = field(default_factory=dict)
    zombie: dict[Platform | None, int] = field(default_factory=dict)
    causes: dict[tuple[Platform | None, StaleCause], int] = field(default_factory=dict)


def _bump(counter: dict[Platform | None, int], platform: Platform, step: int = 1) -> None:
    counter[platform] = counter.get(platform, 0) + step
    counter[None] = counter.get(None, 0) + step


def snapshot(world: World, now: float) -> Snapshot:
    """Believed vs truly reachable audience, tokens held and stale tokens, by platform.

    *Believed*: profiles a default campaign would target (R9). *Truly reachable*: profiles for whom
    a send now would be shown on a device where they are the logged-in user (DESIGN §5).
    *Unknown*: people who would see a push on a device they are logged in to, but whom the registry
    cannot reach there (token not held, or held for someone else).
    """
    registry = world.registry
    app = world.actions.app
    snap = Snapshot()
    for platform in Platform:
        snap.believed[platform] = registry.audience_size(app, platform=platform)
    snap.believed[None] = registry.audience_size(app)
    truly: dict[Platform | None, dict[str, None]] = {p: {} for p in (*Platform, None)}
    for record in registry.tokens():
        _bump(snap.tokens, record.platform)
        if not record.foreground:
            continue
        _bump(snap.foreground_tokens, record.platform)
        verdict, cause = classify_token(world, record, now)
        if verdict is TokenTruth.DEAD:
            _bump(snap.dead, record.platform)
        elif verdict is TokenTruth.ZOMBIE:
            _bump(snap.zombie, record.platform)
        if cause is not None:
            for key in ((record.platform, cause), (None, cause)):
                snap.causes[key] = snap.causes.get(key, 0) + 1
        if verdict is TokenTruth.LIVE and registry.profile(record.profile).state.targetable:
            device = world.actions.installs[record.device]
            if device.user == record.profile:
                truly[record.platform][record.profile] = None
                truly[None][record.profile] = None
    unknown: dict[Platform | None, dict[str, None]] = {p: {} for p in (*Platform, None)}
    for device in world.devices.values():
        user = device.user
        if user is None or device.token is None or not device.shows_notifications:
            continue
        if user in truly[device.platform]:
            continue
        service = world.providers[PROVIDER_OF[device.platform]]
        if not service.delivers(now, device.token):
            continue
        unknown[device.platform][user] = None
        if user not in truly[None]:
            unknown[None][user] = None
    for key in (*Platform, None):
        snap.truly[key] = len(truly[key])
        snap.unknown[key] = len(unknown[key])
        for counter in (snap.tokens, snap.foreground_tokens, snap.dead, snap.zombie):
            counter.setdefault(key, 0)
    return snap
