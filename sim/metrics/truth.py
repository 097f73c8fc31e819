"""What is really true about the registry's tokens and audience (DESIGN §5).

Pure functions of the world's state at ``now``: they read devices, providers and the registry and
change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from sim.platforms import PROVIDER_OF, Platform
from sim.providers import PushService, TokenDeath
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


def classify_record(
    service: PushService, installs: dict[str, Device], record: TokenRecord, now: float
) -> tuple[TokenTruth, StaleCause | None]:
    """Truth of a foreground ``record``: what a send now would do, and why it would not show.

    ``installs`` maps the registry's device ids (install ids) to the devices that carry them.
    """
    status = service.status(now, record.token)
    if status == PushService.REJECTS:
        death = service.death(record.token)
        cause = _DEAD_CAUSE[death[0]] if death is not None else StaleCause.REVOKED
        return TokenTruth.DEAD, cause
    if status == PushService.ACCEPTS_ONLY:
        death = service.death(record.token)
        if death is not None and death[0] is TokenDeath.PERMISSION_REVOKED:
            return TokenTruth.ZOMBIE, StaleCause.SAFARI_REVOKED
        return TokenTruth.ZOMBIE, StaleCause.PRE_REPORT
    device = installs.get(record.device)
    if device is None or not device.installed or device.token != record.token:
        return TokenTruth.ZOMBIE, StaleCause.PRE_REPORT
    if record.foreground and not device.shows_notifications:
        return TokenTruth.ZOMBIE, StaleCause.PERMISSION_OFF
    return TokenTruth.LIVE, None


def classify_token(
    world: World, record: TokenRecord, now: float
) -> tuple[TokenTruth, StaleCause | None]:
    """Whether a send to ``record`` now would be rejected, silently dropped, or shown."""
    service = world.providers[PROVIDER_OF[record.platform]]
    return classify_record(service, world.actions.installs, record, now)


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


def snapshot(world: World, now: float) -> Snapshot:
    """Believed vs truly reachable audience, tokens held and stale tokens, by platform.

    *Believed*: profiles a default campaign would target (R9). *Truly reachable*: profiles for whom
    a send now would be shown on a device where they are the logged-in user (DESIGN §5).
    *Unknown*: people who would see a push on a device they are logged in to, but whom the registry
    cannot reach there (token not held, or held for someone else).

    One pass over the registry's tokens and one over the devices; this runs at every sample, so
    it avoids per-item function calls where it can.
    """
    registry = world.registry
    app = world.actions.app
    installs = world.actions.installs
    services = {p: world.providers[PROVIDER_OF[p]] for p in Platform}
    platforms: tuple[Platform | None, ...] = (*Platform, None)
    snap = Snapshot()
    for platform in Platform:
        snap.believed[platform] = registry.audience_size(app, platform=platform)
    snap.believed[None] = registry.audience_size(app)

    tokens = dict.fromkeys(Platform, 0)
    foreground = dict.fromkeys(Platform, 0)
    dead = dict.fromkeys(Platform, 0)
    zombie = dict.fromkeys(Platform, 0)
    causes: dict[tuple[Platform, StaleCause], int] = {}
    truly: dict[Platform | None, dict[str, None]] = {p: {} for p in platforms}
    targetable = registry.is_targetable
    live, is_dead = TokenTruth.LIVE, TokenTruth.DEAD
    for record in registry.tokens():
        platform = record.platform
        tokens[platform] += 1
        if not record.foreground:
            continue
        foreground[platform] += 1
        verdict, cause = classify_record(services[platform], installs, record, now)
        if verdict is live:
            if installs[record.device].user != record.profile:
                cause = StaleCause.OTHER_USER
            elif targetable(record.profile):
                truly[platform][record.profile] = None
                truly[None][record.profile] = None
        elif verdict is is_dead:
            dead[platform] += 1
        else:
            zombie[platform] += 1
        if cause is not None:
            causes[platform, cause] = causes.get((platform, cause), 0) + 1

    depth_counts: dict[Platform, list[int]] = {p: [0] * (len(FUNNEL_STEPS) + 1) for p in Platform}
    unknown: dict[Platform | None, dict[str, None]] = {p: {} for p in platforms}
    token_for = registry.token_for
    for device in world.devices.values():
        if not device.installed:
            continue
        platform = device.platform
        depth = funnel_depth(device, services[platform], token_for, targetable, app, now)
        depth_counts[platform][depth] += 1
        user = device.user
        if depth >= 4 and user is not None and user not in truly[platform]:
            # shown on a device the user is logged in to, but not reachable there
            unknown[platform][user] = None
            if user not in truly[None]:
                unknown[None][user] = None

    for counter, per_platform in (
        (snap.tokens, tokens),
        (snap.foreground_tokens, foreground),
        (snap.dead, dead),
        (snap.zombie, zombie),
    ):
        for platform, count in per_platform.items():
            counter[platform] = count
        counter[None] = sum(per_platform.values())
    for (platform, cause), count in causes.items():
        snap.causes[platform, cause] = count
        snap.causes[None, cause] = snap.causes.get((None, cause), 0) + count
    for platform in Platform:
        passed = 0
        histogram = depth_counts[platform]
        for index in range(len(FUNNEL_STEPS), 0, -1):  # devices reaching step i passed i-1 too
            passed += histogram[index]
            step = FUNNEL_STEPS[index - 1]
            snap.funnel[platform, step] = passed
            snap.funnel[None, step] = snap.funnel.get((None, step), 0) + passed
    for key in platforms:
        snap.truly[key] = len(truly[key])
        snap.unknown[key] = len(unknown[key])
    return snap


def funnel_depth(
    device: Device,
    service: PushService,
    token_for: Callable[[str, str], TokenRecord | None],
    targetable: Callable[[str], bool],
    app: str,
    now: float,
) -> int:
    """How many funnel steps an installed device passes (1 = installed only, 7 = all)."""
    if not device.launched:
        return 1
    if not device.permission.shows:
        return 2
    token = device.token
    if token is None or service.status(now, token) != PushService.DELIVERS:
        return 3
    record = token_for(device.install_id, app)
    if record is None or record.token != token or not record.foreground:
        return 4
    if record.profile != device.user:
        return 5
    return 7 if targetable(record.profile) else 6
