"""The subscription-per-device registration model (DESIGN §8), after OneSignal's user model.

A second registration logic to measure beside the reference rules of DESIGN §1, and the proof
that the world runs against any :class:`~sim.registry.protocol.RegistryProtocol`. Pure domain
code: no SimPy, no randomness, no I/O, no clock (every change carries ``now``, in days).

Public sources (OneSignal's documentation):

- "Users", https://documentation.onesignal.com/docs/users: up to 20 subscriptions per user;
  users are anonymous until ``OneSignal.login`` gives an External ID; the subscription status
  belongs to the subscription, not the user; on login (anonymous → identified, A → B) the
  subscription is reassigned to the new user; ``OneSignal.logout`` creates a new user.
- "Subscriptions", https://documentation.onesignal.com/docs/subscriptions: one subscription per
  install, with its token, status and last session; a 21st subscription makes the oldest by last
  session lose the External ID: "a new anonymous user for the inactive Subscription".
- OneSignal-Android-SDK issue #2043 (a maintainer's answer),
  https://github.com/OneSignal/OneSignal-Android-SDK/issues/2043: logout creates a new anonymous
  user and moves the push subscription to it, dissociated from the user who logged out.
- "OneSignalPushSubscription class", https://pub.dev/documentation/onesignal_flutter/latest/
  onesignal_flutter/OneSignalPushSubscription-class.html: ``optedIn`` is the device's, false
  without OS permission.

The rules as implemented:

- A (device, app) slot seen at a session start (or a login) is a *subscription*: its user, last
  session and token record. The record is enabled (``foreground``) as the session reports (R1,
  R4); a grant never sets the user to ``opted_in``. A slot's first session creates its anonymous
  user, :func:`~sim.registry.anonymous_profile_id`.
- Login moves the subscription to the user. A never-seen External ID whose subscription is held by
  an anonymous user becomes that user, its state carried over (R14); an existing user keeps its
  own. Logout moves it, token and all, to a new anonymous user ``anon:<device>:<app>:<n>`` (n = 1,
  2… per slot, the first id free); with an anonymous user in place it does nothing, as the SDK.
  A login beyond ``max_subscriptions`` detaches the user's other subscription with the oldest last
  session the same way (never-seen first; ties: the one that joined the user first).
- :meth:`~SubscriptionRegistry.set_subscription` sets the *user's* state, as the reference; a
  default campaign targets enabled tokens of ``subscribed`` / ``opted_in`` users (R9). An opt-out
  follows the user, not the device: a subscription detached from an unsubscribed user starts
  ``subscribed`` under its new anonymous user (OneSignal keeps an SDK ``optOut()`` on the device).
- Provider answers, the APNs 410 timestamp, pruning and ``refresh_on_session_start`` act on token
  records as in the reference; a bounce leaves the subscription with its user and no token.
  ``detach_on_logout`` has no use (a logout always detaches). OneSignal documents no uninstall
  probes: :meth:`~SubscriptionRegistry.probe_targets` returns none; campaign bounces reveal them.
- Every add / update / remove of a token record is a :class:`~sim.registry.TokenEvent` (R13); a
  move between users, logout and limit included, is a remove plus an add with cause ``moved``.

Deviates from DESIGN §1 on R3 (logout detaches), R4 (no automatic ``opted_in``), R7 (no probes)
and R14 (the anonymous state fills a never-seen id only, not an existing one with no state set).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from operator import attrgetter

from sim.platforms import PROVIDER_OF, Platform, Provider, UnknownPlatformError, parse_platform
from sim.providers.answers import Action, SendResult, classify
from sim.registry import ResponseOutcome, anonymous_profile_id
from sim.registry.activity import ActivityOrder
from sim.registry.audience import AudienceIndex
from sim.registry.errors import (
    InvalidSubscriptionStateError,
    InvalidTimeError,
    PlatformNotSupportedError,
    RegistryArgumentError,
    RegistryError,
    TimeWentBackwardsError,
    UnknownAppError,
    UnknownProfileError,
)
from sim.registry.events import Cause, Change, EventStream, TokenEvent, TokenListener
from sim.registry.policy import RegistryPolicy
from sim.registry.records import (
    EMPTY,
    TARGETABLE,
    App,
    Profile,
    Slot,
    SubscriptionState,
    TokenRecord,
    UninstallEstimate,
)

#: OneSignal's documented limit of subscriptions per user.
MAX_SUBSCRIPTIONS = 20
#: a token record's fields a :class:`TokenEvent` carries, after its time, change and cause
_EVENT_FIELDS = attrgetter(
    "token", "app", "platform", "device", "profile", "foreground", "provisional"
)


@dataclass(slots=True)
class Subscription:
    """One (device, app) install: its user, its last session and the token it holds, if any."""

    device: str
    app: str
    user: str
    last_session_at: float | None = None
    record: TokenRecord | None = None


def _check_id(kind: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise RegistryArgumentError(f"{kind} must be a non-empty string, got {value!r}")


def _check_user(user: object) -> None:
    if not isinstance(user, str) or not user or user.startswith("anon:"):
        raise RegistryArgumentError(f"user id must be a non-empty external id, got {user!r}")


def _hold(profile: Profile, slot: Slot, token: str) -> None:
    """The profile holds ``token`` for ``slot`` (a dict of its own: :data:`EMPTY` is shared)."""
    if profile.tokens is EMPTY:
        profile.tokens = {slot: token}
    else:
        profile.tokens[slot] = token


def _release(profile: Profile, slot: Slot) -> None:
    del profile.tokens[slot]
    if not profile.tokens:
        profile.tokens = EMPTY


def _seen(profile: Profile, device: str) -> None:
    """The profile has been seen on ``device`` (first-seen order, once)."""
    if device not in profile.devices:
        seen = profile.seen_on
        profile.seen_on = device if not seen else (*profile.devices, device)


class SubscriptionRegistry:
    """Users, their subscriptions (one per install) and the token each subscription holds."""

    def __init__(
        self, policy: RegistryPolicy | None = None, *, max_subscriptions: int = MAX_SUBSCRIPTIONS
    ) -> None:
        if policy is not None and not isinstance(policy, RegistryPolicy):
            raise RegistryArgumentError(f"policy must be a RegistryPolicy, got {policy!r}")
        if type(max_subscriptions) is not int or max_subscriptions < 1:
            raise RegistryArgumentError(
                f"max_subscriptions must be a positive whole number, got {max_subscriptions!r}"
            )
        self._policy = policy if policy is not None else RegistryPolicy()
        self._max = max_subscriptions
        self.events = EventStream()
        self._targetability_listeners: list[Callable[[str, bool], None]] = []
        self._now = -math.inf
        self._apps: dict[str, App] = {}
        self._profiles: dict[str, Profile] = {}
        self._tokens: dict[str, TokenRecord] = {}
        self._subscriptions: dict[Slot, Subscription] = {}
        #: each user's subscriptions, in the order they joined the user (the limit's tie-break)
        self._owned: dict[str, dict[Slot, None]] = {}
        #: anonymous users made per slot so far (the next logout's ``n``)
        self._anonymous_made: dict[Slot, int] = {}
        self._audience = AudienceIndex()
        #: per app: tokens by last session, kept only while the policy prunes
        self._sessions: dict[str, ActivityOrder] = {}
        self._uninstalls: dict[Slot, UninstallEstimate] = {}

    @property
    def policy(self) -> RegistryPolicy:
        """The policy the registry was built with."""
        return self._policy

    @property
    def max_subscriptions(self) -> int:
        """The most subscriptions a user holds; a login beyond it detaches the oldest."""
        return self._max

    # -- set-up ------------------------------------------------------------------------------

    def add_app(
        self, app_id: str, platforms: Iterable[Platform | str], *, uninstall_tracking: bool = False
    ) -> App:
        """Know an app and its platforms (``uninstall_tracking`` is kept but probes nothing)."""
        _check_id("app id", app_id)
        if isinstance(platforms, str) or not isinstance(platforms, Iterable):
            raise RegistryArgumentError(f"app {app_id!r}: platforms must be a list of platforms")
        if not isinstance(uninstall_tracking, bool):
            raise RegistryArgumentError(f"app {app_id!r}: uninstall_tracking must be a bool")
        if app_id in self._apps:
            raise RegistryError(f"app {app_id!r} is already registered")
        try:
            parsed = frozenset(parse_platform(p) for p in platforms)
        except UnknownPlatformError as error:
            raise RegistryError(f"app {app_id!r}: {error}") from None
        if not parsed:
            raise RegistryError(f"app {app_id!r} must be published on at least one platform")
        app = self._apps[app_id] = App(app_id, parsed, uninstall_tracking=uninstall_tracking)
        if self._policy.prune_after_days is not None:
            self._sessions[app_id] = ActivityOrder()
        return app

    def subscribe(self, listener: TokenListener) -> Callable[[], None]:
        """Receive every token event from now on (R13); returns an unsubscribe function."""
        if not callable(listener):
            raise RegistryArgumentError(f"a listener must be callable, got {listener!r}")
        return self.events.subscribe(listener)

    def on_targetability(self, listener: Callable[[str, bool], None]) -> None:
        """Call ``listener(profile_id, targetable)`` whenever a user's targetability changes."""
        if not callable(listener):
            raise RegistryArgumentError(f"a listener must be callable, got {listener!r}")
        self._targetability_listeners.append(listener)

    # -- the SDK -----------------------------------------------------------------------------

    def session_start(
        self,
        now: float,
        *,
        device: str,
        app: str,
        platform: Platform | str,
        token: str | None,
        foreground: bool,
        provisional: bool = False,
        implicit_permission: bool = False,
    ) -> TokenRecord | None:
        """A session start: the subscription's token and whether it is enabled (R1, R4, R10).

        The first session on a slot creates its subscription under a new anonymous user. A
        permission grant enables the subscription only: the user's state is left as it is, so
        ``implicit_permission`` changes nothing here. Returns the record now held, if any.
        """
        _check_id("device", device)
        if token is not None:
            _check_id("token", token)
        plat = self._platform(app, platform)
        elsewhere = self._tokens.get(token) if token is not None else None
        if elsewhere is not None and (elsewhere.app != app or elsewhere.platform is not plat):
            raise RegistryError(
                f"token {token!r} is registered for app {elsewhere.app!r} "
                f"({elsewhere.platform.value}); it cannot be reported for {app!r}"
            )
        self._tick(now)
        slot = (device, app)
        sub = self._subscriptions.get(slot)
        if sub is None:
            sub = self._new_subscription(slot, self._new_anonymous(slot))
        sub.last_session_at = now
        existing = sub.record
        if token is None:
            if existing is not None:
                self._remove(existing, now, Cause.PURGED)
            return None
        shown = foreground or provisional
        if existing is not None and existing.token == token:
            record = existing
            if self._policy.refresh_on_session_start:
                record.registered_at = now
                if record.foreground != shown or record.provisional != provisional:
                    self._update_permission(record, shown, provisional, now)
        else:
            if existing is not None:
                self._remove(existing, now, Cause.REPLACED)
            if elsewhere is not None:
                self._remove(elsewhere, now, Cause.REASSIGNED)
            record = TokenRecord(
                token=token,
                app=app,
                platform=plat,
                device=device,
                profile=sub.user,
                foreground=shown,
                provisional=provisional,
                created_at=now,
                updated_at=now,
                registered_at=now,
                last_session_at=now,
            )
            self._add(record, now)
        record.last_session_at = now
        sessions = self._sessions.get(app)
        if sessions is not None:
            sessions.touch(record.token, now)
        return record

    def change_user(self, now: float, *, device: str, app: str, user: str) -> None:
        """``OneSignal.login(user)``: the device's subscription moves to ``user`` (R2, R14)."""
        self._app(app)
        _check_id("device", device)
        _check_user(user)
        self._tick(now)
        slot = (device, app)
        sub = self._subscriptions.get(slot)
        profile = self._profiles.get(user)
        if profile is None:
            current = self._profiles[sub.user] if sub is not None else None
            profile = self._profiles[user] = Profile(user)
            if current is not None and current.anonymous:  # R14: the anonymous user is identified
                profile.state, profile.state_changed_at = current.state, current.state_changed_at
        _seen(profile, device)
        if sub is None:
            self._new_subscription(slot, user)
        elif sub.user != user:
            self._reassign(sub, user, now)
        else:
            return
        owned = self._owned[user]
        while len(owned) > self._max:  # detach the other with the oldest last session
            _, _, oldest = min(
                (self._last_session(s), position, s)
                for position, s in enumerate(owned)
                if s != slot
            )
            self._detach(self._subscriptions[oldest], now)

    def log_out(self, now: float, *, device: str, app: str) -> None:
        """``OneSignal.logout()``: the subscription moves to a new anonymous user (token kept)."""
        self._app(app)
        _check_id("device", device)
        self._tick(now)
        sub = self._subscriptions.get((device, app))
        if sub is not None and not self._profiles[sub.user].anonymous:
            self._detach(sub, now)

    def set_subscription(self, now: float, profile_id: str, state: SubscriptionState | str) -> None:
        """The user's subscription state (SDK or REST), last set wins; it gates targeting (R9)."""
        try:
            new = SubscriptionState(state)
        except ValueError:
            allowed = ", ".join(s.value for s in SubscriptionState)
            raise InvalidSubscriptionStateError(
                f"unknown subscription state {state!r}; allowed: {allowed}"
            ) from None
        _check_id("profile id", profile_id)
        profile = self._profiles.get(profile_id)
        if profile is None and profile_id.startswith("anon:"):
            raise UnknownProfileError(f"unknown anonymous profile {profile_id!r}")
        self._tick(now)
        if profile is None:
            profile = self._profiles[profile_id] = Profile(profile_id)
        self._set_state(profile, new, now)

    # -- the sender --------------------------------------------------------------------------

    def handle_response(self, now: float, token: str, result: SendResult) -> ResponseOutcome:
        """Act on a provider's answer (R5, R6, R7, APNs' 410 timestamp): as the reference."""
        _check_id("token", token)
        if not isinstance(result, SendResult):
            raise RegistryArgumentError(f"result must be a SendResult, got {result!r}")
        action = classify(result)
        record = self._tokens.get(token)
        if record is not None and PROVIDER_OF[record.platform] is not result.provider:
            raise RegistryError(
                f"answer from {result.provider.value} for {record.platform.value} token {token!r}"
            )
        self._tick(now)
        if record is None:
            return ResponseOutcome(action, held=False)
        record.last_push_at = now
        if action is Action.DELIVERED:
            record.last_accepted_at = now
        elif action is Action.REMOVE:
            if (
                self._policy.honour_apns_timestamp
                and result.provider is Provider.APNS
                and result.status == 410
                and result.timestamp is not None
                and record.registered_at > result.timestamp
            ):
                return ResponseOutcome(action, held=True, stale_410=True)
            last_sign = max(record.last_session_at, record.last_accepted_at or -math.inf)
            estimate = result.timestamp if result.timestamp is not None else last_sign
            self._uninstalls[record.slot] = UninstallEstimate(
                record.device, record.app, record.profile, token, now, estimate
            )
            self._remove(record, now, Cause.BOUNCE)
            return ResponseOutcome(action, held=True, removed=True)
        elif action is Action.FLAG_CONFIG:
            self._apps[record.app].config_flagged_at = now
        elif action is Action.FLAG_PAYLOAD:
            self._apps[record.app].payload_flagged_at = now
        return ResponseOutcome(action, held=True)

    def probe_targets(self, now: float, app: str) -> list[str]:
        """None: OneSignal has no uninstall probes; campaign bounces reveal uninstalls (R7)."""
        self._app(app)
        self._tick(now)
        return []

    def prune_inactive(self, now: float) -> list[str]:
        """Remove tokens with no session for ``policy.prune_after_days`` (no-op when off)."""
        self._tick(now)
        window = self._policy.prune_after_days
        if window is None:
            return []
        pruned: list[str] = []
        for order in self._sessions.values():
            stale = list(order.quiet_since(now - window))
            for token in stale:
                self._remove(self._tokens[token], now, Cause.PRUNED)
            pruned.extend(stale)
        return pruned

    def campaign_tokens(
        self, app: str, *, foreground_only: bool = True, platform: Platform | str | None = None
    ) -> list[TokenRecord]:
        """Tokens a default campaign sends to: enabled ones of targetable users (R9)."""
        self._app(app)
        plat = self._platform(app, platform) if platform is not None else None
        out: list[TokenRecord] = []
        for profile_id in self._audience.holders(app, plat, foreground_only=foreground_only):
            profile = self._profiles[profile_id]
            if profile.state not in TARGETABLE:
                continue
            for (_, token_app), token in profile.tokens.items():
                record = self._tokens[token]
                if (
                    token_app == app
                    and (plat is None or record.platform is plat)
                    and (record.foreground or not foreground_only)
                ):
                    out.append(record)
        return out

    # -- look-ups ----------------------------------------------------------------------------

    def audience(
        self,
        app: str,
        *,
        foreground_only: bool = True,
        platform: Platform | str | None = None,
        include_unsubscribed: bool = False,
    ) -> list[str]:
        """Users a default campaign to ``app`` targets (R9), in a deterministic order."""
        self._app(app)
        plat = self._platform(app, platform) if platform is not None else None
        holders = self._audience.holders(app, plat, foreground_only=foreground_only)
        if include_unsubscribed:
            return list(holders)
        return [p for p in holders if self._profiles[p].state in TARGETABLE]

    def audience_size(
        self, app: str, *, foreground_only: bool = True, platform: Platform | str | None = None
    ) -> int:
        """``len(audience(...))``, in O(1)."""
        self._app(app)
        plat = self._platform(app, platform) if platform is not None else None
        return self._audience.targetable_count(app, plat, foreground_only=foreground_only)

    def tokens(self) -> Iterator[TokenRecord]:
        """Every token record held, in registration order."""
        return iter(self._tokens.values())

    def token(self, token: str) -> TokenRecord | None:
        """The record of ``token``, if held."""
        return self._tokens.get(token)

    def token_for(self, device: str, app: str) -> TokenRecord | None:
        """The record held by a (device, app) subscription, if any."""
        sub = self._subscriptions.get((device, app))
        return sub.record if sub is not None else None

    def is_targetable(self, profile_id: str) -> bool:
        """True when the user exists and is ``subscribed`` or ``opted_in`` (R9)."""
        profile = self._profiles.get(profile_id)
        return profile is not None and profile.state in TARGETABLE

    def has_profile(self, profile_id: str) -> bool:
        """True when the registry has created ``profile_id``."""
        return profile_id in self._profiles

    def profile(self, profile_id: str) -> Profile:
        """The user named ``profile_id``; raises :class:`UnknownProfileError`."""
        profile = self._profiles.get(profile_id)
        if profile is None:
            raise UnknownProfileError(f"unknown profile {profile_id!r}")
        return profile

    def profiles(self) -> Iterator[Profile]:
        """Every user, anonymous ones included, in creation order."""
        return iter(self._profiles.values())

    def subscriptions(self, profile_id: str) -> list[Slot]:
        """The (device, app) subscriptions a user holds, with or without a token, join order."""
        return list(self._owned.get(profile_id, ()))

    def user_of(self, device: str, app: str) -> str | None:
        """The user a (device, app) subscription belongs to (None: never seen)."""
        sub = self._subscriptions.get((device, app))
        return sub.user if sub is not None else None

    def uninstall_estimate(self, device: str, app: str) -> UninstallEstimate | None:
        """What the registry concluded about an uninstall of the slot from a bounce (R7)."""
        return self._uninstalls.get((device, app))

    # -- internals ---------------------------------------------------------------------------

    def _tick(self, now: float) -> None:
        given: object = now
        try:
            finite = isinstance(given, numbers.Real) and math.isfinite(given)
        except OverflowError:  # an int too large for a float
            finite = False
        if not finite:
            raise InvalidTimeError(f"now must be a finite number of days, got {now!r}")
        if now < self._now:
            raise TimeWentBackwardsError(f"now={now!r} is earlier than the latest {self._now!r}")
        self._now = now

    def _app(self, app: str) -> App:
        found = self._apps.get(app) if isinstance(app, str) else None
        if found is None:
            _check_id("app", app)
            known = ", ".join(sorted(self._apps)) or "none"
            raise UnknownAppError(f"unknown app {app!r}; registered apps: {known}")
        return found

    def _platform(self, app: str, platform: Platform | str) -> Platform:
        known = self._app(app)
        try:
            plat = parse_platform(platform)
        except UnknownPlatformError as error:
            raise RegistryError(str(error)) from None
        if plat not in known.platforms:
            allowed = ", ".join(sorted(p.value for p in known.platforms))
            raise PlatformNotSupportedError(
                f"app {app!r} is not published on {plat.value}; its platforms: {allowed}"
            )
        return plat

    def _last_session(self, slot: Slot) -> float:
        last = self._subscriptions[slot].last_session_at
        return last if last is not None else -math.inf

    def _new_anonymous(self, slot: Slot, *, detached: bool = False) -> str:
        """A new anonymous user for ``slot`` (the next free id if the one due is taken).

        ``anon:<device>:<app>`` at the slot's first session, ``…:<n>`` (n = 1, 2…) per detach.
        """
        base = anonymous_profile_id(*slot)
        made = self._anonymous_made.get(slot, 0)
        if detached:
            made = max(made, 1)
        user = f"{base}:{made}" if made else base
        while user in self._profiles:
            made += 1
            user = f"{base}:{made}"
        self._anonymous_made[slot] = made + 1
        profile = self._profiles[user] = Profile(user, anonymous=True)
        _seen(profile, slot[0])
        return user

    def _new_subscription(self, slot: Slot, user: str) -> Subscription:
        sub = self._subscriptions[slot] = Subscription(slot[0], slot[1], user)
        self._owned.setdefault(user, {})[slot] = None
        return sub

    def _reassign(self, sub: Subscription, user: str, now: float) -> None:
        """The subscription (and its token, if any: R13's remove + add) moves to ``user``."""
        slot = (sub.device, sub.app)
        owned = self._owned[sub.user]
        del owned[slot]
        if not owned:
            del self._owned[sub.user]
        sub.user = user
        self._owned.setdefault(user, {})[slot] = None
        if sub.record is not None:
            self._move(sub.record, user, now)

    def _detach(self, sub: Subscription, now: float) -> None:
        """The subscription moves to a new anonymous user (logout, or the limit)."""
        self._reassign(sub, self._new_anonymous((sub.device, sub.app), detached=True), now)

    def _emit(self, record: TokenRecord, change: Change, cause: Cause, now: float) -> None:
        if self.events.active:
            self.events.emit(TokenEvent(now, change, cause, *_EVENT_FIELDS(record)))

    def _add(self, record: TokenRecord, now: float) -> None:
        self._tokens[record.token] = record
        self._subscriptions[record.slot].record = record
        profile = self._profiles[record.profile]
        _hold(profile, record.slot, record.token)
        self._audience.add(profile, record.app, record.platform, record.foreground)
        self._emit(record, Change.ADD, Cause.REGISTERED, now)

    def _remove(self, record: TokenRecord, now: float, cause: Cause) -> None:
        del self._tokens[record.token]
        self._subscriptions[record.slot].record = None
        profile = self._profiles[record.profile]
        _release(profile, record.slot)
        self._audience.remove(profile, record.app, record.platform, record.foreground)
        sessions = self._sessions.get(record.app)
        if sessions is not None:
            sessions.discard(record.token)
        self._emit(record, Change.REMOVE, cause, now)

    def _move(self, record: TokenRecord, user: str, now: float) -> None:
        old = self._profiles[record.profile]
        _release(old, record.slot)
        self._audience.remove(old, record.app, record.platform, record.foreground)
        self._emit(record, Change.REMOVE, Cause.MOVED, now)
        record.profile = user
        record.updated_at = now
        new = self._profiles[user]
        _hold(new, record.slot, record.token)
        self._audience.add(new, record.app, record.platform, record.foreground)
        self._emit(record, Change.ADD, Cause.MOVED, now)

    def _update_permission(
        self, record: TokenRecord, shown: bool, provisional: bool, now: float
    ) -> None:
        if record.foreground != shown:
            profile = self._profiles[record.profile]
            self._audience.set_foreground(profile, record.app, record.platform, shown)
        record.foreground = shown
        record.provisional = provisional
        record.updated_at = now
        self._emit(record, Change.UPDATE, Cause.PERMISSION, now)

    def _set_state(self, profile: Profile, new: SubscriptionState, now: float) -> None:
        old = profile.state
        profile.state = new
        profile.state_changed_at = now
        targetable = new in TARGETABLE
        if (old in TARGETABLE) != targetable:
            self._audience.targetability_changed(profile, targetable)
            for listener in self._targetability_listeners:
                listener(profile.profile_id, targetable)
