"""The one error scenario files raise."""

from __future__ import annotations


class ScenarioError(ValueError):
    """A scenario file that cannot be used: unreadable, not TOML, or not a valid scenario.

    The message names the file and, for each problem, the key path (``steps[3].do``) and what is
    allowed there. ``problems`` holds the (key path, message) pairs.
    """

    def __init__(self, file: str, problems: list[tuple[str, str]]) -> None:
        self.file = file
        self.problems = problems
        if len(problems) == 1:
            path, message = problems[0]
            text = f"{file}: {path}: {message}" if path else f"{file}: {message}"
        else:
            lines = [f"{file}: {len(problems)} problems"]
            lines += [
                f"  {path}: {message}" if path else f"  {message}" for path, message in problems
            ]
            text = "\n".join(lines)
        super().__init__(text)
