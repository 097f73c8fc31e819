"""Apple Push Notification service model: how APNs spells its answers (docs/model.md §2).

APNs answers a dead token with 410 ``Unregistered`` and the ``timestamp`` since which it is invalid;
after an uninstall it keeps answering 200 for a lag drawn per token: Apple documents the schedule
as deliberately unpredictable ("after several days"), developers observe 9–11 days and report
tokens still accepted more than a month later, so the default
(:data:`~sim.providers.config.APNS_UNINSTALL_LAG`) is a shifted log-normal with median 10 days,
no 410 within the first week and 6.6 % of tokens past 30 days. It has no inactivity expiry by
default; when one is configured, expired tokens get 410 ``ExpiredToken``.
"""

from __future__ import annotations

from sim.platforms import Provider
from sim.providers.answers import SendResult
from sim.providers.config import TokenDeath
from sim.providers.service import PushService

_P = Provider.APNS


class ApnsService(PushService):
    """APNs: 403 credentials, 429/500/503 transient, 413 payload, 400 bad token or topic, 410."""

    provider = Provider.APNS
    token_prefix = "apns"
    __slots__ = ()

    def _make_credentials_answer(self) -> SendResult:
        return SendResult(_P, 403, "InvalidProviderToken")

    def _make_transient_answers(self) -> tuple[SendResult, ...]:
        return (
            SendResult(_P, 429, "TooManyRequests", retry_after=self.config.retry_after_days),
            SendResult(_P, 500, "InternalServerError"),
            SendResult(_P, 503, "ServiceUnavailable"),
        )

    def _make_payload_answer(self) -> SendResult:
        return SendResult(_P, 413, "PayloadTooLarge")

    def _make_unknown_answer(self) -> SendResult:
        return SendResult(_P, 400, "BadDeviceToken")

    def _make_wrong_app_answer(self) -> SendResult:
        return SendResult(_P, 400, "DeviceTokenNotForTopic")

    def _dead_answer(self, cause: TokenDeath, died_at: float) -> SendResult:
        reason = "ExpiredToken" if cause is TokenDeath.INACTIVITY else "Unregistered"
        return SendResult(_P, 410, reason, timestamp=died_at)
