"""The observables of docs/calibration.md, measured in a simulated world as a team measures them.

A :class:`MomentRecorder` listens to one world while it runs (installs, uninstalls, session starts
and sends) and, at the end, reads the devices and the registry's tokens. :meth:`~MomentRecorder.
measure` gives each observable's simulated value and its denominator, defined as the observations
file defines it:

- ``opt_in_share`` (per platform class): among installs launched and still installed at the end of
  the run, the share whose notifications are allowed (granted or provisional) — the opt-in rate a
  dashboard shows of its current installed base;
- ``uninstalled_by_day1_share`` / ``uninstalled_by_day30_share``: among installs (first installs
  and reinstalls) made at least 1 (30) days before the end, the share uninstalled within 1 (30)
  days;
- ``reinstall_share``: among uninstalls at least :data:`REINSTALL_FOLLOW_DAYS` before the end, the
  share followed by a reinstall on the same device within that many days;
- ``sessions_per_active_user_per_week``: over the run's whole weeks, the mean number of sessions
  of an active install-week (an install with at least one session that week): sessions ÷ active
  installs, summed over weeks;
- ``multi_device_user_share``, ``multi_user_device_share``, ``notifications_disabled_share``: read
  off the registry's tokens at the end of the run, through the *same* code that reads a team's
  token export (:class:`~sim.calibration.token_export.ExportSummary`);
- ``bounce_rate`` (per provider): over every campaign send (probes excluded), the sends whose final
  answer bounced ÷ the sends targeted;
- ``campaign_cadence_days``: the mean gap between campaigns.

Every value comes with its count (the denominator), so a caller can weigh it or say it is empty.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from sim.calibration.observations import Observable
from sim.calibration.token_export import ExportProfile, ExportSummary, ExportToken
from sim.platforms import PROVIDER_OF, Platform
from sim.registry.protocol import RegistryProtocol
from sim.world.device import SHOWING, Device, DeviceKind
from sim.world.signals import Outcome, SendRecord, Truth, TruthEvent
from sim.world.world import World

#: How long after an uninstall a reinstall on the same device still counts: 90 days. Reinstalls
#: come 20 days after the uninstall on average (``reinstall_delay_mean_days``), so 90 days see
#: about 99 % of them; uninstalls in the last 90 days of a run are not counted (not followed long
#: enough).
REINSTALL_FOLLOW_DAYS = 90.0
#: The shortest run that measures each observable with a follow-up: twice the follow-up, so that
#: the installs (uninstalls) of the first half of the run are counted.
MIN_DAYS: dict[Observable, float] = {
    Observable.UNINSTALLED_BY_DAY1_SHARE: 2.0,
    Observable.UNINSTALLED_BY_DAY30_SHARE: 60.0,
    Observable.REINSTALL_SHARE: 2 * REINSTALL_FOLLOW_DAYS,
    Observable.SESSIONS_PER_ACTIVE_USER_PER_WEEK: 7.0,
}
#: The send of a probe (uninstall tracking, R7) is not a campaign send: its id starts so.
PROBE_PREFIX = "probe"

#: qualifier of an observable: a platform class, a provider, or None
Qualifier = str | None
Key = tuple[Observable, Qualifier]

#: the platform class of each kind of device, and the platform-wide class it also counts in
_CLASSES: dict[DeviceKind, tuple[str, ...]] = {
    DeviceKind.IOS: ("ios",),
    DeviceKind.ANDROID_LEGACY: ("android_12_or_lower", "android"),
    DeviceKind.ANDROID_13: ("android_13_plus", "android"),
    DeviceKind.WEB: ("web",),
}


@dataclass(frozen=True, slots=True)
class Moment:
    """One simulated observable: its value (None when its denominator is empty) and that count.

    ``spread``: for a mean over units (sessions per active install-week, days between
    campaigns), the standard deviation of the units; None for a share (binomial).
    """

    value: float | None
    count: int
    spread: float | None = None


class Moments(Mapping[Key, Moment]):
    """The simulated observables of one run, by (observable, qualifier)."""

    def __init__(self, moments: Mapping[Key, Moment]) -> None:
        self._moments = dict(moments)

    def __getitem__(self, key: Key) -> Moment:
        return self._moments[key]

    def __iter__(self) -> Iterator[Key]:
        return iter(self._moments)

    def __len__(self) -> int:
        return len(self._moments)

    def value(self, observable: Observable | str, qualifier: Qualifier = None) -> float | None:
        """The simulated value, or None when nothing was there to measure it on."""
        moment = self._moments.get((Observable(observable), qualifier))
        return None if moment is None else moment.value

    def count(self, observable: Observable | str, qualifier: Qualifier = None) -> int:
        """The denominator the value was measured over (0 when none)."""
        moment = self._moments.get((Observable(observable), qualifier))
        return 0 if moment is None else moment.count


def _share(hits: int, count: int) -> Moment:
    return Moment(hits / count if count else None, count)


def _mean(units: list[int] | list[float]) -> Moment:
    """The mean over units, with their standard deviation."""
    if not units:
        return Moment(None, 0)
    mean = sum(units) / len(units)
    if len(units) < 2:
        return Moment(mean, len(units), 0.0)
    variance = sum((u - mean) ** 2 for u in units) / (len(units) - 1)
    return Moment(mean, len(units), math.sqrt(variance))


def export_summary(registry: RegistryProtocol, *, app: str | None = None) -> ExportSummary:
    """The registry's tokens as a token export (R12) would give them: one profile per owner."""
    by_profile: dict[str, list[ExportToken]] = defaultdict(list)
    for record in registry.tokens():
        if app is not None and record.app != app:
            continue
        by_profile[record.profile].append(
            ExportToken(
                app=record.app,
                platform=record.platform,
                token=record.token,
                device_id=record.device,
                notifications_enabled=record.foreground,
            )
        )
    profiles = tuple(
        ExportProfile(
            line=line,
            profile_id=profile,
            anonymous=False,
            push_subscribe=None,
            tokens=tuple(tokens),
        )
        for line, (profile, tokens) in enumerate(sorted(by_profile.items()), start=1)
    )
    return ExportSummary(file="the simulated registry", profiles=profiles)


class MomentRecorder:
    """Listens to a world while it runs; :meth:`measure` gives the observables at its end.

    Attach it before the world runs (``MomentRecorder(simulation.world)``): it counts events as
    they happen, and a recorder attached late misses the earlier ones.
    """

    def __init__(self, world: World) -> None:
        self.world = world
        #: install id -> time of the install
        self._installed_at: dict[str, float] = {}
        #: install id -> time of its uninstall
        self._uninstalled_at: dict[str, float] = {}
        #: device id -> times of its installs, in order
        self._installs_of: dict[str, list[float]] = defaultdict(list)
        #: (device id, time) of every uninstall
        self._uninstalls: list[tuple[str, float]] = []
        #: week number -> sessions of each install with a session that week
        self._active: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        #: provider -> [targeted, bounced] over campaign sends
        self._sends: dict[str, list[int]] = {}
        #: campaign id -> time of its first send
        self._campaigns: dict[str, float] = {}
        world.signals.truth.append(self._on_truth)
        world.signals.session.append(self._on_session)
        world.signals.send.append(self._on_send)

    # -- listeners ---------------------------------------------------------------------------

    def _on_truth(self, event: TruthEvent) -> None:
        if event.kind is Truth.INSTALL:
            self._installed_at[event.install_id] = event.time
            self._installs_of[event.device].append(event.time)
        elif event.kind is Truth.UNINSTALL:
            self._uninstalled_at[event.install_id] = event.time
            self._uninstalls.append((event.device, event.time))

    def _on_session(self, now: float, device: Device) -> None:
        week = int(now // 7)
        self._active[week][device.install_id] += 1

    def _on_send(self, send: SendRecord) -> None:
        if send.campaign.startswith(PROBE_PREFIX):
            return
        self._campaigns.setdefault(send.campaign, send.time)
        tally = self._sends.setdefault(PROVIDER_OF[send.platform].value, [0, 0])
        if send.attempt == 0:
            tally[0] += 1
        if send.outcome is Outcome.BOUNCED:
            tally[1] += 1

    # -- the measurement ---------------------------------------------------------------------

    def measure(self) -> Moments:
        """Every observable this run can give, at the world's current time."""
        end = self.world.env.now
        moments: dict[Key, Moment] = {}
        moments.update(self._opt_in())
        for observable, days in (
            (Observable.UNINSTALLED_BY_DAY1_SHARE, 1.0),
            (Observable.UNINSTALLED_BY_DAY30_SHARE, 30.0),
        ):
            moments[(observable, None)] = self._uninstalled_within(days, end)
        moments[(Observable.REINSTALL_SHARE, None)] = self._reinstalled(end)
        moments[(Observable.SESSIONS_PER_ACTIVE_USER_PER_WEEK, None)] = self._sessions_per_week(end)
        moments.update(self._from_export())
        for provider, (targeted, bounced) in sorted(self._sends.items()):
            moments[(Observable.BOUNCE_RATE, provider)] = _share(bounced, targeted)
        starts = sorted(self._campaigns.values())
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        moments[(Observable.CAMPAIGN_CADENCE_DAYS, None)] = _mean(gaps)
        return Moments(moments)

    def _opt_in(self) -> dict[Key, Moment]:
        allowed: dict[str, list[int]] = {}
        for device in self.world.devices.values():
            if device.retired or not device.installed or not device.launched:
                continue
            shows = device.permission in SHOWING
            for name in _CLASSES[device.kind]:
                tally = allowed.setdefault(name, [0, 0])
                tally[0] += shows
                tally[1] += 1
        return {
            (Observable.OPT_IN_SHARE, name): _share(hits, count)
            for name, (hits, count) in sorted(allowed.items())
        }

    def _uninstalled_within(self, days: float, end: float) -> Moment:
        count = hits = 0
        for install_id, at in self._installed_at.items():
            if at > end - days:
                continue
            count += 1
            gone = self._uninstalled_at.get(install_id)
            hits += gone is not None and gone - at <= days
        return _share(hits, count)

    def _reinstalled(self, end: float) -> Moment:
        count = hits = 0
        for device, at in self._uninstalls:
            if at > end - REINSTALL_FOLLOW_DAYS:
                continue
            count += 1
            hits += any(at < t <= at + REINSTALL_FOLLOW_DAYS for t in self._installs_of[device])
        return _share(hits, count)

    def _sessions_per_week(self, end: float) -> Moment:
        weeks = [week for week in sorted(self._active) if (week + 1) * 7 <= end]
        return _mean([n for week in weeks for n in self._active[week].values()])

    def _from_export(self) -> dict[Key, Moment]:
        export = export_summary(self.world.registry)
        moments: dict[Key, Moment] = {}
        users, devices = export.devices_per_user(), export.users_per_device()
        moments[(Observable.MULTI_DEVICE_USER_SHARE, None)] = Moment(
            users.share_above(1), users.units
        )
        moments[(Observable.MULTI_USER_DEVICE_SHARE, None)] = Moment(
            devices.share_above(1), devices.units
        )
        enabled: dict[str, list[int]] = {}
        for profile in export.profiles:
            for token in profile.tokens:
                for name in self._token_classes(token):
                    tally = enabled.setdefault(name, [0, 0])
                    tally[0] += not token.notifications_enabled
                    tally[1] += 1
        for name, (disabled, count) in sorted(enabled.items()):
            moments[(Observable.NOTIFICATIONS_DISABLED_SHARE, name)] = _share(disabled, count)
        return moments

    def _token_classes(self, token: ExportToken) -> tuple[str, ...]:
        """The platform classes a token counts in: its OS class too, where the world knows it."""
        if token.platform is not Platform.ANDROID:
            return (token.platform.value,)
        device = self.world.actions.installs.get(token.device_id)
        if device is None:
            return ("android",)
        return _CLASSES[device.kind]
