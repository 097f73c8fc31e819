"""Web Push (RFC 8030) model: how push services answer a site's sends (docs/model.md §2).

Web Push answers carry no reason string: 404 for an unknown subscription, 410 for an expired or
revoked one, 413 for a payload too large, 429 (+ Retry-After) and 5xx for transient trouble, 403 for
a VAPID credential mismatch. A subscription with no web session for 60 days expires. When a user
revokes a site's permission, Chrome- and Firefox-like browsers delete the subscription (410 at
once); Safari keeps answering 200 for it — a zombie, accepted and never shown — until inactivity
expiry.

Subscriptions also die with no uninstall and nothing said to the site: browsers drop them when site
data is cleared or the browser is reinstalled, and push services expire the subscriptions of
browsers no longer used. By default each subscription's lifetime is drawn when it is issued (with
a random source) from :data:`~sim.providers.config.WEB_SUBSCRIPTION_LIFETIME`, a Weibull fitted to
the decay of delivery with subscription age that Pushpad measured (2018): ≈ 70 % delivered for new
subscriptions, ≈ 50 % at 3 months, < 10 % at 9 months. The 70 % at age 0 is not part of the fit
(what is lost from day 0 — prompts never shown, opt-outs, offline browsers — is modelled
elsewhere or not at all): the lifetime is the curve *relative to age 0*,
S(3 months) = 50/70 and S(9 months) = 7/70, which gives shape 1.75 and scale 170 days (mean
151 days). The site keeps sending to the subscription and from its death on gets 410
(``silent_death_reported``; False keeps answering 201, accepted and never delivered, until the
inactivity expiry — the stale subscriptions Pushpad saw). The model's own uninstall, rotation,
revocation and inactivity deaths come on top of this hazard; the browser subscribes again at the
next visit while permission stays granted.
"""

from __future__ import annotations

import math

from sim.platforms import Provider
from sim.providers.answers import SendResult
from sim.providers.config import RandomSource, TokenDeath
from sim.providers.service import PushService, TokenState

_P = Provider.WEBPUSH

#: Browsers (case-insensitive) whose push service keeps accepting revoked subscriptions.
SILENT_REVOCATION_BROWSERS: frozenset[str] = frozenset({"safari"})


class WebPushService(PushService):
    """Web Push: 403 credentials or VAPID key, 429/503 transient, 413 payload, 404, 410."""

    provider = Provider.WEBPUSH
    token_prefix = "wp"
    permission_revocation_supported = True
    __slots__ = ()

    def _make_credentials_answer(self) -> SendResult:
        return SendResult(_P, 403)

    def _make_transient_answers(self) -> tuple[SendResult, ...]:
        return (
            SendResult(_P, 429, retry_after=self.config.retry_after_days),
            SendResult(_P, 503),
        )

    def _make_payload_answer(self) -> SendResult:
        return SendResult(_P, 413)

    def _make_unknown_answer(self) -> SendResult:
        return SendResult(_P, 404)

    def _make_wrong_app_answer(self) -> SendResult:
        return SendResult(_P, 403)

    def _dead_answer(self, cause: TokenDeath, died_at: float) -> SendResult:
        return SendResult(_P, 410)

    def _report_delay(
        self, state: TokenState, cause: TokenDeath, rng: RandomSource | None
    ) -> float:
        if cause is TokenDeath.PERMISSION_REVOKED:
            silent = state.browser.casefold() in SILENT_REVOCATION_BROWSERS
            return math.inf if silent else 0.0
        return super()._report_delay(state, cause, rng)
