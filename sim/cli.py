"""The ``pushsim`` command line: run scenarios, validate files, run stories, diff scenarios.

Exit codes: 0 success; 1 a story expectation failed, results that could not be written after
the run (disk full), or ``pushsim diff`` found differences (like ``diff``); 2 bad input (a story
file given to ``run`` or a scenario to ``story``, a ``[sweep]`` given to ``run``, an unknown
command: the message says what to use instead; otherwise it names the file, the key path and
what is allowed: scenario keys, ``--out``, sizes that cannot fit); 130 interrupted (Ctrl-C);
143 terminated (SIGTERM); 141 stdout's reader went away (``pushsim story … | head``).
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim import __version__
from sim.calibration.command import EXAMPLE as CALIBRATE_EXAMPLE
from sim.calibration.command import add_arguments as add_calibrate_arguments
from sim.capacity import check_capacity
from sim.cluster import MissingDaskError, describe, import_distributed, is_remote
from sim.conformance.command import EXAMPLE as CONFORM_EXAMPLE
from sim.conformance.command import add_arguments as add_conform_arguments
from sim.experiment.arguments import add_commands, add_replication_options
from sim.folders import FolderError, ResultsFolder
from sim.models.check import check_scenarios
from sim.models.guard import RegistryFailure
from sim.remote.command import EXAMPLE as SERVE_EXAMPLE
from sim.remote.command import add_arguments as add_serve_arguments
from sim.scenario import (
    STORIES_DIR,
    Scenario,
    ScenarioError,
    is_story,
    json_schema,
    load_scenario,
    load_story,
)
from sim.scenario.library import UnknownName, packaged_file
from sim.scenario.library import argument as file_argument
from sim.scenario.load import wrong_kind
from sim.validation.command import DESCRIPTION as VALIDATION_DESCRIPTION
from sim.validation.command import EXAMPLE as VALIDATION_EXAMPLE
from sim.validation.command import add_arguments as add_validation_arguments
from sim.workers import available_cores

EXAMPLES = {
    "run": "example:\n  pushsim run scenarios/baseline.toml --out results/baseline --seed 2 "
    "--set population.devices=2000 --set policy.uninstall_tracking=true\n"
    "  pushsim run baseline   # a packaged scenario, by name",
    "validate": "example:\n  pushsim validate scenarios/*.toml scenarios/stories/*.toml",
    "story": "example:\n  pushsim story scenarios/stories/charlie_and_kim.toml\n"
    "  pushsim story charlie_and_kim   # a packaged story, by name",
    "init": "example:\n  pushsim init                # writes baseline.toml here\n"
    "  pushsim init web_push --to scenarios/my_web_push.toml",
    "schema": "example:\n  pushsim schema > pushsim-scenario.schema.json",
    "diff": "example:\n  pushsim diff shared_devices subscription_model\n"
    "  pushsim diff scenarios/baseline.toml mine.toml --set population.devices=2000",
    "conform": CONFORM_EXAMPLE,
    "serve-registry": SERVE_EXAMPLE,
    "calibrate": CALIBRATE_EXAMPLE,
    "validation": VALIDATION_EXAMPLE,
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``pushsim``."""
    parser = argparse.ArgumentParser(
        prog="pushsim",
        description="Discrete-event simulator of push-notification registration: what the "
        "registry believes against what is true.",
        epilog="example:\n  pushsim run scenarios/baseline.toml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"pushsim {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=help_text.replace("%", "%%"),  # argparse formats a help string with %
            description=help_text,
            epilog=EXAMPLES[name],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    run = command("run", "run a scenario file and write its results, plots and report")
    run.add_argument(
        "scenario",
        type=file_argument("scenario"),
        help="scenario file (TOML), or the name of a packaged scenario (baseline, web_push, …)",
    )
    run.add_argument("--out", type=Path, help="results folder (default results/<scenario name>)")
    run.add_argument("--seed", type=int, help="random seed (default: measurement.seed)")
    run.add_argument("--days", type=float, help="days to simulate (default: measurement.days)")
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override a scenario key (TOML value), repeatable",
    )
    run.add_argument("--events", action="store_true", help="also write the full event log")
    run.add_argument("--quiet", action="store_true", help="no progress bar and no summary table")
    add_replication_options(run)

    validate = command("validate", "check scenario and story files without running them")
    validate.add_argument(
        "files",
        nargs="+",
        type=file_argument("any"),
        metavar="FILE",
        help="scenario or story file, or the name of a packaged one",
    )

    story = command("story", "run story files and check their expectations")
    story.add_argument(
        "files",
        nargs="+",
        type=file_argument("story"),
        metavar="FILE",
        help="story file, or the name of a packaged story (charlie_and_kim, …)",
    )

    init = command(
        "init",
        "copy a packaged scenario (or story), comments included, into a file of your own to edit",
    )
    init.add_argument(
        "name", nargs="?", default="baseline", help="packaged scenario or story (default baseline)"
    )
    init.add_argument(
        "--to",
        type=Path,
        metavar="PATH",
        help="file to write, or an existing folder to write NAME.toml into (default ./NAME.toml); "
        "an existing file is never replaced",
    )

    diff = command(
        "diff",
        "compare two scenario files key by key, defaults resolved: prints 'key: A → B' for each "
        "key that differs; exit 0 the same, 1 different, 2 trouble",
    )
    for name, what in (("a", "A"), ("b", "B")):
        diff.add_argument(
            name,
            type=file_argument("scenario"),
            metavar=what,
            help=f"scenario file {what}, or the name of a packaged scenario",
        )
    diff.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override a scenario key (TOML value) in both files, repeatable",
    )

    command("schema", "print the JSON Schema of scenario files (for editors)")
    add_conform_arguments(
        command(
            "conform",
            "play the stories and the registry invariants against a registry implementation "
            "and report, rule by rule (R1-R14), where it follows and where it deviates",
        )
    )
    add_calibrate_arguments(
        command(
            "calibrate",
            "fit a scenario's parameters to your app's observations (method of simulated "
            "moments) and write the calibrated scenario with a report",
        )
    )
    add_validation_arguments(command("validation", VALIDATION_DESCRIPTION))
    add_serve_arguments(
        command(
            "serve-registry",
            "serve a registry model over pushsim's HTTP protocol (needs pushsim[http])",
        )
    )
    add_commands(commands)
    return parser


def _output_bytes(scenario: Scenario, events: bool) -> int:
    """A generous estimate of a run's results folder, checked against the free disk space.

    Measured on the baseline (10,000 devices × 365 days, 2026-12-01): 4.5 MB of tables, plots
    and report, 28 MB more with ``--events``. Plots and report take about 1 MB; the time series,
    funnel and stale causes about 2.3 KB per sample; the latencies 0.85 byte and the event log
    7.6 bytes per device-day. The estimate below adds about half again to each.
    """
    population, measurement = scenario.population, scenario.measurement
    samples = measurement.days / measurement.sample_every_days
    device_days = (population.devices + population.arrivals_per_day * measurement.days / 2) * (
        measurement.days
    )
    estimate = 2e6 + 3.5e3 * samples + (12.0 if events else 1.5) * device_days
    return int(min(estimate, 2**62))


#: what a summary figure counts, printed after its value where the name alone could mislead
_SUMMARY_NOTES = {
    "campaign_targeted": "pushes targeted, one per token",
    "campaign_sent": "sends made, retries included: more than campaign_targeted",
    "android_13_reach_cost_people": "people of reach",
    "overstatement": "believed ÷ truly reachable",
}


def _format(key: str, value: Any) -> str:
    """A summary figure as the report writes it: ``9,437``, ``15.1%``, ``1.30×``, ``10 s``.

    ``summary.json`` keeps the raw numbers (durations in days, shares in [0, 1]).
    """
    from sim.report.markdown import fmt_duration, fmt_int, fmt_rate, fmt_ratio

    note = _SUMMARY_NOTES.get(key, "")
    if key.startswith("permission_share"):
        note = "notifications allowed, share of launched devices"
    if value is None:
        text = "–"
    elif isinstance(value, bool) or not isinstance(value, int | float):
        text = str(value)
    elif key in ("days", "warm_up_days"):
        text = f"{value:g} days"
    elif key.startswith("median_") and key.endswith("_days"):
        text = fmt_duration(float(value))
    elif key == "overstatement":
        text = fmt_ratio(float(value))
    elif key.startswith("reach_rate"):
        text = f"{value:.2f}"
        note = "truly reachable profiles per installed device"
    elif "_rate" in key or "_share" in key:
        text = fmt_rate(float(value))
    elif isinstance(value, int):
        text = fmt_int(value)
    else:
        text = f"{value:,.1f}"
    return f"{text}  ({note})" if note else text


def _run(args: argparse.Namespace) -> int:
    wrong_kind(args.scenario, "run")
    loaded = load_scenario(args.scenario, args.overrides)
    if loaded.sweep is not None:
        raise ScenarioError(
            str(args.scenario),
            [
                (
                    "sweep",
                    "this file declares a [sweep]: run its points with "
                    f"`pushsim sweep {args.scenario}` (or compare two points with "
                    f"`pushsim compare {args.scenario}`)",
                )
            ],
        )
    replications = args.replications
    if replications is None:
        replications = loaded.measurement.replications
    if replications > 1:
        from sim.experiment.commands import run_replications

        return run_replications(args)
    source = str(args.scenario)
    if args.seed is not None and args.seed < 0:
        raise ScenarioError(source, [("--seed", f"must be >= 0 (got {args.seed})")])
    if args.days is not None and not (math.isfinite(args.days) and args.days > 0):
        raise ScenarioError(source, [("--days", f"must be a finite number > 0 (got {args.days})")])
    # a registry model that cannot run: exit 2 now, before any note is printed
    check_scenarios([load_scenario(args.scenario, args.overrides)], source)
    # --seed and --days become part of the scenario, so its resolved copy and hash say what ran
    overrides = list(args.overrides)
    if args.seed is not None:
        overrides.append(f"measurement.seed={args.seed}")
    if args.days is not None:
        declared = load_scenario(args.scenario, overrides).measurement
        overrides.append(f"measurement.days={float(args.days)!r}")
        if declared.warm_up_days >= args.days:
            overrides.append("measurement.warm_up_days=0.0")
            print(
                f"pushsim: the warm-up ({declared.warm_up_days:g} days) is not shorter than "
                f"--days {args.days:g}; running without warm-up",
                file=sys.stderr,
            )
    scenario = load_scenario(args.scenario, overrides)
    days = scenario.measurement.days
    out = args.out if args.out is not None else Path("results") / scenario.scenario.name
    if args.resume:
        raise ScenarioError(
            source,
            [("--resume", "continues an experiment: use it with --replications R (R > 1)")],
        )
    dask: str | None = args.dask
    if dask is not None and scenario.measurement.shards < 2:
        raise ScenarioError(
            source,
            [
                (
                    "--dask",
                    "runs a single run's household shards: set measurement.shards ≥ 2, or use "
                    "--replications",
                )
            ],
        )
    if dask is not None:
        try:
            import_distributed()
        except MissingDaskError as error:
            print(f"pushsim: {error}", file=sys.stderr)
            return 2
    workers = args.workers if args.workers is not None else available_cores()
    # too big for this machine: exit 2 now, with the estimate and the way out. "local" is a
    # LocalCluster here, sized like a pool; a remote cluster's memory is not this machine's
    remote = dask is not None and is_remote(dask)
    for warning in check_capacity(
        scenario, source, workers=workers, remote=remote, cluster=dask is not None
    ):
        print(f"pushsim: {warning}", file=sys.stderr)
    results = ResultsFolder(
        out, overwrite=args.overwrite, needed_bytes=_output_bytes(scenario, args.events)
    )
    try:
        stack = contextlib.ExitStack()
        stack.enter_context(results)  # checked and claimed before anything is simulated
    except FolderError as error:
        raise ScenarioError(source, [("--out", str(error))]) from None
    with stack:
        for note in results.notes:
            print(f"pushsim: {note}", file=sys.stderr)
        if dask is not None and not args.quiet:
            where = describe(dask, min(workers, scenario.measurement.shards))
            print(
                f"running {scenario.measurement.shards} household shards on {where} "
                f"→ {results.folder}/",
                file=sys.stderr,
            )
        from sim.output import write_results  # heavy imports (pandas, matplotlib) only now
        from sim.runner import run_scenario

        show = not args.quiet and sys.stderr.isatty()
        progress_bar: Any = None
        if show:
            from tqdm import tqdm

            progress_bar = tqdm(total=days, unit="day", desc=scenario.scenario.name, leave=False)

        def progress(day: float) -> None:
            progress_bar.n = day
            progress_bar.refresh()

        try:
            result = run_scenario(
                scenario,
                event_log=args.events,
                progress=progress if show else None,
                workers=workers,
                dask=dask,
            )
        except (OSError, TimeoutError) as error:
            if dask is None:
                raise
            print(
                f"pushsim: cannot use the Dask cluster at {dask}: {error}; no results written",
                file=sys.stderr,
            )
            return 2
        finally:
            if progress_bar is not None:
                progress_bar.close()
        told = len(results.notes)
        try:
            write_results(result, scenario, results.staging)
            out = results.publish()
        except OSError as error:
            print(
                f"pushsim: cannot write the results to {results.folder}: "
                f"{error.strerror or error}; nothing was written",
                file=sys.stderr,
            )
            return 1
        for note in results.notes[told:]:
            print(f"pushsim: {note}", file=sys.stderr)
    if not args.quiet:
        summary = result.summary()
        width = max(len(k) for k in summary)
        print(f"pushsim {__version__} — {scenario.scenario.name} (hash {scenario.digest()})")
        for key, value in summary.items():
            print(f"  {key:<{width}}  {_format(key, value)}")
    print(f"results: {out}/  (report: {out / 'report.md'}, plots: {out}/*.png)")
    return 0


def _validate(args: argparse.Namespace) -> int:
    failures = 0
    for path in args.files:
        try:
            if is_story(path):
                story = load_story(path)
                print(f"ok  {path}  (story: {story.name})")
            else:
                scenario = load_scenario(path)
                check_scenarios([scenario], str(path))  # its registry model loads and fits
                print(f"ok  {path}  (scenario: {scenario.scenario.name}, hash {scenario.digest()})")
        except ScenarioError as error:
            failures += 1
            print(str(error), file=sys.stderr)
    return 2 if failures else 0


def _story(args: argparse.Namespace) -> int:
    from sim.story import run_story

    for path in args.files:
        wrong_kind(path, "story")
    stories = [load_story(path) for path in args.files]
    failed = 0
    for path, story in zip(args.files, stories, strict=True):
        report = run_story(story)
        # each verdict as it comes (a closed pipe then stops the stories still to run)
        if report.passed:
            print(f"pass  {path}  ({story.name}: {len(report.results)} expectations)", flush=True)
        else:
            failed += 1
            print(f"FAIL  {path}\n{report.diff()}", flush=True)
    return 1 if failed else 0


def _flat(document: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` → ``{"a.b": 1}``; lists are values."""
    if not isinstance(document, dict):
        return {prefix: document}
    out: dict[str, Any] = {}
    for key, value in document.items():
        out.update(_flat(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _shown(value: Any) -> str:
    """A resolved value as TOML writes it (``true``, ``"text"``, ``[1, 2]``); absent: ``–``."""
    if value is _ABSENT:
        return "(absent)"
    if value is None:
        return "(none)"
    return json.dumps(value, ensure_ascii=False)


_ABSENT = object()


def _diff(args: argparse.Namespace) -> int:
    wrong_kind(args.a, "diff")
    wrong_kind(args.b, "diff")
    a = load_scenario(args.a, args.overrides)
    b = load_scenario(args.b, args.overrides)
    flat_a, flat_b = _flat(a.resolved()), _flat(b.resolved())
    keys = [*flat_a, *(k for k in flat_b if k not in flat_a)]
    differing = [k for k in keys if flat_a.get(k, _ABSENT) != flat_b.get(k, _ABSENT)]
    for key in differing:
        print(f"{key}: {_shown(flat_a.get(key, _ABSENT))} → {_shown(flat_b.get(key, _ABSENT))}")
    if not differing:
        print(f"no differences: {args.a} and {args.b} resolve to the same scenario")
    else:
        print(
            f"{len(differing)} key{'s' if len(differing) != 1 else ''} differ "
            f"(A {args.a}, hash {a.digest()}; B {args.b}, hash {b.digest()})",
            file=sys.stderr,
        )
    return 1 if differing else 0


def _unknown_command(parser: argparse.ArgumentParser, argv: Sequence[str]) -> str | None:
    """``unknown command 'rn'; did you mean 'run'?`` when the first argument is no command."""
    if not argv or argv[0].startswith("-"):
        return None
    names = [
        name
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for name in action.choices
    ]
    given = argv[0]
    if given in names:
        return None
    close = difflib.get_close_matches(given, names, n=1, cutoff=0.5)
    if close:
        return f"unknown command {given!r}; did you mean {close[0]!r}?"
    return f"unknown command {given!r}; commands: {', '.join(names)} (pushsim --help)"


def _init(args: argparse.Namespace) -> int:
    try:
        source = packaged_file(args.name.removesuffix(".toml"), "any")
    except UnknownName as error:
        print(f"pushsim init: {error}", file=sys.stderr)
        return 2
    target: Path = args.to if args.to is not None else Path(source.name)
    if target.is_dir():
        target = target / source.name
    try:
        with target.open("xb") as out:  # never replaces a file: pushsim did not write it
            out.write(source.read_bytes())
    except FileExistsError:
        print(
            f"pushsim init: {target} already exists; not replaced (choose another file with "
            "--to PATH, or remove it first)",
            file=sys.stderr,
        )
        return 2
    except OSError as error:
        print(f"pushsim init: cannot write {target}: {error.strerror or error}", file=sys.stderr)
        return 2
    command = "story" if source.parent == STORIES_DIR else "run"
    print(f"wrote {target} (a copy of the packaged {source.stem}); pushsim {command} {target}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    from sim.interruption import (
        EXIT_READER_GONE,
        exit_code,
        reader_gone,
        signals_handled,
        silence_stdout,
        stopped,
        tell,
    )

    parser = build_parser()
    # from here on Ctrl-C and SIGTERM raise sim.interruption.Interrupted (a KeyboardInterrupt)
    with signals_handled():
        try:
            unknown = _unknown_command(parser, sys.argv[1:] if argv is None else list(argv))
            if unknown is not None:  # an argument error as argparse's: usage, message, exit 2
                parser.error(unknown)
            args = parser.parse_args(argv)
            if args.command == "run":
                code = _run(args)
            elif args.command in ("sweep", "compare"):
                from sim.experiment.commands import handle

                code = handle(args)
            elif args.command == "validate":
                code = _validate(args)
            elif args.command == "diff":
                code = _diff(args)
            elif args.command == "story":
                code = _story(args)
            elif args.command == "init":
                code = _init(args)
            elif args.command == "calibrate":
                from sim.calibration.command import run as calibrate

                code = calibrate(args)
            elif args.command == "validation":
                from sim.validation.command import run as validation

                code = validation(args)
            elif args.command == "conform":
                from sim.conformance.command import run as conform

                code = conform(args)
            elif args.command == "serve-registry":
                from sim.remote.command import run as serve

                code = serve(args)
            elif args.command == "schema":
                print(json.dumps(json_schema(), indent=2, sort_keys=True))
                code = 0
            else:
                parser.print_help(sys.stdout)
                code = 0
            sys.stdout.flush()  # a reader that went away shows here, not at exit
            return code
        except ScenarioError as error:
            print(str(error), file=sys.stderr)
            return 2
        except RegistryFailure as failure:  # the registry under test raised, or its service
            print(f"pushsim: {failure}; no results written", file=sys.stderr)
            return 1
        except KeyboardInterrupt as stop:  # Ctrl-C or SIGTERM, after the finally blocks ran
            tell(f"pushsim: {stopped(stop)}; no results written")
            return exit_code(stop)
        except BrokenPipeError:
            if not reader_gone():
                raise
            silence_stdout()  # `pushsim story ... | head -1`: the reader has what it wanted
            return EXIT_READER_GONE
