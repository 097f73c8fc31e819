"""A registry behind the HTTP protocol, as a world drives it: :class:`HttpRegistry`, model "http".

:class:`HttpRegistry` implements :class:`~sim.registry.protocol.RegistryProtocol` by calling a
registry service (``pushsim serve-registry``, or a registry written in any language that follows
``sim/remote/openapi.yaml``). Its constructor creates a registry on the service for the world's
policy, so an unreachable service is found when the world is built, before time 0.

Requests are few:

- **Write-behind.** The operations whose result pushsim ignores (``add_app``, ``session_start``,
  ``change_user``, ``log_out``, ``set_subscription``, ``handle_response``, ``prune_inactive``)
  are queued and sent in one request with the next call whose answer is needed (any look-up,
  ``probe_targets``, ``campaign_tokens``) or at :meth:`HttpRegistry.flush`. ``batch=False``
  sends every call at once instead.
- **Read cache.** An answer is kept until the next write: asking again costs nothing. ``tokens()``
  fills the cache of ``token()`` and ``token_for()``; after ``prefetch_after`` look-ups of single
  tokens missed the cache since the last write, the client reads ``tokens()`` once and answers the
  rest from it.
- **Events.** The token events (R13) and targetability changes an answer reports are delivered to
  the local listeners (:meth:`~HttpRegistry.subscribe`, :meth:`~HttpRegistry.on_targetability`)
  in emission order, once the answer is read. A listener may read or write the registry: what it
  triggers is queued behind the events still to deliver, so the order holds.

What batching changes, and what it does not: the registry receives the same calls in the same
order with the same ``now``, so it ends in the same state and emits the same events, and every
read sees every earlier write. But events reach listeners at the next read or flush rather than
during the call that emitted them, and a listener that reads the registry sees it as it is after
the whole batch. An observer that acts on events before reading the registry (a sampler that
takes the changes it has heard of, then reads) must call :meth:`HttpRegistry.flush` first to be
exact; with ``batch=False`` every call's events are delivered before the call returns.

Failures raise :class:`~sim.models.RegistryFailure`: a service that does not answer (connection
refused, timeout) or fails (HTTP 5xx), naming the URL and the scenario time; a call the service
refused, naming the operation, its arguments and its ``now``; a malformed answer, quoting what
was wrong. ``profile()`` of an unknown profile raises :class:`~sim.registry.UnknownProfileError`
as the protocol says. Every request has the timeout: the client never waits longer.
"""

from __future__ import annotations

import errno
import json
import math
import numbers
import weakref
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

import httpx

from sim.models.guard import RegistryFailure
from sim.platforms import Platform
from sim.providers.answers import SendResult
from sim.registry.errors import UnknownProfileError
from sim.registry.events import TokenEvent, TokenListener
from sim.registry.policy import RegistryPolicy
from sim.registry.protocol import ProfileView, TargetabilityListener
from sim.registry.records import SubscriptionState, TokenRecord, UninstallEstimate
from sim.remote.wire import (
    OPERATIONS,
    Operation,
    TargetabilityChange,
    WireError,
    decode_happening,
    decode_integer,
    decode_result,
    decode_string,
    dumps,
    encode_policy,
    quote,
)

#: Characters of an answer's body quoted in a failure message.
_BODY_CHARS = 300
#: Operation names listed in a failure message before "…".
_NAMES_SHOWN = 3
#: Longest rendering of one argument in a failure message.
_ARGUMENT_CHARS = 80

_TOKEN, _TOKEN_FOR, _TOKENS = "token", "token_for", "tokens"


class _Call:
    """One call on its way to the service: its operation, its encoded JSON and its arguments."""

    __slots__ = ("json", "now", "operation", "values")

    def __init__(self, operation: Operation, values: dict[str, Any]) -> None:
        self.operation = operation
        self.values = values
        self.now = _time_of(values.get("now")) if operation.changes else None
        try:
            self.json = dumps({"op": operation.name, "args": operation.encode_args(values)})
        except (TypeError, ValueError) as error:  # e.g. now=nan, or an object JSON cannot carry
            raise RegistryFailure(
                f"call {self.describe()} cannot be sent to a registry service: {error}",
                operation=operation.name,
                time=self.now if self.now is not None else math.nan,
            ) from None

    def describe(self) -> str:
        """``operation(arg=value, …)``, each value cut short."""
        shown = []
        for name, value in self.values.items():
            text = repr(value.value if isinstance(value, Platform | SubscriptionState) else value)
            if len(text) > _ARGUMENT_CHARS:
                text = text[: _ARGUMENT_CHARS - 1] + "…"
            shown.append(f"{name}={text}")
        return f"{self.operation.name}({', '.join(shown)})"


def _time_of(value: object) -> float | None:
    """``value`` as a scenario time, if it is a finite number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        time = float(value)
    except (OverflowError, ValueError):
        return None
    return time if math.isfinite(time) else None


def _when(now: float) -> str:
    return f"day {now:.6g}" if math.isfinite(now) else "set-up"


def _reason(error: httpx.TransportError, timeout: float) -> str:
    """Why a request got no answer, in a few words."""
    if isinstance(error, httpx.TimeoutException):
        return f"no answer within the {timeout:g} s timeout"
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError) or (
            isinstance(cause, OSError) and cause.errno == errno.ECONNREFUSED
        ):
            return "connection refused"
        cause = cause.__cause__ or cause.__context__
    text = str(error) or type(error).__name__
    return f"{type(error).__name__}: {text}"


class HttpRegistry:
    """A registry served over HTTP (see the module documentation); not thread-safe.

    ``url``: the service's base address (``http://127.0.0.1:8700``). ``timeout``: seconds any one
    request may take. ``batch``: queue the writes whose results pushsim ignores (write-behind).
    ``prefetch_after``: single-token look-ups missing the cache before ``tokens()`` is read
    whole instead (0: never). ``client``: an ``httpx.Client`` to send with (tests pass one that
    calls the application in-process); its own timeout applies, and the registry does not close
    it.
    """

    def __init__(
        self,
        policy: RegistryPolicy | None = None,
        *,
        url: str,
        timeout: float = 10.0,
        batch: bool = True,
        prefetch_after: int = 8,
        client: httpx.Client | None = None,
    ) -> None:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError(f"url must be an http:// or https:// address, got {url!r}")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
            raise ValueError(f"timeout must be a number of seconds > 0, got {timeout!r}")
        if isinstance(prefetch_after, bool) or not isinstance(prefetch_after, int):
            raise ValueError(f"prefetch_after must be an integer >= 0, got {prefetch_after!r}")
        self.url = url.rstrip("/")
        self.timeout = float(timeout)
        self.batch = bool(batch)
        self.prefetch_after = max(0, prefetch_after)
        self.policy = policy if policy is not None else RegistryPolicy()
        self._own_client = client is None
        self._http = (
            client
            if client is not None
            else httpx.Client(timeout=self.timeout, trust_env=False, follow_redirects=False)
        )
        #: HTTP requests made and calls sent so far (for measurements)
        self.requests = 0
        self.calls_sent = 0
        self._queue: list[_Call] = []
        #: the latest ``now`` of a call made (failures name it)
        self._now = -math.inf
        self._cache: dict[tuple[Any, ...], Any] = {}
        #: every record held, by token and by slot, once ``tokens()`` was read since the last write
        self._by_token: dict[str, TokenRecord] | None = None
        self._by_slot: dict[tuple[str, str], TokenRecord] | None = None
        self._misses = 0
        #: counts the writes made: an answer read while a listener wrote is not kept
        self._generation = 0
        self._token_listeners: list[TokenListener] = []
        self._targetability_listeners: list[TargetabilityListener] = []
        self._undelivered: deque[TokenEvent | TargetabilityChange] = deque()
        self._delivering = False
        self.model = ""
        self.registry_id = ""
        self._closed = False
        try:
            answer = self._request(
                "POST", "/v1/registries", dumps({"policy": encode_policy(self.policy)}), ()
            )
            if not isinstance(answer, dict):
                error = WireError("", f'expected {{"id": …, "model": …}}, got {quote(answer)}')
                raise self._malformed(error, (), "POST /v1/registries")
            try:
                self.registry_id = decode_string(answer.get("id"), "id")
                self.model = decode_string(answer.get("model", ""), "model")
            except WireError as error:
                raise self._malformed(error, (), "POST /v1/registries") from None
        except BaseException:
            if self._own_client:
                self._http.close()
            raise
        self._calls_path = f"/v1/registries/{self.registry_id}/calls"
        if self._own_client:  # a world that is never closed still lets its connection go
            weakref.finalize(self, self._http.close)

    # -- the plumbing ----------------------------------------------------------------------------

    def _while(self, calls: Sequence[_Call]) -> str:
        if not calls:
            return ""
        names: list[str] = []
        for call in calls:
            if call.operation.name not in names:
                names.append(call.operation.name)
        listed = ", ".join(names[:_NAMES_SHOWN]) + (", …" if len(names) > _NAMES_SHOWN else "")
        count = f"{len(calls)} call" + ("s" if len(calls) != 1 else "")
        return f" (while sending {count}: {listed})"

    def _malformed(self, error: WireError, calls: Sequence[_Call], what: str) -> RegistryFailure:
        return RegistryFailure(
            f"registry service at {self.url} sent a malformed answer to {what} at scenario "
            f"{_when(self._now)}{self._while(calls)}: {error}",
            operation=calls[-1].operation.name if calls else "",
            time=self._now,
        )

    def _request(self, method: str, path: str, body: bytes | None, calls: Sequence[_Call]) -> Any:
        """Send one request; its decoded JSON answer (2xx, or the 4xx error of a refused call)."""
        self.requests += 1
        try:
            response = self._http.request(
                method,
                self.url + path,
                content=body,
                headers={"content-type": "application/json"} if body is not None else None,
            )
        except httpx.TransportError as error:
            raise RegistryFailure(
                f"registry service at {self.url} did not answer "
                f"({_reason(error, self.timeout)}) at scenario {_when(self._now)}"
                f"{self._while(calls)}",
                operation=calls[-1].operation.name if calls else "",
                time=self._now,
            ) from None
        status = response.status_code
        if status == 204:
            return None
        text = response.text
        if status >= 500 or status not in (200, 201, 400, 404, 422):
            excerpt = quote(text, _BODY_CHARS) if text else "(empty body)"
            raise RegistryFailure(
                f"registry service at {self.url} failed with HTTP {status} on {method} {path} "
                f"at scenario {_when(self._now)}{self._while(calls)}: {excerpt}",
                operation=calls[-1].operation.name if calls else "",
                time=self._now,
            )
        try:
            answer = json.loads(text)
        except ValueError:
            wrong = WireError("", f"not JSON (HTTP {status}): {quote(text, _BODY_CHARS)}")
            raise self._malformed(wrong, calls, f"{method} {path}") from None
        if status in (400, 404) or (status == 422 and not calls):
            raise self._refused_request(status, answer, calls, method, path)
        return answer

    def _refused_request(
        self, status: int, answer: object, calls: Sequence[_Call], method: str, path: str
    ) -> RegistryFailure:
        """The failure of a request the service would not read (400) or place (404)."""
        try:
            error = _error_object(answer)
        except WireError as wrong:
            return self._malformed(wrong, calls, f"{method} {path}")
        index = error["index"]
        culprit = calls[index] if isinstance(index, int) and 0 <= index < len(calls) else None
        what = culprit.describe() if culprit is not None else f"{method} {path}"
        return RegistryFailure(
            f"registry service at {self.url} refused {what} (HTTP {status}) at scenario "
            f"{_when(self._now)}{self._while(calls)}: {error['type']}: {error['message']}",
            operation=culprit.operation.name if culprit is not None else "",
            time=self._now,
        )

    def _send(self, calls: list[_Call]) -> list[Any]:
        """Send ``calls`` in one request, deliver the events, return the decoded results."""
        self.calls_sent += len(calls)
        body = b'{"calls":[' + b",".join(call.json for call in calls) + b"]}"
        answer = self._request("POST", self._calls_path, body, calls)
        where = f"POST {self._calls_path}"
        try:
            if not isinstance(answer, dict):
                raise WireError("", f"expected an object, got {quote(answer)}")
            failed = "error" in answer
            keys = {"results", "events", "error"} if failed else {"results", "events"}
            if set(answer) != keys:
                wanted = ", ".join(f'"{k}"' for k in sorted(keys))
                raise WireError("", f"expected the keys {wanted}, got {quote(answer)}")
            error = _error_object(answer) if failed else None
            done = error["index"] if error is not None else len(calls)
            if not isinstance(done, int) or not 0 <= done < len(calls) + (error is None):
                raise WireError("error.index", f"expected a call index, got {quote(done)}")
            raw_results, raw_events = answer["results"], answer["events"]
            if not isinstance(raw_results, list) or len(raw_results) != done:
                raise WireError(
                    "results", f"expected an array of {done} results, got {quote(raw_results)}"
                )
            if not isinstance(raw_events, list):
                raise WireError("events", f"expected an array, got {quote(raw_events)}")
            results = [
                decode_result(call.operation, value, f"results[{i}]")
                for i, (call, value) in enumerate(zip(calls, raw_results, strict=False))
            ]
            happenings = []
            last = 0
            for i, raw in enumerate(raw_events):
                call_index, happening = decode_happening(raw, f"events[{i}]")
                if not last <= call_index <= min(done, len(calls) - 1):
                    raise WireError(f"events[{i}].call", f"out of order or range: {call_index}")
                last = call_index
                happenings.append(happening)
        except WireError as wrong:
            raise self._malformed(wrong, calls, where) from None
        self._undelivered.extend(happenings)
        self._deliver()
        if error is not None:
            raise self._refusal(calls[done], error)
        return results

    def _refusal(self, call: _Call, error: Mapping[str, Any]) -> Exception:
        """The exception for a call the registry raised on."""
        if call.operation.name == "profile" and error["type"] == "UnknownProfileError":
            return UnknownProfileError(error["message"])
        now = call.now if call.now is not None else self._now
        return RegistryFailure(
            f"registry service at {self.url} (model {self.model!r}) refused "
            f"{call.describe()} at scenario {_when(now)}: {error['type']}: {error['message']}",
            operation=call.operation.name,
            time=now,
        )

    def _deliver(self) -> None:
        """Hand the undelivered events to the listeners, in order (once: not re-entered)."""
        if self._delivering:
            return  # a listener's read or write: the outer loop delivers what it brought
        self._delivering = True
        try:
            undelivered = self._undelivered
            while undelivered:
                happening = undelivered.popleft()
                if isinstance(happening, TargetabilityChange):
                    for target in list(self._targetability_listeners):
                        target(happening.profile_id, happening.targetable)
                else:
                    for listener in list(self._token_listeners):
                        listener(happening)
        finally:
            self._delivering = False

    def _forget(self) -> None:
        """A write: nothing read so far can be trusted."""
        self._generation += 1
        if self._cache:
            self._cache = {}
        self._by_token = self._by_slot = None
        self._misses = 0

    def _write(self, name: str, values: dict[str, Any]) -> None:
        """Queue (or, without batching, send) a call whose result pushsim ignores."""
        call = _Call(OPERATIONS[name], values)
        if call.now is not None:
            self._now = call.now
        self._forget()
        self._queue.append(call)
        if not self.batch:
            self.flush()

    def _ask(self, name: str, values: dict[str, Any]) -> Any:
        """Send the queued writes and this call in one request; this call's result."""
        call = _Call(OPERATIONS[name], values)
        if call.now is not None:
            self._now = call.now
        if call.operation.changes:
            self._forget()
        calls, self._queue = [*self._queue, call], []
        return self._send(calls)[-1]

    def _read(self, name: str, values: dict[str, Any]) -> Any:
        """A look-up, answered from the cache when nothing was written since it was asked."""
        key: tuple[Any, ...] | None = (name, *values.values())
        try:
            if key in self._cache:
                return self._cache[key]
        except TypeError:  # an unhashable argument: asked every time
            key = None
        generation = self._generation
        result = self._ask(name, values)
        if key is not None and generation == self._generation:  # no listener wrote meanwhile
            self._cache[key] = result
        return result

    def _record(self, name: str, values: dict[str, Any]) -> TokenRecord | None:
        """``token`` or ``token_for``: from the whole table when read, else asked."""
        if self._by_token is None and self.prefetch_after:
            try:
                missed = (name, *values.values()) not in self._cache
            except TypeError:
                missed = False
            if missed:
                self._misses += 1
                if self._misses > self.prefetch_after:
                    self.tokens()
        by_token, by_slot = self._by_token, self._by_slot
        if by_token is not None and by_slot is not None:
            try:
                if name == _TOKEN:
                    return by_token.get(values["token"])
                return by_slot.get((values["device"], values["app"]))
            except TypeError:  # an unhashable argument: let the service answer
                pass
        found: TokenRecord | None = self._read(name, values)
        return found

    def flush(self) -> None:
        """Send the queued calls now and deliver their events (nothing queued: no request)."""
        while self._queue:
            calls, self._queue = self._queue, []
            self._send(calls)

    def close(self) -> None:
        """Drop the registry on the service (queued calls are discarded) and close the client.

        Best effort: a service that is gone is not an error here. Closing twice does nothing.
        """
        if self._closed:
            return
        self._closed = True
        self._queue = []
        try:
            self._http.delete(self.url + f"/v1/registries/{self.registry_id}")
        except httpx.HTTPError:
            pass
        finally:
            if self._own_client:
                self._http.close()

    def __enter__(self) -> HttpRegistry:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"HttpRegistry(url={self.url!r}, model={self.model!r}, id={self.registry_id!r})"

    # -- set-up ------------------------------------------------------------------------------------

    def add_app(
        self, app_id: str, platforms: Iterable[Platform], *, uninstall_tracking: bool = False
    ) -> None:
        """See :meth:`RegistryProtocol.add_app` (queued)."""
        listed = platforms if isinstance(platforms, str) else list(platforms)
        self._write(
            "add_app",
            {"app_id": app_id, "platforms": listed, "uninstall_tracking": uninstall_tracking},
        )

    def subscribe(self, listener: TokenListener) -> Callable[[], None]:
        """See :meth:`RegistryProtocol.subscribe`: events of calls made from now on.

        Calls already queued are sent first, so that their events reach only the listeners
        subscribed when they were made, as in-process.
        """
        if not callable(listener):
            raise TypeError(f"a listener must be callable, got {listener!r}")
        self.flush()
        self._token_listeners.append(listener)

        def unsubscribe() -> None:
            self.flush()  # the events of calls made while subscribed still reach it
            if listener in self._token_listeners:
                self._token_listeners.remove(listener)

        return unsubscribe

    def on_targetability(self, listener: TargetabilityListener) -> None:
        """See :meth:`RegistryProtocol.on_targetability` (queued calls are sent first)."""
        if not callable(listener):
            raise TypeError(f"a listener must be callable, got {listener!r}")
        self.flush()
        self._targetability_listeners.append(listener)

    # -- the SDK -----------------------------------------------------------------------------------

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
    ) -> None:
        """See :meth:`RegistryProtocol.session_start` (queued)."""
        self._write(
            "session_start",
            {
                "now": now,
                "device": device,
                "app": app,
                "platform": platform,
                "token": token,
                "foreground": foreground,
                "provisional": provisional,
                "implicit_permission": implicit_permission,
            },
        )

    def change_user(self, now: float, *, device: str, app: str, user: str) -> None:
        """See :meth:`RegistryProtocol.change_user` (queued)."""
        self._write("change_user", {"now": now, "device": device, "app": app, "user": user})

    def log_out(self, now: float, *, device: str, app: str) -> None:
        """See :meth:`RegistryProtocol.log_out` (queued)."""
        self._write("log_out", {"now": now, "device": device, "app": app})

    def set_subscription(self, now: float, profile_id: str, state: SubscriptionState | str) -> None:
        """See :meth:`RegistryProtocol.set_subscription` (queued)."""
        self._write("set_subscription", {"now": now, "profile_id": profile_id, "state": state})

    # -- the sender --------------------------------------------------------------------------------

    def campaign_tokens(
        self, app: str, *, foreground_only: bool = True, platform: Platform | None = None
    ) -> Sequence[TokenRecord]:
        """See :meth:`RegistryProtocol.campaign_tokens`."""
        found: list[TokenRecord] = self._read(
            "campaign_tokens",
            {"app": app, "foreground_only": foreground_only, "platform": platform},
        )
        return list(found)

    def handle_response(self, now: float, token: str, result: SendResult) -> None:
        """See :meth:`RegistryProtocol.handle_response` (queued)."""
        self._write("handle_response", {"now": now, "token": token, "result": result})

    def probe_targets(self, now: float, app: str) -> Sequence[str]:
        """See :meth:`RegistryProtocol.probe_targets` (sent with the queued calls)."""
        found: list[str] = self._ask("probe_targets", {"now": now, "app": app})
        return found

    def prune_inactive(self, now: float) -> None:
        """See :meth:`RegistryProtocol.prune_inactive` (queued)."""
        self._write("prune_inactive", {"now": now})

    # -- look-ups ----------------------------------------------------------------------------------

    def tokens(self) -> Iterable[TokenRecord]:
        """See :meth:`RegistryProtocol.tokens`; fills the cache of ``token`` and ``token_for``."""
        generation = self._generation
        records: list[TokenRecord] = self._read(_TOKENS, {})
        if generation == self._generation and self._by_token is None:
            self._by_token = {record.token: record for record in records}
            self._by_slot = {(record.device, record.app): record for record in records}
        return list(records)

    def token(self, token: str) -> TokenRecord | None:
        """See :meth:`RegistryProtocol.token`."""
        return self._record(_TOKEN, {"token": token})

    def token_for(self, device: str, app: str) -> TokenRecord | None:
        """See :meth:`RegistryProtocol.token_for`."""
        return self._record(_TOKEN_FOR, {"device": device, "app": app})

    def is_targetable(self, profile_id: str) -> bool:
        """See :meth:`RegistryProtocol.is_targetable`."""
        answer: bool = self._read("is_targetable", {"profile_id": profile_id})
        return answer

    def audience(
        self,
        app: str,
        *,
        foreground_only: bool = True,
        platform: Platform | None = None,
        include_unsubscribed: bool = False,
    ) -> Collection[str]:
        """See :meth:`RegistryProtocol.audience`."""
        found: list[str] = self._read(
            "audience",
            {
                "app": app,
                "foreground_only": foreground_only,
                "platform": platform,
                "include_unsubscribed": include_unsubscribed,
            },
        )
        return list(found)

    def audience_size(
        self, app: str, *, foreground_only: bool = True, platform: Platform | None = None
    ) -> int:
        """See :meth:`RegistryProtocol.audience_size`."""
        size: int = self._read(
            "audience_size", {"app": app, "foreground_only": foreground_only, "platform": platform}
        )
        return size

    def has_profile(self, profile_id: str) -> bool:
        """See :meth:`RegistryProtocol.has_profile`."""
        answer: bool = self._read("has_profile", {"profile_id": profile_id})
        return answer

    def profile(self, profile_id: str) -> ProfileView:
        """See :meth:`RegistryProtocol.profile` (an unknown profile: ``UnknownProfileError``)."""
        view: ProfileView = self._read("profile", {"profile_id": profile_id})
        return view

    def uninstall_estimate(self, device: str, app: str) -> UninstallEstimate | None:
        """See :meth:`RegistryProtocol.uninstall_estimate`."""
        estimate: UninstallEstimate | None = self._read(
            "uninstall_estimate", {"device": device, "app": app}
        )
        return estimate


def _error_object(answer: object) -> dict[str, Any]:
    """The ``error`` object of an answer: ``index`` (an int or null), ``type``, ``message``."""
    if not isinstance(answer, dict) or not isinstance(answer.get("error"), dict):
        raise WireError("", f'expected {{"error": {{…}}}}, got {quote(answer)}')
    error = answer["error"]
    if set(error) != {"index", "type", "message"}:
        raise WireError("error", f'expected "index", "type" and "message", got {quote(error)}')
    index = error["index"]
    if index is not None:
        decode_integer(index, "error.index")
    return {
        "index": index,
        "type": decode_string(error["type"], "error.type"),
        "message": decode_string(error["message"], "error.message"),
    }
