"""Provider answers to a send, and the table that says what each answer means (docs/model.md §2).

The table is the single place where (provider, status, reason) becomes an action; the registry and
the tests both read it. Legacy FCM reason strings are mapped onto their v1 equivalents.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sim.platforms import Provider


class Action(StrEnum):
    """What the sender must do with a token after an answer."""

    DELIVERED = "delivered"  # accepted by the provider (2xx)
    REMOVE = "remove"  # permanent token error: drop the token
    RETRY = "retry"  # transient: keep the token, retry with back-off and jitter
    FLAG_CONFIG = "flag_config"  # credentials: keep the token, flag the app's configuration
    FLAG_PAYLOAD = "flag_payload"  # the message, not the token, is wrong: keep the token


@dataclass(frozen=True, slots=True)
class SendResult:
    """One provider answer.

    ``timestamp`` is APNs' 410 ``timestamp`` (in days, the time since which the token is invalid);
    ``retry_after`` is a Retry-After header in days; ``payload_valid`` is False when a 400 blames
    the payload rather than the token.
    """

    provider: Provider
    status: int
    reason: str = ""
    timestamp: float | None = None
    retry_after: float | None = None
    payload_valid: bool = True

    @property
    def accepted(self) -> bool:
        """True for a 2xx answer (the provider took the message; display is another matter)."""
        return 200 <= self.status < 300


#: Legacy FCM (HTTP/XMPP) error strings and the FCM v1 reason each corresponds to.
LEGACY_FCM_REASONS: dict[str, str] = {
    "NotRegistered": "UNREGISTERED",
    "InvalidRegistration": "INVALID_ARGUMENT",
    "MismatchSenderId": "SENDER_ID_MISMATCH",
    "MissingRegistration": "INVALID_ARGUMENT",
    "InvalidApnsCredential": "THIRD_PARTY_AUTH_ERROR",
    "Unavailable": "UNAVAILABLE",
    "InternalServerError": "INTERNAL",
    "DeviceMessageRateExceeded": "QUOTA_EXCEEDED",
    "TopicsMessageRateExceeded": "QUOTA_EXCEEDED",
    "MessageTooBig": "INVALID_ARGUMENT",
}

#: Status code of each FCM v1 reason (used when a legacy answer carries no v1 status).
FCM_STATUS: dict[str, int] = {
    "UNREGISTERED": 404,
    "SENDER_ID_MISMATCH": 403,
    "INVALID_ARGUMENT": 400,
    "THIRD_PARTY_AUTH_ERROR": 401,
    "QUOTA_EXCEEDED": 429,
    "UNAVAILABLE": 503,
    "INTERNAL": 500,
}

_A = Action
#: The classification table of docs/model.md §2, keyed by (provider, status, reason).
#: Web Push answers carry no reason string; their reason is "".
CLASSIFICATION: dict[tuple[Provider, int, str], Action] = {
    (Provider.FCM, 404, "UNREGISTERED"): _A.REMOVE,
    (Provider.FCM, 403, "SENDER_ID_MISMATCH"): _A.REMOVE,
    (Provider.FCM, 400, "INVALID_ARGUMENT"): _A.REMOVE,  # only when the payload is valid
    (Provider.FCM, 401, "THIRD_PARTY_AUTH_ERROR"): _A.FLAG_CONFIG,
    (Provider.FCM, 429, "QUOTA_EXCEEDED"): _A.RETRY,
    (Provider.FCM, 503, "UNAVAILABLE"): _A.RETRY,
    (Provider.FCM, 500, "INTERNAL"): _A.RETRY,
    (Provider.APNS, 410, "Unregistered"): _A.REMOVE,  # unless re-registered after the timestamp
    (Provider.APNS, 410, "ExpiredToken"): _A.REMOVE,
    (Provider.APNS, 400, "BadDeviceToken"): _A.REMOVE,
    (Provider.APNS, 400, "DeviceTokenNotForTopic"): _A.REMOVE,
    (Provider.APNS, 403, "InvalidProviderToken"): _A.FLAG_CONFIG,
    (Provider.APNS, 403, "ExpiredProviderToken"): _A.FLAG_CONFIG,
    (Provider.APNS, 429, "TooManyRequests"): _A.RETRY,
    (Provider.APNS, 500, "InternalServerError"): _A.RETRY,
    (Provider.APNS, 503, "ServiceUnavailable"): _A.RETRY,
    (Provider.APNS, 413, "PayloadTooLarge"): _A.FLAG_PAYLOAD,
    (Provider.WEBPUSH, 404, ""): _A.REMOVE,
    (Provider.WEBPUSH, 410, ""): _A.REMOVE,
    (Provider.WEBPUSH, 403, ""): _A.FLAG_CONFIG,  # VAPID credential mismatch
    (Provider.WEBPUSH, 413, ""): _A.FLAG_PAYLOAD,
    (Provider.WEBPUSH, 429, ""): _A.RETRY,
}


# Members read on every classification, bound once: a member read off its enum class goes through
# EnumType's slow attribute hook on Python 3.11.
_FCM, _WEBPUSH = Provider.FCM, Provider.WEBPUSH
_DELIVERED, _REMOVE, _RETRY = Action.DELIVERED, Action.REMOVE, Action.RETRY


class UnclassifiedAnswerError(ValueError):
    """Raised for an answer the table does not know; silently guessing would hide a model bug."""


def normalise_reason(provider: Provider, reason: str) -> str:
    """Map a legacy FCM reason string to its v1 name; other reasons pass through."""
    if provider is _FCM:
        return LEGACY_FCM_REASONS.get(reason, reason)
    return reason


def classify(result: SendResult) -> Action:
    """Return the :class:`Action` the answer calls for (docs/model.md §2, rule R5)."""
    status = result.status
    if 200 <= status < 300:  # result.accepted, inlined: every send is classified
        return _DELIVERED
    provider = result.provider
    reason = normalise_reason(provider, result.reason)
    if provider is _WEBPUSH:
        if 500 <= status < 600:
            return _RETRY
        reason = ""
    action = CLASSIFICATION.get((provider, status, reason))
    if action is None:
        raise UnclassifiedAnswerError(
            f"no classification for {provider.value} {status} {result.reason!r}"
        )
    if action is _REMOVE and reason == "INVALID_ARGUMENT" and not result.payload_valid:
        return Action.FLAG_PAYLOAD
    return action


def legacy_fcm_result(legacy_reason: str) -> SendResult:
    """Build the v1-equivalent answer for a legacy FCM error string (for legacy API users)."""
    v1 = LEGACY_FCM_REASONS.get(legacy_reason)
    if v1 is None:
        raise UnclassifiedAnswerError(f"unknown legacy FCM error {legacy_reason!r}")
    return SendResult(
        Provider.FCM, FCM_STATUS[v1], legacy_reason, payload_valid=legacy_reason != "MessageTooBig"
    )
