"""What every registration model shares: apps, the clock, token records, the audience, the look-ups.

:class:`RegistryCore` keeps the indexes a model needs (apps, profiles, token records, each
(device, app) slot's record or current user, the audience index, the activity orders of pruning
and uninstall probes) and applies the rules the reference (docs/model.md §1) and the
subscription-per-device model (docs/model.md §8) apply alike:

- a session start reports the slot's token and permission (R1, R4, R8, R10): a new token replaces
  the slot's, a token reported for another slot leaves it, ``None`` purges the slot's;
- an explicit subscription change sets the profile's state, the value last set wins;
- a provider answer acts on the token (R5, R6, R7; APNs' 410 timestamp); pruning (policy);
- the audience of a default campaign (R9) and the read-only look-ups;
- every add, update and remove of a token record is a :class:`~sim.registry.TokenEvent` (R13).

A model extends it with its own rules: who a slot's first session belongs to (:meth:`_new_slot`),
what a permission grant does to the profile (:meth:`_opt_in`), login (``change_user``), logout
(``log_out``), and whether it probes quiet tokens (:attr:`~RegistryCore.uninstall_probes`).

Pure domain code: no SimPy, no randomness, no clock: every operation takes ``now`` (days) and
refuses a ``now`` earlier than one already seen. Every operation is O(1) in the number of profiles
and tokens; queries cost the length of their answer. The session start and the provider answer are
the simulator's hot path: they test an argument's exact type first (``x.__class__ is str``) and
call the checks of :mod:`sim.registry.checks` only when that fails.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import ClassVar

from sim.platforms import PROVIDER_OF, Platform, Provider, UnknownPlatformError, parse_platform
from sim.providers.answers import Action, SendResult, classify
from sim.registry.activity import ActivityOrder
from sim.registry.audience import AudienceIndex
from sim.registry.checks import BEFORE_ANY, LAST_TIME, check_id, check_policy, check_time
from sim.registry.errors import (
    InvalidSubscriptionStateError,
    PlatformNotSupportedError,
    RegistryArgumentError,
    RegistryError,
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

# Members read on every provider answer, token change and opt-in, bound once: a member read off
# its enum class goes through EnumType's slow attribute hook on Python 3.11.
_DELIVERED, _REMOVE = Action.DELIVERED, Action.REMOVE
_ADD, _UPDATE, _REMOVAL = Change.ADD, Change.UPDATE, Change.REMOVE
_REGISTERED, _REPLACED, _PURGED = Cause.REGISTERED, Cause.REPLACED, Cause.PURGED
_MOVED, _PERMISSION = Cause.MOVED, Cause.PERMISSION

#: Uninstall tracking probes users with no session and no push for this long (rule R7).
PROBE_QUIET_DAYS = 1.0

_INF = math.inf


@dataclass(frozen=True, slots=True)
class ResponseOutcome:
    """What the registry did with one provider answer."""

    action: Action
    #: the registry held the token when the answer arrived
    held: bool
    #: the token was removed because of this answer
    removed: bool = False
    #: an APNs 410 older than the token's latest registration, ignored (docs/model.md §2)
    stale_410: bool = False


#: the outcomes that carry no more than the action, built once (they are immutable)
_NOT_HELD = {action: ResponseOutcome(action, held=False) for action in Action}
_HELD = {action: ResponseOutcome(action, held=True) for action in Action}


def anonymous_profile_id(device: str, app: str) -> str:
    """Id of the anonymous profile the SDK uses on a device's app before anyone logs in."""
    return f"anon:{device}:{app}"


def mark_seen(profile: Profile, device: str) -> None:
    """The profile has been seen on ``device`` (kept in first-seen order, once)."""
    seen = profile.seen_on
    if isinstance(seen, str):
        if seen != device:
            profile.seen_on = (seen, device)
    elif device not in seen:
        profile.seen_on = (*seen, device) if seen else device


def _hold(profile: Profile, slot: Slot, token: str) -> None:
    """The profile now holds ``token`` for ``slot`` (its own dict from the first token on)."""
    if profile.tokens is EMPTY:
        profile.tokens = {slot: token}
    else:
        profile.tokens[slot] = token


def _release(profile: Profile, slot: Slot) -> None:
    """The profile no longer holds the token of ``slot`` (the shared empty dict once none)."""
    tokens = profile.tokens
    del tokens[slot]
    if not tokens:
        profile.tokens = EMPTY


class RegistryCore:
    """Profiles, token records and the rules every model applies to them alike."""

    #: the model probes the quiet tokens of apps with uninstall tracking (R7): it keeps their
    #: tokens ordered by last session or push, and :meth:`probe_targets` answers from that order
    uninstall_probes: ClassVar[bool]

    def __init__(self, policy: RegistryPolicy | None = None) -> None:
        if policy is not None:
            check_policy(policy)
        self._policy = policy if policy is not None else RegistryPolicy()
        self.events = EventStream()
        #: listeners told when a profile becomes targetable or stops being (R9), for observers
        #: that keep audience counts of their own
        self._targetability_listeners: list[Callable[[str, bool], None]] = []
        #: the latest ``now`` seen; the lowest finite float before any, so that one comparison
        #: in :meth:`_tick` refuses -inf as well as earlier times
        self._now = BEFORE_ANY
        self._apps: dict[str, App] = {}
        self._profiles: dict[str, Profile] = {}
        self._tokens: dict[str, TokenRecord] = {}
        #: every slot the SDK has reported: the token record it holds (R1), whose profile is the
        #: slot's current user; or, while it holds none, the slot's current user (None: nobody,
        #: in a model that detaches a slot from its user). One index for both: most slots hold
        #: a token.
        self._slots: dict[Slot, TokenRecord | str | None] = {}
        self._audience = AudienceIndex()
        #: per app: tokens by last session, kept only while the policy prunes (nothing else asks)
        self._sessions: dict[str, ActivityOrder] = {}
        #: per probed app (:attr:`uninstall_probes`): tokens by last session or push
        self._quiet: dict[str, ActivityOrder] = {}
        self._uninstalls: dict[Slot, UninstallEstimate] = {}

    # -- set-up ------------------------------------------------------------------------------

    def add_app(
        self,
        app_id: str,
        platforms: Iterable[Platform | str],
        *,
        uninstall_tracking: bool = False,
    ) -> App:
        """Register an app (or website) and the platforms it is published on (a list of them)."""
        check_id("app id", app_id)
        if isinstance(platforms, str) or not isinstance(platforms, Iterable):
            raise RegistryArgumentError(
                f"app {app_id!r}: platforms must be a list of platforms such as "
                f"['ios', 'android'], got {platforms!r}"
            )
        if not isinstance(uninstall_tracking, bool):
            raise RegistryArgumentError(
                f"app {app_id!r}: uninstall_tracking must be true or false, "
                f"got {uninstall_tracking!r}"
            )
        if app_id in self._apps:
            raise RegistryError(f"app {app_id!r} is already registered")
        try:
            parsed = frozenset(parse_platform(p) for p in platforms)
        except UnknownPlatformError as error:
            raise RegistryError(f"app {app_id!r}: {error}") from None
        if not parsed:
            raise RegistryError(f"app {app_id!r} must be published on at least one platform")
        app = App(app_id, parsed, uninstall_tracking=uninstall_tracking)
        self._apps[app_id] = app
        if self._policy.prune_after_days is not None:
            self._sessions[app_id] = ActivityOrder()
        if uninstall_tracking and self.uninstall_probes:
            self._quiet[app_id] = ActivityOrder()
        return app

    @property
    def policy(self) -> RegistryPolicy:
        """The policy the registry was built with."""
        return self._policy

    def subscribe(self, listener: TokenListener) -> Callable[[], None]:
        """Receive every token event from now on (R13); returns an unsubscribe function."""
        if not callable(listener):
            raise RegistryArgumentError(f"a listener must be callable, got {listener!r}")
        return self.events.subscribe(listener)

    def on_targetability(self, listener: Callable[[str, bool], None]) -> None:
        """Call ``listener(profile_id, targetable)`` whenever a profile's targetability changes."""
        if not callable(listener):
            raise RegistryArgumentError(f"a listener must be callable, got {listener!r}")
        self._targetability_listeners.append(listener)

    # -- SDK operations ----------------------------------------------------------------------

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
        """A session start as reported by the SDK: the device's token and permission (R1, R4).

        ``token`` None means the device has no token for the app (web without opt-in): any token
        the registry holds for the slot is purged. ``provisional`` (iOS quiet authorisation) counts
        as foreground. A grant of full permission calls :meth:`_opt_in`, unless
        ``implicit_permission`` marks a platform where permission is never asked (Android 12 and
        below). Returns the record now held for the slot, if any.
        """
        if token.__class__ is str:
            # the most common call by far: the token, permission and slot already held, at a
            # time not before the registry's clock. Only the times move; the same as below.
            record = self._tokens.get(token)
            if (
                record is not None
                and record.device == device
                and record.app == app
                and record.platform is platform
                and record.provisional is provisional
                and record.foreground is (foreground or provisional)
                and self._now <= now <= LAST_TIME
            ):
                self._now = now
                if self._policy.refresh_on_session_start:
                    record.registered_at = now
                self._session_seen(record, now)
                return record
        if device.__class__ is not str or not device:
            check_id("device", device)
        if token is not None and (token.__class__ is not str or not token):
            check_id("token", token)
        plat = self._check_platform(app, platform)
        elsewhere = self._tokens.get(token) if token is not None else None
        if elsewhere is not None and (elsewhere.app != app or elsewhere.platform is not plat):
            # refused before anything changes: a token string belongs to one app and platform
            raise RegistryError(
                f"token {token!r} is registered for app {elsewhere.app!r} "
                f"({elsewhere.platform.value}); it cannot be reported for {app!r}"
            )
        self._tick(now)
        slot = (device, app)
        held = self._slots.get(slot, "")  # "" is never a profile id: the slot is new
        existing: TokenRecord | None
        owner: str | None  # None: detached from its user (the reference's detach policy)
        if isinstance(held, TokenRecord):
            existing, owner = held, held.profile
        else:
            existing, owner = None, held if held != "" else self._new_slot(slot)
        shown = foreground or provisional

        if owner is None or token is None:
            if existing is not None:  # (a slot that holds a record has a user: owner is set)
                self._remove(existing, now, _PURGED)
            return None
        if existing is None:
            # (the owner of a record already held here was seen on the device when the record was
            # created or moved to it)
            mark_seen(self._profiles[owner], device)

        if existing is not None and existing.token == token:
            record = existing  # already the owner's: the slot's user is its record's profile
            if self._policy.refresh_on_session_start:
                record.registered_at = now
                if record.foreground != shown or record.provisional != provisional:
                    # a grant is full (non-provisional) permission where there was none, or only
                    # provisional (quiet) authorisation: the user accepted the OS prompt (R4)
                    was_granted = record.foreground and not record.provisional
                    granted = shown and not provisional and not was_granted
                    self._update_permission(record, shown, provisional, now)
                    if granted and not implicit_permission:
                        self._opt_in(record.profile, now)
        else:
            # a new token on a slot that already showed notifications is a rotation, not a grant:
            # it must not override the user's subscription state
            was_granted = existing is not None and existing.foreground and not existing.provisional
            if existing is not None:
                self._remove(existing, now, _REPLACED)
            if elsewhere is not None:
                self._remove(elsewhere, now, Cause.REASSIGNED)
            record = TokenRecord(
                token=token,
                app=app,
                platform=plat,
                device=device,
                profile=owner,
                foreground=shown,
                provisional=provisional,
                created_at=now,
                updated_at=now,
                registered_at=now,
                last_session_at=now,
            )
            self._add(record, now, _REGISTERED, slot)
            if shown and not provisional and not implicit_permission and not was_granted:
                self._opt_in(owner, now)

        self._session_seen(record, now)
        return record

    def _session_seen(self, record: TokenRecord, now: float) -> None:
        """A session reported ``record``'s token at ``now``: its activity for pruning and probes."""
        record.last_session_at = now
        sessions = self._sessions.get(record.app)
        if sessions is not None:
            sessions.touch(record.token, now)
        quiet = self._quiet.get(record.app)
        if quiet is not None:
            quiet.touch(record.token, now)

    # -- subscription state ------------------------------------------------------------------

    def set_subscription(self, now: float, profile_id: str, state: SubscriptionState | str) -> None:
        """An explicit subscription change (SDK or REST): the value last set wins."""
        try:
            new = SubscriptionState(state)
        except ValueError:
            allowed = ", ".join(s.value for s in SubscriptionState)
            raise InvalidSubscriptionStateError(
                f"unknown subscription state {state!r}; allowed: {allowed}"
            ) from None
        check_id("profile id", profile_id)
        profile = self._profiles.get(profile_id)
        if profile is None and profile_id.startswith("anon:"):
            raise UnknownProfileError(f"unknown anonymous profile {profile_id!r}")
        self._tick(now)
        if profile is None:
            profile = self._profiles[profile_id] = Profile(profile_id)
        self._set_state(profile, new, now)

    # -- provider answers --------------------------------------------------------------------

    def handle_response(self, now: float, token: str, result: SendResult) -> ResponseOutcome:
        """Act on a provider's answer to a send to ``token`` (R5, R6, R7)."""
        if token.__class__ is not str or not token:
            check_id("token", token)
        if result.__class__ is not SendResult and not isinstance(result, SendResult):
            raise RegistryArgumentError(f"result must be a SendResult, got {result!r}")
        action = classify(result)
        record = self._tokens.get(token)
        if record is not None and PROVIDER_OF[record.platform] is not result.provider:
            raise RegistryError(
                f"answer from {result.provider.value} for {record.platform.value} token {token!r}"
            )
        self._tick(now)
        if record is None:
            return _NOT_HELD[action]
        record.last_push_at = now
        quiet = self._quiet.get(record.app)
        if quiet is not None:
            quiet.touch(token, now)
        if action is _DELIVERED:
            record.last_accepted_at = now
        elif action is _REMOVE:
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
        return _HELD[action]

    # -- maintenance -------------------------------------------------------------------------

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

    def probe_targets(self, now: float, app: str) -> list[str]:
        """Tokens uninstall tracking would probe now: no session and no push for 24 h (R7).

        None when the app has no uninstall tracking or the model no probes.
        """
        self._app(app)
        self._tick(now)
        quiet = self._quiet.get(app)
        if quiet is None:
            return []
        return list(quiet.quiet_since(now - PROBE_QUIET_DAYS))

    # -- queries -----------------------------------------------------------------------------

    def audience(
        self,
        app: str,
        *,
        foreground_only: bool = True,
        platform: Platform | str | None = None,
        include_unsubscribed: bool = False,
    ) -> list[str]:
        """Profiles a campaign would target (R9), in a deterministic order.

        Default: ``subscribed`` or ``opted_in`` profiles holding a foreground token for ``app``.
        ``foreground_only=False`` is "background or foreground push enabled".
        """
        self._app(app)
        plat = self._check_platform(app, platform) if platform is not None else None
        holders = self._audience.holders(app, plat, foreground_only=foreground_only)
        if include_unsubscribed:
            return list(holders)
        profiles = self._profiles
        return [p for p in holders if profiles[p].state in TARGETABLE]

    def audience_size(
        self,
        app: str,
        *,
        foreground_only: bool = True,
        platform: Platform | str | None = None,
    ) -> int:
        """Size of :meth:`audience` with its defaults, in O(1)."""
        self._app(app)
        plat = self._check_platform(app, platform) if platform is not None else None
        return self._audience.targetable_count(app, plat, foreground_only=foreground_only)

    def campaign_tokens(
        self, app: str, *, foreground_only: bool = True, platform: Platform | str | None = None
    ) -> list[TokenRecord]:
        """Every token a default campaign to ``app`` sends to: the audience's matching tokens."""
        plat = self._check_platform(app, platform) if platform is not None else None
        self._app(app)
        profiles, tokens = self._profiles, self._tokens
        out: list[TokenRecord] = []
        # the audience (see :meth:`audience`), walked once: holders in index order, targetable only
        for profile_id in self._audience.holders(app, plat, foreground_only=foreground_only):
            profile = profiles[profile_id]
            if profile.state not in TARGETABLE:
                continue
            for (_, token_app), token in profile.tokens.items():
                if token_app != app:
                    continue
                record = tokens[token]
                if (plat is None or record.platform is plat) and (
                    record.foreground or not foreground_only
                ):
                    out.append(record)
        return out

    def token(self, token: str) -> TokenRecord | None:
        """The record of ``token``, if the registry holds it."""
        return self._tokens.get(token)

    def token_for(self, device: str, app: str) -> TokenRecord | None:
        """The record held for a (device, app) slot, if any (R1: at most one)."""
        held = self._slots.get((device, app))
        return held if isinstance(held, TokenRecord) else None

    def profile(self, profile_id: str) -> Profile:
        """The profile named ``profile_id``; raises :class:`UnknownProfileError`."""
        profile = self._profiles.get(profile_id)
        if profile is None:
            raise UnknownProfileError(f"unknown profile {profile_id!r}")
        return profile

    def is_targetable(self, profile_id: str) -> bool:
        """True when ``profile_id`` exists and its state lets a default campaign target it (R9)."""
        profile = self._profiles.get(profile_id)
        return profile is not None and profile.state in TARGETABLE

    def has_profile(self, profile_id: str) -> bool:
        """True when the registry has created ``profile_id``."""
        return profile_id in self._profiles

    def current_user(self, device: str, app: str) -> str | None:
        """The profile the SDK attributes a slot's sessions to (None: never seen or detached)."""
        held = self._slots.get((device, app))
        return held.profile if isinstance(held, TokenRecord) else held

    def uninstall_estimate(self, device: str, app: str) -> UninstallEstimate | None:
        """The registry's latest uninstall conclusion for a slot, from a bounce (R7)."""
        return self._uninstalls.get((device, app))

    def app(self, app_id: str) -> App:
        """The app named ``app_id``; raises :class:`UnknownAppError`."""
        return self._app(app_id)

    def tokens(self) -> Iterator[TokenRecord]:
        """Every token record held, in registration order."""
        return iter(self._tokens.values())

    def profiles(self) -> Iterator[Profile]:
        """Every profile, anonymous ones included, in creation order."""
        return iter(self._profiles.values())

    @property
    def token_count(self) -> int:
        """Number of token records held."""
        return len(self._tokens)

    @property
    def now(self) -> float:
        """The latest ``now`` the registry has seen."""
        return self._now if self._now != BEFORE_ANY else -_INF

    # -- the model's own rules ---------------------------------------------------------------

    def _new_slot(self, slot: Slot) -> str:
        """A slot's first session: record its user in :attr:`_slots` and return its id."""
        raise NotImplementedError

    def _opt_in(self, profile_id: str, now: float) -> None:
        """A grant of full permission on one of the profile's slots (R4)."""
        raise NotImplementedError

    # -- internals ---------------------------------------------------------------------------

    def _tick(self, now: float) -> None:
        # the common case in one comparison: a finite number not earlier than the latest time (NaN
        # and inf fail; so does -inf, below the lowest finite float where the clock starts; None
        # and strings raise TypeError, refused below)
        try:
            if self._now <= now <= LAST_TIME:
                self._now = now
                return
        except (TypeError, ValueError):
            pass
        check_time(now, self._now)  # raises, unless ``now`` is a usable number of another kind
        self._now = now

    def _app(self, app: str) -> App:
        try:
            found = self._apps.get(app)
        except TypeError:  # unhashable: not an app id
            found = None
        if found is None:
            check_id("app", app)
            known = ", ".join(sorted(self._apps)) or "none"
            raise UnknownAppError(f"unknown app {app!r}; registered apps: {known}")
        return found

    def _check_platform(self, app: str, platform: Platform | str) -> Platform:
        try:
            found = self._apps.get(app)
        except TypeError:  # unhashable: :meth:`_app` below says what is wrong
            found = None
        if found is not None and platform.__class__ is Platform and platform in found.platforms:
            return platform  # the common case: a known platform of a known app
        try:
            plat = parse_platform(platform)
        except UnknownPlatformError as error:
            raise RegistryError(str(error)) from None
        if plat not in self._app(app).platforms:
            allowed = ", ".join(sorted(p.value for p in self._apps[app].platforms))
            raise PlatformNotSupportedError(
                f"app {app!r} is not published on {plat.value}; its platforms: {allowed}"
            )
        return plat

    def _emit(self, record: TokenRecord, change: Change, cause: Cause, now: float) -> None:
        if self.events.active:
            self.events.emit(
                TokenEvent(
                    now,
                    change,
                    cause,
                    record.token,
                    record.app,
                    record.platform,
                    record.device,
                    record.profile,
                    record.foreground,
                    record.provisional,
                )
            )

    def _add(self, record: TokenRecord, now: float, cause: Cause, slot: Slot) -> None:
        """Hold ``record`` for ``slot`` (its slot: the caller's tuple is kept, not a new one)."""
        self._tokens[record.token] = record
        self._slots[slot] = record
        profile = self._profiles[record.profile]
        _hold(profile, slot, record.token)
        self._audience.add(profile, record.app, record.platform, record.foreground)
        self._emit(record, _ADD, cause, now)

    def _remove(self, record: TokenRecord, now: float, cause: Cause) -> None:
        del self._tokens[record.token]
        slot = record.slot
        self._slots[slot] = record.profile  # the slot's user stays
        profile = self._profiles[record.profile]
        _release(profile, slot)
        self._audience.remove(profile, record.app, record.platform, record.foreground)
        sessions = self._sessions.get(record.app)
        if sessions is not None:
            sessions.discard(record.token)
        quiet = self._quiet.get(record.app)
        if quiet is not None:
            quiet.discard(record.token)
        self._emit(record, _REMOVAL, cause, now)

    def _move(self, record: TokenRecord, new_owner: str, now: float) -> TokenRecord:
        """R13: a move between users is a remove plus an add of the same token."""
        old = self._profiles[record.profile]
        _release(old, record.slot)
        self._audience.remove(old, record.app, record.platform, record.foreground)
        self._emit(record, _REMOVAL, _MOVED, now)
        record.profile = new_owner
        record.updated_at = now
        new = self._profiles[new_owner]
        _hold(new, record.slot, record.token)
        self._audience.add(new, record.app, record.platform, record.foreground)
        self._emit(record, _ADD, _MOVED, now)
        return record

    def _update_permission(
        self, record: TokenRecord, shown: bool, provisional: bool, now: float
    ) -> None:
        if record.foreground != shown:
            profile = self._profiles[record.profile]
            self._audience.set_foreground(profile, record.app, record.platform, shown)
        record.foreground = shown
        record.provisional = provisional
        record.updated_at = now
        self._emit(record, _UPDATE, _PERMISSION, now)

    def _set_state(self, profile: Profile, new: SubscriptionState, now: float) -> None:
        old = profile.state
        profile.state = new
        profile.state_changed_at = now
        targetable = new in TARGETABLE
        if (old in TARGETABLE) != targetable:
            self._audience.targetability_changed(profile, targetable)
            for listener in self._targetability_listeners:
                listener(profile.profile_id, targetable)
