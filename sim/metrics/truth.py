"""What is really true about the registry's tokens and audience (DESIGN §5).

Pure functions of the world's state at ``now``: they read devices, providers and the registry and
change nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from sim.platforms import PROVIDER_OF, Platform
from sim.providers import TokenDeath
from sim.registry import TokenRecord
from sim.world.device import Device
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
    PRE_REPORT = "uninstalled_not_reported"  # zombie: APNs pre-410 / FCM lag after uninstall
    SAFARI_REVOKED = "safari_revoked"  # zombie: revoked Safari subscription still answers 200
    PERMISSION_OFF = "permission_off"  # zombie: notifications off, not yet reported
    OTHER_USER = "held_for_other_user"  # live, but the device's logged-in user is someone else


#: The reachability funnel, device by device: each step keeps the devices that pass it.
FUNNEL_STEPS = (
    "installed",  # the app is installed
    "launched",  # launched since (re)install
    "permission",  # foreground permission on (granted or provisional)
    "token_valid",  # the provider would deliver to the device's token
    "registry_holds",  # the registry holds that token, as foreground
    "right_profile",  # held for the profile logged in on the device
    "subscribed",  # that profile is not unsubscribed: truly reachable on this device
)


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
        return TokenTruth.ZOMBIE, StaleCause.PRE_REPORT
    device = world.actions.installs.get(record.device)
    if device is None or not device.installed or device.token != record.token:
        return TokenTruth.ZOMBIE, StaleCause.PRE_REPORT
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
    funnel: dict[tuple[Platform | None, str], int] = field(default_factory=dict)


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
        if verdict is TokenTruth.LIVE:
            device = world.actions.installs[record.device]
            if device.user != record.profile:
                for key in (
                    (record.platform, StaleCause.OTHER_USER),
                    (None, StaleCause.OTHER_USER),
                ):
                    snap.causes[key] = snap.causes.get(key, 0) + 1
            elif registry.profile(record.profile).state.targetable:
                truly[record.platform][record.profile] = None
                truly[None][record.profile] = None
    unknown: dict[Platform | None, dict[str, None]] = {p: {} for p in (*Platform, None)}
    funnel = snap.funnel
    for device in world.devices.values():
        if device.installed:
            for step in _funnel_steps(world, device, now):
                for where in ((device.platform, step), (None, step)):
                    funnel[where] = funnel.get(where, 0) + 1
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


def _funnel_steps(world: World, device: Device, now: float) -> Iterator[str]:
    """The funnel steps an installed device passes, in order, stopping at the first it fails."""
    yield "installed"
    if not device.launched:
        return
    yield "launched"
    if not device.permission.shows:
        return
    yield "permission"
    token = device.token
    if token is None or not world.providers[PROVIDER_OF[device.platform]].delivers(now, token):
        return
    yield "token_valid"
    record = world.registry.token_for(device.install_id, world.actions.app)
    if record is None or record.token != token or not record.foreground:
        return
    yield "registry_holds"
    if record.profile != device.user:
        return
    yield "right_profile"
    if world.registry.profile(record.profile).state.targetable:
        yield "subscribed"
