from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.calibration import (
    Observable,
    PlatformClass,
    TokenExportError,
    read_token_export,
)
from sim.registry import Registry, export_profile
from sim.simulation import Simulation
from sim.world.params import WorldParams

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "token_export.jsonl"


def token(
    t: str, device: str, platform: str = "ios", enabled: bool = True, app: str = "news"
) -> dict[str, Any]:
    return {
        "app": app,
        "platform": platform,
        "token": t,
        "device_id": device,
        "notifications_enabled": enabled,
    }


def profile(pid: str, *tokens: dict[str, Any], anonymous: bool = False) -> dict[str, Any]:
    key = "user_aliases" if anonymous else "external_id"
    return {key: pid, "push_subscribe": "subscribed", "push_tokens": list(tokens)}


def write(tmp_path: Path, lines: list[Any]) -> Path:
    path = tmp_path / "export.jsonl"
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    path.write_text(text + "\n", encoding="utf-8")
    return path


#: a hand-written export: 5 profiles, 7 tokens, 6 devices; u2 on two devices; d4 shared by u3, u4
HAND = [
    profile("u1", token("t1", "d1", "ios", True)),
    profile("u2", token("t2", "d2", "ios", False), token("t3", "d3", "android", True)),
    profile("u3", token("t4", "d4", "android", True, app="news")),
    profile("u4", token("t5", "d4", "android", False, app="sport")),
    profile("a1", token("t6", "d5", "web", True), anonymous=True),
    profile("u5"),
    profile("u6", token("t7", "d6", "ios", True)),
]


def test_the_derived_numbers_of_a_hand_written_export(tmp_path: Path) -> None:
    summary = read_token_export(write(tmp_path, HAND))
    assert len(summary.profiles) == 7
    assert summary.token_count == 7
    assert summary.skipped == {}
    ios = summary.tokens_per_user("ios")
    assert ios.mean == pytest.approx(3 / 7)
    assert dict(ios.counts) == {0: 4, 1: 3}
    assert dict(summary.tokens_per_user("android").counts) == {0: 4, 1: 3}
    assert summary.enabled_share() == pytest.approx(5 / 7)
    assert summary.enabled_share("ios") == pytest.approx(2 / 3)
    assert summary.enabled_share("android") == pytest.approx(2 / 3)
    assert summary.enabled_share("web") == 1.0
    per_user = summary.devices_per_user()  # u5 holds no token: not counted
    assert dict(per_user.counts) == {1: 5, 2: 1}
    assert per_user.mean == pytest.approx(7 / 6)
    per_device = summary.users_per_device()
    assert dict(per_device.counts) == {1: 5, 2: 1}
    assert summary.multi_device_user_share() == pytest.approx(1 / 6)
    assert summary.multi_user_device_share() == pytest.approx(1 / 6)
    assert [p.anonymous for p in summary.profiles].count(True) == 1


def test_to_observations(tmp_path: Path) -> None:
    summary = read_token_export(write(tmp_path, HAND))
    observations = summary.to_observations(window_days=1)
    disabled = observations.find("notifications_disabled_share", platform="ios")
    assert disabled is not None
    assert disabled.value == pytest.approx(1 / 3)
    assert disabled.n == 3
    assert disabled.standard_error() == pytest.approx(((1 / 3) * (2 / 3) / 3) ** 0.5)
    web = observations.find(Observable.NOTIFICATIONS_DISABLED_SHARE, platform=PlatformClass.WEB)
    assert web is not None and web.value == 0.0 and web.n == 1
    users = observations.find("multi_device_user_share")
    assert users is not None and users.n == 6 and users.value == pytest.approx(1 / 6)
    devices = observations.find("multi_user_device_share")
    assert devices is not None and devices.n == 6 and devices.value == pytest.approx(1 / 6)
    assert len(observations) == 5
    assert observations.to_frame()["window_days"].eq(1).all()
    with pytest.raises(ValueError, match="window_days must be > 0"):
        summary.to_observations(window_days=0)


def test_the_example_reads() -> None:
    summary = read_token_export(EXAMPLE)
    assert 10 <= len(summary.profiles) <= 20
    assert summary.skipped == {}
    assert summary.multi_user_device_share() is not None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 2: not JSON: Expecting property name enclosed in double quotes"),
        ("[1, 2]", "line 2: must be a JSON object, one profile (got list)"),
        (
            {"push_tokens": []},
            "line 2: missing key: external_id or user_aliases (the profile id)",
        ),
        (
            {"external_id": "x", "user_aliases": "y", "push_tokens": []},
            "line 2: has both external_id and user_aliases; a profile has one",
        ),
        ({"external_id": 7, "push_tokens": []}, "line 2: external_id: must be a string (got 7)"),
        ({"external_id": "x"}, "line 2: missing key: push_tokens"),
        (
            {"external_id": "x", "push_tokens": {}},
            "line 2: push_tokens: must be a list (got dict)",
        ),
        (
            {"external_id": "x", "push_subscribe": "maybe", "push_tokens": []},
            "line 2: push_subscribe: must be one of opted_in, subscribed, unsubscribed "
            '(got "maybe")',
        ),
        (
            {"external_id": "x", "push_tokens": [{"app": "news"}]},
            "line 2: push_tokens[0]: missing key: platform",
        ),
        (
            profile("x", token("t9", "d9", platform="ios2")),
            "line 2: push_tokens[0].platform: unknown platform 'ios2'; allowed: ios, android, web",
        ),
        (
            profile("x", {**token("t9", "d9"), "notifications_enabled": "yes"}),
            'line 2: push_tokens[0].notifications_enabled: must be true or false (got "yes")',
        ),
        (
            profile("x", token("t9", "")),
            "line 2: push_tokens[0].device_id: must not be empty",
        ),
        (
            profile("x", token("t9", "d9"), token("t1", "d9")),
            "line 2: push_tokens[1].token: token 't1' is already under profile 'u1' (line 1); "
            "a token belongs to one profile",
        ),
        (
            profile("x", token("t9", "d9"), token("t9", "d9")),
            "line 2: push_tokens[1].token: token 't9' appears twice in this profile",
        ),
        (profile("u1"), "line 2: profile 'u1' is already on line 1"),
    ],
)
def test_a_bad_line_names_the_file_and_the_line(tmp_path: Path, line: Any, message: str) -> None:
    path = write(tmp_path, [profile("u1", token("t1", "d1")), line])
    with pytest.raises(TokenExportError) as caught:
        read_token_export(path)
    assert str(caught.value).startswith(f"{path}: {message}")
    assert caught.value.line == 2


def test_skip_mode_counts_every_skipped_line(tmp_path: Path) -> None:
    lines: list[Any] = [
        profile("u1", token("t1", "d1")),
        "{broken",
        "",
        profile("u2", token("t1", "d2")),  # t1 again
        profile("u3", token("t3", "d3", platform="blackberry")),
        {"push_tokens": []},
        profile("u4", token("t4", "d4", "android")),
        "also broken",
    ]
    path = write(tmp_path, lines)
    with pytest.raises(TokenExportError, match="line 2: not JSON"):
        read_token_export(path)
    summary = read_token_export(path, skip_bad_rows=True)
    assert [p.profile_id for p in summary.profiles] == ["u1", "u4"]
    assert summary.skipped == {
        "duplicate token": 1,
        "missing key": 1,
        "not JSON": 2,
        "unknown platform": 1,
    }
    assert summary.skipped_count == 5
    assert [number for number, _ in summary.skipped_lines] == [2, 4, 5, 6, 8]
    assert summary.blank_lines == 1


def test_an_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(TokenExportError, match="cannot read the file"):
        read_token_export(tmp_path / "missing.jsonl")


_ids = st.text(alphabet="abcdefghij0123456789", min_size=1, max_size=6)


@st.composite
def exports(draw: st.DrawFn) -> list[dict[str, Any]]:
    profile_ids = draw(st.lists(_ids, unique=True, max_size=12))
    out = []
    counter = 0
    for pid in profile_ids:
        tokens = []
        for _ in range(draw(st.integers(0, 4))):
            counter += 1
            tokens.append(
                token(
                    f"tok{counter}",
                    draw(st.sampled_from([f"d{i}" for i in range(8)])),
                    draw(st.sampled_from(["ios", "android", "web"])),
                    draw(st.booleans()),
                    draw(st.sampled_from(["news", "sport"])),
                )
            )
        out.append(profile(pid, *tokens, anonymous=draw(st.booleans())))
    return out


@settings(max_examples=60, deadline=None)
@given(exports())
def test_well_formed_profiles_read_back(profiles: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        summary = read_token_export(write(Path(folder), profiles))
    assert summary.token_count == sum(len(p["push_tokens"]) for p in profiles)
    assert len(summary.profiles) == len(profiles)
    shares = [summary.enabled_share(), summary.multi_device_user_share()]
    shares += [summary.multi_user_device_share()]
    shares += [summary.enabled_share(p) for p in ("ios", "android", "web")]
    assert all(s is None or 0.0 <= s <= 1.0 for s in shares)
    for row in summary.to_observations():
        assert 0.0 <= row.value <= 1.0
        assert row.n is not None and row.n >= 1


def test_round_trip_of_a_simulated_registry(tmp_path: Path) -> None:
    simulation = Simulation(WorldParams().changed(population={"devices": 200}), seed=1)
    simulation.run(20)
    registry = simulation.world.registry
    assert isinstance(registry, Registry)
    exported = [export_profile(registry, p.profile_id) for p in registry.profiles()]
    summary = read_token_export(write(tmp_path, exported))

    records = list(registry.tokens())
    assert summary.token_count == len(records) > 0
    assert len(summary.profiles) == len(exported)
    owners: dict[str, set[str]] = {}
    devices: dict[str, set[str]] = {}
    for record in records:
        owners.setdefault(record.device, set()).add(record.profile)
        devices.setdefault(record.profile, set()).add(record.device)
    assert dict(summary.users_per_device().counts) == dict(Counter(len(v) for v in owners.values()))
    assert dict(summary.devices_per_user().counts) == dict(
        Counter(len(v) for v in devices.values())
    )
    enabled = sum(r.foreground for r in records) / len(records)
    assert summary.enabled_share() == pytest.approx(enabled)
    for platform in ("ios", "android", "web"):
        mine = [r for r in records if r.platform.value == platform]
        expected = sum(r.foreground for r in mine) / len(mine) if mine else None
        assert summary.enabled_share(platform) == pytest.approx(expected)
