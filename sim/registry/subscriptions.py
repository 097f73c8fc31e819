"""The subscription-per-device registration model (docs/model.md §8), after OneSignal's user model.

A second registration logic to measure beside the reference rules of docs/model.md §1, and the proof
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

What the model shares with the reference (the session start's token bookkeeping, explicit
subscription changes, provider answers, pruning, the audience and the look-ups) is
:class:`~sim.registry.base.RegistryCore`'s; this module holds the model's own rules.

Deviates from docs/model.md §1 on R3 (logout detaches), R4 (no automatic ``opted_in``), R7 (no
probes) and R14 (the anonymous state fills a never-seen id only, not an existing one with no
state set).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.platforms import Platform
from sim.registry.base import RegistryCore, anonymous_profile_id, mark_seen
from sim.registry.checks import check_id, check_user
from sim.registry.errors import RegistryArgumentError
from sim.registry.policy import RegistryPolicy
from sim.registry.records import Profile, Slot, TokenRecord

#: OneSignal's documented limit of subscriptions per user.
MAX_SUBSCRIPTIONS = 20


@dataclass(frozen=True, slots=True)
class Subscription:
    """One (device, app) install: its user, its last session and the token it holds, if any.

    What :meth:`SubscriptionRegistry.subscription` reads; the registry keeps no such object.
    """

    device: str
    app: str
    user: str
    last_session_at: float | None = None
    record: TokenRecord | None = None


class SubscriptionRegistry(RegistryCore):
    """Users, their subscriptions (one per install) and the token each subscription holds."""

    #: OneSignal documents no uninstall probes (R7): campaign bounces reveal uninstalls, and
    #: :meth:`probe_targets` returns none whatever the app's ``uninstall_tracking``
    uninstall_probes = False

    def __init__(
        self, policy: RegistryPolicy | None = None, *, max_subscriptions: int = MAX_SUBSCRIPTIONS
    ) -> None:
        super().__init__(policy)
        if type(max_subscriptions) is not int or max_subscriptions < 1:
            raise RegistryArgumentError(
                f"max_subscriptions must be a positive whole number, got {max_subscriptions!r}"
            )
        self._max = max_subscriptions
        #: each user's subscriptions, in the order they joined the user (the limit's tie-break)
        self._owned: dict[str, dict[Slot, None]] = {}
        #: each subscription's last session (none yet: a subscription a login made)
        self._last_sessions: dict[Slot, float] = {}
        #: anonymous users made per slot so far (the next logout's ``n``)
        self._anonymous_made: dict[Slot, int] = {}

    @property
    def max_subscriptions(self) -> int:
        """The most subscriptions a user holds; a login beyond it detaches the oldest."""
        return self._max

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
        record = super().session_start(
            now,
            device=device,
            app=app,
            platform=platform,
            token=token,
            foreground=foreground,
            provisional=provisional,
            implicit_permission=implicit_permission,
        )
        self._last_sessions[device, app] = now  # (a refused session raised: nothing changed)
        return record

    def change_user(self, now: float, *, device: str, app: str, user: str) -> None:
        """``OneSignal.login(user)``: the device's subscription moves to ``user`` (R2, R14)."""
        self._app(app)
        check_id("device", device)
        check_user(user)
        self._tick(now)
        slot = (device, app)
        current = self.current_user(device, app)  # None: the slot was never seen
        profile = self._profiles.get(user)
        if profile is None:
            profile = self._profiles[user] = Profile(user)
            anonymous = self._profiles[current] if current is not None else None
            if anonymous is not None and anonymous.anonymous:  # R14: it becomes this user
                profile.state = anonymous.state
                profile.state_changed_at = anonymous.state_changed_at
        mark_seen(profile, device)
        if current is None:
            self._new_subscription(slot, user)
        elif current != user:
            self._reassign(slot, current, user, now)
        else:
            return
        owned = self._owned[user]
        while len(owned) > self._max:  # detach the other with the oldest last session
            _, _, oldest = min(
                (self._last_sessions.get(s, -math.inf), position, s)
                for position, s in enumerate(owned)
                if s != slot
            )
            self._detach(oldest, user, now)

    def log_out(self, now: float, *, device: str, app: str) -> None:
        """``OneSignal.logout()``: the subscription moves to a new anonymous user (token kept)."""
        self._app(app)
        check_id("device", device)
        self._tick(now)
        current = self.current_user(device, app)
        if current is not None and not self._profiles[current].anonymous:
            self._detach((device, app), current, now)

    # -- look-ups ----------------------------------------------------------------------------

    def subscriptions(self, profile_id: str) -> list[Slot]:
        """The (device, app) subscriptions a user holds, with or without a token, join order."""
        return list(self._owned.get(profile_id, ()))

    def subscription(self, device: str, app: str) -> Subscription | None:
        """A (device, app) subscription as it is now (None: never seen)."""
        held = self._slots.get((device, app))
        if held is None:
            return None
        record = held if isinstance(held, TokenRecord) else None
        user = held.profile if isinstance(held, TokenRecord) else held
        return Subscription(device, app, user, self._last_sessions.get((device, app)), record)

    def user_of(self, device: str, app: str) -> str | None:
        """The user a (device, app) subscription belongs to (None: never seen)."""
        return self.current_user(device, app)

    # -- the model's own rules ---------------------------------------------------------------

    def _new_slot(self, slot: Slot) -> str:
        """A slot's first session: its subscription, under a new anonymous user."""
        user = self._new_anonymous(slot)
        self._new_subscription(slot, user)
        return user

    def _opt_in(self, profile_id: str, now: float) -> None:
        """A grant enables the subscription only (R4): the user's state is left as it is."""

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
        mark_seen(profile, slot[0])
        return user

    def _new_subscription(self, slot: Slot, user: str) -> None:
        self._slots[slot] = user
        self._owned.setdefault(user, {})[slot] = None

    def _reassign(self, slot: Slot, old: str, user: str, now: float) -> None:
        """The subscription (and its token, if any: R13's remove + add) moves to ``user``."""
        owned = self._owned[old]
        del owned[slot]
        if not owned:
            del self._owned[old]
        self._owned.setdefault(user, {})[slot] = None
        held = self._slots[slot]
        if isinstance(held, TokenRecord):
            self._move(held, user, now)  # the slot's user is its record's profile
        else:
            self._slots[slot] = user

    def _detach(self, slot: Slot, user: str, now: float) -> None:
        """``user``'s subscription moves to a new anonymous user (logout, or the limit)."""
        self._reassign(slot, user, self._new_anonymous(slot, detached=True), now)
