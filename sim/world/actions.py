"""What can happen to a device, as deterministic state changes: the verbs of the world.

Each action changes the ground truth (device, provider) and makes the SDK calls a real app would
make. Actions draw nothing themselves: prompt answers and lags are passed in, so the stochastic
behaviour and the scripted stories drive exactly the same code.
"""

from __future__ import annotations

import math
from enum import StrEnum

from sim.platforms import PROVIDER_OF, Platform, Provider
from sim.providers import PushService, TokenDeath
from sim.providers.config import RandomSource
from sim.world.device import ANONYMOUS, SHOWING, Device, DeviceKind, Permission
from sim.world.quiet import QuietSessions
from sim.world.sdk import Sdk
from sim.world.signals import Signals, Truth, TruthEvent

# Members used on every session, bound once: on Python 3.11 reading a member off its enum class
# (``Permission.GRANTED``) goes through ``EnumType``'s slow attribute hook (about 0.1 µs each).
_WEB, _ANDROID_LEGACY = DeviceKind.WEB, DeviceKind.ANDROID_LEGACY
_NOT_ASKED, _DISMISSED = Permission.NOT_ASKED, Permission.DISMISSED
_GRANTED, _PROVISIONAL = Permission.GRANTED, Permission.PROVISIONAL
INF = math.inf


class Answer(StrEnum):
    """A person's answer to a permission prompt."""

    GRANT = "grant"
    DENY = "deny"
    DISMISS = "dismiss"  # Android 13+: asked again next session; web: prompt ignored/silenced


class WorldError(RuntimeError):
    """An action impossible in the current state (a scripted story asking the impossible)."""


def anonymous_user(install_id: str, app: str) -> str:
    """The anonymous profile id the SDK uses on an install before anyone logs in."""
    return f"{ANONYMOUS}{install_id}:{app}"


class Actions:
    """The verbs of the world, applied at ``now`` to devices."""

    def __init__(
        self,
        *,
        app: str,
        sdk: Sdk,
        providers: dict[Provider, PushService],
        signals: Signals,
        ios_provisional: bool = False,
        lag_rng: RandomSource | None = None,
        lifetime_rng: RandomSource | None = None,
    ) -> None:
        self.app = app
        self.sdk = sdk
        self.providers = providers
        self.signals = signals
        self.ios_provisional = ios_provisional
        #: the providers' per-token timing draws: uninstall report lags, and web subscription
        #: lifetimes drawn when a token is issued (None: nominal lags, no silent deaths)
        self.lag_rng = lag_rng
        #: draws a new token's silent death (web), apart from the lags: switching the web hazard
        #: on or off does not shift anyone's uninstall lag
        self.lifetime_rng = lifetime_rng
        #: registry device id (install id) → device, for every install ever made
        self.installs: dict[str, Device] = {}
        #: every device ever in the world, by device id
        self.devices: dict[str, Device] = {}
        #: the push service of each platform (one look-up on the session path instead of two)
        self._service_of = {
            platform: providers[PROVIDER_OF[platform]]
            for platform in Platform
            if PROVIDER_OF[platform] in providers
        }
        #: sessions that change nothing on their device, reported without waking it
        self.quiet = QuietSessions(self._report_session, sdk)
        #: report the quiet sessions and deliver the SDK batches due by a time (see
        #: :mod:`sim.world.quiet`): called before anything reads or changes the world
        self.settle = self.quiet.settle

    def add_device(self, device: Device) -> Device:
        """Add a device to the world."""
        if device.device_id in self.devices:
            raise WorldError(f"device {device.device_id!r} already exists")
        self.devices[device.device_id] = device
        return device

    # -- helpers -----------------------------------------------------------------------------

    def provider(self, device: Device) -> PushService:
        """The push service of the device's platform."""
        return self.providers[PROVIDER_OF[device.platform]]

    def _signal(
        self,
        now: float,
        kind: Truth,
        device: Device,
        old: str | None = None,
        new: str | None = None,
    ) -> None:
        if self.signals.truth:
            self.settle(now)  # truth listeners may read the registry
            self.signals.emit_truth(
                TruthEvent(
                    now,
                    kind,
                    device.device_id,
                    device.install_id,
                    device.platform,
                    device.user,
                    old,
                    new,
                )
            )

    def token_deadlines(self, device: Device) -> tuple[float, float, float]:
        """Until when the device's sessions need no new token: ``(died_at, connected, limit)``.

        A session at t issues no token while ``t < died_at and not t > connected + limit``, and a
        session moves ``connected`` to t (the token's :meth:`~sim.providers.PushService.deadlines`).
        A page without permission needs no token (no deadline); any other device without one
        gets one at its next session (``died_at`` is -inf).
        """
        token = device.token
        if token is None:
            if device.kind is _WEB and device.permission is not _GRANTED:
                return INF, 0.0, INF
            return -INF, 0.0, INF
        return self._service_of[device.platform].deadlines(token)

    def _require(self, device: Device, *, installed: bool = True, launched: bool = False) -> None:
        if device.retired:
            raise WorldError(f"device {device.device_id} has been replaced")
        if installed and not device.installed:
            raise WorldError(f"the app is not installed on {device.device_id}")
        if launched and not device.launched:
            raise WorldError(f"the app has not been launched on {device.device_id}")

    def _report_session(self, now: float, device: Device) -> None:
        if self.signals.session:
            for listener in self.signals.session:
                listener(now, device)
        token = device.token
        if token is not None:
            self._service_of[device.platform].connect(now, token)
        kind, permission = device.kind, device.permission
        if kind is _WEB and permission is not _GRANTED:
            token = None  # a page without a push subscription
        self.sdk.session_start(
            now,
            device=device.install_id,
            app=self.app,
            platform=device.platform,
            token=token,
            foreground=permission in SHOWING,
            provisional=permission is _PROVISIONAL,
            implicit_permission=kind is _ANDROID_LEGACY,
        )

    def _prompt(self, device: Device, answer: Answer | None) -> None:
        """Show the permission prompt (if the platform asks now) and apply ``answer``."""
        kind = device.kind
        if kind is DeviceKind.ANDROID_LEGACY:
            return
        if kind is DeviceKind.IOS:
            if device.permission is not Permission.NOT_ASKED:
                return
            if self.ios_provisional:
                device.permission = Permission.PROVISIONAL
            elif answer is not None:
                device.permission = (
                    Permission.GRANTED if answer is Answer.GRANT else Permission.DENIED
                )
            return
        if kind is DeviceKind.ANDROID_13:
            if device.permission not in (Permission.NOT_ASKED, Permission.DISMISSED):
                return
            if answer is Answer.GRANT:
                device.permission = Permission.GRANTED
            elif answer is Answer.DENY:
                device.permission = Permission.DENIED_FINAL
            elif answer is Answer.DISMISS:
                device.permission = Permission.DISMISSED
            return
        # web: the native prompt; only a grant creates a subscription (R10)
        if device.permission is not Permission.NOT_ASKED or answer is None:
            return
        if answer is Answer.GRANT:
            device.permission = Permission.GRANTED
        elif answer is Answer.DENY:
            device.permission = Permission.DENIED

    def _ensure_token(self, now: float, device: Device) -> None:
        """Native apps get a token at their first session; web only once permission is granted."""
        if device.kind is _WEB and device.permission is not _GRANTED:
            return
        service = self._service_of[device.platform]
        if device.token is not None and service.delivers(now, device.token):
            return
        old = device.token
        device.token = service.issue(
            now, device.device_id, self.app, browser=device.browser, rng=self.lifetime_rng
        )
        self._signal(now, Truth.TOKEN_CHANGED, device, old, device.token)

    # -- the verbs ---------------------------------------------------------------------------

    def install(self, now: float, device: Device) -> None:
        """The app is installed (or reinstalled): a new install id, nothing registered yet (R8)."""
        self._require(device, installed=False)
        if device.installed:
            raise WorldError(f"the app is already installed on {device.device_id}")
        device.install_count += 1
        device.install_id = f"{device.device_id}.{device.install_count}"
        device.installed = True
        device.launched = False
        device.installed_at = now
        device.uninstalled_at = None
        device.token = None
        device.user = None
        device.permission = (
            Permission.GRANTED if device.kind is DeviceKind.ANDROID_LEGACY else Permission.NOT_ASKED
        )
        self.installs[device.install_id] = device
        self._signal(now, Truth.INSTALL, device)

    def launch(self, now: float, device: Device, answer: Answer | None = None) -> None:
        """First session after (re)install: token, permission prompt, session report."""
        self._require(device)
        if device.launched:
            raise WorldError(f"the app on {device.device_id} was already launched")
        device.launched = True
        if device.user is None:
            device.user = anonymous_user(device.install_id, self.app)
        before = device.permission
        self._prompt(device, answer)
        self._ensure_token(now, device)
        self._signal(now, Truth.LAUNCH, device)
        if device.permission is not before:
            self._signal(now, Truth.PERMISSION, device)
        self._report_session(now, device)

    def session(self, now: float, device: Device, answer: Answer | None = None) -> None:
        """A session start. ``answer`` answers a prompt shown again (Android 13+ after dismiss)."""
        if device.retired or not device.installed or not device.launched:
            self._require(device, launched=True)  # raises, saying what is wrong
        before = device.permission
        if before is _NOT_ASKED or before is _DISMISSED:
            # a prompt only ever shows while the permission is undecided (see _prompt)
            self._prompt(device, answer)
            if device.permission is not before:
                self._signal(now, Truth.PERMISSION, device)
        self._ensure_token(now, device)
        self._report_session(now, device)

    def set_permission(self, now: float, device: Device, on: bool) -> None:
        """The user toggles notifications in OS (or browser) settings; reported at next session."""
        self._require(device)
        if on:
            if device.permission.shows:
                return
            device.permission = Permission.GRANTED
        else:
            if not device.permission.shows:
                return
            device.permission = Permission.DENIED
            if device.kind is DeviceKind.WEB and device.token is not None:
                old = device.token
                self.provider(device).invalidate(now, old, TokenDeath.PERMISSION_REVOKED)
                device.token = None
                self._signal(now, Truth.TOKEN_REVOKED, device, old, None)
        self._signal(now, Truth.PERMISSION, device)

    def uninstall(self, now: float, device: Device) -> None:
        """The app is uninstalled: the token dies; the registry learns only from a bounce (R7)."""
        self._require(device)
        old = device.token
        if old is not None:
            self.provider(device).invalidate(now, old, TokenDeath.UNINSTALL, self.lag_rng)
        device.installed = False
        device.launched = False
        device.uninstalled_at = now
        device.token = None
        device.permission = Permission.NOT_ASKED
        self._signal(now, Truth.UNINSTALL, device, old, None)

    def login(self, now: float, device: Device, user: str) -> None:
        """``user`` logs in on the device (``changeUser``): the registry moves the token (R2)."""
        self._require(device, launched=True)
        if device.user == user:
            return
        device.user = user
        self.sdk.change_user(now, device=device.install_id, app=self.app, user=user)
        self._signal(now, Truth.LOGIN, device)

    def logout(self, now: float, device: Device) -> None:
        """The logged-in user logs out and nobody logs in (R3); anonymous users cannot log out."""
        self._require(device, launched=True)
        if device.user is None or device.user.startswith(ANONYMOUS):
            return
        device.user = None
        self.sdk.log_out(now, device=device.install_id, app=self.app)
        self._signal(now, Truth.LOGOUT, device)

    def rotate(self, now: float, device: Device, cause: TokenDeath) -> None:
        """The device's token changes (app update, OS reinstall, provider rotation).

        The registry learns of the new token at the next session start.
        """
        self._require(device)
        old = device.token
        if old is None:
            return
        service = self.provider(device)
        device.token = service.rotate(now, device.device_id, self.app, cause, rng=self.lifetime_rng)
        self._signal(now, Truth.TOKEN_CHANGED, device, old, device.token)

    def replace(self, now: float, device: Device, new_device_id: str, *, restore: bool) -> Device:
        """The device is replaced by a new one; with ``restore`` the app and its data come along.

        The old device's token dies (reported with the uninstall lag: the old phone is wiped).
        A restored install keeps its SDK data (install id, logged-in user, permission) but gets a
        new token from the provider at its first launch on the new device.
        """
        if device.retired:
            raise WorldError(f"device {device.device_id} was already replaced")
        new = self.add_device(
            Device(new_device_id, device.kind, device.owner, device.sharers, browser=device.browser)
        )
        old_token = device.token
        if old_token is not None:
            self.provider(device).invalidate(now, old_token, TokenDeath.UNINSTALL, self.lag_rng)
        if restore and device.installed:
            new.installed = True
            new.install_count = device.install_count
            new.install_id = device.install_id
            new.installed_at = now
            new.user = device.user
            new.permission = device.permission
            self.installs[new.install_id] = new
        device.installed = False
        device.launched = False
        device.token = None
        device.retired = True
        device.uninstalled_at = now
        self._signal(now, Truth.REPLACED, device, old_token, None)
        return new
