"""What is really true about the registry's tokens and audience (docs/model.md §5).

Pure functions of the world's state at ``now``: they read devices, providers and the registry and
change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import TypeAlias, cast

from sim.platforms import PROVIDER_OF, Platform
from sim.providers import PushService, TokenDeath
from sim.registry import TokenRecord
from sim.registry.protocol import RegistryProtocol
from sim.world.device import SHOWING, Device, OsClass
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
#: From this funnel depth on (installed, launched, notifications allowed, token valid) a push to
#: the device's token would be shown to whoever is logged in on it.
SHOWS_DEPTH = FUNNEL_STEPS.index("token_valid") + 1
#: At this depth (every step passed) a default campaign sends the device a push for its
#: logged-in profile, and the push is shown to them: the profile is truly reachable there.
TRULY_DEPTH = len(FUNNEL_STEPS)


class Reach(Enum):
    """What a device means for its logged-in profile's reach (docs/model.md §5)."""

    #: a default campaign sends the profile a push here and it is shown to them
    TRULY = "truly_reachable"
    #: a push would be shown to the profile here, but the registry does not target it here:
    #: token not registered (or not the device's current one), held as background-only, or held
    #: for another profile
    NOT_TARGETED = "reachable_not_targeted"


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

# Members read on every classification, bound once: on Python 3.11 reading a member off its enum
# class (``TokenTruth.DEAD``) goes through ``EnumType``'s slow attribute hook.
_LIVE, _DEAD, _ZOMBIE = TokenTruth.LIVE, TokenTruth.DEAD, TokenTruth.ZOMBIE
_REVOKED, _SAFARI_REVOKED = StaleCause.REVOKED, StaleCause.SAFARI_REVOKED
_PRE_REPORT, _PERMISSION_OFF = StaleCause.PRE_REPORT, StaleCause.PERMISSION_OFF
_PERMISSION_REVOKED = TokenDeath.PERMISSION_REVOKED
_TRULY, _NOT_TARGETED = Reach.TRULY, Reach.NOT_TARGETED
_REJECTS, _ACCEPTS_ONLY, _DELIVERS = (
    PushService.REJECTS,
    PushService.ACCEPTS_ONLY,
    PushService.DELIVERS,
)


def classify_record(
    service: PushService, installs: dict[str, Device], record: TokenRecord, now: float
) -> tuple[TokenTruth, StaleCause | None]:
    """Truth of a foreground ``record``: what a send now would do, and why it would not show.

    ``installs`` maps the registry's device ids (install ids) to the devices that carry them.
    """
    status = service.status(now, record.token)
    if status == _REJECTS:
        death = service.death(record.token)
        cause = _DEAD_CAUSE[death[0]] if death is not None else _REVOKED
        return _DEAD, cause
    if status == _ACCEPTS_ONLY:
        death = service.death(record.token)
        if death is not None and death[0] is _PERMISSION_REVOKED:
            return _ZOMBIE, _SAFARI_REVOKED
        return _ZOMBIE, _PRE_REPORT
    device = installs.get(record.device)
    if device is None or not device.installed or device.token != record.token:
        return _ZOMBIE, _PRE_REPORT
    if record.foreground and not device.shows_notifications:
        return _ZOMBIE, _PERMISSION_OFF
    return _LIVE, None


def classify_token(
    world: World, record: TokenRecord, now: float
) -> tuple[TokenTruth, StaleCause | None]:
    """Whether a send to ``record`` now would be rejected, silently dropped, or shown."""
    service = world.providers[PROVIDER_OF[record.platform]]
    return classify_record(service, world.actions.installs, record, now)


#: What a count is kept for: a platform, an Android OS class (a breakdown of
#: :attr:`Platform.ANDROID`, never added to it) or None for all platforms.
Group: TypeAlias = Platform | OsClass | None
#: The groups of every snapshot, in order: the platforms, the Android OS classes, all.
GROUPS: tuple[Group, ...] = (*Platform, *OsClass, None)


def install_class(installs: dict[str, Device], record: TokenRecord) -> OsClass | None:
    """The OS class of the device carrying ``record``'s install (None: iOS, web, or unknown)."""
    device = installs.get(record.device)
    return device.os_class if device is not None else None


@dataclass(slots=True)
class Snapshot:
    """Belief and truth at one instant, by :data:`Group`: platform, Android OS class, all (None).

    Every count of an Android OS class is part of the count of ``Platform.ANDROID``: token and
    device counts of the two classes add up to it; profile counts (believed, truly reachable,
    reachable but not targeted) count a profile under each class where it qualifies, as under
    each platform, so they may add up to more (and ``None`` counts each profile once).
    """

    believed: dict[Group, int] = field(default_factory=dict)
    truly: dict[Group, int] = field(default_factory=dict)
    not_targeted: dict[Group, int] = field(default_factory=dict)
    tokens: dict[Group, int] = field(default_factory=dict)
    foreground_tokens: dict[Group, int] = field(default_factory=dict)
    dead: dict[Group, int] = field(default_factory=dict)
    zombie: dict[Group, int] = field(default_factory=dict)
    causes: dict[tuple[Group, StaleCause], int] = field(default_factory=dict)
    funnel: dict[tuple[Group, str], int] = field(default_factory=dict)


def snapshot(world: World, now: float) -> Snapshot:
    """Believed vs truly reachable audience, tokens held and stale tokens, by platform.

    *Believed*: profiles a default campaign would target (R9). *Truly reachable*: profiles that
    a default campaign sent now would reach and whose push would be shown to them: on some device
    the registry holds the device's token for the profile, as foreground, the profile is
    targetable (R9) and logged in there, and the app is installed and launched, notifications
    allowed and the token valid (:data:`TRULY_DEPTH` of the funnel). *Reachable but not
    targeted*, reported beside it and never added to it: profiles not truly reachable who would
    see a push on a device they are logged in to, but whom the registry does not target there
    (:func:`device_reach`). Per platform, and for all platforms (``None``): a profile truly
    reachable on one platform and not on another counts as not targeted on the other platform
    only (docs/model.md §5).

    Per Android OS class too (docs/model.md §3, §5), by the class of the device: a token by the
    device carrying its install, a profile believed reachable on a class when it holds a foreground
    token there and is targetable, truly reachable (or reachable but not targeted) on a class
    when it is so on a device of that class — a profile reachable on an Android 13+ device counts
    under Android 13+, and also under Android ≤ 12 if it is reachable on such a device too.

    One pass over the registry's tokens and one over the devices; this runs at every sample, so
    it avoids per-item function calls where it can.
    """
    registry = world.registry
    app = world.actions.app
    installs = world.actions.installs
    services = {p: world.providers[PROVIDER_OF[p]] for p in Platform}
    snap = Snapshot()
    for platform in Platform:
        snap.believed[platform] = registry.audience_size(app, platform=platform)
    snap.believed[None] = registry.audience_size(app)

    tokens: dict[Group, int] = dict.fromkeys(GROUPS, 0)
    foreground = dict(tokens)
    dead = dict(tokens)
    zombie = dict(tokens)
    causes: dict[tuple[Group, StaleCause], int] = {}
    believed_on: dict[OsClass, dict[str, None]] = {c: {} for c in OsClass}
    live, is_dead = TokenTruth.LIVE, TokenTruth.DEAD
    targetable = registry.is_targetable
    for record in registry.tokens():
        platform = record.platform
        os_class = install_class(installs, record) if platform is Platform.ANDROID else None
        groups: tuple[Group, ...] = (platform,) if os_class is None else (platform, os_class)
        for group in groups:
            tokens[group] += 1
        if not record.foreground:
            continue
        if os_class is not None and targetable(record.profile):
            believed_on[os_class][record.profile] = None
        verdict, cause = classify_record(services[platform], installs, record, now)
        if verdict is live and installs[record.device].user != record.profile:
            cause = StaleCause.OTHER_USER
        for group in groups:
            foreground[group] += 1
            if verdict is is_dead:
                dead[group] += 1
            elif verdict is not live:
                zombie[group] += 1
            if cause is not None:
                causes[group, cause] = causes.get((group, cause), 0) + 1
    for os_class in OsClass:
        snap.believed[os_class] = len(believed_on[os_class])

    depth_counts: dict[Group, list[int]] = {g: [0] * (len(FUNNEL_STEPS) + 1) for g in GROUPS}
    truly: dict[Group, dict[str, None]] = {g: {} for g in GROUPS}
    shown: dict[Group, dict[str, None]] = {g: {} for g in GROUPS}
    token_for = registry.token_for
    for device in world.devices.values():
        if not device.installed:
            continue
        platform = device.platform
        depth = funnel_depth(device, services[platform], token_for, targetable, app, now)
        groups = (platform, None) if device.os_class is None else (platform, device.os_class, None)
        for group in groups:
            depth_counts[group][depth] += 1
        reach = device_reach(depth, device.user, registry)
        if reach is not None:
            people = truly if reach is Reach.TRULY else shown
            user = cast(str, device.user)
            for group in groups:
                people[group][user] = None

    for counter, per_group in (
        (snap.tokens, tokens),
        (snap.foreground_tokens, foreground),
        (snap.dead, dead),
        (snap.zombie, zombie),
    ):
        counter.update(per_group)
        counter[None] = sum(per_group[p] for p in Platform)
    for (group, cause), count in causes.items():
        snap.causes[group, cause] = count
        if isinstance(group, Platform):
            snap.causes[None, cause] = snap.causes.get((None, cause), 0) + count
    for group in GROUPS:
        passed = 0
        histogram = depth_counts[group]
        for index in range(len(FUNNEL_STEPS), 0, -1):  # devices reaching step i passed i-1 too
            passed += histogram[index]
            snap.funnel[group, FUNNEL_STEPS[index - 1]] = passed
    for group in GROUPS:
        snap.truly[group] = len(truly[group])
        snap.not_targeted[group] = sum(1 for person in shown[group] if person not in truly[group])
    return snap


def opted_out(registry: RegistryProtocol, profile: str) -> bool:
    """True when the registry holds ``profile`` in a state no default campaign targets (R9).

    A profile the registry has not created yet is not opted out: once registered it is
    ``subscribed`` (a token not yet registered is exactly what *not targeted* counts).
    """
    return not registry.is_targetable(profile) and registry.has_profile(profile)


def device_reach(depth: int, user: str | None, registry: RegistryProtocol) -> Reach | None:
    """What a device at funnel ``depth`` means for its logged-in ``user`` (docs/model.md §5).

    :attr:`Reach.TRULY` when it passes every funnel step. :attr:`Reach.NOT_TARGETED` when a push
    to its token would be shown (installed, launched, notifications allowed, token valid), a
    profile is logged in, yet the registry does not target that profile there — its token not
    registered, held as background-only, held for another profile — unless the profile opted out
    (unsubscribed: not targeting it is what it asked for). None otherwise: no push would be shown
    here, or nobody is logged in.
    """
    if depth == TRULY_DEPTH:
        return _TRULY
    if depth < SHOWS_DEPTH or user is None or opted_out(registry, user):
        return None
    return _NOT_TARGETED


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
    if device.permission not in SHOWING:  # not ``permission.shows``: an enum property is slow
        return 2
    token = device.token
    if token is None or service.status(now, token) != _DELIVERS:
        return 3
    record = token_for(device.install_id, app)
    if record is None or record.token != token or not record.foreground:
        return 4
    if record.profile != device.user:
        return 5
    return 7 if targetable(record.profile) else 6
