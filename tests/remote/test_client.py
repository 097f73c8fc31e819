"""The client against the Starlette application in-process (no sockets): same answers, same events.

:func:`tests.remote.in_process` gives an ``httpx.Client`` that calls the ASGI application
directly, so these tests exercise the whole protocol (encoding, the endpoints, batching, the read
cache, the events) without a server process.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sim.models import RegistryFailure, problems
from sim.platforms import Platform, Provider
from sim.providers.answers import SendResult
from sim.registry import (
    Registry,
    RegistryPolicy,
    SubscriptionState,
    TokenEvent,
    TokenRecord,
    UnknownProfileError,
    engagement_view,
    export_profile,
)
from sim.registry.protocol import MEMBERS, RegistryProtocol
from sim.remote import server as remote_server
from sim.remote.client import HttpRegistry
from sim.remote.server import create_app
from sim.remote.wire import OPERATIONS, encode_record
from tests.remote import in_process

BASE = "http://testserver"
APP = "app"
PHONE = "charlie_phone"
IOS = Platform.IOS


def reference(policy: RegistryPolicy) -> RegistryProtocol:
    return Registry(policy)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with in_process(create_app(reference, model="reference"), BASE) as client:
        yield client


def remote(
    http: httpx.Client, policy: RegistryPolicy | None = None, **options: Any
) -> HttpRegistry:
    return HttpRegistry(policy or RegistryPolicy(), url=BASE, client=http, **options)


class Heard:
    """Everything a registry told its listeners, in order."""

    def __init__(self, registry: RegistryProtocol) -> None:
        self.things: list[object] = []
        registry.subscribe(self.things.append)
        registry.on_targetability(
            lambda profile, targetable: self.things.append((profile, targetable))
        )


def views(registry: RegistryProtocol) -> dict[str, object]:
    """Every look-up pushsim makes, for the profiles and tokens of the Charlie and Kim story."""
    seen: dict[str, object] = {
        "tokens": list(registry.tokens()),
        "token": [registry.token(t) for t in ("t1", "t2", "nope")],
        "token_for": registry.token_for(PHONE, APP),
        "campaign": list(registry.campaign_tokens(APP, foreground_only=True)),
        "campaign_any": list(registry.campaign_tokens(APP, foreground_only=False)),
        "audience": list(registry.audience(APP)),
        "audience_all": list(registry.audience(APP, include_unsubscribed=True)),
        "audience_ios": list(registry.audience(APP, platform=IOS, foreground_only=False)),
        "size": registry.audience_size(APP),
        "size_ios": registry.audience_size(APP, platform=IOS),
        "estimate": registry.uninstall_estimate(PHONE, APP),
    }
    for person in ("charlie", "kim", f"anon:{PHONE}:{APP}", "nobody"):
        seen[f"targetable {person}"] = registry.is_targetable(person)
        seen[f"has {person}"] = registry.has_profile(person)
        if registry.has_profile(person):
            profile = registry.profile(person)
            seen[f"profile {person}"] = (
                profile.profile_id,
                profile.anonymous,
                profile.state,
                tuple(profile.devices),
                dict(profile.tokens),
            )
            seen[f"engagement {person}"] = engagement_view(registry, person)
            seen[f"export {person}"] = export_profile(registry, person)
    return seen


#: Charlie and Kim share a phone: install, Charlie logs in, Kim logs in, Kim logs out, then the
#: rest of what a world does (opt-out, a bounce, pruning, probes)
SCRIPT: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("add_app", (APP, [IOS, Platform.ANDROID]), {"uninstall_tracking": True}),
    (
        "session_start",
        (0.0,),
        {"device": PHONE, "app": APP, "platform": IOS, "token": "t1", "foreground": True},
    ),
    ("change_user", (0.1,), {"device": PHONE, "app": APP, "user": "charlie"}),
    ("change_user", (1.0,), {"device": PHONE, "app": APP, "user": "kim"}),
    ("log_out", (2.0,), {"device": PHONE, "app": APP}),
    ("handle_response", (2.5, "t1", SendResult(Provider.APNS, 200)), {}),
    ("set_subscription", (2.6, "kim", SubscriptionState.UNSUBSCRIBED), {}),
    ("set_subscription", (2.7, "kim", "opted_in"), {}),
    (
        "session_start",
        (3.0,),
        {
            "device": PHONE,
            "app": APP,
            "platform": IOS,
            "token": "t2",
            "foreground": False,
            "provisional": True,
            "implicit_permission": False,
        },
    ),
    ("handle_response", (4.0, "t1", SendResult(Provider.APNS, 410, "Unregistered", 3.5)), {}),
    ("probe_targets", (5.5, APP), {}),
    ("handle_response", (6.0, "t2", SendResult(Provider.APNS, 410, "Unregistered", 5.0)), {}),
    ("prune_inactive", (7.0,), {}),
]


@pytest.mark.parametrize("batch", [True, False], ids=["write-behind", "call-by-call"])
def test_call_by_call_the_same_as_in_process(http: httpx.Client, batch: bool) -> None:
    local = Registry(RegistryPolicy(prune_after_days=30))
    far = remote(http, RegistryPolicy(prune_after_days=30), batch=batch)
    heard_local, heard_far = Heard(local), Heard(far)
    for name, args, kwargs in SCRIPT:
        here = getattr(local, name)(*args, **kwargs)
        there = getattr(far, name)(*args, **kwargs)
        if name == "probe_targets":
            assert there == here
        assert views(far) == views(local), f"after {name}{args}"
        assert heard_far.things == heard_local.things, f"after {name}{args}"
    assert any(isinstance(t, TokenEvent) for t in heard_far.things)
    assert ("kim", False) in heard_far.things  # the opt-out was heard as a targetability change
    assert [e.cause.value for e in heard_far.things if isinstance(e, TokenEvent)] == [
        e.cause.value for e in heard_local.things if isinstance(e, TokenEvent)
    ]


def test_the_client_has_the_shape_of_a_registry(http: httpx.Client) -> None:
    far = remote(http)
    assert problems(far) == []
    assert isinstance(far, RegistryProtocol)
    assert all(callable(getattr(far, name)) for name in MEMBERS)


def test_writes_are_sent_with_the_next_read(http: httpx.Client) -> None:
    far = remote(http)
    heard: list[TokenEvent] = []
    far.subscribe(heard.append)
    start = far.requests
    far.session_start(0.0, device="d", app=APP, platform=IOS, token="t", foreground=True)
    assert far.requests == start and heard == []  # queued: nothing sent, nothing heard yet
    with pytest.raises(RegistryFailure, match="UnknownAppError"):  # no add_app: refused there
        far.tokens()
    assert far.requests == start + 1


def test_one_request_per_read_after_writes(http: httpx.Client) -> None:
    far = remote(http)
    heard: list[TokenEvent] = []
    far.subscribe(heard.append)
    far.add_app(APP, [IOS])
    start = far.requests
    for day in range(5):
        far.session_start(
            float(day), device=f"d{day}", app=APP, platform=IOS, token=f"t{day}", foreground=True
        )
    assert far.requests == start and heard == []
    assert far.audience_size(APP) == 5
    assert far.requests == start + 1  # five writes and the read: one request
    assert [e.token for e in heard] == ["t0", "t1", "t2", "t3", "t4"]
    assert far.audience_size(APP) == 5 and far.is_targetable("anon:d0:app")
    assert far.is_targetable("anon:d0:app")
    assert far.requests == start + 2  # the same read again is free; a new one costs one
    records = far.tokens()
    assert far.token("t3") == next(r for r in records if r.token == "t3")
    assert far.token_for("d4", APP) is not None and far.token("absent") is None
    assert far.requests == start + 3  # tokens() answers token() and token_for() until a write
    far.log_out(6.0, device="d0", app=APP)
    assert far.token("t3") is not None
    assert far.requests == start + 4
    far.flush()
    assert far.requests == start + 4  # nothing queued: no request


def test_many_single_token_reads_become_one_read_of_every_token(http: httpx.Client) -> None:
    far = remote(http, prefetch_after=3)
    far.add_app(APP, [IOS])
    for day in range(20):
        far.session_start(
            float(day), device=f"d{day}", app=APP, platform=IOS, token=f"t{day}", foreground=True
        )
    start = far.requests
    found = [far.token(f"t{i}") for i in range(20)]
    assert all(r is not None and r.token == f"t{i}" for i, r in enumerate(found))
    assert far.requests == start + 4  # three single reads, then the whole table once


def test_listeners_may_read_and_write_from_inside_a_callback(http: httpx.Client) -> None:
    """A listener's own calls are sent at once; its events come after the ones being delivered."""
    far = remote(http)
    far.add_app(APP, [IOS])
    order: list[str] = []
    seen_inside: list[object] = []

    def listener(event: TokenEvent) -> None:
        order.append(f"{event.change.value} {event.token}")
        seen_inside.append(far.token(event.token))  # a read inside the callback
        if event.token == "t1" and event.change.value == "add":
            far.set_subscription(0.5, event.profile, "unsubscribed")  # a write inside it
            seen_inside.append(far.is_targetable(event.profile))

    far.subscribe(listener)
    far.on_targetability(lambda profile, targetable: order.append(f"{profile} {targetable}"))
    far.session_start(0.0, device="d1", app=APP, platform=IOS, token="t1", foreground=True)
    far.session_start(0.0, device="d2", app=APP, platform=IOS, token="t2", foreground=True)
    # the read was answered with the batch, before the listener's write; the answer is not kept
    assert far.audience_size(APP) == 2
    # the events of the batch first, in order, then those of the listener's own call
    assert order == ["add t1", "add t2", "anon:d1:app False"]
    assert seen_inside[1] is False  # the listener read its own write
    assert far.audience_size(APP) == 1
    assert far.audience(APP) == ["anon:d2:app"]


def test_listeners_hear_only_calls_made_while_subscribed(http: httpx.Client) -> None:
    local, far = Registry(), remote(http)
    heard: dict[str, list[TokenEvent]] = {"local": [], "far": []}
    for name, registry in (("local", local), ("far", far)):
        registry.add_app(APP, [IOS])
        registry.session_start(0.0, device="d", app=APP, platform=IOS, token="a", foreground=True)
        unsubscribe = registry.subscribe(heard[name].append)
        registry.session_start(1.0, device="d", app=APP, platform=IOS, token="b", foreground=True)
        unsubscribe()
        registry.session_start(2.0, device="d", app=APP, platform=IOS, token="c", foreground=True)
        assert registry.token("c") is not None
    assert heard["far"] == heard["local"]
    assert [e.token for e in heard["far"]] == ["a", "b"]  # replaced a, registered b


def test_an_unknown_profile_is_the_protocols_error(http: httpx.Client) -> None:
    far = remote(http)
    far.add_app(APP, [IOS])
    with pytest.raises(UnknownProfileError, match="unknown profile 'ghost'"):
        far.profile("ghost")
    assert far.has_profile("ghost") is False


def test_a_call_the_registry_refuses_names_operation_arguments_and_time(http: httpx.Client) -> None:
    far = remote(http)
    far.add_app(APP, [IOS])
    far.session_start(5.0, device="d", app=APP, platform=IOS, token="t", foreground=True)
    far.change_user(4.0, device="d", app=APP, user="kim")  # time went backwards
    far.log_out(6.0, device="d", app=APP)
    with pytest.raises(RegistryFailure) as caught:
        far.audience_size(APP)
    message = str(caught.value)
    assert "registry service at http://testserver (model 'reference') refused" in message
    assert "change_user(now=4.0, device='d', app='app', user='kim')" in message
    assert "at scenario day 4: TimeWentBackwardsError" in message
    assert caught.value.operation == "change_user" and caught.value.time == 4.0


class Faulty(Registry):
    """A registry with a bug in ``change_user``."""

    def change_user(self, now: float, *, device: str, app: str, user: str) -> None:
        raise RuntimeError(f"boom for {user}")


def test_a_model_that_raises_inside_the_server_is_named() -> None:
    with in_process(create_app(Faulty, model="faulty"), BASE) as client:
        far = remote(client)
        heard: list[TokenEvent] = []
        far.subscribe(heard.append)
        far.add_app(APP, [IOS])
        far.session_start(0.25, device="d1", app=APP, platform=IOS, token="t", foreground=True)
        far.change_user(0.5, device="d1", app=APP, user="kim")
        with pytest.raises(RegistryFailure) as caught:
            far.token_for("d1", APP)
    assert str(caught.value) == (
        "registry service at http://testserver (model 'faulty') refused "
        "change_user(now=0.5, device='d1', app='app', user='kim') at scenario day 0.5: "
        "RuntimeError: boom for kim"
    )
    assert caught.value.operation == "change_user"
    assert [e.token for e in heard] == ["t"]  # what happened before the failure was heard


def test_requests_the_server_cannot_read(http: httpx.Client) -> None:
    created = http.post("/v1/registries", json={"policy": {"detach_on_logout": True}})
    assert created.status_code == 201
    calls = f"/v1/registries/{created.json()['id']}/calls"
    not_json = http.post(calls, content=b"{nope")
    assert not_json.status_code == 400 and "not JSON" in not_json.json()["error"]["message"]
    bad = http.post(calls, json={"calls": [{"op": "tokens"}, {"op": "tokens", "args": {"x": 1}}]})
    assert bad.status_code == 400
    assert bad.json()["error"]["index"] == 1 and bad.json()["results"] == []
    assert http.post(calls, json={"calls": []}).json() == {"results": [], "events": []}
    assert http.post("/v1/registries", json={"policy": {"prune_after_days": -1}}).status_code == 400
    assert http.post("/v1/registries", json={"colour": 1}).status_code == 400
    unknown = http.post("/v1/registries/nope/calls", json={"calls": []})
    assert unknown.status_code == 404 and unknown.json()["error"]["type"] == "UnknownRegistry"
    assert http.get("/v1/health").json()["registries"] == 1
    assert http.delete(calls.removesuffix("/calls")).status_code == 204
    assert http.delete(calls.removesuffix("/calls")).status_code == 404
    assert http.get("/v1/health").json() == {
        "status": "ok",
        "model": "reference",
        "protocol": "pushsim-registry/1",
        "registries": 0,
    }


def test_close_drops_the_registry(http: httpx.Client) -> None:
    far = remote(http)
    far.add_app(APP, [IOS])
    assert http.get("/v1/health").json()["registries"] == 1
    far.close()
    far.close()
    assert http.get("/v1/health").json()["registries"] == 0


# -- answers the client refuses --------------------------------------------------------------------


def scripted(answer: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    """A client whose service creates registries and answers calls with ``answer``."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/registries":
            return httpx.Response(201, json={"id": "r1", "model": "scripted"})
        return answer(request)

    return httpx.Client(transport=httpx.MockTransport(handler))


RECORD = encode_record(TokenRecord("t", APP, IOS, "d", "p", True, False, 0.0, 0.0, 0.0, 0.0))


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            200,
            b"<html>oops</html>",
            'malformed answer .*not JSON \\(HTTP 200\\): "<html>oops</html>"',
        ),
        (200, b'{"results": []}', 'expected the keys "events", "results"'),
        (
            200,
            b'{"results": [], "events": []}',
            r"results: expected an array of 1 results, got \[\]",
        ),
        (
            200,
            json.dumps({"results": [[{**RECORD, "platform": "iphone"}]], "events": []}).encode(),
            r'results\[0\]\[0\]\.platform: expected one of "ios", "android", "web", got "iphone"',
        ),
        (
            200,
            json.dumps({"results": [[]], "events": [{"type": "token", "call": 0}]}).encode(),
            r'events\[0\]: missing "time"',
        ),
        (
            200,
            json.dumps(
                {
                    "results": [[]],
                    "events": [
                        {"type": "targetability", "call": 3, "profile_id": "k", "targetable": True}
                    ],
                }
            ).encode(),
            r"events\[0\]\.call: out of order or range: 3",
        ),
        (500, b"Internal Server Error", 'failed with HTTP 500 .*"Internal Server Error"'),
        (503, b"", r"failed with HTTP 503 .*\(empty body\)"),
        (
            422,
            b'{"error": {"index": 0, "type": "X"}, "results": [], "events": []}',
            r'error: expected "index", "type" and "message"',
        ),
    ],
)
def test_a_malformed_answer_is_quoted(status: int, body: bytes, expected: str) -> None:
    far = HttpRegistry(
        url="http://scripted", client=scripted(lambda _r: httpx.Response(status, content=body))
    )
    with pytest.raises(RegistryFailure, match=expected) as caught:
        far.tokens()
    assert str(caught.value).startswith("registry service at http://scripted ")


def test_a_timeout_is_a_failure_with_the_time() -> None:
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    far = HttpRegistry(url="http://scripted", timeout=0.5, client=scripted(hang))
    far.session_start(12.5, device="d", app=APP, platform=IOS, token="t", foreground=True)
    far.change_user(12.5, device="d", app=APP, user="kim")
    with pytest.raises(RegistryFailure) as caught:
        far.flush()
    assert str(caught.value) == (
        "registry service at http://scripted did not answer (no answer within the 0.5 s "
        "timeout) at scenario day 12.5 (while sending 2 calls: session_start, change_user)"
    )
    assert caught.value.time == 12.5


def test_a_value_json_cannot_carry_is_refused_at_the_call(http: httpx.Client) -> None:
    far = remote(http)
    with pytest.raises(RegistryFailure, match=r"call log_out\(now=nan, .*cannot be sent"):
        far.log_out(float("nan"), device="d", app=APP)


def test_options_are_checked() -> None:
    wrong_options: list[dict[str, Any]] = [
        {"url": "ftp://x"},
        {"url": "http://x", "timeout": 0},
        {"url": "http://x", "timeout": "5"},
        {"url": "http://x", "prefetch_after": 1.5},
    ]
    for wrong in wrong_options:
        with pytest.raises(ValueError):
            HttpRegistry(RegistryPolicy(), **wrong)


# -- the contract --------------------------------------------------------------------------------

OPENAPI = Path(remote_server.__file__).with_name("openapi.yaml")


def contract() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    document: dict[str, Any] = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    return document


def test_the_contract_lists_every_protocol_member() -> None:
    text = OPENAPI.read_text(encoding="utf-8")
    for name in MEMBERS:
        assert f"\n  {name}: {{" in text, f"{name} is missing from x-pushsim-members"
    try:
        document = contract()
    except pytest.skip.Exception:
        return
    assert list(document["x-pushsim-members"]) == list(MEMBERS)
    schemas = document["components"]["schemas"]
    listed = [entry["$ref"].rsplit("/", 1)[-1] for entry in schemas["Call"]["oneOf"]]
    assert listed == list(OPERATIONS)


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_the_contract_describes_each_call_as_the_code_reads_it(name: str) -> None:
    schema = contract()["components"]["schemas"][name]
    operation = OPERATIONS[name]
    args = schema["properties"]["args"]
    assert schema["properties"]["op"] == {"const": name}
    assert list(args.get("properties", {})) == [a.name for a in operation.arguments]
    assert args.get("required", []) == [a.name for a in operation.arguments if a.required]
    assert ("ignored" in schema["x-result"]) is (operation.result == "none")


def test_answers_follow_the_contract(http: httpx.Client) -> None:
    """Real answers to the Charlie and Kim script validate against the contract's schemas."""
    jsonschema = pytest.importorskip("jsonschema")
    document = contract()

    def validator(component: str) -> Any:
        return jsonschema.Draft202012Validator(
            {**document, "$ref": f"#/components/schemas/{component}"}
        )

    created = http.post("/v1/registries", json={"policy": {}})
    validator("Created").validate(created.json())
    calls_path = f"/v1/registries/{created.json()['id']}/calls"
    checked = 0
    for index, (name, args, kwargs) in enumerate(SCRIPT):
        operation = OPERATIONS[name]
        parameters = [a.name for a in operation.arguments]
        values = dict(zip(parameters, args, strict=False)) | kwargs
        for argument in operation.arguments:
            values.setdefault(argument.name, argument.default)
        calls = [{"op": name, "args": operation.encode_args(values)}]
        calls += [{"op": op, "args": a} for op, a in READS if index or op != "profile"]
        request = {"calls": calls}
        validator("CallsRequest").validate(request)
        answer = http.post(calls_path, json=request)
        assert answer.status_code == 200, answer.text
        validator("CallsAnswer").validate(answer.json())
        checked += len(answer.json()["events"])
    assert checked > 5
    refused = http.post(
        calls_path, json={"calls": [{"op": "profile", "args": {"profile_id": "x"}}]}
    )
    assert refused.status_code == 422
    validator("CallsFailure").validate(refused.json())
    validator("Failure").validate(http.post(calls_path, content=b"[").json())
    validator("Health").validate(http.get("/v1/health").json())
    assert http.get("/v1/openapi.yaml").text == OPENAPI.read_text(encoding="utf-8")


#: reads made after each call of the script in :func:`test_answers_follow_the_contract`
READS: list[tuple[str, dict[str, Any]]] = [
    ("tokens", {}),
    ("token", {"token": "t1"}),
    ("token_for", {"device": PHONE, "app": APP}),
    ("campaign_tokens", {"app": APP, "foreground_only": False, "platform": None}),
    ("is_targetable", {"profile_id": "kim"}),
    (
        "audience",
        {"app": APP, "foreground_only": True, "platform": "ios", "include_unsubscribed": True},
    ),
    ("audience_size", {"app": APP, "foreground_only": True, "platform": None}),
    ("has_profile", {"profile_id": "kim"}),
    ("profile", {"profile_id": f"anon:{PHONE}:{APP}"}),
    ("uninstall_estimate", {"device": PHONE, "app": APP}),
]
