"""The registry seam: what the world, the sender and the observers need (docs/model.md §8).

pushsim measures *a* registration logic, not only its own. Anything that implements
:class:`RegistryProtocol` can be plugged into a world (``[registry] model = "module:factory"`` in a
scenario file, or ``registry=`` on the Python API), played against the stories and invariants by
``pushsim conform``, or served over HTTP. The reference registry (:class:`sim.registry.Registry`,
rules R1–R14 of the model documentation) is one implementation; the subscription-per-device model
(:mod:`sim.registry.subscriptions`) is another.

Who calls what, and when:

- **Set-up** (the world, once, before time 0): :meth:`~RegistryProtocol.add_app`,
  :meth:`~RegistryProtocol.subscribe` and :meth:`~RegistryProtocol.on_targetability` (observers).
- **The SDK** (after its flush delay, in the order the device made the calls, ``now`` never
  decreasing): :meth:`~RegistryProtocol.session_start` at every session start,
  :meth:`~RegistryProtocol.change_user` at every login, :meth:`~RegistryProtocol.log_out` at every
  logout that no login follows; stories also call :meth:`~RegistryProtocol.set_subscription`.
- **The sender** (at campaign time): :meth:`~RegistryProtocol.campaign_tokens`, then one
  :meth:`~RegistryProtocol.handle_response` per provider answer (retries included); nightly, when
  the app has uninstall tracking, :meth:`~RegistryProtocol.probe_targets` and
  :meth:`~RegistryProtocol.token` for each target.
- **Maintenance** (nightly, when ``policy.prune_after_days`` is set):
  :meth:`~RegistryProtocol.prune_inactive`.
- **Observers** (metrics at every sample, stories at their expectations): the read-only look-ups
  :meth:`~RegistryProtocol.tokens`, :meth:`~RegistryProtocol.token`,
  :meth:`~RegistryProtocol.token_for`, :meth:`~RegistryProtocol.is_targetable`,
  :meth:`~RegistryProtocol.audience`, :meth:`~RegistryProtocol.audience_size`,
  :meth:`~RegistryProtocol.has_profile`, :meth:`~RegistryProtocol.profile` and
  :meth:`~RegistryProtocol.uninstall_estimate`. The views of R11 and R12
  (:func:`sim.registry.engagement_view`, :func:`sim.registry.export_profile`) are built from
  :meth:`~RegistryProtocol.profile` and :meth:`~RegistryProtocol.token`.

Every operation that changes something takes ``now`` (days, a finite float) first; a read takes
none and answers for the latest ``now`` seen. An implementation must be deterministic (the same
calls give the same answers and the same events: pushsim's outputs are byte-identical for a seed)
and must emit a :class:`~sim.registry.TokenEvent` for every add, update and remove of a token it
holds (R13), synchronously, to every subscribed listener. Return values of the operations that
change something are ignored by pushsim (an implementation may return what it likes).

Two optional members, used when present: ``flush()`` — a registry that batches its changes (the
HTTP client does) applies them and delivers their events; pushsim calls it before every sample,
and any look-up must flush first — and ``close()``, called once when a run ends.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Protocol, runtime_checkable

from sim.platforms import Platform
from sim.providers.answers import SendResult
from sim.registry.events import TokenListener
from sim.registry.records import Slot, SubscriptionState, TokenRecord, UninstallEstimate

#: Called with (profile id, targetable) when a profile starts or stops being one a default
#: campaign may target (R9: its subscription state changed between targetable and not).
TargetabilityListener = Callable[[str, bool], None]


class ProfileView(Protocol):
    """What pushsim reads of a profile (:meth:`RegistryProtocol.profile`).

    :class:`sim.registry.Profile` is one; an implementation may return any object with these
    attributes, read at once (pushsim does not keep it across operations).
    """

    @property
    def profile_id(self) -> str:
        """The external id, or the id of an anonymous profile."""
        ...

    @property
    def anonymous(self) -> bool:
        """True for a profile the registry created for an install before any login."""
        ...

    @property
    def state(self) -> SubscriptionState:
        """The push subscription state (``subscribed``, ``opted_in``, ``unsubscribed``)."""
        ...

    @property
    def devices(self) -> Sequence[str]:
        """Device (install) ids the profile has been seen on, in first-seen order (R11)."""
        ...

    @property
    def tokens(self) -> Mapping[Slot, str]:
        """Tokens the profile holds now, by (device, app) slot."""
        ...


@runtime_checkable
class RegistryProtocol(Protocol):
    """A registration logic pushsim can measure. Method by method: who calls it and what it must do.

    :func:`sim.models.conformity.problems` checks an object against this protocol (names,
    callability and the calls pushsim makes) before a run; ``pushsim conform`` checks its
    behaviour against the rules.
    """

    # -- set-up ---------------------------------------------------------------------------------

    def add_app(
        self, app_id: str, platforms: Iterable[Platform], *, uninstall_tracking: bool = False
    ) -> object:
        """Know an app published on ``platforms``; called once per app before any other call.

        ``uninstall_tracking``: the app wants nightly probes of quiet tokens (R7).
        """
        ...

    def subscribe(self, listener: TokenListener) -> Callable[[], None]:
        """Call ``listener`` with every token event from now on (R13); return an unsubscribe."""
        ...

    def on_targetability(self, listener: TargetabilityListener) -> None:
        """Call ``listener(profile_id, targetable)`` whenever a profile's targetability changes.

        Observers keep audience counts with it: a profile that holds tokens and becomes
        ``unsubscribed`` (or subscribes again) must be reported here.
        """
        ...

    # -- the SDK --------------------------------------------------------------------------------

    def session_start(
        self,
        now: float,
        *,
        device: str,
        app: str,
        platform: Platform,
        token: str | None,
        foreground: bool,
        provisional: bool = False,
        implicit_permission: bool = False,
    ) -> object:
        """A session start on ``device``'s ``app``, as the SDK reports it (R1, R4, R8, R10).

        ``token``: the provider token the device has now (None: none, e.g. web without opt-in).
        ``foreground``: notifications are shown (OS permission on); ``provisional``: iOS quiet
        authorisation; ``implicit_permission``: the platform never asks (Android ≤ 12), so a
        grant is not an opt-in. ``device`` is an install id: a reinstall is a new device id.
        """
        ...

    def change_user(self, now: float, *, device: str, app: str, user: str) -> None:
        """The SDK's ``changeUser(user)`` on ``device``'s ``app`` (R2, R14)."""
        ...

    def log_out(self, now: float, *, device: str, app: str) -> None:
        """A logout that no login follows on ``device``'s ``app`` (R3)."""
        ...

    def set_subscription(self, now: float, profile_id: str, state: SubscriptionState | str) -> None:
        """An explicit change of a profile's subscription state (SDK or REST); last set wins."""
        ...

    # -- the sender -----------------------------------------------------------------------------

    def campaign_tokens(
        self, app: str, *, foreground_only: bool = True, platform: Platform | None = None
    ) -> Sequence[TokenRecord]:
        """Every token a default campaign to ``app`` sends to (R9), in a deterministic order.

        ``foreground_only=False``: "background or foreground push enabled". The record's
        ``profile`` is the person the registry believes it reaches.
        """
        ...

    def handle_response(self, now: float, token: str, result: SendResult) -> object:
        """Act on a provider's answer to a send to ``token`` (R5, R6, R7; the APNs 410 rule).

        Called for every answer, including tokens the registry no longer holds.
        """
        ...

    def probe_targets(self, now: float, app: str) -> Sequence[str]:
        """Tokens uninstall tracking probes now (R7): none when ``app`` is not tracked."""
        ...

    def prune_inactive(self, now: float) -> object:
        """Nightly maintenance: drop tokens the registry's own policy considers inactive."""
        ...

    # -- look-ups (observers, stories) ----------------------------------------------------------

    def tokens(self) -> Iterable[TokenRecord]:
        """Every token record held, in a deterministic order."""
        ...

    def token(self, token: str) -> TokenRecord | None:
        """The record of ``token``, if held."""
        ...

    def token_for(self, device: str, app: str) -> TokenRecord | None:
        """The record held for a (device, app) slot, if any."""
        ...

    def is_targetable(self, profile_id: str) -> bool:
        """True when ``profile_id`` exists and a default campaign may target it (R9)."""
        ...

    def audience(
        self,
        app: str,
        *,
        foreground_only: bool = True,
        platform: Platform | None = None,
        include_unsubscribed: bool = False,
    ) -> Collection[str]:
        """Profile ids a default campaign to ``app`` targets (R9)."""
        ...

    def audience_size(
        self, app: str, *, foreground_only: bool = True, platform: Platform | None = None
    ) -> int:
        """``len(audience(...))`` with the same arguments, cheaply: read at every sample."""
        ...

    def has_profile(self, profile_id: str) -> bool:
        """True when the registry has created ``profile_id``."""
        ...

    def profile(self, profile_id: str) -> ProfileView:
        """The profile named ``profile_id``; raise :class:`sim.registry.UnknownProfileError`."""
        ...

    def uninstall_estimate(self, device: str, app: str) -> UninstallEstimate | None:
        """What the registry concluded about an uninstall of the slot from a bounce (R7)."""
        ...


#: The members of :class:`RegistryProtocol`, in the order above (for messages and checks).
MEMBERS: tuple[str, ...] = (
    "add_app",
    "subscribe",
    "on_targetability",
    "session_start",
    "change_user",
    "log_out",
    "set_subscription",
    "campaign_tokens",
    "handle_response",
    "probe_targets",
    "prune_inactive",
    "tokens",
    "token",
    "token_for",
    "is_targetable",
    "audience",
    "audience_size",
    "has_profile",
    "profile",
    "uninstall_estimate",
)
