"""Firebase Cloud Messaging model: how FCM spells its answers (docs/model.md §2).

FCM v1 answers a dead token with 404 ``UNREGISTERED`` (after an uninstall, once a lag drawn per
token has passed — by default :data:`~sim.providers.config.FCM_UNINSTALL_LAG`, median 1.5 days with
a short tail — or after 270 days without a connection), a malformed token or payload with 400
``INVALID_ARGUMENT``, and a token of another sender with 403 ``SENDER_ID_MISMATCH``. With
``legacy_fcm_strings`` the same statuses carry the legacy reason strings (``NotRegistered``,
``InvalidRegistration``, ``MismatchSenderId``, …), which :func:`sim.providers.answers.classify`
maps back onto v1.
"""

from __future__ import annotations

from sim.platforms import Provider
from sim.providers.answers import FCM_STATUS, SendResult
from sim.providers.config import ProviderConfig, TokenDeath
from sim.providers.service import PushService

_P = Provider.FCM

#: The legacy string FCM uses for each v1 reason this model emits.
LEGACY_REASON_OF: dict[str, str] = {
    "UNREGISTERED": "NotRegistered",
    "INVALID_ARGUMENT": "InvalidRegistration",
    "SENDER_ID_MISMATCH": "MismatchSenderId",
    "THIRD_PARTY_AUTH_ERROR": "InvalidApnsCredential",
    "QUOTA_EXCEEDED": "DeviceMessageRateExceeded",
    "UNAVAILABLE": "Unavailable",
    "INTERNAL": "InternalServerError",
}
#: Legacy string for an oversized payload (v1 says INVALID_ARGUMENT for both token and payload).
LEGACY_PAYLOAD_REASON = "MessageTooBig"


class FcmService(PushService):
    """FCM: 401 credentials, 429/503/500 transient, 400 token or payload, 403 sender, 404."""

    provider = Provider.FCM
    token_prefix = "fcm"
    __slots__ = ("_unregistered_answer",)

    def __init__(self, config: ProviderConfig | None = None) -> None:
        """Create an empty FCM service (see :class:`~sim.providers.service.PushService`)."""
        super().__init__(config)
        self._unregistered_answer = self._answer("UNREGISTERED")

    def _answer(
        self,
        v1_reason: str,
        *,
        legacy_reason: str | None = None,
        retry_after: float | None = None,
        payload_valid: bool = True,
    ) -> SendResult:
        reason = v1_reason
        if self.config.legacy_fcm_strings:
            reason = legacy_reason or LEGACY_REASON_OF[v1_reason]
        return SendResult(
            _P,
            FCM_STATUS[v1_reason],
            reason,
            retry_after=retry_after,
            payload_valid=payload_valid,
        )

    def _make_credentials_answer(self) -> SendResult:
        return self._answer("THIRD_PARTY_AUTH_ERROR")

    def _make_transient_answers(self) -> tuple[SendResult, ...]:
        return (
            self._answer("QUOTA_EXCEEDED", retry_after=self.config.retry_after_days),
            self._answer("UNAVAILABLE"),
            self._answer("INTERNAL"),
        )

    def _make_payload_answer(self) -> SendResult:
        return self._answer(
            "INVALID_ARGUMENT", legacy_reason=LEGACY_PAYLOAD_REASON, payload_valid=False
        )

    def _make_unknown_answer(self) -> SendResult:
        return self._answer("INVALID_ARGUMENT")

    def _make_wrong_app_answer(self) -> SendResult:
        return self._answer("SENDER_ID_MISMATCH")

    def _dead_answer(self, cause: TokenDeath, died_at: float) -> SendResult:
        return self._unregistered_answer
