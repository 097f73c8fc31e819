"""Does an object have the shape of a registry? Every member pushsim calls, checked by its call.

:func:`problems` lists, for an object, each member of
:class:`~sim.registry.protocol.RegistryProtocol` that is missing, not callable, or whose signature
cannot take the exact call pushsim makes (the argument names are part of the protocol: the SDK
passes ``device=``, ``app=``… by keyword). It checks shape only; ``pushsim conform`` checks
behaviour.
"""

from __future__ import annotations

import inspect
from typing import Any

from sim.platforms import Platform, Provider
from sim.providers.answers import SendResult
from sim.registry.protocol import MEMBERS


def _listener(_event: object) -> None:
    """Stands for an observer's listener in the calls below."""


def _targetability(_profile: str, _targetable: bool) -> None:
    """Stands for an observer's targetability listener in the calls below."""


_RESULT = SendResult(Provider.APNS, 200)

#: The calls pushsim makes to each member, as (positional, keyword) arguments: each must bind.
CALLS: dict[str, list[tuple[tuple[Any, ...], dict[str, Any]]]] = {
    "add_app": [(("app", [Platform.IOS]), {"uninstall_tracking": False})],
    "subscribe": [((_listener,), {})],
    "on_targetability": [((_targetability,), {})],
    "session_start": [
        (
            (0.0,),
            {
                "device": "d",
                "app": "app",
                "platform": Platform.IOS,
                "token": "t",
                "foreground": True,
                "provisional": False,
                "implicit_permission": False,
            },
        )
    ],
    "change_user": [((0.0,), {"device": "d", "app": "app", "user": "u"})],
    "log_out": [((0.0,), {"device": "d", "app": "app"})],
    "set_subscription": [((0.0, "u", "opted_in"), {})],
    "campaign_tokens": [(("app",), {"foreground_only": True})],
    "handle_response": [((0.0, "t", _RESULT), {})],
    "probe_targets": [((0.0, "app"), {})],
    "prune_inactive": [((0.0,), {})],
    "tokens": [((), {})],
    "token": [(("t",), {})],
    "token_for": [(("d", "app"), {})],
    "is_targetable": [(("u",), {})],
    "audience": [(("app",), {})],
    "audience_size": [(("app",), {}), (("app",), {"platform": Platform.IOS})],
    "has_profile": [(("u",), {})],
    "profile": [(("u",), {})],
    "uninstall_estimate": [(("d", "app"), {})],
}
assert tuple(CALLS) == MEMBERS, "every protocol member has its calls"


def _render(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    shown = [type(a).__name__ if callable(a) else repr(a) for a in args]
    shown += [f"{k}=…" for k in kwargs]
    return ", ".join(shown)


def _shape(signature: inspect.Signature) -> str:
    """The parameters of ``signature`` as a reader writes them: names, ``*`` and defaults."""
    shown: list[str] = []
    star = False
    for parameter in signature.parameters.values():
        kind = parameter.kind
        if kind is parameter.VAR_POSITIONAL:
            shown.append(f"*{parameter.name}")
            star = True
            continue
        if kind is parameter.VAR_KEYWORD:
            shown.append(f"**{parameter.name}")
            continue
        if kind is parameter.KEYWORD_ONLY and not star:
            shown.append("*")
            star = True
        default = "" if parameter.default is parameter.empty else f"={parameter.default!r}"
        shown.append(parameter.name + default)
    return f"({', '.join(shown)})"


def problems(registry: object) -> list[str]:
    """What keeps ``registry`` from being driven as a registry: one line per member, in order."""
    found: list[str] = []
    for name in MEMBERS:
        member = getattr(registry, name, None)
        if member is None:
            found.append(f"{name}: missing")
            continue
        if not callable(member):
            found.append(f"{name}: is a {type(member).__name__}, not a method")
            continue
        try:
            signature = inspect.signature(member)
        except (TypeError, ValueError):
            continue  # a builtin without a signature: it is called and answers for itself
        for args, kwargs in CALLS[name]:
            try:
                signature.bind(*args, **kwargs)
            except TypeError as error:
                call = f"{name}({_render(args, kwargs)})"
                found.append(f"{name}{_shape(signature)}: cannot be called as {call} ({error})")
                break
    return found
