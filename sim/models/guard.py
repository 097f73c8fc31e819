"""A user's registry behind a guard: an exception inside it ends the run with what raised it.

Without the guard a bug in a plugged-in registry surfaces as a traceback from deep inside SimPy.
With it, the run stops with :class:`RegistryFailure`: the model, the operation, its arguments and
the scenario time, and the command line prints that one message (exit 1) with nothing written.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any

from sim.platforms import Platform
from sim.providers.answers import SendResult
from sim.registry.events import TokenListener
from sim.registry.protocol import ProfileView, RegistryProtocol, TargetabilityListener
from sim.registry.records import SubscriptionState, TokenRecord, UninstallEstimate

#: longest rendering of one argument in a failure message
_ARGUMENT_CHARS = 80


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _ARGUMENT_CHARS else text[: _ARGUMENT_CHARS - 1] + "…"


class RegistryFailure(RuntimeError):
    """A registry raised during a run: which model, operation, arguments and scenario time."""

    def __init__(self, message: str, operation: str = "", time: float = math.nan) -> None:
        # every field in ``args``: SimPy re-raises a process's exception as type(e)(*e.args)
        super().__init__(message, operation, time)
        self.message = message
        self.operation = operation
        self.time = time

    def __str__(self) -> str:
        return self.message

    @classmethod
    def of(
        cls,
        model: str,
        operation: str,
        time: float,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        error: BaseException,
    ) -> RegistryFailure:
        """The failure of ``operation(*args, **kwargs)`` at scenario day ``time``."""
        shown = [_show(a) for a in args] + [f"{k}={_show(v)}" for k, v in kwargs.items()]
        when = f"day {time:.6g}" if math.isfinite(time) else "set-up"
        return cls(
            f"registry model {model!r} raised {type(error).__name__} at scenario {when} "
            f"in {operation}({', '.join(shown)}): {error}",
            operation=operation,
            time=time,
        )


class GuardedRegistry:
    """Implements :class:`~sim.registry.protocol.RegistryProtocol` by calling ``inner``.

    Every call goes through :meth:`_call`, which turns an exception into
    :class:`RegistryFailure`. Reads carry no ``now``: their failures name the latest time seen.
    """

    def __init__(self, inner: RegistryProtocol, model: str) -> None:
        self.inner = inner
        self.model = model
        self._now = -math.inf

    def _call(self, operation: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(self.inner, operation)(*args, **kwargs)
        except Exception as error:
            raise RegistryFailure.of(
                self.model, operation, self._now, args, kwargs, error
            ) from error

    def _change(self, operation: str, now: float, *args: Any, **kwargs: Any) -> Any:
        self._now = now
        return self._call(operation, now, *args, **kwargs)

    # -- optional members: passed through when the model has them --------------------------------

    def flush(self) -> None:
        """Send what the model batches (an HTTP client's queued calls), if it batches."""
        flush = getattr(self.inner, "flush", None)
        if callable(flush):
            self._call("flush")

    def close(self) -> None:
        """Release what the model holds (a connection, a registry on a server), if anything."""
        close = getattr(self.inner, "close", None)
        if callable(close):
            self._call("close")

    # -- set-up ---------------------------------------------------------------------------------

    def add_app(
        self, app_id: str, platforms: Iterable[Platform], *, uninstall_tracking: bool = False
    ) -> object:
        """See :meth:`RegistryProtocol.add_app`."""
        return self._call("add_app", app_id, list(platforms), uninstall_tracking=uninstall_tracking)

    def subscribe(self, listener: TokenListener) -> Callable[[], None]:
        """See :meth:`RegistryProtocol.subscribe`."""
        return self._call("subscribe", listener)  # type: ignore[no-any-return]

    def on_targetability(self, listener: TargetabilityListener) -> None:
        """See :meth:`RegistryProtocol.on_targetability`."""
        self._call("on_targetability", listener)

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
        """See :meth:`RegistryProtocol.session_start`."""
        return self._change(
            "session_start",
            now,
            device=device,
            app=app,
            platform=platform,
            token=token,
            foreground=foreground,
            provisional=provisional,
            implicit_permission=implicit_permission,
        )

    def change_user(self, now: float, *, device: str, app: str, user: str) -> None:
        """See :meth:`RegistryProtocol.change_user`."""
        self._change("change_user", now, device=device, app=app, user=user)

    def log_out(self, now: float, *, device: str, app: str) -> None:
        """See :meth:`RegistryProtocol.log_out`."""
        self._change("log_out", now, device=device, app=app)

    def set_subscription(self, now: float, profile_id: str, state: SubscriptionState | str) -> None:
        """See :meth:`RegistryProtocol.set_subscription`."""
        self._change("set_subscription", now, profile_id, state)

    # -- the sender -----------------------------------------------------------------------------

    def campaign_tokens(
        self, app: str, *, foreground_only: bool = True, platform: Platform | None = None
    ) -> Sequence[TokenRecord]:
        """See :meth:`RegistryProtocol.campaign_tokens`."""
        if platform is None:  # the call pushsim makes (a model may not take ``platform``)
            return self._call("campaign_tokens", app, foreground_only=foreground_only)  # type: ignore[no-any-return]
        return self._call(  # type: ignore[no-any-return]
            "campaign_tokens", app, foreground_only=foreground_only, platform=platform
        )

    def handle_response(self, now: float, token: str, result: SendResult) -> object:
        """See :meth:`RegistryProtocol.handle_response`."""
        return self._change("handle_response", now, token, result)

    def probe_targets(self, now: float, app: str) -> Sequence[str]:
        """See :meth:`RegistryProtocol.probe_targets`."""
        return self._change("probe_targets", now, app)  # type: ignore[no-any-return]

    def prune_inactive(self, now: float) -> object:
        """See :meth:`RegistryProtocol.prune_inactive`."""
        return self._change("prune_inactive", now)

    # -- look-ups -------------------------------------------------------------------------------

    def tokens(self) -> Iterable[TokenRecord]:
        """See :meth:`RegistryProtocol.tokens` (read at once, so that a failure is caught here)."""
        return list(self._call("tokens"))

    def token(self, token: str) -> TokenRecord | None:
        """See :meth:`RegistryProtocol.token`."""
        return self._call("token", token)  # type: ignore[no-any-return]

    def token_for(self, device: str, app: str) -> TokenRecord | None:
        """See :meth:`RegistryProtocol.token_for`."""
        return self._call("token_for", device, app)  # type: ignore[no-any-return]

    def is_targetable(self, profile_id: str) -> bool:
        """See :meth:`RegistryProtocol.is_targetable`."""
        return self._call("is_targetable", profile_id)  # type: ignore[no-any-return]

    def audience(
        self,
        app: str,
        *,
        foreground_only: bool = True,
        platform: Platform | None = None,
        include_unsubscribed: bool = False,
    ) -> Collection[str]:
        """See :meth:`RegistryProtocol.audience`."""
        kwargs: dict[str, Any] = {}
        if not foreground_only:
            kwargs["foreground_only"] = False
        if platform is not None:
            kwargs["platform"] = platform
        if include_unsubscribed:
            kwargs["include_unsubscribed"] = True
        return self._call("audience", app, **kwargs)  # type: ignore[no-any-return]

    def audience_size(
        self, app: str, *, foreground_only: bool = True, platform: Platform | None = None
    ) -> int:
        """See :meth:`RegistryProtocol.audience_size`."""
        kwargs: dict[str, Any] = {}
        if not foreground_only:
            kwargs["foreground_only"] = False
        if platform is not None:
            kwargs["platform"] = platform
        return self._call("audience_size", app, **kwargs)  # type: ignore[no-any-return]

    def has_profile(self, profile_id: str) -> bool:
        """See :meth:`RegistryProtocol.has_profile`."""
        return self._call("has_profile", profile_id)  # type: ignore[no-any-return]

    def profile(self, profile_id: str) -> ProfileView:
        """See :meth:`RegistryProtocol.profile` (an unknown profile's error passes through)."""
        from sim.registry.errors import UnknownProfileError

        try:
            return self.inner.profile(profile_id)
        except UnknownProfileError:
            raise
        except Exception as error:
            raise RegistryFailure.of(
                self.model, "profile", self._now, (profile_id,), {}, error
            ) from error

    def uninstall_estimate(self, device: str, app: str) -> UninstallEstimate | None:
        """See :meth:`RegistryProtocol.uninstall_estimate`."""
        return self._call("uninstall_estimate", device, app)  # type: ignore[no-any-return]
