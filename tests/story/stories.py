"""Small story texts for the story tests: devices installed, launched and logged in."""

from __future__ import annotations

from sim.scenario import parse_story
from sim.story import Story, StoryReport, run_story


def header(rules: str = '"R5", "R6", "R7"', policy: str = "") -> str:
    """``[story]`` (and ``[policy]`` when given)."""
    text = f'[story]\nname = "t"\nrules = [{rules}]\n'
    return text + (f"\n[policy]\n{policy}\n" if policy else "")


def device(device_id: str, kind: str, owner: str, sharers: str = "", browser: str = "") -> str:
    """A ``[[devices]]`` table."""
    text = f'\n[[devices]]\nid = "{device_id}"\nkind = "{kind}"\nowner = "{owner}"\n'
    if sharers:
        text += f"sharers = [{sharers}]\n"
    if browser:
        text += f'browser = "{browser}"\n'
    return text


def step(day: float, do: str, **keys: object) -> str:
    """A ``[[steps]]`` table: strings quoted, numbers and booleans as TOML writes them."""
    return "\n[[steps]]\n" + _keys(day=day, do=do, **keys)


def expect(day: float, check: str, equals: str, **keys: object) -> str:
    """An ``[[expect]]`` table; ``equals`` is TOML text (``'"live"'``, ``"2"``, ``"{ a = 1 }"``)."""
    return "\n[[expect]]\n" + _keys(day=day, check=check, **keys) + f"equals = {equals}\n"


def _keys(**keys: object) -> str:
    lines = []
    for key, value in keys.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, str):
            text = f'"{value}"'
        else:
            text = repr(value)
        lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"


def ready(device_id: str, user: str, answer: str = "grant") -> str:
    """Install and launch at day 0 (answering the prompt), ``user`` logs in at day 0.01."""
    return (
        step(0.0, "install", device=device_id)
        + step(0.0, "launch", device=device_id, answer=answer)
        + step(0.01, "login", device=device_id, user=user)
    )


def story(text: str) -> Story:
    """The story of ``text`` (a file called ``t.toml`` in errors)."""
    return parse_story(text, "t.toml")


def play(text: str) -> StoryReport:
    """Parse and run ``text``."""
    return run_story(story(text))
