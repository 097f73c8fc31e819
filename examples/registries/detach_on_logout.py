"""Detach on logout, written as a wrapper around pushsim's reference registry."""

from typing import Any

from sim.registry import Registry, RegistryPolicy


class DetachOnLogout:
    """The reference rules, except that a logout takes the device's token from the user."""

    def __init__(self, policy: RegistryPolicy) -> None:
        self.inner = Registry(policy)
        self.logged_out: set[tuple[str, str]] = set()  # (device, app): no login since

    def __getattr__(self, name: str) -> Any:  # every other member: the reference's
        return getattr(self.inner, name)

    def log_out(self, now: float, *, device: str, app: str) -> None:
        self.inner.log_out(now, device=device, app=app)
        self.logged_out.add((device, app))
        if (record := self.inner.token_for(device, app)) is not None:  # purge it (R1)
            self.session_start(
                now, device=device, app=app, platform=record.platform, token=None, foreground=False
            )

    def change_user(self, now: float, *, device: str, app: str, user: str) -> None:
        self.logged_out.discard((device, app))
        self.inner.change_user(now, device=device, app=app, user=user)

    def session_start(
        self, now: float, *, device: str, app: str, token: str | None, **report: Any
    ) -> object:
        if (device, app) in self.logged_out:
            token = None  # nobody is logged in: hold nothing until the next login
        return self.inner.session_start(now, device=device, app=app, token=token, **report)


def build(policy: RegistryPolicy) -> DetachOnLogout:
    """The factory pushsim calls: ``[registry] model = "detach_on_logout.py:build"``."""
    return DetachOnLogout(policy)
