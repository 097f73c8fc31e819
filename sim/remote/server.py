"""A registry service: any Python registry behind pushsim's HTTP/JSON protocol (docs/model.md §8).

:func:`create_app` builds a Starlette ASGI application around a registry factory; :func:`serve`
runs one for a model name (``"reference"``, ``"subscriptions"``, ``"module:factory"`` …) with
uvicorn. One service hosts many registries, each created by ``POST /v1/registries`` with the
policy of the world that drives it; the model and its options are fixed when the service starts.
The endpoints (``sim/remote/openapi.yaml`` is the contract):

- ``GET /v1/health``: ``{"status": "ok", "model": …, "protocol": …, "registries": n}``;
- ``POST /v1/registries`` with ``{"policy": {…}}``: a fresh registry, ``201 {"id": …}``;
- ``DELETE /v1/registries/{id}``: drop it (``204``);
- ``POST /v1/registries/{id}/calls`` with ``{"calls": [{"op": …, "args": {…}}, …]}``: the calls,
  applied in order. ``200 {"results": […], "events": […]}`` when every call succeeded: one result
  per call (``null`` for the operations whose result pushsim ignores), and the token events (R13)
  and targetability changes the calls emitted, in emission order, each with the index of its
  call. ``422`` with ``{"error": {"index": i, "type": …, "message": …}, "results": […],
  "events": […]}`` when call ``i`` raised: the calls before it were applied (their results and
  events are given), call ``i`` and those after it were not. ``400`` when the request cannot be
  read (nothing applied); ``404`` for an unknown registry.

Calls run on the event loop, one request at a time, so a registry is never entered by two
requests at once and its answers are the same as in-process.
"""

from __future__ import annotations

import functools
import json
import logging
import signal
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sim.models.choice import ModelError, load_factory
from sim.models.conformity import problems
from sim.registry.events import TokenEvent
from sim.registry.policy import RegistryPolicy
from sim.registry.protocol import RegistryProtocol
from sim.remote.wire import (
    PROTOCOL,
    TargetabilityChange,
    WireError,
    decode_call,
    decode_policy,
    dumps,
    encode_happening,
    encode_result,
    quote,
)

#: Builds one registry for a policy (the model's factory with its options bound).
Factory = Callable[[RegistryPolicy], RegistryProtocol]

#: The contract of the protocol, served at ``GET /v1/openapi.yaml``.
OPENAPI = Path(__file__).with_name("openapi.yaml")

_JSON = "application/json"
_SIGNALS = (signal.SIGINT, signal.SIGTERM)
logger = logging.getLogger("sim.remote")


def _answer(payload: object, status: int = 200) -> Response:
    return Response(dumps(payload), status_code=status, media_type=_JSON)


def _failure(status: int, kind: str, message: str, index: int | None = None) -> Response:
    return _answer({"error": {"index": index, "type": kind, "message": message}}, status)


@dataclass
class Hosted:
    """One registry of the service and what its listeners heard during the current request."""

    registry: RegistryProtocol
    #: the events of the calls being applied, encoded as they are emitted
    events: list[dict[str, Any]] = field(default_factory=list)
    #: the index of the call being applied
    call: int = 0

    def heard_token(self, event: TokenEvent) -> None:
        """Listener of the registry's token events."""
        self.events.append(encode_happening(event, self.call, f"events[{len(self.events)}]"))

    def heard_targetability(self, profile_id: str, targetable: bool) -> None:
        """Listener of the registry's targetability changes."""
        change = TargetabilityChange(profile_id, targetable)
        self.events.append(encode_happening(change, self.call, f"events[{len(self.events)}]"))

    def apply(self, calls: object) -> tuple[int, dict[str, Any]]:
        """Apply the calls of a request body's ``calls``; the HTTP status and the answer."""
        if not isinstance(calls, list):
            return 400, {
                "error": {
                    "index": None,
                    "type": "WireError",
                    "message": f"calls: expected an array of calls, got {quote(calls)}",
                }
            }
        decoded = []
        for index, call in enumerate(calls):  # every call is read before any is applied
            try:
                decoded.append(decode_call(call, f"calls[{index}]"))
            except WireError as error:
                return 400, {
                    "error": {"index": index, "type": "WireError", "message": str(error)},
                    "results": [],
                    "events": [],
                }
        results: list[Any] = []
        events: list[dict[str, Any]] = []
        self.events = events
        try:
            for index, (operation, args, keywords) in enumerate(decoded):
                self.call = index
                try:
                    value = getattr(self.registry, operation.name)(*args, **keywords)
                    results.append(encode_result(operation, value, f"results[{index}]"))
                except Exception as error:
                    if not isinstance(error, WireError):
                        logger.debug("call %d (%s) raised", index, operation.name, exc_info=True)
                    return 422, {
                        "error": {
                            "index": index,
                            "type": type(error).__name__,
                            "message": str(error),
                        },
                        "results": results,
                        "events": events,
                    }
            return 200, {"results": results, "events": events}
        finally:
            self.events = []


class RegistryHost:
    """The registries of one service, by id, all built by one factory."""

    def __init__(self, factory: Factory, model: str) -> None:
        self.factory = factory
        self.model = model
        self.registries: dict[str, Hosted] = {}

    def create(self, policy: RegistryPolicy) -> str:
        """Build a registry for ``policy``, subscribe to it, and return its new id."""
        registry = self.factory(policy)
        found = problems(registry)
        if found:
            raise ModelError(
                f"model {self.model!r} does not implement the registry protocol: {found[0]}"
            )
        hosted = Hosted(registry)
        registry.subscribe(hosted.heard_token)
        registry.on_targetability(hosted.heard_targetability)
        registry_id = uuid.uuid4().hex  # never reused: a restarted service answers 404
        self.registries[registry_id] = hosted
        return registry_id

    # -- endpoints -----------------------------------------------------------------------------

    async def health(self, _request: Request) -> Response:
        """``GET /v1/health``."""
        return _answer(
            {
                "status": "ok",
                "model": self.model,
                "protocol": PROTOCOL,
                "registries": len(self.registries),
            }
        )

    async def openapi(self, _request: Request) -> Response:
        """``GET /v1/openapi.yaml``: the contract."""
        return Response(OPENAPI.read_bytes(), media_type="application/yaml")

    async def new_registry(self, request: Request) -> Response:
        """``POST /v1/registries``."""
        body = await _json_body(request)
        if isinstance(body, Response):
            return body
        try:
            if not isinstance(body, dict) or set(body) - {"policy"}:
                raise WireError("", f'expected {{"policy": {{…}}}}, got {quote(body)}')
            policy = decode_policy(body.get("policy", {}), "policy")
        except (WireError, ValueError) as error:
            return _failure(400, type(error).__name__, str(error))
        try:
            registry_id = self.create(policy)
        except Exception as error:
            return _failure(
                500,
                type(error).__name__,
                f"model {self.model!r} could not build a registry: {error}",
            )
        return _answer({"id": registry_id, "model": self.model}, 201)

    async def drop_registry(self, request: Request) -> Response:
        """``DELETE /v1/registries/{id}``."""
        registry_id = request.path_params["registry_id"]
        if self.registries.pop(registry_id, None) is None:
            return _unknown(registry_id)
        return Response(status_code=204)

    async def calls(self, request: Request) -> Response:
        """``POST /v1/registries/{id}/calls``."""
        registry_id = request.path_params["registry_id"]
        hosted = self.registries.get(registry_id)
        if hosted is None:
            return _unknown(registry_id)
        body = await _json_body(request)
        if isinstance(body, Response):
            return body
        if not isinstance(body, dict) or set(body) != {"calls"}:
            return _failure(
                400,
                "WireError",
                f'expected {{"calls": [{{"op": …, "args": {{…}}}}, …]}}, got {quote(body)}',
            )
        status, payload = hosted.apply(body["calls"])
        try:
            return _answer(payload, status)
        except ValueError as error:  # a number JSON cannot carry slipped through
            return _failure(500, "WireError", f"the answer cannot be written as JSON: {error}")


def _unknown(registry_id: str) -> Response:
    return _failure(
        404,
        "UnknownRegistry",
        f"no registry {registry_id!r} here (dropped, or the service restarted)",
    )


async def _json_body(request: Request) -> object:
    """The request's JSON body, or the 400 answer that says why it is not JSON."""
    raw = await request.body()
    try:
        return json.loads(raw)
    except ValueError as error:
        return _failure(
            400,
            "WireError",
            f"the body is not JSON ({error}): {quote(raw.decode(errors='replace'))}",
        )


def create_app(factory: Factory, *, model: str = "custom") -> Starlette:
    """The ASGI application serving registries built by ``factory(policy)``.

    ``model`` is the name ``GET /v1/health`` reports. The application's ``state.host`` is the
    :class:`RegistryHost` (tests read its registries).
    """
    host = RegistryHost(factory, model)
    app = Starlette(
        routes=[
            Route("/v1/health", host.health, methods=["GET"]),
            Route("/v1/openapi.yaml", host.openapi, methods=["GET"]),
            Route("/v1/registries", host.new_registry, methods=["POST"]),
            Route("/v1/registries/{registry_id}", host.drop_registry, methods=["DELETE"]),
            Route("/v1/registries/{registry_id}/calls", host.calls, methods=["POST"]),
        ]
    )
    app.state.host = host
    return app


def app_for_model(model: str, options: Mapping[str, Any] | None = None) -> Starlette:
    """The application serving ``model`` (a name :func:`sim.models.load_factory` accepts)."""
    factory = load_factory(model)
    bound: Factory = functools.partial(factory, **dict(options or {}))
    return create_app(bound, model=model)


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (port 0: any free port), IPv4 or IPv6."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # the protocol named, not 0: asyncio sets TCP_NODELAY on accepted sockets only when the
    # listening socket says TCP, and without it every answer on a kept-alive connection waits
    # ~40 ms for the client's delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.set_inheritable(True)
    except BaseException:
        sock.close()
        raise
    return sock


def url_of(sock: socket.socket) -> str:
    """The ``http://host:port`` a bound socket answers at."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(
    model: str,
    options: Mapping[str, Any] | None,
    host: str = "127.0.0.1",
    port: int = 8700,
    *,
    ready: Callable[[str], None] | None = None,
    log_level: str = "warning",
) -> None:
    """Serve ``model`` at ``host``:``port`` with uvicorn; return once SIGINT or SIGTERM stops it.

    The socket is bound before the server starts, so that ``port=0`` takes any free port;
    ``ready(url)`` is then called with the real address. One process, one worker, no access
    log. A stopping signal ends the server gracefully and :func:`serve` returns normally (in the
    main thread; elsewhere uvicorn handles no signals). Raises :class:`~sim.models.ModelError`
    for a model that cannot be loaded, and ``OSError`` for an address that cannot be bound.
    """
    import uvicorn

    app = app_for_model(model, options)
    sock = bind_socket(host, port)
    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        lifespan="off",
        ws="none",
        server_header=False,
        date_header=False,
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)

    def stop(_number: int, _frame: FrameType | None) -> None:
        server.should_exit = True

    # uvicorn captures SIGINT and SIGTERM while it runs, then puts back the handlers it found and
    # raises the signal again: the handlers found are these, so that the process is not killed
    # after its clean shutdown. A signal before uvicorn's own handlers are in place lands here too.
    main = threading.current_thread() is threading.main_thread()
    previous = {number: signal.signal(number, stop) for number in _SIGNALS} if main else {}
    try:
        if ready is not None:
            ready(url_of(sock))
        server.run(sockets=[sock])
    finally:
        sock.close()
        for number, handler in previous.items():
            signal.signal(number, handler)
