"""The push-service model shared by APNs, FCM and Web Push (docs/model.md §2).

A :class:`PushService` issues opaque tokens, holds the ground truth of whether each one still
delivers, and answers sends with the provider's real status codes. Subclasses only say how the
answers are spelled. Everything is pure domain code: every time-dependent call takes ``now`` (days),
random choices take a caller-owned :class:`~sim.providers.config.RandomSource`, and every operation
is a dictionary look-up (O(1) in the number of tokens).

A service keeps every token it ever issued (a dead one is still answered, and may be handed back on
a reinstall), so what it stores per token is kept small: one :class:`TokenState` (six slots) in a
dictionary keyed by the token string, and the latest token of each (device, app) pair in one
dictionary per app keyed by device (no (device, app) tuple per pair). Storing the tokens
column-wise (lists or arrays indexed by token number) takes less memory still, but was measured
slower in whole runs: a token's fields then lie in several places in memory.

Time and liveness
-----------------
Each service keeps the latest ``now`` it has seen; a call with an earlier ``now`` raises
:class:`~sim.providers.config.TimeWentBackwardsError`. A token is *dead* (ground truth) from the
time it was invalidated, from its silent death (a lifetime drawn when it was issued, when the
configuration has ``silent_death`` and the issuing call passed a random source), or from
``last connection + inactivity_expiry_days`` when no connection came in time (evaluated lazily,
never stored) — whichever comes first. A dead token is *reported* (answered with a permanent
error) from its report time: at once for most causes, after the uninstall lag (one draw per token
from the configured distribution) for ``UNINSTALL``, from the silent death itself unless
``silent_death_reported`` is False, never for a revoked Safari subscription (a zombie), and in
every case once the inactivity expiry has passed.

Choices the specification left open
-----------------------------------
- Invalidating a token that is already dead is a silent no-op (its first death stands).
- ``connect`` on a token the provider still accepts resets its inactivity clock — including a zombie
  (uninstall lag, revoked Safari subscription), which the provider does not know is dead; on a
  token the provider already rejects it does nothing (a connection never revives a token).
- ``rotate`` on a pair whose last token is already dead just issues a new token; it raises only for
  a pair that was never issued a token.
- ``death`` of a never-issued token raises; ``accepts``/``delivers`` of one are False.
- ``death`` and ``current_token`` take no ``now`` by default and answer at the latest time seen;
  pass ``now=`` to evaluate (lazy inactivity expiry included) at a later time.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from sim.platforms import Provider
from sim.providers.answers import SendResult
from sim.providers.config import (
    ProviderConfig,
    ProviderError,
    RandomSource,
    TimeWentBackwardsError,
    TokenDeath,
    UnknownTokenError,
    UnsupportedCauseError,
)

_INF = math.inf

#: Deaths after which ``reissue_same_token_on_reinstall`` hands back the same token string.
REINSTALL_CAUSES: frozenset[TokenDeath] = frozenset({TokenDeath.UNINSTALL, TokenDeath.REINSTALL})


@dataclass(slots=True)
class TokenState:
    """Provider-side state of one token (kept small: there are millions of them).

    Only what the service reads back is stored: not the device (the per-app dictionary of latest
    tokens has it) nor the issue time.

    ``died_at`` is the ground-truth time of death other than by inactivity (``inf`` while none):
    the time of an explicit invalidation, or of the silent death drawn at issue, which may lie in
    the future (``cause`` is then already set: the token is alive while ``now < died_at``);
    ``reported_at`` is the time from which sends are answered with a permanent error (``inf``: not
    yet, or never). Inactivity deaths are not stored: they follow from ``last_connect``.
    """

    app: str
    browser: str
    last_connect: float
    cause: TokenDeath | None = None
    died_at: float = math.inf
    reported_at: float = math.inf


class PushService(ABC):
    """Base model of a push service; see the module docstring for the time and liveness rules."""

    provider: ClassVar[Provider]
    #: Prefix of the token strings, e.g. ``"apns"`` → ``"apns-1a2f"``.
    token_prefix: ClassVar[str]
    #: Whether :attr:`TokenDeath.PERMISSION_REVOKED` can kill a token of this provider.
    permission_revocation_supported: ClassVar[bool] = False

    __slots__ = (
        "_counter",
        "_credentials_answer",
        "_expiry_days",
        "_latest",
        "_lifetime",
        "_lifetime_report_delay",
        "_now",
        "_ok_answer",
        "_payload_answer",
        "_tokens",
        "_transient_answers",
        "_unknown_answer",
        "_wrong_app_answer",
        "config",
    )

    def __init__(self, config: ProviderConfig | None = None) -> None:
        """Create an empty service; ``config`` defaults to the provider's observed behaviour."""
        self.config: ProviderConfig = (
            config if config is not None else ProviderConfig.for_provider(self.provider)
        )
        self._tokens: dict[str, TokenState] = {}
        self._latest: dict[str, dict[str, str]] = {}  # app -> device -> the pair's latest token
        self._counter = 0
        self._now = -math.inf
        expiry = self.config.inactivity_expiry_days
        self._expiry_days = math.inf if expiry is None else expiry
        self._lifetime = self.config.silent_death
        self._lifetime_report_delay = 0.0 if self.config.silent_death_reported else math.inf
        self._ok_answer = SendResult(self.provider, 200)
        self._credentials_answer = self._make_credentials_answer()
        self._transient_answers = self._make_transient_answers()
        self._payload_answer = self._make_payload_answer()
        self._unknown_answer = self._make_unknown_answer()
        self._wrong_app_answer = self._make_wrong_app_answer()

    # -- how answers are spelled (subclasses) -------------------------------------------------

    @abstractmethod
    def _make_credentials_answer(self) -> SendResult:
        """The answer when the sender's credentials are invalid."""

    @abstractmethod
    def _make_transient_answers(self) -> tuple[SendResult, ...]:
        """The transient answers, one of which is picked uniformly (429s carry Retry-After)."""

    @abstractmethod
    def _make_payload_answer(self) -> SendResult:
        """The answer to a payload larger than ``max_payload_bytes``."""

    @abstractmethod
    def _make_unknown_answer(self) -> SendResult:
        """The answer for a token this service never issued."""

    @abstractmethod
    def _make_wrong_app_answer(self) -> SendResult:
        """The answer for a token issued to another app (topic, sender, VAPID key)."""

    @abstractmethod
    def _dead_answer(self, cause: TokenDeath, died_at: float) -> SendResult:
        """The permanent-error answer for a token dead (and reported) since ``died_at``."""

    def _report_delay(
        self, state: TokenState, cause: TokenDeath, rng: RandomSource | None
    ) -> float:
        """Days between a death by ``cause`` and the first permanent-error answer.

        ``UNINSTALL``: one draw of the configured uninstall lag (its nominal value without
        ``rng``); other causes: at once.
        """
        if cause is TokenDeath.UNINSTALL:
            return self.config.uninstall_lag.draw(rng)
        return 0.0

    # -- internals ------------------------------------------------------------------------------

    def _advance(self, now: float) -> None:
        if now >= self._now and -_INF < now < _INF:  # the common case (NaN fails every test)
            self._now = now
            return
        if not math.isfinite(now):
            raise ProviderError(f"{self.provider.value}: now must be a finite number, got {now!r}")
        if now < self._now:
            raise TimeWentBackwardsError(
                f"{self.provider.value}: now={now!r} is earlier than the last time seen, "
                f"{self._now!r}; time must not go backwards"
            )
        self._now = now

    def _state(self, token: str, operation: str) -> TokenState:
        state = self._tokens.get(token)
        if state is None:
            raise UnknownTokenError(
                f"{self.provider.value}.{operation}: token {token!r} was never issued "
                "by this service"
            )
        return state

    def _latest_token(self, device: str, app: str) -> str | None:
        latest = self._latest.get(app)
        return None if latest is None else latest.get(device)

    def _death_of(self, state: TokenState, now: float) -> tuple[TokenDeath, float] | None:
        died_at = state.died_at
        deadline = state.last_connect + self._expiry_days
        if died_at <= deadline:  # an explicit or silent death comes first (or none: both inf)
            if now >= died_at:
                assert state.cause is not None
                return state.cause, died_at
            return None
        if now > deadline:
            return TokenDeath.INACTIVITY, deadline
        return None

    def _is_reported(self, state: TokenState, now: float) -> bool:
        return now >= state.reported_at or now > state.last_connect + self._expiry_days

    def _kill(self, state: TokenState, cause: TokenDeath, now: float, reported_at: float) -> None:
        state.cause = cause
        state.died_at = now
        state.reported_at = reported_at

    def _schedule_silent_death(
        self, state: TokenState, now: float, rng: RandomSource | None
    ) -> None:
        """Draw the token's lifetime (one draw from ``rng``), if the configuration has one."""
        lifetime = self._lifetime
        if lifetime is not None and rng is not None:
            died_at = now + lifetime.draw(rng)
            state.cause = TokenDeath.DATA_CLEARED
            state.died_at = died_at
            state.reported_at = died_at + self._lifetime_report_delay

    def _issue(
        self, now: float, device: str, app: str, browser: str, rng: RandomSource | None
    ) -> str:
        latest = self._latest.get(app)
        if latest is None:
            latest = self._latest[app] = {}
        previous = latest.get(device)
        if previous is not None:
            state = self._tokens[previous]
            death = self._death_of(state, now)
            if death is None:
                self._kill(state, TokenDeath.ROTATION, now, now)
            elif self.config.reissue_same_token_on_reinstall and death[0] in REINSTALL_CAUSES:
                state.browser = browser
                state.last_connect = now
                state.cause = None
                state.died_at = math.inf
                state.reported_at = math.inf
                self._schedule_silent_death(state, now, rng)
                return previous
        token = f"{self.token_prefix}-{self._counter:x}"
        self._counter += 1
        state = self._tokens[token] = TokenState(app, browser, now)
        self._schedule_silent_death(state, now, rng)
        latest[device] = token
        return token

    # -- the world's side: ground truth -------------------------------------------------------

    def issue(
        self,
        now: float,
        device: str,
        app: str,
        *,
        browser: str = "",
        rng: RandomSource | None = None,
    ) -> str:
        """Issue a new token, valid from ``now``, for (``device``, ``app``).

        A live token of the pair dies with cause ``ROTATION`` (reported at once). With
        ``reissue_same_token_on_reinstall``, if the pair's previous token died by ``UNINSTALL`` or
        ``REINSTALL``, that same token string is returned, valid again from ``now``.
        ``browser`` only matters for Web Push (``"safari"`` revocations are silent). With ``rng``
        and a configured ``silent_death``, the token's lifetime is drawn now (one draw).
        """
        self._advance(now)
        return self._issue(now, device, app, browser, rng)

    def connect(self, now: float, token: str) -> None:
        """The app connected (or a web session happened): reset the token's inactivity clock.

        Does nothing for a token the provider already rejects; raises for a never-issued token.
        """
        self._advance(now)
        state = self._tokens.get(token)
        if state is None:
            state = self._state(token, "connect")  # raises
        # not yet reported (see _is_reported, inlined: this runs on every session)
        if not (now >= state.reported_at or now > state.last_connect + self._expiry_days):
            state.last_connect = now

    def invalidate(
        self, now: float, token: str, cause: TokenDeath, rng: RandomSource | None = None
    ) -> None:
        """Ground truth: from ``now`` the token no longer delivers.

        ``UNINSTALL`` keeps being answered 200 for the uninstall lag (one draw from ``rng`` when
        given, else the low end of the window); other causes are reported at once, except a
        revoked Safari subscription (see :class:`~sim.providers.webpush.WebPushService`).
        Invalidating an already dead token is a no-op. ``PERMISSION_REVOKED`` raises
        :class:`~sim.providers.config.UnsupportedCauseError` on native providers.
        """
        self._advance(now)
        state = self._state(token, "invalidate")
        if cause is TokenDeath.PERMISSION_REVOKED and not self.permission_revocation_supported:
            raise UnsupportedCauseError(
                f"{self.provider.value}: OS notification permission does not kill a native token; "
                "report the permission change to the registry instead"
            )
        if self._death_of(state, now) is not None:
            return
        self._kill(state, cause, now, now + self._report_delay(state, cause, rng))

    def rotate(
        self,
        now: float,
        device: str,
        app: str,
        cause: TokenDeath = TokenDeath.ROTATION,
        *,
        rng: RandomSource | None = None,
    ) -> str:
        """Kill the pair's current token with ``cause`` (reported at once) and issue a new one.

        Raises :class:`~sim.providers.config.UnknownTokenError` for a pair never issued a token;
        if the pair's last token is already dead, only the new token is issued.
        ``PERMISSION_REVOKED`` issues no new token and is refused. ``rng`` draws the new token's
        lifetime, as in :meth:`issue`.
        """
        self._advance(now)
        if cause is TokenDeath.PERMISSION_REVOKED:
            raise UnsupportedCauseError(
                f"{self.provider.value}.rotate: permission revocation issues no new token; "
                "use invalidate"
            )
        previous = self._latest_token(device, app)
        if previous is None:
            raise UnknownTokenError(
                f"{self.provider.value}.rotate: no token was ever issued for device {device!r}, "
                f"app {app!r}"
            )
        state = self._tokens[previous]
        if self._death_of(state, now) is None:
            self._kill(state, cause, now, now)
        return self._issue(now, device, app, state.browser, rng)

    # -- queries ------------------------------------------------------------------------------

    def current_token(self, device: str, app: str, *, now: float | None = None) -> str | None:
        """The live token of (``device``, ``app``), if any.

        Evaluated at ``now`` when given (which advances the clock like any other call), else at the
        latest time this service has seen — an inactivity expiry that fell since is only noticed
        once time has moved on.
        """
        if now is not None:
            self._advance(now)
        token = self._latest_token(device, app)
        if token is None or self._death_of(self._tokens[token], self._now) is not None:
            return None
        return token

    def was_issued(self, token: str) -> bool:
        """True if this service ever issued ``token``."""
        return token in self._tokens

    def deadlines(self, token: str) -> tuple[float, float, float]:
        """``(died_at, last_connect, inactivity_days)`` of an issued token.

        The token delivers at a time t (no later call to the service changing it) exactly when
        ``t < died_at and not t > last_connect + inactivity_days``; each :meth:`connect` at such
        a t moves ``last_connect`` to t. Lets a caller know ahead how long connections keep a
        token alive without asking at each one.
        """
        state = self._state(token, "deadlines")
        return state.died_at, state.last_connect, self._expiry_days

    def accepts(self, now: float, token: str) -> bool:
        """True if a send would be answered 2xx, ignoring transient errors and credentials."""
        self._advance(now)
        state = self._tokens.get(token)
        return state is not None and not self._is_reported(state, now)

    def delivers(self, now: float, token: str) -> bool:
        """Ground truth: a message sent now would reach the device's OS."""
        self._advance(now)
        state = self._tokens.get(token)
        # alive: no explicit or silent death yet, inactivity deadline not passed (_death_of,
        # inlined: this runs on every session)
        return (
            state is not None
            and now < state.died_at
            and not now > state.last_connect + self._expiry_days
        )

    #: answers of :meth:`status`
    REJECTS, ACCEPTS_ONLY, DELIVERS = 0, 1, 2

    def status(self, now: float, token: str) -> int:
        """:meth:`accepts` and :meth:`delivers` in one look-up, for observers scanning many tokens.

        :data:`REJECTS` (never issued, or dead and reported), :data:`ACCEPTS_ONLY` (answered 2xx
        but nothing reaches the device: a zombie) or :data:`DELIVERS`.
        """
        self._advance(now)
        state = self._tokens.get(token)
        if state is None or self._is_reported(state, now):
            return self.REJECTS
        return self.ACCEPTS_ONLY if self._death_of(state, now) is not None else self.DELIVERS

    def status_changes_at(self, token: str) -> float:
        """When :meth:`status` of ``token`` would next change if nobody called the service again.

        The silent death of a live token (DELIVERS → REJECTS, or → ACCEPTS_ONLY when silent
        deaths are not reported), the report time of a dead token (ACCEPTS_ONLY → REJECTS) or
        the inactivity deadline (status changes just *after* it); ``inf`` for a token already
        rejected at the latest time seen, or never issued. A ``connect`` can only move the
        deadline later, and a new ``issue`` is a ground-truth change the caller knows of;
        observers that cache statuses re-check a token at this time.
        """
        state = self._tokens.get(token)
        if state is None or self._is_reported(state, self._now):
            return math.inf
        when = min(state.reported_at, state.last_connect + self._expiry_days)
        return state.died_at if self._now < state.died_at < when else when

    def death(self, token: str, *, now: float | None = None) -> tuple[TokenDeath, float] | None:
        """Cause and time of the token's death, or None while it lives.

        Evaluated at ``now`` when given (which advances the clock), else at the latest time seen.
        """
        if now is not None:
            self._advance(now)
        return self._death_of(self._state(token, "death"), self._now)

    def is_stale(self, now: float, token: str) -> bool:
        """Live but without a connection for more than ``stale_after_days`` (informational)."""
        self._advance(now)
        stale_after = self.config.stale_after_days
        state = self._state(token, "is_stale")
        return (
            stale_after is not None
            and self._death_of(state, now) is None
            and now - state.last_connect > stale_after
        )

    # -- the sender's side ------------------------------------------------------------------------

    def send(
        self,
        now: float,
        token: str,
        app: str,
        *,
        payload_bytes: int = 256,
        rng: RandomSource | None = None,
    ) -> SendResult:
        """Answer a send of a ``payload_bytes`` message for ``app`` to ``token``.

        Checked in this order: credentials, transient error (only with ``rng``: one draw decides,
        a second picks the code), payload size, never-issued token, token of another app, dead and
        reported token; otherwise 200. Never changes the ground truth.
        """
        return self.send_with_truth(now, token, app, payload_bytes=payload_bytes, rng=rng)[0]

    def send_with_truth(
        self,
        now: float,
        token: str,
        app: str,
        *,
        payload_bytes: int = 256,
        rng: RandomSource | None = None,
    ) -> tuple[SendResult, bool]:
        """:meth:`send`, and whether the message reaches the device's OS, in one look-up.

        The flag is ``answer.accepted and delivers(now, token)``: False for every answer but a
        2xx, and for a 2xx to a zombie (dead, not yet reported). The same checks, random draws and
        errors as :meth:`send`; the sender's path, run for every send.
        """
        # _advance, inlined for the common case: time went forwards (or stood still)
        if now >= self._now and -_INF < now < _INF:
            self._now = now
        else:
            self._advance(now)  # raises
        if payload_bytes < 0:
            raise ProviderError(f"payload_bytes must be >= 0, got {payload_bytes!r}")
        config = self.config
        if not config.credentials_valid:
            return self._credentials_answer, False
        rate = config.transient_error_rate
        if rng is not None and rate > 0.0 and rng.random() < rate:
            answers = self._transient_answers
            return answers[min(int(rng.random() * len(answers)), len(answers) - 1)], False
        if payload_bytes > config.max_payload_bytes:
            return self._payload_answer, False
        state = self._tokens.get(token)
        if state is None:
            return self._unknown_answer, False
        if state.app != app:
            return self._wrong_app_answer, False
        deadline = state.last_connect + self._expiry_days
        if now >= state.reported_at or now > deadline:  # reported (_is_reported) implies dead
            death = self._death_of(state, now)
            if death is not None:
                return self._dead_answer(*death), False
        # delivers, inlined: alive, inactivity deadline not passed
        return self._ok_answer, now < state.died_at and not now > deadline
