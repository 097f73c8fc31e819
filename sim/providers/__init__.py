"""Models of the push providers (APNs, FCM, Web Push): tokens, truth, answers (docs/model.md §2).

Pure domain code: no SimPy, no I/O, no clock and no randomness of its own. Build a service with
:func:`service_for`; classify its answers with :func:`sim.providers.answers.classify`.
"""

from __future__ import annotations

from sim.platforms import Provider
from sim.providers.answers import Action, SendResult, classify
from sim.providers.apns import ApnsService
from sim.providers.config import (
    FixedLag,
    LognormalLag,
    ProviderConfig,
    ProviderConfigError,
    ProviderError,
    RandomSource,
    TimeWentBackwardsError,
    TokenDeath,
    UniformLag,
    UninstallLag,
    UnknownTokenError,
    UnsupportedCauseError,
    WeibullLifetime,
)
from sim.providers.fcm import FcmService
from sim.providers.retry import BackoffPolicy
from sim.providers.service import PushService
from sim.providers.webpush import WebPushService

_SERVICE_CLASS: dict[Provider, type[PushService]] = {
    Provider.APNS: ApnsService,
    Provider.FCM: FcmService,
    Provider.WEBPUSH: WebPushService,
}


def service_for(provider: Provider, config: ProviderConfig | None = None) -> PushService:
    """A new, empty service for ``provider``; ``config`` defaults to the provider's defaults."""
    return _SERVICE_CLASS[Provider(provider)](config)


__all__ = [
    "Action",
    "ApnsService",
    "BackoffPolicy",
    "FcmService",
    "FixedLag",
    "LognormalLag",
    "ProviderConfig",
    "ProviderConfigError",
    "ProviderError",
    "PushService",
    "RandomSource",
    "SendResult",
    "TimeWentBackwardsError",
    "TokenDeath",
    "UniformLag",
    "UninstallLag",
    "UnknownTokenError",
    "UnsupportedCauseError",
    "WebPushService",
    "WeibullLifetime",
    "classify",
    "service_for",
]
