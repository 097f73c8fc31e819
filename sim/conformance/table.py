"""The verdict of a conformance run, rule by rule, as an aligned text table and as JSON.

A failed expectation counts against the rule it names (its ``rule``), or against every rule of
its story when it names none (as does a step the world could not play, or a story that could not
be played). A story *passes for* a rule it lists when no failure counts against that rule. A rule
of docs/model.md §1 **follows** when every story that lists it passes for it, **deviates** when one
does not (the first failure counted against the rule, in the first such story, is shown: file, day,
check, expected against actual, note), and is **untested** when no story lists it. The
``passed`` column counts the stories that pass for the rule among those that list it. The
invariants line says ``holds`` or ``BROKEN`` with the first break. Exit codes: 0 every rule
follows and the invariants hold; 3 some rule does not follow (deviates or untested) and the
invariants hold; 1 an invariant broke.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sim.conformance.invariants import InvariantReport
from sim.conformance.stories import StoryRun
from sim.scenario.story_file import RULES

#: Each rule of docs/model.md §1, in a few words.
RULE_TITLES: dict[str, str] = {
    "R1": "one token per device and app",
    "R2": "a token has one owner: the last user to log in",
    "R3": "logout moves nothing",
    "R4": "session start reports permission",
    "R5": "provider responses",
    "R6": "a bounce removes the token, not the subscription state",
    "R7": "uninstalls are only seen through bounces",
    "R8": "reinstall is a new install",
    "R9": "audience",
    "R10": "web push",
    "R11": "engagement view",
    "R12": "export",
    "R13": "token state changes are events",
    "R14": "identity: anonymous to identified",
}
assert tuple(RULE_TITLES) == RULES, "a title for every rule"

FOLLOWS, DEVIATES, UNTESTED = "follows", "deviates", "untested"

#: Exit codes of ``pushsim conform``.
EXIT_CONFORMS = 0
EXIT_BROKEN = 1
EXIT_UNUSABLE = 2
EXIT_DEVIATES = 3


def _text(value: Any) -> str:
    return repr(value)


@dataclass(frozen=True, slots=True)
class Deviation:
    """A failing expectation of a story: where, what was expected, what was found, its rule."""

    story: str
    file: str
    day: float
    check: str
    description: str
    expected: Any
    actual: Any
    note: str
    #: the rule the expectation names, or None (it counts against every rule of its story)
    rule: str | None = None

    @classmethod
    def of(cls, run: StoryRun, rule: str | None = None) -> Deviation | None:
        """The first failure of ``run`` (counted against ``rule``, when given), if any."""
        failures = run.report.failures if rule is None else run.failures_for(rule)
        if not failures:
            return None
        result = failures[0]
        return cls(
            run.report.story,
            run.file.label,
            result.day,
            result.check,
            result.description,
            result.expected,
            result.actual,
            result.note,
            result.rule,
        )

    def describe(self) -> str:
        """``charlie_and_kim.toml, day 1.01, token_owner(charlie_phone): expected 'kim', …``."""
        what = self.description
        if self.note and what.endswith(f" — {self.note}"):
            what = what[: -len(f" — {self.note}")]
        text = (
            f"{self.file}, day {self.day:g}, {what}: expected {_text(self.expected)}, "
            f"actual {_text(self.actual)}"
        )
        return f"{text} — {self.note}" if self.note else text

    def to_json(self) -> dict[str, Any]:
        """The deviation as plain data."""
        return {
            "story": self.story,
            "file": self.file,
            "day": self.day,
            "check": self.check,
            "description": self.description,
            "expected": self.expected,
            "actual": self.actual,
            "note": self.note,
            "rule": self.rule,
        }


@dataclass(frozen=True, slots=True)
class RuleVerdict:
    """One row of the table."""

    rule: str
    verdict: str
    stories: tuple[str, ...]  # the files of the stories that list the rule
    failed: tuple[str, ...]  # those that do not pass for it
    deviation: Deviation | None = None

    @property
    def title(self) -> str:
        """The rule in a few words."""
        return RULE_TITLES.get(self.rule, "")

    def to_json(self) -> dict[str, Any]:
        """The row as plain data."""
        return {
            "rule": self.rule,
            "title": self.title,
            "verdict": self.verdict,
            "stories": list(self.stories),
            "failed": list(self.failed),
            "deviation": self.deviation.to_json() if self.deviation is not None else None,
        }


def rule_verdicts(runs: Sequence[StoryRun]) -> list[RuleVerdict]:
    """The verdict of every rule R1…R14 from the stories played."""
    rows: list[RuleVerdict] = []
    for rule in RULES:
        listing = [run for run in runs if rule in run.file.story.rules]
        failed = [run for run in listing if not run.passed_for(rule)]
        if not listing:
            verdict = UNTESTED
        elif failed:
            verdict = DEVIATES
        else:
            verdict = FOLLOWS
        rows.append(
            RuleVerdict(
                rule,
                verdict,
                tuple(run.file.label for run in listing),
                tuple(run.file.label for run in failed),
                Deviation.of(failed[0], rule) if failed else None,
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class Conformance:
    """Everything a conformance run found."""

    implementation: str
    options: Mapping[str, Any]
    runs: tuple[StoryRun, ...]
    rules: tuple[RuleVerdict, ...]
    invariants: InvariantReport

    @classmethod
    def of(
        cls,
        implementation: str,
        options: Mapping[str, Any],
        runs: Sequence[StoryRun],
        invariants: InvariantReport,
    ) -> Conformance:
        """The verdicts from the stories played and the invariant report."""
        return cls(
            implementation,
            dict(options),
            tuple(runs),
            tuple(rule_verdicts(runs)),
            invariants,
        )

    @property
    def follows(self) -> int:
        """Number of rules that follow."""
        return sum(row.verdict == FOLLOWS for row in self.rules)

    @property
    def percent(self) -> float:
        """Share of the rules that follow, in percent."""
        return 100.0 * self.follows / len(self.rules) if self.rules else 0.0

    @property
    def unlisted_failures(self) -> list[StoryRun]:
        """Failed stories that list no rule (their failure lands on no row)."""
        return [run for run in self.runs if not run.file.story.rules and not run.passed]

    @property
    def exit_code(self) -> int:
        """0 conforms, 3 rules deviate (invariants hold), 1 an invariant broke."""
        if not self.invariants.holds:
            return EXIT_BROKEN
        if self.follows < len(self.rules) or self.unlisted_failures:
            return EXIT_DEVIATES
        return EXIT_CONFORMS

    def summary(self) -> str:
        """``follows 14/14 rules (100 %)``."""
        return f"follows {self.follows}/{len(self.rules)} rules ({self.percent:.0f} %)"

    def render(self) -> str:
        """The aligned text table, the invariants line and the summary."""
        options = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        passed = sum(run.passed for run in self.runs)
        lines = [
            f"pushsim conform {self.implementation}" + (f" ({options})" if options else ""),
            f"{len(self.runs)} stories ({passed} passed); invariants: "
            f"{self.invariants.sequences} sequences × {self.invariants.operations} operations, "
            f"seed {self.invariants.seed}",
            "",
        ]
        header = ("rule", "verdict", "passed", "rule text")
        rows = [
            (
                row.rule,
                row.verdict,
                f"{len(row.stories) - len(row.failed)}/{len(row.stories)}",
                row.title,
            )
            for row in self.rules
        ]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
        indent = " " * (sum(widths) + 2 * 3)

        def line(cells: Sequence[str]) -> str:
            left = "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=False))
            return f"{left}  {cells[3]}".rstrip()

        lines.append(line(header))
        for row, cells in zip(self.rules, rows, strict=True):
            lines.append(line(cells))
            if row.deviation is not None:
                lines.append(f"{indent}first deviation: {row.deviation.describe()}")
                others = [label for label in row.failed if label != row.deviation.file]
                if others:
                    lines.append(f"{indent}also failed: {', '.join(others)}")
        for run in self.unlisted_failures:
            deviation = Deviation.of(run)
            assert deviation is not None
            lines.append(f"(a story that lists no rule failed: {deviation.describe()})")
        lines.append("")
        report = self.invariants
        label = "invariants"
        lines.append(f"{label.ljust(widths[0])}  {report.verdict}")
        if report.broken is not None:
            for text in report.broken.describe().splitlines():
                lines.append(f"{' ' * (widths[0] + 2)}{text}")
        lines.append("")
        lines.append(self.summary())
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """The whole verdict as plain data (``--json``)."""
        return {
            "implementation": self.implementation,
            "options": dict(self.options),
            "rules": [row.to_json() for row in self.rules],
            "follows": self.follows,
            "rules_total": len(self.rules),
            "percent": self.percent,
            "stories": [
                {
                    "file": run.file.label,
                    "name": run.report.story,
                    "rules": list(run.file.story.rules),
                    "passed": run.passed,
                    "failed_rules": [
                        rule for rule in run.file.story.rules if not run.passed_for(rule)
                    ],
                    "expectations": len(run.report.results),
                    "first_failure": (
                        d.to_json() if (d := Deviation.of(run)) is not None else None
                    ),
                }
                for run in self.runs
            ],
            "invariants": self.invariants.to_json(),
            "exit_code": self.exit_code,
        }

    def json_text(self) -> str:
        """:meth:`to_json` as indented JSON text (values JSON cannot hold shown as text)."""
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False, default=str) + "\n"
