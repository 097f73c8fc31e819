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

Each token and device keeps its last contribution to the counts, and the tally counts the tokens
and devices behind each distinct contribution (a few dozen exist): re-classifying one moves it
from its old contribution to its new one, if they differ, and a sample adds the contributions
up. Distinct-profile counts (truly reachable, reachable but not targeted) are kept as reference
counts per (group, profile) of the devices behind them, and the profiles believed reachable per
Android OS class as reference counts of the foreground tokens they hold there (per platform, the
registry counts them itself). A group is a platform, an Android OS class (a breakdown of Android,
by the device carrying the install) or all. Classification itself is the same code as the full
snapshot (:func:`~sim.metrics.truth.classify_record`, :func:`~sim.metrics.truth.funnel_depth`,
:func:`~sim.metrics.truth.device_reach`), and the tests check the two agree at every sample.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Iterable

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
)
from sim.platforms import PROVIDER_OF, Platform
from sim.registry import TokenEvent
from sim.world.device import Device, OsClass
from sim.world.signals import TruthEvent
from sim.world.world import World

#: the groups a platform's tokens and devices count under, without and with an OS class
Groups = tuple[Group, ...]
#: what one token record adds to the counts: its groups (platform, and Android OS class),
#: foreground, truth (None for background) and stale cause
TokenShare = tuple[Groups, bool, TokenTruth | None, StaleCause | None]
#: what one installed device adds besides the person it makes reachable: its groups (platform,
#: Android OS class, all) as positions in GROUPS, funnel depth
DeviceShare = tuple[tuple[int, ...], int]
#: what the tally keeps of one token record: its contribution, and the Android OS class and
#: profile it makes believed reachable there (a foreground token of a targetable profile)
TokenState = tuple[TokenShare, tuple[OsClass, str] | None]
#: what the tally keeps of one installed device: its contribution, the profile it makes truly
#: reachable, or reachable but not targeted, and which, and the person it would show a push to
#: (depth ≥ SHOWS_DEPTH)
DeviceState = tuple[DeviceShare, tuple[str, Reach] | None, str | None]

# Enum members read on every re-classification, bound once: on Python 3.11 reading a member off
# its class (``TokenTruth.DEAD``) goes through ``EnumType``'s slow attribute hook.
_ANDROID = Platform.ANDROID
_LIVE, _DEAD, _ZOMBIE = TokenTruth.LIVE, TokenTruth.DEAD, TokenTruth.ZOMBIE
_OTHER_USER = StaleCause.OTHER_USER
_TRULY = Reach.TRULY
_INF = math.inf
#: iterating an enum class is slow too (``EnumType.__iter__``), and samples do it every time
_PLATFORMS: tuple[Platform, ...] = tuple(Platform)
_OS_CLASSES: tuple[OsClass, ...] = tuple(OsClass)


class Recheck:
    """Keys (tokens or devices) to look at again at a given time; only the latest time counts."""

    __slots__ = ("_heap", "_pending")

    def __init__(self) -> None:
        #: key → when to look at it again, and the requests as a heap of (when, key); a request
        #: stays in the heap when a later one for its key supersedes it
        self._pending: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []

    def at(self, key: str, when: float) -> None:
        """Look at ``key`` again at ``when`` (``inf``: never), replacing any earlier request."""
        if when == _INF:
            self._pending.pop(key, None)
        elif self._pending.get(key) != when:
            self._pending[key] = when
            heapq.heappush(self._heap, (when, key))

    def due(self, now: float) -> list[str]:
        """The keys due at or before ``now``, each once; they are forgotten."""
        heap, at, keys = self._heap, self._pending, []
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
        #: the state of each token record held and each installed device (one dict each: a
        #: re-classification reads and writes one entry)
        self._tokens: dict[str, TokenState] = {}
        self._devices: dict[str, DeviceState] = {}
        #: each distinct contribution (there are a few dozen) → how many tokens or devices make it
        #: (zero counts are kept: the contribution may come back)
        self._token_shares: dict[TokenShare, int] = {}
        self._device_shares: dict[DeviceShare, int] = {}
        #: each distinct contribution kept once, shared by every token or device making it
        self._token_share_of: dict[TokenShare, TokenShare] = {}
        self._device_share_of: dict[DeviceShare, DeviceShare] = {}
        #: per Android OS class, profile → its foreground tokens there, while targetable
        self._believed: dict[OsClass, dict[str, int]] = {c: {} for c in OsClass}
        #: person → the devices that would show them a push: re-looked at when the person's
        #: targetability changes (an opted-out profile is not counted as reachable but not
        #: targeted)
        self._shows_to: dict[str, dict[str, None]] = {}
        self._dirty_tokens: set[str] = set()
        self._dirty_devices: set[str] = set()
        self._devices_seen = 0
        self._token_rechecks = Recheck()
        self._device_rechecks = Recheck()

        #: person → per group (by position in GROUPS), the number of their devices truly
        #: reachable, then the number reachable but not targeted; one list per person, so that
        #: counting a device is one look-up, not several per group
        self._people: dict[str, list[int]] = {}
        #: per group (by position in GROUPS): distinct people truly reachable, and reachable but
        #: not targeted (and not truly reachable)
        self._truly_count = [0] * len(GROUPS)
        self._not_targeted_count = [0] * len(GROUPS)
        #: the groups of a token (platform, Android OS class), and of a device (and all) as
        #: positions in GROUPS, by (platform, OS class), each built once: ``is`` tells them equal
        classes: tuple[OsClass | None, ...] = (*OsClass, None)
        self._token_groups: dict[tuple[Platform, OsClass | None], Groups] = {
            (p, c): (p,) if c is None else (p, c) for p in Platform for c in classes
        }
        position = {group: index for index, group in enumerate(GROUPS)}
        self._device_groups: dict[tuple[Platform, OsClass | None], tuple[int, ...]] = {
            (p, c): (position[p], position[None])
            if c is None
            else (position[p], position[c], position[None])
            for p in Platform
            for c in classes
        }

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
        dirty: list[Device] = []
        for device_id in dirty_devices:
            device = devices[device_id]
            dirty.append(device)
            if device.token is not None:
                dirty_tokens.add(device.token)
        changes_at = self._retally_tokens(dirty_tokens, now)
        self._retally_devices(dirty, now, changes_at)
        return self._snapshot()

    # The two re-classifying loops below run some 250,000 times a simulated year at 10,000
    # devices, so they bind what they read to locals once and leave the counts alone when the
    # state did not change.

    def _retally_tokens(self, dirty: Iterable[str], now: float) -> dict[Platform, dict[str, float]]:
        """Re-classify the ``dirty`` tokens at ``now``.

        Returns, per platform, per foreground token held, when its provider status next changes
        (:meth:`~sim.providers.PushService.status_changes_at`), which the devices' re-check
        reuses: nothing changes a provider between the two.
        """
        registry = self.world.registry
        record_of, targetable = registry.token, registry.is_targetable
        installs = self.world.actions.installs
        services, token_groups = self._services, self._token_groups
        tokens, shares = self._tokens, self._token_shares
        recheck = self._token_rechecks.at
        changes_at: dict[Platform, dict[str, float]] = {p: {} for p in _PLATFORMS}
        for token in dirty:
            old = tokens.get(token)
            record = record_of(token)
            if record is None:
                if old is not None:
                    del tokens[token]
                    shares[old[0]] -= 1
                    if old[1] is not None:
                        self._believe(*old[1], -1)
                recheck(token, _INF)
                continue
            platform = record.platform
            os_class = None
            if platform is _ANDROID:  # install_class, inlined
                device = installs.get(record.device)
                if device is not None:
                    os_class = device.os_class
            groups = token_groups[platform, os_class]
            believer = None
            if not record.foreground:  # background tokens are counted, never classified
                verdict = cause = None
                recheck(token, _INF)
            else:
                service = services[platform]
                verdict, cause = classify_record(service, installs, record, now)
                if verdict is _LIVE and installs[record.device].user != record.profile:
                    cause = _OTHER_USER
                when = changes_at[platform][token] = service.status_changes_at(token)
                recheck(token, when)
                if os_class is not None and targetable(record.profile):
                    believer = (os_class, record.profile)
            if old is None:
                old_share = old_believer = None
            else:
                old_share, old_believer = old
                # the foreground flag follows the verdict (None exactly for background tokens)
                if old_share[0] is groups and old_share[2] is verdict and old_share[3] is cause:
                    if believer == old_believer:
                        continue  # nothing changed
                else:
                    shares[old_share] -= 1
                    old_share = None
            if old_share is None:
                share: TokenShare = (groups, verdict is not None, verdict, cause)
                share = self._token_share_of.setdefault(share, share)
                shares[share] = shares.get(share, 0) + 1
            else:
                share = old_share
            tokens[token] = (share, believer)
            if believer != old_believer:
                if old_believer is not None:
                    self._believe(*old_believer, -1)
                if believer is not None:
                    self._believe(*believer, +1)
        return changes_at

    def _retally_devices(
        self, dirty: Iterable[Device], now: float, changes_at: dict[Platform, dict[str, float]]
    ) -> None:
        """Re-classify the ``dirty`` devices at ``now``; ``changes_at`` as from the tokens'."""
        registry = self.world.registry
        token_for, targetable = registry.token_for, registry.is_targetable
        app, services, device_groups = self._app, self._services, self._device_groups
        states, shares = self._devices, self._device_shares
        recheck = self._device_rechecks.at
        for device in dirty:
            device_id = device.device_id
            old = states.get(device_id)
            if not device.installed:
                if old is not None:
                    del states[device_id]
                    old_share, old_reach, old_user = old
                    shares[old_share] -= 1
                    if old_reach is not None:
                        self._count_reach(old_share[0], old_reach, -1)
                    if old_user is not None:
                        self._forget_shown(device_id, old_user)
                    recheck(device_id, _INF)
                continue
            platform = device.platform
            service = services[platform]
            depth = funnel_depth(device, service, token_for, targetable, app, now)
            user = device.user
            shows = reach = None
            when = _INF
            if depth >= SHOWS_DEPTH:
                if user is not None:
                    shows = user
                    kind = device_reach(depth, user, registry)
                    if kind is not None:
                        reach = (user, kind)
                # the device's token delivers: until when? (already asked if the registry
                # holds it as foreground)
                token = device.token
                if token:
                    asked = changes_at[platform].get(token)
                    when = service.status_changes_at(token) if asked is None else asked
            recheck(device_id, when)
            groups = device_groups[platform, device.os_class]
            if old is None:
                share: DeviceShare | None = None
                old_reach = old_user = None
            else:
                share, old_reach, old_user = old
                if share[1] != depth or share[0] is not groups:
                    shares[share] -= 1
                    if old_reach is not None and share[0] is not groups:  # (never: fixed groups)
                        self._count_reach(share[0], old_reach, -1)
                        old_reach = None
                    share = None
                elif reach == old_reach and shows == old_user:
                    continue  # nothing changed
            if share is None:
                share = (groups, depth)
                share = self._device_share_of.setdefault(share, share)
                shares[share] = shares.get(share, 0) + 1
            states[device_id] = (share, reach, shows)
            if reach != old_reach:
                if old_reach is not None:
                    self._count_reach(groups, old_reach, -1)
                if reach is not None:
                    self._count_reach(groups, reach, +1)
            if shows != old_user:
                if old_user is not None:
                    self._forget_shown(device_id, old_user)
                if shows is not None:
                    self._shows_to.setdefault(shows, {})[device_id] = None

    def _forget_shown(self, device_id: str, user: str) -> None:
        """Drop the device from the devices that would show ``user`` (its person) a push."""
        devices = self._shows_to[user]
        del devices[device_id]
        if not devices:
            del self._shows_to[user]

    # -- counting ------------------------------------------------------------------------------

    def _believe(self, os_class: OsClass, profile: str, sign: int) -> None:
        """Change the count of ``profile``'s foreground tokens on ``os_class`` devices."""
        counts = self._believed[os_class]
        count = counts.get(profile, 0) + sign
        if count:
            counts[profile] = count
        else:
            del counts[profile]

    def _count_reach(self, groups: tuple[int, ...], reach: tuple[str, Reach], sign: int) -> None:
        """Change a person's device count for each of a device's ``groups`` (platform, class, all).

        Keeps the distinct-person counts up to date: truly reachable (a device of
        :attr:`~sim.metrics.truth.Reach.TRULY`), and reachable but not targeted (a device of
        :attr:`~sim.metrics.truth.Reach.NOT_TARGETED`, and none truly reachable). Only a count
        that goes from or to zero changes them.
        """
        person, kind = reach
        counts = self._people.get(person)
        if counts is None:
            counts = self._people[person] = [0] * (2 * len(GROUPS))
        truly_count, not_targeted_count = self._truly_count, self._not_targeted_count
        shown = len(GROUPS)  # where the counts of devices reachable but not targeted start
        if kind is _TRULY:
            for index in groups:
                count = counts[index] = counts[index] + sign
                if not count or count == sign:  # to or from zero: no more truly reachable, or now
                    truly_count[index] += sign
                    if counts[shown + index]:  # then not targeted no more, or again
                        not_targeted_count[index] -= sign
        else:
            for index in groups:
                count = counts[shown + index] = counts[shown + index] + sign
                if (not count or count == sign) and not counts[index]:
                    not_targeted_count[index] += sign
        if sign < 0 and not any(counts):  # nobody reachable through this person's devices
            del self._people[person]

    def _snapshot(self) -> Snapshot:
        registry, app = self.world.registry, self._app
        snap = Snapshot()
        for platform in _PLATFORMS:
            snap.believed[platform] = registry.audience_size(app, platform=platform)
        for os_class in _OS_CLASSES:
            snap.believed[os_class] = len(self._believed[os_class])
        snap.believed[None] = registry.audience_size(app)
        tokens: dict[Group, int] = dict.fromkeys(GROUPS, 0)
        foreground, dead, zombie = dict(tokens), dict(tokens), dict(tokens)
        causes: dict[tuple[Group, StaleCause], int] = {}
        for (groups, in_foreground, verdict, cause), count in self._token_shares.items():
            if not count:
                continue
            for group in groups:
                tokens[group] += count
                if not in_foreground:
                    continue
                foreground[group] += count
                if verdict is _DEAD:
                    dead[group] += count
                elif verdict is _ZOMBIE:
                    zombie[group] += count
                if cause is not None:
                    causes[group, cause] = causes.get((group, cause), 0) + count
        for counter, per_group in (
            (snap.tokens, tokens),
            (snap.foreground_tokens, foreground),
            (snap.dead, dead),
            (snap.zombie, zombie),
        ):
            counter.update(per_group)
            counter[None] = sum(per_group[p] for p in _PLATFORMS)
        for (group, cause), count in causes.items():
            if count:
                snap.causes[group, cause] = count
                if isinstance(group, Platform):
                    snap.causes[None, cause] = snap.causes.get((None, cause), 0) + count
        depths = [[0] * (len(FUNNEL_STEPS) + 1) for _ in GROUPS]
        for (indices, depth), count in self._device_shares.items():
            if not count:
                continue
            for index in indices:
                depths[index][depth] += count
        for group, histogram in zip(GROUPS, depths, strict=True):
            passed = 0
            for index in range(len(FUNNEL_STEPS), 0, -1):  # reaching step i passed i-1 too
                passed += histogram[index]
                snap.funnel[group, FUNNEL_STEPS[index - 1]] = passed
        snap.truly.update(zip(GROUPS, self._truly_count, strict=True))
        snap.not_targeted.update(zip(GROUPS, self._not_targeted_count, strict=True))
        return snap
