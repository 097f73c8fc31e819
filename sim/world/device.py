"""Devices as they really are: the ground truth the registry's beliefs are measured against."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sim.platforms import Platform


class OsClass(StrEnum):
    """An OS class that changes the permission rules within its platform (docs/model.md §3).

    Only Android has two: iOS and web have one class each, named by their platform. Metrics keep
    these apart from :class:`~sim.platforms.Platform` values — an OS class is a breakdown of its
    platform, never a platform beside it.
    """

    ANDROID_12_OR_LOWER = "android_12_or_lower"  # implicit permission, state stays subscribed
    ANDROID_13_PLUS = "android_13_plus"  # runtime prompt; "Don't allow" final until reinstall

    @property
    def platform(self) -> Platform:
        """The platform this class is part of."""
        return Platform.ANDROID


class DeviceKind(StrEnum):
    """Platform and OS class, which decide how notification permission works (docs/model.md §3)."""

    IOS = "ios"
    ANDROID_LEGACY = "android_legacy"  # Android 12 and below: permission implicit
    ANDROID_13 = "android_13"  # runtime prompt; "Don't allow" final until reinstall
    WEB = "web"  # a browser; token only after opt-in on the native prompt

    @property
    def platform(self) -> Platform:
        """The token platform of this kind of device."""
        if self is DeviceKind.IOS:
            return Platform.IOS
        if self is DeviceKind.WEB:
            return Platform.WEB
        return Platform.ANDROID

    @property
    def os_class(self) -> OsClass | None:
        """The OS class within the platform, or None where the platform has only one (iOS, web)."""
        return _OS_CLASS.get(self)


_OS_CLASS = {
    DeviceKind.ANDROID_LEGACY: OsClass.ANDROID_12_OR_LOWER,
    DeviceKind.ANDROID_13: OsClass.ANDROID_13_PLUS,
}


class Permission(StrEnum):
    """The OS (or browser) notification permission of the app on the device."""

    NOT_ASKED = "not_asked"
    GRANTED = "granted"
    PROVISIONAL = "provisional"  # iOS quiet authorisation: delivered quietly, counts as shown
    DISMISSED = "dismissed"  # Android 13+: prompt dismissed, asked again next session
    DENIED = "denied"
    DENIED_FINAL = "denied_final"  # Android 13+ "Don't allow": no prompt until reinstall

    @property
    def shows(self) -> bool:
        """True when a notification sent now would be shown to the user."""
        return self in SHOWING


#: Permissions under which a notification is shown. Hot paths test membership here rather than
#: read ``permission.shows``: on Python 3.11 a property of an enum member, and any member read off
#: its enum class (``Permission.GRANTED``), goes through ``EnumType``'s slow attribute hook.
SHOWING = frozenset({Permission.GRANTED, Permission.PROVISIONAL})


#: The prefix of the anonymous profile id a device's user has before anyone logs in (nobody is
#: logged in: see :func:`sim.world.actions.anonymous_user`).
ANONYMOUS = "anon:"


@dataclass(slots=True)
class Device:
    """A phone, tablet or browser, with the app's install on it.

    ``install_id`` is the device id the SDK reports to the registry; the SDK generates a new one
    per install, so a reinstall shows up in the registry as a new device (rule R8).
    ``user`` is the profile id of whoever is logged in to the app on the device (an anonymous
    profile id before anyone logs in; None after a logout).
    """

    device_id: str
    kind: DeviceKind
    owner: str
    sharers: tuple[str, ...]
    browser: str = ""
    installed: bool = False
    launched: bool = False
    install_count: int = 0
    install_id: str = ""
    token: str | None = None
    permission: Permission = Permission.NOT_ASKED
    user: str | None = None
    retired: bool = False
    #: times of the current install's events
    installed_at: float | None = None
    uninstalled_at: float | None = None
    #: the token platform of the device (derived from ``kind``)
    platform: Platform = field(init=False)
    #: the OS class within the platform, None for iOS and web (derived from ``kind``)
    os_class: OsClass | None = field(init=False)

    def __post_init__(self) -> None:
        self.platform = self.kind.platform
        self.os_class = self.kind.os_class

    @property
    def shared(self) -> bool:
        """True when more than one person uses the device."""
        return len(self.sharers) > 1

    @property
    def shows_notifications(self) -> bool:
        """True when the app is installed, launched and allowed to show notifications."""
        return self.installed and self.launched and self.permission in SHOWING
