"""Stochastic behaviour: the SimPy process that lives one device's life.

One process per device, one SimPy event per real state change. The process keeps the absolute
time of each competing clock (next session, uninstall, permission toggle, update, rotation, user
switch, logout, replacement) and sleeps until the earliest; exponential clocks are memoryless, so
only the clock that fired is redrawn. Sessions that change nothing on the device are drawn ahead
and reported by the world without waking it (:mod:`sim.world.quiet`). Every draw comes from a
named stream (common random numbers).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import simpy

from sim.providers import TokenDeath
from sim.world.actions import Actions, Answer
from sim.world.device import ANONYMOUS, Device, DeviceKind, Permission
from sim.world.params import WorldParams
from sim.world.streams import Streams

INF = math.inf
#: the most quiet sessions of one device handed to the world at a time (see Behaviour._defer_quiet)
QUIET_RUN = 16
#: read on every session; a member read off its enum class is slow on Python 3.11 (EnumType hook)
_DISMISSED = Permission.DISMISSED


def _scale(rate: float) -> float | None:
    """The mean wait of an exponential clock with ``rate`` per day (None: it never fires)."""
    return 1.0 / rate if rate > 0 else None


def _wait(rng: np.random.Generator, scale: float | None) -> float:
    """An exponential waiting time with mean ``scale`` days (infinite for None)."""
    return float(rng.exponential(scale)) if scale is not None else INF


class ExponentialWaits:
    """Exponential waiting times from a stream that draws nothing else, taken in blocks.

    numpy's ``Generator.exponential(scale)`` is ``scale * standard_exponential()`` on the same bit
    generator, and ``standard_exponential(size=n)`` gives the same values as n single draws, so
    ``wait(scale)`` is bit for bit the ``float(rng.exponential(scale))`` of one-by-one drawing, at
    a fraction of the cost. Only valid for a stream nobody else draws from: values are taken ahead.
    """

    __slots__ = ("_block", "_rng")

    #: standard exponentials drawn at a time
    BLOCK = 4096

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._block: list[float] = []

    def wait(self, scale: float) -> float:
        """An exponential waiting time with mean ``scale`` days."""
        block = self._block
        if not block:
            block = self._block = self._rng.standard_exponential(self.BLOCK).tolist()
            block.reverse()  # popped from the end, so drawn in order
        return scale * block.pop()


def _next_session(
    sessions: ExponentialWaits,
    now: float,
    dormant_at: float,
    last_open_at: float,
    active_scale: float | None,
    dormant_scale: float | None,
) -> float:
    """When the next session starts, drawn at ``now`` (a session, or any moment of the install).

    At the active rate until the install goes dormant, the dormant rate after, none from the last
    open on. A wait drawn at the active rate that runs past going dormant is drawn again from
    that moment at the dormant rate (the clock is memoryless): what a process woken when the
    install goes dormant would draw, without waking it.
    """
    if now >= last_open_at:
        return INF
    if now < dormant_at:
        if active_scale is not None:
            at = now + sessions.wait(active_scale)
            if at < dormant_at:
                return at if at < last_open_at else INF
        now = dormant_at
        if now >= last_open_at:
            return INF
    if dormant_scale is None:
        return INF
    at = now + sessions.wait(dormant_scale)
    return at if at < last_open_at else INF


def uninstall_time(u: float, by_day1: float, by_day30: float, later_per_day: float) -> float:
    """Days from install to uninstall, by inverse CDF of a piecewise-constant hazard.

    The hazard is constant on [0, 1) and on [1, 30) so that P(T ≤ 1) = ``by_day1`` and
    P(T ≤ 30) = ``by_day30`` (docs/model.md §3), then ``later_per_day`` after day 30.
    """
    s1 = 1.0 - by_day1
    s30 = 1.0 - by_day30
    survival = 1.0 - u
    if survival >= 1.0:
        return INF
    if survival > s1:
        h1 = -math.log(s1) if s1 > 0 else INF
        return -math.log(survival) / h1
    if survival > s30:
        h2 = -math.log(s30 / s1) / 29.0 if s1 > 0 else INF
        return 1.0 - math.log(survival / s1) / h2
    if later_per_day <= 0 or s30 <= 0:
        return 30.0 if s30 <= 0 else INF
    return 30.0 - math.log(survival / s30) / later_per_day


class Behaviour:
    """Draws people's behaviour and runs each device's life as a SimPy process."""

    def __init__(
        self,
        env: simpy.Environment,
        params: WorldParams,
        actions: Actions,
        streams: Streams,
        new_device_id: Callable[[], str],
    ) -> None:
        self.env = env
        self.params = params
        self.actions = actions
        self.new_device_id = new_device_id
        self.r_behaviour = streams["behaviour"]
        self.r_sessions = streams["sessions"]
        self.r_permission = streams["permission"]
        self.r_lifecycle = streams["lifecycle"]
        self.r_users = streams["users"]
        #: session arrivals, the most frequent draw: the sessions stream draws nothing else
        self.session_waits = ExponentialWaits(self.r_sessions)
        b, p = params.behaviour, params.permission
        self._dormant_scale = _scale(b.dormant_session_rate_per_day)
        #: only the updates that rotate the token change anything: the others are not simulated
        #: (the rotating ones are a Poisson process at the thinned rate)
        self._update_scale = _scale(b.app_update_per_day * b.app_update_rotation_share)
        self._os_scale = _scale(b.os_reinstall_per_day)
        self._rotation_scale = _scale(b.provider_rotation_per_day)
        self._replace_scale = _scale(b.device_replacement_per_day)
        self._switch_scale = _scale(b.user_switch_per_day)
        self._logout_scale = _scale(b.logout_per_day)
        #: the settings toggle: turned off while notifications show, on again while denied
        self._toggle_scales = {
            permission: _scale(
                p.turn_off_per_day
                if permission.shows
                else p.turn_on_per_day
                if permission in (Permission.DENIED, Permission.DENIED_FINAL)
                else 0.0
            )
            for permission in Permission
        }

    def start(self, device: Device, install_at: float) -> None:
        """Start the life of ``device``, its first install at ``install_at``."""
        self.env.process(self.life(device, install_at, restored=False))

    # -- prompt answers ----------------------------------------------------------------------

    def answer(self, device: Device) -> Answer | None:
        """A person's answer to the prompt the device's platform shows at this launch."""
        p = self.params.permission
        u = float(self.r_permission.random())
        if device.kind is DeviceKind.IOS:
            return Answer.GRANT if u < p.ios_opt_in_share else Answer.DENY
        if device.kind is DeviceKind.ANDROID_13:
            if u < p.android_13_opt_in_share:
                return Answer.GRANT
            rest = (u - p.android_13_opt_in_share) / max(1e-12, 1 - p.android_13_opt_in_share)
            return Answer.DISMISS if rest < p.android_13_dismiss_share else Answer.DENY
        if device.kind is DeviceKind.WEB:
            share = (
                p.web_gesture_opt_in_share
                if p.web_prompt == "gesture"
                else p.web_page_load_opt_in_share
            )
            if u < share:
                return Answer.GRANT
            return Answer.DENY if p.web_prompt == "gesture" else Answer.DISMISS
        return None

    # -- one device's life -------------------------------------------------------------------

    def life(self, device: Device, start_at: float, *, restored: bool) -> Generator[Any, Any, None]:
        """Install, launch, sessions and everything else, until the device is replaced.

        One generator for the whole life, sessions included: a suspended generator's frame is the
        largest thing a device costs, and most devices spend the run waiting for their next session.

        While launched, the install's clocks compete. Sessions are by far the most frequent event;
        the other clocks (permission toggle, token-rotating update, OS reinstall, rotation,
        replacement, user switch, logout) rarely fire, so their earliest time is kept in ``rare``
        and recomputed only when one of them is redrawn. The sessions before the earliest of
        ``rare`` and the uninstall that change nothing on the device do not wake it: they are
        drawn ahead and reported by the world (:meth:`_defer_quiet`, :mod:`sim.world.quiet`).
        Going dormant and the last open only change the session rate, inside
        :func:`_next_session`. Equal times are resolved in one fixed order: uninstall, session,
        then toggle, update, OS reinstall, rotation, switch, logout, replacement.
        """
        env, act, b = self.env, self.actions, self.params.behaviour
        sessions, rl, ru = self.sessions_of(device), self.r_lifecycle, self.r_users
        dormant_scale = self._dormant_scale
        settle, defer = act.settle, self._defer_quiet
        if start_at > env.now:
            yield env.timeout(start_at - env.now)
        settle(env.now)
        reinstall = restored
        while True:
            if not device.installed:
                act.install(env.now, device)
            active_rate, lifetime, quiet_before, active_for, comes_back, launch_delay = (
                self._draw_install(reinstall)
            )
            installed_at = env.now
            uninstall_at = installed_at + lifetime
            launch_at = installed_at + launch_delay
            if launch_at < uninstall_at:
                yield env.timeout(launch_at - env.now)
                settle(env.now)
                act.launch(env.now, device, None if restored else self.answer(device))
                self._maybe_login(device)

                # -- launched: competing clocks until uninstall (break) or replacement (return)
                now = env.now
                dormant_at = now + active_for
                last_open_at = uninstall_at - quiet_before
                active_scale = 1.0 / active_rate if active_rate > 0 else None
                # a suspended frame keeps every local alive: drop the install's traits, now
                # spent (a float is 24 bytes, and most devices wait here for the whole run)
                del active_rate, lifetime, quiet_before, active_for, launch_delay
                del installed_at, launch_at
                next_session = _next_session(
                    sessions, now, dormant_at, last_open_at, active_scale, dormant_scale
                )
                next_toggle = now + self._toggle_wait(device)
                next_update = now + _wait(rl, self._update_scale)
                next_os = now + _wait(rl, self._os_scale)
                next_rotation = now + _wait(rl, self._rotation_scale)
                next_replace = now + _wait(rl, self._replace_scale)
                # (the shared INF, not a new float from now + INF, on a device with one user)
                next_switch = now + _wait(ru, self._switch_scale) if device.shared else INF
                next_logout = now + _wait(ru, self._logout_scale)
                rare = min(
                    next_toggle,
                    next_update,
                    next_os,
                    next_rotation,
                    next_replace,
                    next_switch,
                    next_logout,
                )
                while True:
                    change = min(rare, uninstall_at)
                    if (
                        next_session < change
                        and device.permission is not _DISMISSED
                        and device.user is not None
                    ):
                        # the sessions before the next change that change nothing on the
                        # device are reported without waking it (sim.world.quiet)
                        next_session = defer(
                            device,
                            sessions,
                            next_session,
                            change,
                            dormant_at,
                            last_open_at,
                            active_scale,
                            dormant_scale,
                        )
                    t = min(next_session, change)
                    if t == INF:
                        yield env.event()  # nothing will ever happen to this install again
                    yield env.timeout(t - now)
                    # actions happen at the world's time; clocks are drawn from their own exact
                    # time t (SimPy's now + (t - now) can miss t in the last place)
                    now = env.now
                    settle(now)
                    if t == uninstall_at:
                        break
                    if t == next_session:
                        answer = self.answer(device) if device.permission is _DISMISSED else None
                        if device.user is None:
                            self._maybe_login(device)
                        act.session(now, device, answer)
                        next_session = _next_session(
                            sessions, t, dormant_at, last_open_at, active_scale, dormant_scale
                        )
                        if answer is not None:
                            next_toggle = t + self._toggle_wait(device)
                            rare = min(
                                next_toggle,
                                next_update,
                                next_os,
                                next_rotation,
                                next_replace,
                                next_switch,
                                next_logout,
                            )
                        continue
                    if t == next_toggle:
                        act.set_permission(now, device, on=not device.permission.shows)
                        next_toggle = t + self._toggle_wait(device)
                    elif t == next_update:
                        act.rotate(now, device, TokenDeath.APP_UPDATE)
                        next_update = t + _wait(rl, self._update_scale)
                    elif t == next_os:
                        act.rotate(now, device, TokenDeath.OS_REINSTALL)
                        next_os = t + _wait(rl, self._os_scale)
                    elif t == next_rotation:
                        act.rotate(now, device, TokenDeath.ROTATION)
                        next_rotation = t + _wait(rl, self._rotation_scale)
                    elif t == next_switch:
                        others = [s for s in device.sharers if s != device.user]
                        act.login(now, device, others[int(ru.integers(len(others)))])
                        next_switch = t + _wait(ru, self._switch_scale)
                    elif t == next_logout:
                        act.logout(now, device)
                        next_logout = t + _wait(ru, self._logout_scale)
                    elif t == next_replace:
                        self._replace(device, now)
                        return
                    rare = min(
                        next_toggle,
                        next_update,
                        next_os,
                        next_rotation,
                        next_replace,
                        next_switch,
                        next_logout,
                    )
            else:
                yield env.timeout(uninstall_at - env.now) if uninstall_at < INF else env.event()
                settle(env.now)
            restored = False
            if device.installed:
                act.uninstall(env.now, device)
            if not comes_back:
                return
            yield env.timeout(float(rl.exponential(b.reinstall_delay_mean_days)))
            settle(env.now)
            reinstall = True

    def sessions_of(self, device: Device) -> ExponentialWaits:
        """Where the device's session waits are drawn: one stream for all devices."""
        return self.session_waits

    def _defer_quiet(
        self,
        device: Device,
        sessions: ExponentialWaits,
        at: float,
        change: float,
        dormant_at: float,
        last_open_at: float,
        active_scale: float | None,
        dormant_scale: float | None,
    ) -> float:
        """Hand the device's quiet sessions from ``at`` on to the world; the first one it keeps.

        Sessions before ``change`` (the install's next clock other than a session) are quiet
        while the token the device holds still delivers at each of them — then nothing draws
        and nothing is issued there. They are drawn now, one after the other as the process
        would draw them, and reported without waking the device (:mod:`sim.world.quiet`); at
        most :data:`QUIET_RUN` at a time, so a steady device wakes at every ``QUIET_RUN + 1``-th
        session to draw the next run. Returns the first session left to the process: at or
        after ``change``, or one where the token has died or expired (a new one is issued).
        """
        died_at, connected, limit = self.actions.token_deadlines(device)
        times: list[float] = []
        for _ in range(QUIET_RUN):
            if at >= change or at >= died_at or at > connected + limit:
                break
            times.append(at)
            connected = at
            at = _next_session(sessions, at, dormant_at, last_open_at, active_scale, dormant_scale)
        if times:
            self.actions.quiet.add(device, times)
        return at

    def _draw_install(self, reinstall: bool) -> tuple[float, float, float, float, bool, float]:
        """Per-install traits, drawn at install from the behaviour stream.

        Session rate, days to uninstall, last open before uninstall, active period, whether the
        person reinstalls later, and days to the first launch (infinite: never launched).
        """
        b, rb = self.params.behaviour, self.r_behaviour
        rate = b.session_rate_per_day * float(
            np.exp(b.session_rate_log_sigma * rb.standard_normal())
        )
        lifetime = uninstall_time(
            float(rb.random()),
            b.uninstall_by_day1_share,
            b.uninstall_by_day30_share,
            b.uninstall_later_per_day,
        )
        quiet_before = float(rb.exponential(b.last_open_before_uninstall_days))
        active_for = float(rb.exponential(b.active_mean_days))
        comes_back = float(rb.random()) < b.reinstall_share
        never_launched = reinstall and float(rb.random()) < b.reinstall_never_launched_share
        launch_mean = (
            b.reinstall_launch_delay_mean_days if reinstall else b.first_launch_delay_mean_days
        )
        launch_delay = float(rb.exponential(launch_mean)) if launch_mean > 0 else 0.0
        return (
            rate,
            lifetime,
            quiet_before,
            active_for,
            comes_back,
            INF if never_launched else launch_delay,
        )

    def _replace(self, device: Device, now: float) -> None:
        """The device is replaced; the app may come along (restored) or be installed again."""
        env, act, b, rl = self.env, self.actions, self.params.behaviour, self.r_lifecycle
        restore = float(rl.random()) < b.restore_share
        new = act.replace(now, device, self.new_device_id(), restore=restore)
        if restore and new.installed:
            # the restored app is opened on the new device after a while, then lives on
            delay = float(rl.exponential(b.reinstall_launch_delay_mean_days))
            env.process(self.life(new, now + delay, restored=True))
        elif float(rl.random()) < b.reinstall_share:
            delay = float(rl.exponential(b.reinstall_delay_mean_days))
            env.process(self.life(new, now + delay, restored=False))

    def _maybe_login(self, device: Device) -> None:
        """At launch (or a session while logged out), someone may log in."""
        if device.user is not None and not device.user.startswith(ANONYMOUS):
            return
        if float(self.r_users.random()) < self.params.population.login_share:
            self.actions.login(self.env.now, device, device.owner)

    def _toggle_wait(self, device: Device) -> float:
        """Days until the user next flips the notification setting (infinite: never)."""
        return _wait(self.r_permission, self._toggle_scales[device.permission])
