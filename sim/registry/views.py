"""Read-only views of a profile: the engagement tab (R11) and the export (R12)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.registry.protocol import RegistryProtocol


@dataclass(frozen=True, slots=True)
class EngagementLine:
    """One device entry of a profile's engagement tab."""

    device: str
    text: str


def engagement_view(registry: RegistryProtocol, profile_id: str) -> list[EngagementLine]:
    """``Push Registered For`` per device the profile was seen on (R11).

    ``Foreground: <app>`` (foreground and background allowed), ``Background: <app>`` (background
    only), or ``--`` when the registry holds no token of the profile for that device.
    """
    profile = registry.profile(profile_id)
    by_device: dict[str, list[str]] = {device: [] for device in profile.devices}
    for (device, app), token in profile.tokens.items():
        record = registry.token(token)
        assert record is not None
        prefix = "Foreground" if record.foreground else "Background"
        by_device.setdefault(device, []).append(f"{prefix}: {app}")
    return [
        EngagementLine(device, ", ".join(entries) if entries else "--")
        for device, entries in by_device.items()
    ]


def export_profile(registry: RegistryProtocol, profile_id: str) -> dict[str, Any]:
    """The profile export (R12): ``push_subscribe`` and the ``push_tokens`` list."""
    profile = registry.profile(profile_id)
    tokens = []
    for token in profile.tokens.values():
        record = registry.token(token)
        assert record is not None
        tokens.append(
            {
                "app": record.app,
                "platform": record.platform.value,
                "token": record.token,
                "device_id": record.device,
                "notifications_enabled": record.foreground,
            }
        )
    key = "user_aliases" if profile.anonymous else "external_id"
    return {key: profile.profile_id, "push_subscribe": profile.state.value, "push_tokens": tokens}
