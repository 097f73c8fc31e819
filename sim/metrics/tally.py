"""Belief against truth kept up to date incrementally, so that sampling costs what changed.

:func:`~sim.metrics.truth.snapshot` walks every token the registry holds and every device at each
sample: O(tokens + devices) per sample, which dominates large runs sampled daily. A
:class:`TruthTally` gives the same :class:`~sim.metrics.truth.Snapshot`, count for count, but only
re-classifies what may have changed since the last sample:

- a token record the registry added, updated or removed (its token events, R13), and the device
  whose install holds it;
- a device with a ground-truth change (its truth events), the record of its current token and
  the record of the token the change replaced;
- every token and device of a profile whose targetability changed (R9), and every device that
  would show that profile a push where it is logged in (an opted-out profile is not counted as
  reachable but not targeted);
- a token or device whose provider status changes with time alone — the end of an uninstall
  report lag, an inactivity expiry — re-checked at the time the provider says
  (:meth:`~sim.providers.PushService.status_changes_at`);
- devices that joined the world since the last sample.

Each token and device keeps its last contribution to the counts; re-classifying one subtracts the
old contribution and adds the new. Distinct-profile counts (truly reachable, reachable but not
targeted) are kept as reference counts per (group, profile) of the devices behind them, and the
profiles believed reachable per Android OS class as reference counts of the foreground tokens
they hold there (per platform, the registry counts them itself). A group is a platform, an
Android OS class (a breakdown of Android, by the device carrying the install) or all.
Classification itself is the same code as the full snapshot
(:func:`~sim.metrics.truth.classify_record`, :func:`~sim.metrics.truth.funnel_depth`,
:func:`~sim.metrics.truth.device_reach`), and the tests check the two agree at every sample.
"""

from __future__ import annotations

import heapq
import itertools
import math

from sim.metrics.truth import (
    FUNNEL_STEPS,
    GROUPS,
    SHOWS_DEPTH,
    Group,
    Reach,
    Snapshot,
    StaleCause,
    TokenTruth,
    classify_record,
    device_reach,
    funnel_depth,
    install_class,
)
from sim.platforms import PROVIDER_OF, Platform
from sim.registry import TokenEvent
from sim.world.device import OsClass
from sim.world.signals import TruthEvent
from sim.world.world import World

#: the groups a platform's tokens and devices count under, without and with an OS class
Groups = tuple[Group, ...]
#: what one token record adds to the counts: its groups (platform, and Android OS class),
#: foreground, truth (None for background) and stale cause. Few distinct values exist, so each
#: is kept once and shared by every token with that contribution.
TokenShare = tuple[Groups, bool, TokenTruth | None, StaleCause | None]
#: what one installed device adds besides the person it makes reachable: its groups (platform,
#: Android OS class, all), funnel depth
DeviceShare = tuple[Groups, int]


class Recheck:
    """Keys (tokens or devices) to look at again at a given time; only the latest time counts."""

    __slots__ = ("_at", "_heap")

    def __init__(self) -> None:
        self._heap: list[tuple[float, str]] = []
        self._at: dict[str, float] = {}

    def at(self, key: str, when: float) -> None:
        """Look at ``key`` again at ``when`` (``inf``: never), replacing any earlier request."""
        if when == math.inf:
            self._at.pop(key, None)
        elif self._at.get(key) != when:
            self._at[key] = when
            heapq.heappush(self._heap, (when, key))

    def due(self, now: float) -> list[str]:
        """The keys due at or before ``now``, each once; they are forgotten."""
        heap, at, keys = self._heap, self._at, []
        while heap and heap[0][0] <= now:
            when, key = heapq.heappop(heap)
            if at.get(key) == when:  # else superseded by a later request
                del at[key]
                keys.append(key)
        return keys


class TruthTally:
    """Incremental belief-vs-truth counts of one world; :meth:`snapshot` equals a full snapshot."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._app = world.actions.app
        self._services = {p: world.providers[PROVIDER_OF[p]] for p in Platform}
        #: each distinct contribution kept once (there are a few dozen), shared by reference
        self._token_shares: dict[TokenShare, TokenShare] = {}
        self._device_shares: dict[DeviceShare, DeviceShare] = {}
        self._tokens: dict[str, TokenShare] = {}
        self._devices: dict[str, DeviceShare] = {}
        #: device → the profile it makes truly reachable, or reachable but not targeted, and which
        self._reach: dict[str, tuple[str, Reach]] = {}
        #: token → the Android OS class and profile it makes believed reachable there (a
        #: foreground token of a targetable profile), and per class, profile → those tokens
        self._believer: dict[str, tuple[OsClass, str]] = {}
        self._believed: dict[OsClass, dict[str, int]] = {c: {} for c in OsClass}
        #: device → the person it would show a push to (depth ≥ SHOWS_DEPTH), and person → those
        #: devices: re-looked at when the person's targetability changes (an opted-out profile
        #: is not counted as reachable but not targeted)
        self._shown_user: dict[str, str] = {}
        self._shows_to: dict[str, dict[str, None]] = {}
        self._dirty_tokens: set[str] = set()
        self._dirty_devices: set[str] = set()
        self._devices_seen = 0
        self._token_rechecks = Recheck()
        self._device_rechecks = Recheck()

        self._count_tokens: dict[Group, int] = dict.fromkeys(GROUPS, 0)
        self._count_foreground: dict[Group, int] = dict.fromkeys(GROUPS, 0)
        self._count_dead: dict[Group, int] = dict.fromkeys(GROUPS, 0)
        self._count_zombie: dict[Group, int] = dict.fromkeys(GROUPS, 0)
        self._count_causes: dict[tuple[Group, StaleCause], int] = {}
        self._depths = {group: [0] * (len(FUNNEL_STEPS) + 1) for group in GROUPS}
        #: per group, person → number of devices behind them
        self._truly: dict[Group, dict[str, int]] = {group: {} for group in GROUPS}
        self._shown: dict[Group, dict[str, int]] = {group: {} for group in GROUPS}
        self._truly_count: dict[Group, int] = dict.fromkeys(GROUPS, 0)
        self._not_targeted_count: dict[Group, int] = dict.fromkeys(GROUPS, 0)
        #: the groups of a token (platform, Android OS class) and of a device (and all), kept once
        self._token_groups: dict[tuple[Platform, OsClass | None], Groups] = {}
        self._device_groups: dict[tuple[Platform, OsClass | None], Groups] = {}

        registry = world.registry
        registry.subscribe(self._on_token)
        registry.on_targetability(self._on_targetability)
        world.signals.truth.append(self._on_truth)
        self._dirty_tokens.update(record.token for record in registry.tokens())

    # -- what may have changed -----------------------------------------------------------------
    #
    # A record's truth depends on a device only through the device that carries its install, and
    # only while the provider still delivers its token, which then is that device's token (one
    # live token per device and app). So a device change re-classifies the record of the
    # device's current token plus the token the change replaced (``old_token``).

    def _on_token(self, event: TokenEvent) -> None:
        self._dirty_tokens.add(event.token)
        device = self.world.actions.installs.get(event.device)
        if device is not None:
            self._dirty_devices.add(device.device_id)

    def _on_truth(self, event: TruthEvent) -> None:
        self._dirty_devices.add(event.device)
        if event.old_token is not None:  # a new token is the device's, or a later old one
            self._dirty_tokens.add(event.old_token)

    def _on_targetability(self, profile_id: str, _targetable: bool) -> None:
        installs = self.world.actions.installs
        for slot, token in self.world.registry.profile(profile_id).tokens.items():
            self._dirty_tokens.add(token)
            device = installs.get(slot[0])
            if device is not None:
                self._dirty_devices.add(device.device_id)
        self._dirty_devices.update(self._shows_to.get(profile_id, ()))

    # -- sampling ------------------------------------------------------------------------------

    def snapshot(self, now: float) -> Snapshot:
        """The counts at ``now``, equal to :func:`~sim.metrics.truth.snapshot` of the world."""
        flush = getattr(self.world.registry, "flush", None)
        if flush is not None:  # a registry that batches (HTTP): its pending events arrive now
            flush()
        devices = self.world.devices
        joined = len(devices) - self._devices_seen
        if joined > 0:  # devices that joined (restored ones have no event): the newest, read
            # from the end, so a sample costs what joined since the last, not every device ever
            self._dirty_devices.update(itertools.islice(reversed(devices), joined))
            self._devices_seen = len(devices)
        dirty_tokens, self._dirty_tokens = self._dirty_tokens, set()
        dirty_devices, self._dirty_devices = self._dirty_devices, set()
        dirty_tokens.update(self._token_rechecks.due(now))
        dirty_devices.update(self._device_rechecks.due(now))
        for device_id in dirty_devices:
            token = devices[device_id].token
            if token is not None:
                dirty_tokens.add(token)
        for token in dirty_tokens:
            self._retally_token(token, now)
        for device_id in dirty_devices:
            self._retally_device(device_id, now)
        return self._snapshot()

    def _retally_token(self, token: str, now: float) -> None:
        old = self._tokens.pop(token, None)
        if old is not None:
            self._add_token(old, -1)
        believer = self._believer.pop(token, None)
        if believer is not None:
            self._believe(*believer, -1)
        registry = self.world.registry
        record = registry.token(token)
        if record is None:
            self._token_rechecks.at(token, math.inf)
            return
        platform = record.platform
        installs = self.world.actions.installs
        os_class = install_class(installs, record) if platform is Platform.ANDROID else None
        groups = self._token_groups.get((platform, os_class))
        if groups is None:
            groups = (platform,) if os_class is None else (platform, os_class)
            self._token_groups[platform, os_class] = groups
        if not record.foreground:  # background tokens are counted, never classified
            share: TokenShare = (groups, False, None, None)
            self._token_rechecks.at(token, math.inf)
        else:
            service = self._services[platform]
            verdict, cause = classify_record(service, installs, record, now)
            if verdict is TokenTruth.LIVE and installs[record.device].user != record.profile:
                cause = StaleCause.OTHER_USER
            share = (groups, True, verdict, cause)
            self._token_rechecks.at(token, service.status_changes_at(token))
            if os_class is not None and registry.is_targetable(record.profile):
                believer = self._believer[token] = (os_class, record.profile)
                self._believe(*believer, +1)
        share = self._tokens[token] = self._token_shares.setdefault(share, share)
        self._add_token(share, +1)

    def _retally_device(self, device_id: str, now: float) -> None:
        old = self._devices.pop(device_id, None)
        if old is not None:
            self._add_device(old, self._reach.pop(device_id, None), -1)
        self._forget_shown(device_id)
        device = self.world.devices[device_id]
        if not device.installed:
            self._device_rechecks.at(device_id, math.inf)
            return
        registry = self.world.registry
        service = self._services[device.platform]
        depth = funnel_depth(
            device, service, registry.token_for, registry.is_targetable, self._app, now
        )
        user = device.user
        reach = None
        if depth >= SHOWS_DEPTH and user is not None:
            self._shown_user[device_id] = user
            self._shows_to.setdefault(user, {})[device_id] = None
            kind = device_reach(depth, user, registry)
            if kind is not None:
                reach = self._reach[device_id] = (user, kind)
        # from SHOWS_DEPTH on, the device's token delivers: until when?
        recheck = (
            service.status_changes_at(device.token)
            if depth >= SHOWS_DEPTH and device.token
            else None
        )
        self._device_rechecks.at(device_id, math.inf if recheck is None else recheck)
        key = (device.platform, device.os_class)
        groups = self._device_groups.get(key)
        if groups is None:
            groups = self._device_groups[key] = (
                (device.platform, None)
                if device.os_class is None
                else (device.platform, device.os_class, None)
            )
        share: DeviceShare = (groups, depth)
        share = self._devices[device_id] = self._device_shares.setdefault(share, share)
        self._add_device(share, reach, +1)

    def _forget_shown(self, device_id: str) -> None:
        """Drop the device from the devices that would show their person a push."""
        user = self._shown_user.pop(device_id, None)
        if user is not None:
            devices = self._shows_to[user]
            del devices[device_id]
            if not devices:
                del self._shows_to[user]

    # -- counting ------------------------------------------------------------------------------

    def _add_token(self, share: TokenShare, sign: int) -> None:
        groups, foreground, verdict, cause = share
        for group in groups:
            self._count_tokens[group] += sign
            if not foreground:
                continue
            self._count_foreground[group] += sign
            if verdict is TokenTruth.DEAD:
                self._count_dead[group] += sign
            elif verdict is TokenTruth.ZOMBIE:
                self._count_zombie[group] += sign
            if cause is not None:
                key = (group, cause)
                self._count_causes[key] = self._count_causes.get(key, 0) + sign

    def _believe(self, os_class: OsClass, profile: str, sign: int) -> None:
        """Change the count of ``profile``'s foreground tokens on ``os_class`` devices."""
        counts = self._believed[os_class]
        count = counts.get(profile, 0) + sign
        if count:
            counts[profile] = count
        else:
            del counts[profile]

    def _add_device(self, share: DeviceShare, reach: tuple[str, Reach] | None, sign: int) -> None:
        groups, depth = share
        for group in groups:
            self._depths[group][depth] += sign
        if reach is not None:
            person, kind = reach
            refs = self._truly if kind is Reach.TRULY else self._shown
            self._bump(refs, groups, person, sign)

    def _bump(
        self,
        refs: dict[Group, dict[str, int]],
        groups: Groups,
        person: str,
        sign: int,
    ) -> None:
        """Change a reference count for each of a device's ``groups`` (platform, class, all).

        Keeps the distinct-person counts up to date: truly reachable (a device of
        :attr:`~sim.metrics.truth.Reach.TRULY`), and reachable but not targeted (a device of
        :attr:`~sim.metrics.truth.Reach.NOT_TARGETED`, and none truly reachable).
        """
        for key in groups:
            truly, shown = self._truly[key], self._shown[key]
            was_truly = person in truly
            was_not_targeted = person in shown and not was_truly
            counts = refs[key]
            count = counts.get(person, 0) + sign
            if count:
                counts[person] = count
            else:
                del counts[person]
            is_truly = person in truly
            is_not_targeted = person in shown and not is_truly
            self._truly_count[key] += is_truly - was_truly
            self._not_targeted_count[key] += is_not_targeted - was_not_targeted

    def _snapshot(self) -> Snapshot:
        registry, app = self.world.registry, self._app
        snap = Snapshot()
        for platform in Platform:
            snap.believed[platform] = registry.audience_size(app, platform=platform)
        for os_class in OsClass:
            snap.believed[os_class] = len(self._believed[os_class])
        snap.believed[None] = registry.audience_size(app)
        for counter, per_group in (
            (snap.tokens, self._count_tokens),
            (snap.foreground_tokens, self._count_foreground),
            (snap.dead, self._count_dead),
            (snap.zombie, self._count_zombie),
        ):
            counter.update(per_group)
            counter[None] = sum(per_group[p] for p in Platform)
        for (group, cause), count in self._count_causes.items():
            if count:
                snap.causes[group, cause] = count
                if isinstance(group, Platform):
                    snap.causes[None, cause] = snap.causes.get((None, cause), 0) + count
        for group in GROUPS:
            passed = 0
            histogram = self._depths[group]
            for index in range(len(FUNNEL_STEPS), 0, -1):  # reaching step i passed i-1 too
                passed += histogram[index]
                snap.funnel[group, FUNNEL_STEPS[index - 1]] = passed
        snap.truly.update(self._truly_count)
        snap.not_targeted.update(self._not_targeted_count)
        return snap
