"""Belief against truth kept up to date incrementally, so that sampling costs what changed.

:func:`~sim.metrics.truth.snapshot` walks every token the registry holds and every device at each
sample: O(tokens + devices) per sample, which dominates large runs sampled daily. A
:class:`TruthTally` gives the same :class:`~sim.metrics.truth.Snapshot`, count for count, but only
re-classifies what may have changed since the last sample:

- a token record the registry added, updated or removed (its token events, R13), and the device
  whose install holds it;
- a device with a ground-truth change (its truth events), and every record held for one of its
  installs;
- every token and device of a profile whose targetability changed (R9);
- a token whose provider status changes with time alone — the end of an uninstall report lag, an
  inactivity expiry — re-checked at the time the provider says
  (:meth:`~sim.providers.PushService.status_changes_at`);
- devices that joined the world since the last sample.

Each token and device keeps its last contribution to the counts; re-classifying one subtracts the
old contribution and adds the new. Distinct-profile counts (truly reachable, unknown) are kept as
reference counts per (platform, profile). Classification itself is the same code as the full
snapshot (:func:`~sim.metrics.truth.classify_record`, :func:`~sim.metrics.truth.funnel_depth`),
and the tests check the two agree at every sample.
"""

from __future__ import annotations

import heapq
import itertools
import math

from sim.metrics.truth import (
    FUNNEL_STEPS,
    Snapshot,
    StaleCause,
    TokenTruth,
    classify_record,
    funnel_depth,
)
from sim.platforms import PROVIDER_OF, Platform
from sim.registry import TokenEvent
from sim.world.signals import TruthEvent
from sim.world.world import World

#: what one token record adds to the counts: platform, foreground, truth (None for background),
#: stale cause, and the profile it makes truly reachable (or None)
TokenShare = tuple[Platform, bool, TokenTruth | None, StaleCause | None, str | None]
#: what one installed device adds: platform, funnel depth, and the user it shows pushes to when
#: the device passes the "provider token valid" step (or None)
DeviceShare = tuple[Platform, int, str | None]

_TOKEN, _DEVICE = 0, 1


class TruthTally:
    """Incremental belief-vs-truth counts of one world; :meth:`snapshot` equals a full snapshot."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._app = world.actions.app
        self._services = {p: world.providers[PROVIDER_OF[p]] for p in Platform}
        self._tokens: dict[str, TokenShare] = {}
        self._devices: dict[str, DeviceShare] = {}
        #: device id → the install ids it has carried (records are held per install id)
        self._install_ids: dict[str, list[str]] = {}
        self._dirty_tokens: set[str] = set()
        self._dirty_devices: set[str] = set()
        self._devices_seen = 0
        #: (time, order, kind, key): re-check a token or device when its provider status changes
        self._timers: list[tuple[float, int, int, str]] = []
        self._timer_at: dict[tuple[int, str], float] = {}
        self._order = itertools.count()

        self._count_tokens = dict.fromkeys(Platform, 0)
        self._count_foreground = dict.fromkeys(Platform, 0)
        self._count_dead = dict.fromkeys(Platform, 0)
        self._count_zombie = dict.fromkeys(Platform, 0)
        self._count_causes: dict[tuple[Platform, StaleCause], int] = {}
        self._depths = {p: [0] * (len(FUNNEL_STEPS) + 1) for p in Platform}
        self._truly: dict[tuple[Platform | None, str], int] = {}
        self._shown: dict[tuple[Platform | None, str], int] = {}
        self._truly_count: dict[Platform | None, int] = dict.fromkeys((*Platform, None), 0)
        self._unknown_count: dict[Platform | None, int] = dict.fromkeys((*Platform, None), 0)

        registry = world.registry
        registry.subscribe(self._on_token)
        registry.on_targetability(self._on_targetability)
        world.signals.truth.append(self._on_truth)
        self._dirty_tokens.update(record.token for record in registry.tokens())

    # -- what may have changed -----------------------------------------------------------------

    def _on_token(self, event: TokenEvent) -> None:
        self._dirty_tokens.add(event.token)
        device = self.world.actions.installs.get(event.device)
        if device is not None:
            self._dirty_devices.add(device.device_id)

    def _on_truth(self, event: TruthEvent) -> None:
        self._dirty_devices.add(event.device)
        installs = self._install_ids.get(event.device)
        if installs is None:
            self._install_ids[event.device] = [event.install_id]
        elif event.install_id not in installs:
            installs.append(event.install_id)

    def _on_targetability(self, profile_id: str, _targetable: bool) -> None:
        installs = self.world.actions.installs
        for slot, token in self.world.registry.profile(profile_id).tokens.items():
            self._dirty_tokens.add(token)
            device = installs.get(slot[0])
            if device is not None:
                self._dirty_devices.add(device.device_id)

    def _schedule(self, kind: int, key: str, at: float) -> None:
        if at == math.inf or self._timer_at.get((kind, key)) == at:
            return
        self._timer_at[kind, key] = at
        heapq.heappush(self._timers, (at, next(self._order), kind, key))

    # -- sampling ------------------------------------------------------------------------------

    def snapshot(self, now: float) -> Snapshot:
        """The counts at ``now``, equal to :func:`~sim.metrics.truth.snapshot` of the world."""
        devices = self.world.devices
        if len(devices) > self._devices_seen:  # devices that joined (restored ones have no event)
            self._dirty_devices.update(itertools.islice(devices, self._devices_seen, None))
            self._devices_seen = len(devices)
        timers, timer_at = self._timers, self._timer_at
        while timers and timers[0][0] <= now:
            at, _, kind, key = heapq.heappop(timers)
            if timer_at.get((kind, key)) != at:
                continue  # superseded by a later re-check
            del timer_at[kind, key]
            (self._dirty_tokens if kind == _TOKEN else self._dirty_devices).add(key)

        token_for, app = self.world.registry.token_for, self._app
        dirty_tokens, self._dirty_tokens = self._dirty_tokens, set()
        dirty_devices, self._dirty_devices = self._dirty_devices, set()
        for device_id in dirty_devices:
            for install_id in self._install_ids.get(device_id, ()):
                record = token_for(install_id, app)
                if record is not None:
                    dirty_tokens.add(record.token)
        for token in dirty_tokens:
            self._retally_token(token, now)
        for device_id in dirty_devices:
            self._retally_device(device_id, now)
        return self._snapshot()

    def _retally_token(self, token: str, now: float) -> None:
        old = self._tokens.pop(token, None)
        if old is not None:
            self._add_token(old, -1)
        record = self.world.registry.token(token)
        if record is None:
            return
        platform = record.platform
        if not record.foreground:
            share: TokenShare = (platform, False, None, None, None)
        else:
            service = self._services[platform]
            installs = self.world.actions.installs
            verdict, cause = classify_record(service, installs, record, now)
            profile = None
            if verdict is TokenTruth.LIVE:
                if installs[record.device].user != record.profile:
                    cause = StaleCause.OTHER_USER
                elif self.world.registry.is_targetable(record.profile):
                    profile = record.profile
            share = (platform, True, verdict, cause, profile)
            self._schedule(_TOKEN, token, service.status_changes_at(token))
        self._tokens[token] = share
        self._add_token(share, +1)

    def _retally_device(self, device_id: str, now: float) -> None:
        old = self._devices.pop(device_id, None)
        if old is not None:
            self._add_device(old, -1)
        device = self.world.devices[device_id]
        if not device.installed:
            return
        registry = self.world.registry
        service = self._services[device.platform]
        depth = funnel_depth(
            device, service, registry.token_for, registry.is_targetable, self._app, now
        )
        shown = device.user if depth >= 4 else None
        share: DeviceShare = (device.platform, depth, shown)
        if depth >= 4 and device.token is not None:  # its token delivers: until when?
            self._schedule(_DEVICE, device_id, service.status_changes_at(device.token))
        self._devices[device_id] = share
        self._add_device(share, +1)

    # -- counting ------------------------------------------------------------------------------

    def _add_token(self, share: TokenShare, sign: int) -> None:
        platform, foreground, verdict, cause, profile = share
        self._count_tokens[platform] += sign
        if not foreground:
            return
        self._count_foreground[platform] += sign
        if verdict is TokenTruth.DEAD:
            self._count_dead[platform] += sign
        elif verdict is TokenTruth.ZOMBIE:
            self._count_zombie[platform] += sign
        if cause is not None:
            key = (platform, cause)
            self._count_causes[key] = self._count_causes.get(key, 0) + sign
        if profile is not None:
            self._bump(self._truly, platform, profile, sign)

    def _add_device(self, share: DeviceShare, sign: int) -> None:
        platform, depth, shown = share
        self._depths[platform][depth] += sign
        if shown is not None:
            self._bump(self._shown, platform, shown, sign)

    def _bump(
        self,
        refs: dict[tuple[Platform | None, str], int],
        platform: Platform,
        person: str,
        sign: int,
    ) -> None:
        """Change a reference count for ``platform`` and for all platforms.

        Keeps the distinct-person counts up to date: truly reachable, and shown-to but unknown
        (shown pushes on a device they are logged in to, yet not truly reachable).
        """
        for key in (platform, None):
            pair = (key, person)
            was_truly = pair in self._truly
            was_unknown = pair in self._shown and not was_truly
            count = refs.get(pair, 0) + sign
            if count:
                refs[pair] = count
            else:
                del refs[pair]
            is_truly = pair in self._truly
            is_unknown = pair in self._shown and not is_truly
            self._truly_count[key] += is_truly - was_truly
            self._unknown_count[key] += is_unknown - was_unknown

    def _snapshot(self) -> Snapshot:
        registry, app = self.world.registry, self._app
        snap = Snapshot()
        for platform in Platform:
            snap.believed[platform] = registry.audience_size(app, platform=platform)
        snap.believed[None] = registry.audience_size(app)
        for counter, per_platform in (
            (snap.tokens, self._count_tokens),
            (snap.foreground_tokens, self._count_foreground),
            (snap.dead, self._count_dead),
            (snap.zombie, self._count_zombie),
        ):
            for platform, count in per_platform.items():
                counter[platform] = count
            counter[None] = sum(per_platform.values())
        for (platform, cause), count in self._count_causes.items():
            if count:
                snap.causes[platform, cause] = count
                snap.causes[None, cause] = snap.causes.get((None, cause), 0) + count
        for platform in Platform:
            passed = 0
            histogram = self._depths[platform]
            for index in range(len(FUNNEL_STEPS), 0, -1):  # reaching step i passed i-1 too
                passed += histogram[index]
                step = FUNNEL_STEPS[index - 1]
                snap.funnel[platform, step] = passed
                snap.funnel[None, step] = snap.funnel.get((None, step), 0) + passed
        snap.truly.update(self._truly_count)
        snap.unknown.update(self._unknown_count)
        return snap
