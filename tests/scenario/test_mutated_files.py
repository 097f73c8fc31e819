"""Mutated copies of every shipped scenario and story, through the real command line, in-process.

Each example takes one shipped file (``scenarios/*.toml`` or ``scenarios/stories/*.toml``) and
applies one to three mutations: delete a key, rename it (a typo), give it a value of another type,
a negative, zero, huge, NaN or infinite number, an unknown name (``"iso"``), swap two tables, nest
a value deep, add an unknown key; or, on the text, break the TOML syntax, insert a byte order mark,
append nesting thousands of levels deep, or write it as UTF-16. The file goes through
``sim.cli.main(["validate", file])`` and ``main(["run" | "story", ...])`` as a user would run it.

An invalid document must give exit code 2 and a message that starts with the file name, gives a
key path for every problem (unless the file is not readable TOML at all), and has no traceback;
``run`` must create no results folder, staging folder or parent folder. A document that is still
valid must validate as ``ok``; a scenario must then build its world and run a day with 20 devices
(the schema's promise: what validates, runs), a story must play (pass or fail, never crash).

Deterministic (``derandomize=True``, no example database): at least 1,000 documents a run
(:data:`SCENARIO_EXAMPLES` + :data:`STORY_EXAMPLES`), in well under a minute.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import io
import math
import tempfile
import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.models.check import check_scenarios
from sim.scenario import ScenarioError, load_scenario, load_story, scenario_files, story_files
from sim.simulation import Simulation
from sim.story import run_story
from tests.cli import staging_folders

SCENARIO_EXAMPLES = 700
STORY_EXAMPLES = 400
COMMON = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
RUN_ARGS = ["--days", "1", "--set", "population.devices=20", "--quiet", "--workers", "1"]

SCENARIOS = scenario_files()
STORIES = story_files()
TEXTS = {path: path.read_text(encoding="utf-8") for path in [*SCENARIOS, *STORIES]}

#: how each mutation kind ended: (kind, "refused" | "accepted" | "skipped") → count, for the report
TALLY: Counter[tuple[str, str]] = Counter()

Loc = tuple[str | int, ...]


# -- paths in a document ---------------------------------------------------------------------------


def locations(document: Any, prefix: Loc = ()) -> Iterator[Loc]:
    """Every key path of a parsed document: tables, values, list items."""
    if isinstance(document, dict):
        for key, value in document.items():
            yield (*prefix, key)
            yield from locations(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield (*prefix, index)
            yield from locations(value, (*prefix, index))


def get(document: Any, loc: Loc) -> Any:
    for part in loc:
        document = document[part]
    return document


def put(document: Any, loc: Loc, value: Any) -> None:
    get(document, loc[:-1])[loc[-1]] = value


def tables(document: dict[str, Any]) -> list[Loc]:
    return [loc for loc in locations(document) if isinstance(get(document, loc), dict)]


# -- mutations -------------------------------------------------------------------------------------

NUMBERS = [
    -1,
    -1.5,
    0,
    0.0,
    -0.0,
    0.5,
    2,
    24,
    1e7,
    1e300,
    -1e300,
    10**18,
    2**63,
    math.nan,
    math.inf,
    -math.inf,
    5e-324,
]
NAMES = ["iso", "IOS", "android14", "", " ios", "prompt ", "gestur", "x" * 200, "é", "R99", "."]
OTHER_TYPES = [
    "text",
    "7",
    True,
    False,
    7,
    0.25,
    datetime.date(2024, 1, 1),
    datetime.time(12, 0),
    [],
    [1, "a"],
    {},
    {"x": 1},
]


def typo(key: str, how: int) -> str:
    variants = [
        key[:-1],
        key + "s",
        key.upper(),
        key.replace("_", "-"),
        key.replace("_", ""),
        key[1:] + key[:1],
        key + " ",
    ]
    found = variants[how % len(variants)]
    return found if found and found != key else key + "x"


@dataclass
class Mutated:
    """A mutated file: its bytes, and how it was made."""

    data: bytes
    kinds: list[str]
    structural: bool  # the TOML still parses: every problem must have a key path


def mutate_document(draw: st.DrawFn, document: dict[str, Any]) -> str:
    """Apply one structural mutation to ``document`` in place; return its kind."""
    everything = list(locations(document))
    kind = draw(
        st.sampled_from(
            ["delete", "rename", "retype", "number", "name", "swap", "nest", "add", "empty"]
        )
    )
    if kind == "delete":
        loc = draw(st.sampled_from(everything))
        parent = get(document, loc[:-1])
        if isinstance(parent, list):
            parent.pop(int(loc[-1]))
        else:
            del parent[loc[-1]]
    elif kind == "rename":
        keyed = [loc for loc in everything if isinstance(loc[-1], str)]
        loc = draw(st.sampled_from(keyed))
        parent = get(document, loc[:-1])
        new = typo(str(loc[-1]), draw(st.integers(0, 20)))
        parent[new] = parent.pop(loc[-1])
    elif kind == "retype":
        value = copy.deepcopy(draw(st.sampled_from(OTHER_TYPES)))  # never share the constant
        put(document, draw(st.sampled_from(everything)), value)
    elif kind == "number":
        numeric = [
            loc
            for loc in everything
            if isinstance(get(document, loc), int | float)
            and not isinstance(get(document, loc), bool)
        ]
        loc = draw(st.sampled_from(numeric or everything))
        put(document, loc, draw(st.sampled_from(NUMBERS)))
    elif kind == "name":
        texts = [loc for loc in everything if isinstance(get(document, loc), str)]
        loc = draw(st.sampled_from(texts or everything))
        put(document, loc, draw(st.sampled_from(NAMES)))
    elif kind == "swap":
        found = tables(document)
        if len(found) < 2:
            return "swap (none)"
        a, b = draw(st.lists(st.sampled_from(found), min_size=2, max_size=2, unique=True))
        if a[: len(b)] == b or b[: len(a)] == a:  # one inside the other: pull a key out instead
            outer, inner = sorted((a, b), key=len)
            source, target = get(document, inner), get(document, outer)
            if not source:
                return "swap (none)"
            key = draw(st.sampled_from(sorted(source)))
            target[key] = source.pop(key)
        else:
            value_a, value_b = get(document, a), get(document, b)
            put(document, a, value_b)
            put(document, b, value_a)
    elif kind == "nest":
        loc = draw(st.sampled_from(everything))
        value = get(document, loc)
        for _ in range(draw(st.sampled_from([1, 2, 19, 25, 60]))):
            value = [value]
        put(document, loc, value)
    elif kind == "add":
        found = tables(document) or [()]
        table = get(document, draw(st.sampled_from(found)))
        key = draw(st.sampled_from(["extra", "devicez", "name", "values", "R1"]))
        table[key] = copy.deepcopy(draw(st.sampled_from([1, "x", True, [1], {"a": 1}])))
    elif kind == "empty":
        found = tables(document)
        if found:
            put(document, draw(st.sampled_from(found)), {})
    return kind


def mutate_text(draw: st.DrawFn, text: str) -> tuple[bytes, str]:
    """One mutation of the file's text: (bytes, kind)."""
    kind = draw(st.sampled_from(["syntax", "bom", "deep", "utf16", "garbage"]))
    if kind == "syntax":
        how = draw(st.sampled_from(["cut", "drop", "insert", "duplicate", "unterminated"]))
        at = draw(st.integers(0, max(0, len(text) - 1)))
        if how == "cut":
            text = text[:at]
        elif how == "drop":
            text = text[:at] + text[at + 1 :]
        elif how == "insert":
            text = text[:at] + draw(st.sampled_from(list('[]={}",\n#\\'))) + text[at:]
        elif how == "duplicate":
            lines = text.splitlines(keepends=True)
            line = draw(st.integers(0, len(lines) - 1))
            text = "".join([*lines[: line + 1], lines[line], *lines[line + 1 :]])
        else:
            text = 'oops = "never closed\n' + text
        return text.encode("utf-8"), f"syntax/{how}"
    if kind == "bom":
        where = draw(st.sampled_from(["start", "middle"]))
        if where == "start":
            return b"\xef\xbb\xbf" + text.encode("utf-8"), "bom/start"
        at = text.index("\n[") + 1 if "\n[" in text else 0
        return (text[:at] + "\ufeff" + text[at:]).encode("utf-8"), "bom/middle"
    if kind == "deep":
        depth = draw(st.sampled_from([30, 400, 5000]))
        shape = draw(st.sampled_from(["array", "inline", "header"]))
        if shape == "array":
            tail = "deep = " + "[" * depth + "]" * depth + "\n"
        elif shape == "inline":
            tail = "deep = " + "{a = " * depth + "1" + "}" * depth + "\n"
        else:
            tail = "[deep" + ".a" * depth + "]\nx = 1\n"
        # a value goes before the first table header (at the top level); a table header at the end
        deep = tail + text if shape != "header" else text + "\n" + tail
        return deep.encode("utf-8"), f"deep/{shape}"
    if kind == "utf16":
        return text.encode("utf-16"), "utf16"
    return b"\x00\xff\xfe" + text.encode("utf-8")[:50], "garbage"


@st.composite
def mutated(draw: st.DrawFn, paths: list[Path]) -> tuple[Path, Mutated]:
    path = draw(st.sampled_from(paths))
    text = TEXTS[path]
    if draw(st.integers(0, 3)) == 0:  # a quarter of the examples mutate the text
        data, kind = mutate_text(draw, text)
        return path, Mutated(data, [kind], structural=False)
    document = tomllib.loads(text)
    kinds = [mutate_document(draw, document) for _ in range(draw(st.integers(1, 3)))]
    try:
        data = tomli_w.dumps(document).encode("utf-8")
    except (TypeError, ValueError):
        TALLY[("+".join(kinds), "skipped")] += 1
        assume(False)  # not writable as TOML (tomli_w refuses some shapes)
    return path, Mutated(data, kinds, structural=True)


# -- checks ----------------------------------------------------------------------------------------


def cli(*argv: str) -> tuple[int, str, str]:
    """``pushsim ARGV`` in this process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def problems_of(
    file: Path, story: bool, overrides: list[str] | None = None
) -> list[tuple[str, str]]:
    """The problems loading ``file`` reports, its registry model's included (empty: valid)."""
    try:
        if story:
            load_story(file)
        else:
            check_scenarios([load_scenario(file, overrides or [])], str(file))
    except ScenarioError as error:
        assert error.file == str(file)
        return error.problems
    return []


def is_story_text(data: bytes) -> bool:
    try:
        return "story" in tomllib.loads(data.decode("utf-8").removeprefix("\ufeff"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return False


def check_refused(file: Path, code: int, stdout: str, stderr: str, item: Mutated) -> None:
    assert code == 2, (item.kinds, stderr)
    assert stdout == "", (item.kinds, stdout)
    assert stderr.startswith(f"{file}: "), (item.kinds, stderr)
    assert "Traceback" not in stderr
    story = is_story_text(item.data)
    found = problems_of(file, story)
    assert found, (item.kinds, "validate refused what load accepts")
    for path, message in found:
        unreadable = message.startswith(("invalid TOML", "cannot read the file"))
        assert path or unreadable, (item.kinds, path, message)
        if item.structural:  # the TOML parses: every problem is at a key
            assert path, (item.kinds, message)


def check_one(path: Path, item: Mutated, folder: Path) -> None:
    file = folder / path.name
    file.write_bytes(item.data)
    kind = "+".join(item.kinds)
    story = is_story_text(item.data)
    code, stdout, stderr = cli("validate", str(file))
    if code == 2:
        TALLY[(kind, "refused")] += 1
        check_refused(file, code, stdout, stderr, item)
        if story:
            code, stdout, stderr = cli("story", str(file))
            check_refused(file, code, stdout, stderr, item)
        elif problems_of(file, False, ["population.devices=20"]):
            out = folder / "results" / "out"
            code, stdout, stderr = cli("run", str(file), "--out", str(out), *RUN_ARGS)
            check_refused(file, code, stdout, stderr, item)
            assert not out.exists() and not staging_folders(out) and not out.parent.exists()
        assert sorted(p.name for p in folder.iterdir()) == [file.name], "nothing written"
        return
    # still valid: validate says ok, and what validates runs
    TALLY[(kind, "accepted")] += 1
    assert code == 0, (item.kinds, stderr)
    assert stdout.startswith(f"ok  {file}  ("), (item.kinds, stdout)
    assert "Traceback" not in stderr
    if story:
        report = run_story(load_story(file))
        assert len(report.results) >= 1
    else:
        scenario = load_scenario(file, ["population.devices=20"])
        # the name is the results folder, results/<name>: one plain folder inside results/
        name = scenario.scenario.name
        assert Path(name).name == name and not name.startswith(".") and len(name) <= 100, name
        assert (Path("results") / name).parent == Path("results"), name
        world = scenario.world()
        arrivals = world.population.arrivals_per_day
        simulation = Simulation(
            world,
            seed=scenario.measurement.seed,
            sample_every_days=scenario.measurement.sample_every_days,
        )
        simulation.run(min(1.0, scenario.measurement.days, 100 / arrivals if arrivals else 1.0))
        simulation.result()


@settings(COMMON, max_examples=SCENARIO_EXAMPLES)
@given(example=mutated(SCENARIOS))
def test_mutated_scenarios_are_refused_clearly_or_run(example: tuple[Path, Mutated]):
    path, item = example
    with tempfile.TemporaryDirectory() as folder:
        check_one(path, item, Path(folder))


@settings(COMMON, max_examples=STORY_EXAMPLES)
@given(example=mutated(STORIES))
def test_mutated_stories_are_refused_clearly_or_play(example: tuple[Path, Mutated]):
    path, item = example
    with tempfile.TemporaryDirectory() as folder:
        check_one(path, item, Path(folder))


def test_at_least_a_thousand_documents_a_run():
    assert SCENARIO_EXAMPLES + STORY_EXAMPLES >= 1000
    assert len(SCENARIOS) >= 7 and len(STORIES) >= 10
