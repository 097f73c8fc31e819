"""A user's registry behind a guard: an exception inside it ends the run with what raised it.

Without the guard a bug in a plugged-in registry surfaces as a traceback from deep inside SimPy.
With it, the run stops with :class:`RegistryFailure`: the model, the operation, its arguments and
the scenario time, and the command line prints that one message (exit 1) with nothing written.
"""

from __future__ import annotations

import math
from typing import Any

from sim.registry.errors import UnknownProfileError
from sim.registry.protocol import RegistryProtocol

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


#: the operations that carry the scenario time first: a failure of a read names the latest one
_CHANGES = frozenset(
    {
        "session_start",
        "change_user",
        "log_out",
        "set_subscription",
        "handle_response",
        "probe_targets",
        "prune_inactive",
    }
)


class GuardedRegistry:
    """A user's registry whose every member pushsim calls turns an exception into a failure.

    Members are looked up on ``inner`` and called with exactly the arguments pushsim gives (the
    protocol's calls, :data:`sim.models.conformity.CALLS`); an exception becomes
    :class:`RegistryFailure` naming the operation, its arguments and the scenario time. Reads carry
    no ``now``: their failures name the latest time seen. ``tokens()`` is read at once, so that a
    failure while iterating is caught here; an unknown profile's error passes through, as the
    protocol asks. Optional members (``flush``, ``close``) exist exactly when ``inner`` has them.
    """

    def __init__(self, inner: RegistryProtocol, model: str) -> None:
        self.inner = inner
        self.model = model
        self._now = -math.inf

    def __getattr__(self, operation: str) -> Any:
        member = getattr(self.inner, operation)  # AttributeError: the model has no such member
        if not callable(member):
            return member

        def guarded(*args: Any, **kwargs: Any) -> Any:
            if operation in _CHANGES and args:
                self._now = args[0]
            try:
                result = member(*args, **kwargs)
                return list(result) if operation == "tokens" else result
            except Exception as error:
                if operation == "profile" and isinstance(error, UnknownProfileError):
                    raise  # the protocol's answer for an unknown profile
                raise RegistryFailure.of(
                    self.model, operation, self._now, args, kwargs, error
                ) from error

        return guarded
