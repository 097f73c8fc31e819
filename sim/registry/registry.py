"""The registry: the registration logic that decides which profile owns which push token.

Implements rules R1–R14 of docs/model.md §1 as plain Python. No SimPy, no randomness, no clock:
every operation takes ``now`` (days) and refuses a ``now`` earlier than one already seen. Every
operation is O(1) in the number of profiles and tokens; queries cost the length of their answer.

What the reference shares with every model (the session start's token bookkeeping, explicit
subscription changes, provider answers, pruning, the audience and the look-ups) is
:class:`~sim.registry.base.RegistryCore`'s. This module holds the reference's own rules:

- a slot's first session belongs to its anonymous profile, :func:`anonymous_profile_id`;
- a grant of full permission sets the profile ``opted_in`` (R4);
- a login moves the slot's token to the user (R2); what the anonymous profile set before reaches
  an identified profile with no state of its own (R14);
- a logout moves nothing (R3), unless the policy detaches the slot from its user;
- uninstall tracking probes tokens with no session and no push for a day (R7).

Arguments of the wrong kind are refused with :class:`RegistryArgumentError` before anything
changes: a ``now`` that is not a finite number (:class:`InvalidTimeError`), an id that is not a
non-empty string, platforms given as one string. The checks on the session and login path (the
simulator's hot path) test the exact type first (``x.__class__ is str``) and only look further when
that fails, so a correct caller pays a few comparisons per call.
"""

from __future__ import annotations

from sim.registry.activity import ActivityOrder
from sim.registry.base import (
    PROBE_QUIET_DAYS,
    RegistryCore,
    ResponseOutcome,
    anonymous_profile_id,
    mark_seen,
)
from sim.registry.checks import check_id, check_policy, check_user
from sim.registry.events import Cause
from sim.registry.policy import RegistryPolicy
from sim.registry.records import Profile, Slot, SubscriptionState, TokenRecord

__all__ = ["PROBE_QUIET_DAYS", "Registry", "ResponseOutcome", "anonymous_profile_id"]

# read on every opt-in, bound once: a member read off its enum class goes through EnumType's slow
# attribute hook on Python 3.11
_OPTED_IN = SubscriptionState.OPTED_IN


class Registry(RegistryCore):
    """Profiles, token records and the rules that move tokens between them."""

    #: uninstall tracking probes tokens with no session and no push for a day (R7)
    uninstall_probes = True

    @property
    def policy(self) -> RegistryPolicy:
        """The registry's policy; it may be replaced between operations."""
        return self._policy

    @policy.setter
    def policy(self, policy: RegistryPolicy) -> None:
        check_policy(policy)
        pruning = policy.prune_after_days is not None
        if pruning and not self._sessions:
            # pruning starts: order the tokens held by last session (equal times in registration
            # order: the order of sessions within one instant was not kept while nothing pruned)
            self._sessions = {app: ActivityOrder() for app in self._apps}
            for record in sorted(self._tokens.values(), key=lambda r: r.last_session_at):
                self._sessions[record.app].touch(record.token, record.last_session_at)
        elif not pruning:
            self._sessions = {}
        self._policy = policy

    # -- SDK operations ----------------------------------------------------------------------

    def change_user(self, now: float, *, device: str, app: str, user: str) -> None:
        """The SDK's ``changeUser`` on a device's app: the token moves to ``user`` (R2)."""
        self._app(app)
        if device.__class__ is not str or not device:
            check_id("device", device)
        if user.__class__ is not str or not user or user.startswith("anon:"):
            check_user(user)
        self._tick(now)
        slot = (device, app)
        held = self._slots.get(slot)
        current = held.profile if isinstance(held, TokenRecord) else held
        profile = self._profiles.get(user)
        if profile is None:
            profile = self._profiles[user] = Profile(user)
        if current is not None and current != user:
            anonymous = self._profiles.get(current)
            if anonymous is not None and anonymous.anonymous:
                self._identify(anonymous, profile)
        mark_seen(profile, device)
        if isinstance(held, TokenRecord):
            if held.profile != user:
                self._move(held, user, now)  # the slot's user is its record's profile
        elif held != user:
            self._slots[slot] = user

    def _identify(self, anonymous: Profile, user: Profile) -> None:
        """R14: what the anonymous profile set before login reaches the identified profile.

        Its subscription state (a prompt granted before login left it ``opted_in``) carries over
        when the identified profile has none of its own (never set: a new id, or an existing one
        whose state nobody set); where both have one, the identified profile's stands. The token
        itself moves as R2 says, after this, so that it joins the audience under the right state.
        """
        if anonymous.state_changed_at is None or user.state_changed_at is not None:
            return
        self._set_state(user, anonymous.state, anonymous.state_changed_at)

    def log_out(self, now: float, *, device: str, app: str) -> None:
        """A logout with no new login (R3): moves nothing unless the detach policy is on."""
        self._app(app)
        if device.__class__ is not str or not device:
            check_id("device", device)
        self._tick(now)
        if not self._policy.detach_on_logout:
            return
        slot = (device, app)
        held = self._slots.get(slot)
        if isinstance(held, TokenRecord):
            self._remove(held, now, Cause.LOGGED_OUT)
        self._slots[slot] = None

    # -- the reference's own rules -----------------------------------------------------------

    def _new_slot(self, slot: Slot) -> str:
        """A slot's first session: its user is the anonymous profile of the device's app."""
        owner = anonymous_profile_id(*slot)
        if owner not in self._profiles:
            self._profiles[owner] = Profile(owner, anonymous=True)
        self._slots[slot] = owner
        return owner

    def _opt_in(self, profile_id: str, now: float) -> None:
        """A grant of full permission sets the profile ``opted_in`` (R4)."""
        profile = self._profiles[profile_id]
        self._set_state(profile, _OPTED_IN, now)
