"""From raw benchmark measurements to figures: derived rates, fitted exponents, targets, outputs.

Everything here is arithmetic on what :mod:`benchmarks.bench` measured in the same run; the only
constants are the targets of docs/model.md §7, which are what the measurements are judged against.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

Json = dict[str, Any]

KIB = 1024
MIB = 1024 * 1024
GIB = 1024 * 1024 * 1024

#: docs/model.md §7
TARGET_OVERHEAD = 1.5
TARGET_100K_SECONDS = 60.0
TARGET_1M_SECONDS = 600.0
TARGET_BYTES_PER_DEVICE = 2 * 1024
TARGET_SPEEDUP = 1.8
TARGET_EXPONENT = 1.1


# -- derived figures ---------------------------------------------------------------------------


#: a device-year is one device simulated for this many days
DAYS_PER_YEAR = 365.0


def median_index(values: Sequence[float]) -> int:
    """Index of the median of ``values`` (the lower of the two middle ones for an even count).

    A repeated measurement is reported by its median run, a real run whose figures belong
    together (wall time, CPU time and memory of the same process), rather than by an average.
    """
    if not values:
        raise ValueError("no values")
    order = sorted(range(len(values)), key=lambda i: (values[i], i))
    return order[(len(order) - 1) // 2]


def median(values: Sequence[float]) -> float:
    """The median of ``values`` as :func:`median_index` picks it (a measured value, not a mean)."""
    return values[median_index(values)]


def spread(values: Sequence[float], fmt: str = ".1f") -> str:
    """``7.6–8.3`` (the smallest and largest of repeated measurements); one value alone."""
    if len(values) < 2:
        return format(values[0], fmt) if values else "—"
    return f"{format(min(values), fmt)}–{format(max(values), fmt)}"


def derive(world: Json, bare: Json | None, repeats: Sequence[float] | None = None) -> Json:
    """Rates, ratios and memory of one measured world run (and its bare loop, if run).

    ``repeats``: the wall times of every run of the same world when it was measured several
    times (``world`` is then the median one), kept beside the figures to show their spread.
    """
    devices = int(world["devices"])
    events = int(world["events_dispatched"])
    loop = float(world["seconds_loop"])
    campaigns = world["campaigns"]
    targeted = sum(int(c["targeted"]) for c in campaigns)
    send_seconds = sum(float(c["seconds"]) for c in campaigns)
    rates = [c["targeted"] / c["seconds"] for c in campaigns if c["seconds"] > 0]
    net_bytes = (int(world["peak_rss_kib"]) - int(world["baseline_rss_kib"])) * KIB
    cpu_loop = world.get("cpu_seconds_loop")
    device_years = devices * float(world["days"]) / DAYS_PER_YEAR
    derived: Json = {
        "wall_seconds": float(world["seconds_total"]),
        # the figure users feel: wall time per 1,000 device-years of the baseline world
        "seconds_per_1000_device_years": float(world["seconds_total"]) / (device_years / 1000)
        if device_years > 0
        else None,
        "loop_seconds": loop,
        "cpu_seconds": world.get("cpu_seconds_total"),
        "cpu_loop_seconds": cpu_loop,
        "events_dispatched": events,
        "events_per_second": events / loop if loop > 0 else None,
        "processes": int(world["processes"]),
        "campaigns": len(campaigns),
        "sends_targeted": targeted,
        "send_seconds": send_seconds,
        "sends_per_second": targeted / send_seconds if send_seconds > 0 else None,
        "sends_per_second_median_campaign": statistics.median(rates) if rates else None,
        "baseline_rss_mib": int(world["baseline_rss_kib"]) * KIB / MIB,
        "peak_rss_mib": int(world["peak_rss_kib"]) * KIB / MIB,
        "net_rss_mib": net_bytes / MIB,
        "bytes_per_device": net_bytes / devices if devices else None,
        "bytes_per_device_ever": net_bytes / int(world["devices_ever"])
        if world["devices_ever"]
        else None,
        "wall_seconds_runs": list(repeats) if repeats else [float(world["seconds_total"])],
        "bare_events_per_second": None,
        "overhead_ratio": None,
        "overhead_ratio_cpu": None,
    }
    if bare is not None and float(bare["seconds_loop"]) > 0 and events > 0:
        bare_rate = int(bare["events_dispatched"]) / float(bare["seconds_loop"])
        derived["bare_events_per_second"] = bare_rate
        # seconds per event of pushsim over seconds per event of the bare loop; the event counts
        # are equal by construction, so this is the plain ratio of the two loop times
        derived["overhead_ratio"] = (loop / events) * bare_rate
        bare_cpu = bare.get("cpu_seconds_loop")
        if cpu_loop and bare_cpu:
            derived["overhead_ratio_cpu"] = (cpu_loop / events) * (
                int(bare["events_dispatched"]) / float(bare_cpu)
            )
    return derived


def fit_exponent(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """The slope b of log(y) = a + b·log(x) by least squares; None below two distinct x."""
    points = [(x, y) for x, y in zip(xs, ys, strict=True) if x > 0 and y > 0]
    if len({x for x, _ in points}) < 2:
        return None
    logx = np.log([x for x, _ in points])
    logy = np.log([y for _, y in points])
    slope = float(np.polyfit(logx, logy, 1)[0])
    return slope


def ok_runs(runs: Sequence[Json], days: float | None = None) -> list[Json]:
    """The runs that finished (at ``days`` days, if given)."""
    return [r for r in runs if r["status"] == "ok" and (days is None or r["days"] == days)]


def scaling(runs: Sequence[Json], days_series: Sequence[Json], days: float) -> Json:
    """Fitted exponents of wall time and memory against devices (at ``days``) and against days."""
    by_size = sorted(ok_runs(runs, days), key=lambda r: int(r["devices"]))
    by_days = sorted(ok_runs(days_series), key=lambda r: float(r["days"]))

    def fit(rows: Sequence[Json], x: str, y: str) -> float | None:
        rows = [r for r in rows if r["derived"].get(y) is not None]
        return fit_exponent([float(r[x]) for r in rows], [float(r["derived"][y]) for r in rows])

    return {
        "devices_at_days": days,
        "devices_points": [int(r["devices"]) for r in by_size],
        "time_vs_devices": fit(by_size, "devices", "wall_seconds"),
        "cpu_time_vs_devices": fit(by_size, "devices", "cpu_seconds"),
        "loop_time_vs_devices": fit(by_size, "devices", "loop_seconds"),
        "memory_vs_devices": fit(by_size, "devices", "net_rss_mib"),
        "days_at_devices": int(by_days[0]["devices"]) if by_days else None,
        "days_points": [float(r["days"]) for r in by_days],
        "time_vs_days": fit(by_days, "days", "wall_seconds"),
        "cpu_time_vs_days": fit(by_days, "days", "cpu_seconds"),
        "loop_time_vs_days": fit(by_days, "days", "loop_seconds"),
        "memory_vs_days": fit(by_days, "days", "net_rss_mib"),
    }


def capacity(runs: Sequence[Json], days: float, budget_gib: float) -> Json | None:
    """Estimated largest population in ``budget_gib`` GiB, from the measured memory per device.

    Uses the largest run at the full horizon ``days`` (memory grows over the run as arrivals and
    tokens accumulate); falls back to the largest run of any length, and says which.
    """
    full = ok_runs(runs, days)
    pool = full or ok_runs(runs)
    if not pool:
        return None
    run = max(pool, key=lambda r: (float(r["days"]), int(r["devices"])))
    derived = run["derived"]
    per_device = derived["bytes_per_device"]
    if not per_device or per_device <= 0:
        return None
    room = budget_gib * GIB - derived["baseline_rss_mib"] * MIB
    return {
        "budget_gib": budget_gib,
        "from_devices": int(run["devices"]),
        "from_days": float(run["days"]),
        "bytes_per_device": per_device,
        "estimated_devices": int(room / per_device),
        "estimate": True,
    }


# -- targets -------------------------------------------------------------------------------------


def _find(runs: Sequence[Json], devices: int, days: float) -> Json | None:
    return next((r for r in runs if r["devices"] == devices and r["days"] == days), None)


def _verdict(value: float | None, limit: float, *, at_least: bool = False) -> str:
    if value is None or math.isnan(value):
        return "not measured"
    return "met" if (value >= limit if at_least else value <= limit) else "missed"


def _cpu_note(run: Json) -> str:
    cpu = run["derived"].get("cpu_seconds")
    return f" ({cpu:.1f} s CPU)" if cpu is not None else ""


def _label(run: Json) -> str:
    return f"{run['devices']:,} × {run['days']:g} d"


def targets(results: Json) -> list[Json]:
    """Each docs/model.md §7 target with the figure measured for it in this run and the verdict."""
    runs: list[Json] = results["runs"]
    rows: list[Json] = []

    def add(name: str, target: str, measured: str, verdict: str) -> None:
        rows.append({"target": name, "limit": target, "measured": measured, "verdict": verdict})

    for run in runs:
        if run["status"] == "ok":
            ratio = run["derived"]["overhead_ratio"]
            cpu_ratio = run["derived"].get("overhead_ratio_cpu")
            shown = f"{ratio:.2f}" if ratio is not None else "not measured"
            if ratio is not None and cpu_ratio is not None:
                shown += f" (CPU-time ratio {cpu_ratio:.2f})"
            add(f"overhead ratio, {_label(run)}", "≤ 1.5", shown, _verdict(ratio, TARGET_OVERHEAD))

    run_100k = _find(runs, 100_000, 365.0)
    if run_100k is None:
        add("baseline 100k × 365 d, 1 worker", "≤ 60 s", "not run", "not measured")
    elif run_100k["status"] != "ok":
        add("baseline 100k × 365 d, 1 worker", "≤ 60 s", run_100k["status"], "missed")
    else:
        wall = run_100k["derived"]["wall_seconds"]
        runs_100k = run_100k["derived"].get("wall_seconds_runs") or [wall]
        add(
            "baseline 100k × 365 d, 1 worker",
            "≤ 60 s",
            f"{wall:.1f} s{_cpu_note(run_100k)}"
            + (
                f", median of {len(runs_100k)} runs ({spread(runs_100k)} s)"
                if len(runs_100k) > 1
                else ""
            ),
            _verdict(wall, TARGET_100K_SECONDS),
        )

    run_1m = _find(runs, 1_000_000, 365.0)
    name_1m = "baseline 1M × 365 d, 2 workers"
    large = results.get("large")
    if large and large["devices"] >= 1_000_000 and float(large["days"]) >= 365.0:
        if large["status"] == "ok":
            wall = float(large["run"]["seconds_total"])
            add(
                name_1m,
                "≤ 600 s",
                f"{wall:.0f} s ({large['devices']:,} devices in {large['shards']} shards on "
                f"{large['workers']} workers)",
                _verdict(wall, TARGET_1M_SECONDS),
            )
            add(
                f"peak memory per device, {large['devices']:,} × {large['days']:g} d, "
                f"{large['workers']} workers (all processes)",
                "≤ 2048 B (at 1M × 365 d)",
                f"{large['bytes_per_device']:.0f} B",
                _verdict(large["bytes_per_device"], TARGET_BYTES_PER_DEVICE),
            )
        else:
            add(name_1m, "≤ 600 s", f"{large['status']} on {large['workers']} workers", "missed")
    elif run_1m is not None and run_1m["status"] == "ok":
        wall = run_1m["derived"]["wall_seconds"]
        add(
            name_1m,
            "≤ 600 s",
            f"{wall:.0f} s{_cpu_note(run_1m)} on 1 worker, unsharded "
            "(the sharded 1 → 2 worker speed-up is measured on a smaller world below)",
            _verdict(wall, TARGET_1M_SECONDS),
        )
    elif run_1m is not None:
        add(name_1m, "≤ 600 s", f"{run_1m['status']} on 1 worker", "missed")
    else:
        projection = results.get("projection_1m_365")
        shown = (
            f"not run; projected {projection:.0f} s on 1 worker from the fitted exponents"
            if projection is not None
            else "not run"
        )
        add(name_1m, "≤ 600 s", shown, "not measured")

    for run in runs:
        if run["status"] == "ok":
            per_device = run["derived"]["bytes_per_device"]
            add(
                f"peak memory per device, {_label(run)}",
                "≤ 2048 B (at 1M × 365 d)",
                f"{per_device:.0f} B",
                _verdict(per_device, TARGET_BYTES_PER_DEVICE),
            )

    reps = results.get("replications")
    if reps and reps.get("speedup") is not None:
        add(
            f"1 → 2 workers, {reps['replications']} replications of {reps['devices']:,} × "
            f"{reps['days']:g} d",
            "≥ 1.8×",
            f"{reps['speedup']:.2f}× (results identical: {reps['identical']})",
            _verdict(reps["speedup"], TARGET_SPEEDUP, at_least=True)
            if reps["identical"]
            else "missed",
        )
    else:
        add("1 → 2 workers on replications", "≥ 1.8×", "not run", "not measured")
    shard = results.get("sharding")
    if shard and shard.get("speedup") is not None:
        add(
            f"1 → 2 workers, household-sharded population ({shard['devices']:,} × "
            f"{shard['days']:g} d, {shard['shards']} shards)",
            "≥ 1.8×",
            f"{shard['speedup']:.2f}× (results identical: {shard['identical']})",
            _verdict(shard["speedup"], TARGET_SPEEDUP, at_least=True)
            if shard["identical"]
            else "missed",
        )
    elif shard:
        add(
            "1 → 2 workers, household-sharded population",
            "≥ 1.8×",
            str(shard.get("status", "not run")),
            "not measured",
        )
    else:
        add("1 → 2 workers, household-sharded population", "≥ 1.8×", "not run", "not measured")

    fits = results["scaling"]
    for name in ("devices", "days"):
        value = fits[f"time_vs_{name}"]
        cpu_value = fits.get(f"cpu_time_vs_{name}")
        shown = f"{value:.3f}" if value is not None else "fewer than two points"
        if value is not None and cpu_value is not None:
            shown += f" (CPU time: {cpu_value:.3f})"
        add(f"wall-time exponent in {name}", "≤ 1.1", shown, _verdict(value, TARGET_EXPONENT))
    return rows


# -- text outputs --------------------------------------------------------------------------------


def _num(value: float | None, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


RUN_COLUMNS = (
    "devices",
    "days",
    "status",
    "wall s",
    "wall s, all runs",
    "CPU s",
    "loop s",
    "events",
    "events/s",
    "bare events/s",
    "overhead",
    "(CPU)",
    "sends/s",
    "peak RSS MiB",
    "B/device",
    "s / 1,000 device-years",
)


def _run_cells(run: Json) -> list[str]:
    head = [f"{run['devices']:,}", f"{run['days']:g}", run["status"]]
    if run["status"] != "ok":
        return head + ["—"] * (len(RUN_COLUMNS) - len(head))
    d = run["derived"]
    return [
        *head,
        _num(d["wall_seconds"], ".1f"),
        spread(d.get("wall_seconds_runs") or [d["wall_seconds"]]),
        _num(d.get("cpu_seconds"), ".1f"),
        _num(d["loop_seconds"], ".1f"),
        f"{d['events_dispatched']:,}",
        _num(d["events_per_second"], ",.0f"),
        _num(d["bare_events_per_second"], ",.0f"),
        _num(d["overhead_ratio"], ".2f"),
        _num(d.get("overhead_ratio_cpu"), ".2f"),
        _num(d["sends_per_second"], ",.0f"),
        _num(d["peak_rss_mib"], ",.0f"),
        _num(d["bytes_per_device"], ",.0f"),
        _num(d.get("seconds_per_1000_device_years"), ".2f"),
    ]


def _text_table(header: Sequence[str], rows: Sequence[Sequence[str]], *, left: bool = False) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        justified = [c.ljust(w) if left else c.rjust(w) for c, w in zip(cells, widths, strict=True)]
        return "  ".join(justified).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _machine_line(machine: Json) -> str:
    return (
        f"{machine['machine']}, {machine['cores']} cores ({machine['cpu']}), "
        f"{machine['memory_gib']:.0f} GiB; Python {machine['python']}, SimPy {machine['simpy']}, "
        f"NumPy {machine['numpy']}; pushsim {machine['git']}; {machine['date']}"
    )


def _days_rows(results: Json) -> list[list[str]]:
    rows = []
    for run in results["days_series"]:
        d = run.get("derived")
        rows.append(
            [
                f"{run['devices']:,}",
                f"{run['days']:g}",
                run["status"],
                _num(d["wall_seconds"], ".1f") if d else "—",
                spread(d.get("wall_seconds_runs") or [d["wall_seconds"]]) if d else "—",
                _num(d.get("cpu_seconds"), ".1f") if d else "—",
                _num(d["loop_seconds"], ".1f") if d else "—",
                f"{d['events_dispatched']:,}" if d else "—",
                _num(d["peak_rss_mib"], ",.0f") if d else "—",
            ]
        )
    return rows


DAYS_COLUMNS = (
    "devices",
    "days",
    "status",
    "wall s",
    "wall s, all runs",
    "CPU s",
    "loop s",
    "events",
    "peak RSS MiB",
)


def _loads_note(loads: Sequence[float | None] | None) -> str:
    """``; 1-minute load before: 1.0, 1.9`` (empty when not recorded)."""
    shown = [f"{load:.1f}" for load in loads or [] if load is not None]
    return f"; 1-minute load before: {', '.join(shown)}" if shown else ""


def _rounds(measured: Json) -> str:
    """``, median of 3 rounds`` for a 1 → 2 worker comparison repeated (empty when run once)."""
    rounds = len(measured.get("seconds_runs", [[]])[0])
    return f", median of {rounds} rounds" if rounds > 1 else ""


def _runs_note(measured: Json, index: int) -> str:
    """`` (9.8–10.4)``: the spread of one worker count's repeated runs (empty when run once)."""
    runs = measured.get("seconds_runs")
    if not runs or len(runs[index]) < 2:
        return ""
    return f" ({spread(runs[index])})"


def _summary_lines(results: Json) -> list[str]:
    fits = results["scaling"]
    lines = []
    for key, what in (
        ("time_vs_devices", "wall time ~ devices^b"),
        ("cpu_time_vs_devices", "CPU time ~ devices^b"),
        ("loop_time_vs_devices", "event-loop time ~ devices^b"),
        ("memory_vs_devices", "peak RSS above baseline ~ devices^b"),
        ("time_vs_days", "wall time ~ days^b"),
        ("cpu_time_vs_days", "CPU time ~ days^b"),
        ("loop_time_vs_days", "event-loop time ~ days^b"),
        ("memory_vs_days", "peak RSS above baseline ~ days^b"),
    ):
        value = fits.get(key)
        lines.append(f"{what}: b = {value:.3f}" if value is not None else f"{what}: —")
    reps = results.get("replications")
    if reps:
        lines.append(
            f"replications ({reps['replications']} × {reps['devices']:,} devices × "
            f"{reps['days']:g} d{_rounds(reps)}): 1 worker {reps['seconds'][0]:.1f} s"
            f"{_runs_note(reps, 0)}, 2 workers {reps['seconds'][1]:.1f} s{_runs_note(reps, 1)}, "
            f"speed-up {reps['speedup']:.2f}×, identical results: {reps['identical']}"
        )
    shard = results.get("sharding")
    if shard and shard.get("speedup") is not None:
        cpu = shard.get("cpu_seconds") or []
        cpu_note = (
            f" (CPU {cpu[0]:.1f} s and {cpu[1]:.1f} s, workers and pool start included)"
            if len(cpu) == 2
            else ""
        )
        lines.append(
            f"household sharding ({shard['devices']:,} devices × {shard['days']:g} d in "
            f"{shard['shards']} shards{_rounds(shard)}): 1 worker {shard['seconds'][0]:.1f} s"
            f"{_runs_note(shard, 0)}, 2 workers {shard['seconds'][1]:.1f} s"
            f"{_runs_note(shard, 1)}{cpu_note}, speed-up "
            f"{shard['speedup']:.2f}×, identical results: {shard['identical']}"
            + _loads_note(shard.get("load_before"))
        )
    elif shard:
        lines.append(f"household sharding of one run: {shard['status']}")
    else:
        lines.append("household sharding of one run: not run")
    large = results.get("large")
    if large and large["status"] == "ok":
        run = large["run"]
        mib = large["peak_rss_kib_all_processes"] / 1024
        lines.append(
            f"large world ({large['devices']:,} devices × {large['days']:g} d in "
            f"{large['shards']} shards on {large['workers']} workers, one run): "
            f"{run['seconds_total']:.0f} s wall, {run['cpu_seconds_workers']:.0f} s CPU in "
            f"workers, peak RSS over all processes {mib:,.0f} MiB = "
            f"{large['bytes_per_device']:,.0f} B/device" + _loads_note([large.get("load_before")])
        )
    elif large:
        lines.append(f"large world: {large['status']} ({large.get('note', '')})")
    loads = [
        f"{r['devices']:,} × {r['days']:g} d: {r['load_before']:.1f}"
        for r in [*results["runs"], *results["days_series"]]
        if r.get("load_before") is not None
    ]
    if loads:
        cores = results["machine"]["cores"]
        lines.append(
            f"1-minute load average before each run ({cores} cores; above that, other processes "
            f"shared the CPU and wall time exceeds CPU time): " + "; ".join(dict.fromkeys(loads))
        )
    cap = results.get("capacity")
    if cap:
        lines.append(
            f"estimated largest population in {cap['budget_gib']:g} GiB: "
            f"~{cap['estimated_devices']:,} devices (estimate, from {cap['bytes_per_device']:,.0f} "
            f"B/device measured at {cap['from_devices']:,} × {cap['from_days']:g} d)"
        )
    return lines


def text(results: Json) -> str:
    """The readable report printed at the end of ``make bench``."""
    runs = results["runs"]
    parts = [
        "pushsim benchmark — " + _machine_line(results["machine"]),
        "",
        "Baseline world by size (one fresh process per run; overhead = loop time ÷ bare SimPy "
        "loop, same events and processes):",
        _text_table(RUN_COLUMNS, [_run_cells(r) for r in runs]),
        "",
        "Smallest size by simulated days:",
        _text_table(DAYS_COLUMNS, _days_rows(results)),
        "",
        *_summary_lines(results),
        "",
        "docs/model.md §7 targets:",
        _text_table(
            ("target", "limit", "measured", "verdict"),
            [[t["target"], t["limit"], t["measured"], t["verdict"]] for t in results["targets"]],
            left=True,
        ),
    ]
    return "\n".join(parts)


def markdown(results: Json) -> str:
    """The same report as Markdown (``results.md``, pasted into the README)."""
    runs = results["runs"]
    parts = [
        f"Machine: {_machine_line(results['machine'])}.",
        "",
        _md_table(RUN_COLUMNS, [_run_cells(r) for r in runs]),
        "",
        _md_table(DAYS_COLUMNS, _days_rows(results)),
        "",
        *[f"- {line}" for line in _summary_lines(results)],
        "",
        _md_table(
            ("docs/model.md §7 target", "limit", "measured", "verdict"),
            [[t["target"], t["limit"], t["measured"], t["verdict"]] for t in results["targets"]],
        ),
    ]
    return "\n".join(parts) + "\n"


# -- plot ------------------------------------------------------------------------------------------


def _finish_axis(axis: Any, has_data: bool, xlabel: str, ylabel: str) -> None:
    """Log-log axes with a legend, or a note when no run finished."""
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    if not has_data:
        axis.text(0.5, 0.5, "no finished run", ha="center", va="center", transform=axis.transAxes)
        return
    from matplotlib.ticker import FuncFormatter

    axis.set_xscale("log")
    axis.set_yscale("log")

    # plain numbers (10,000 and 6, not 10^4 and 6×10^0), on the decades and at 2, 3 and 5 times them
    def plain(value: float, _: int) -> str:
        return f"{value:,.0f}" if value >= 10 else f"{value:g}"

    def some(value: float, position: int) -> str:
        leading = round(value / 10 ** math.floor(math.log10(value))) if value > 0 else 0
        return plain(value, position) if leading in (2, 3, 5) else ""

    for scale in (axis.xaxis, axis.yaxis):
        scale.set_major_formatter(FuncFormatter(plain))
        scale.set_minor_formatter(FuncFormatter(some))
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=8)


def plot(results: Json, path: Path) -> None:
    """``scaling.png``: wall time and peak memory against devices (and time against days)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = float(results["settings"]["days"])
    fits = results["scaling"]
    in_fit = sorted(ok_runs(results["runs"], days), key=lambda r: int(r["devices"]))
    others = [r for r in ok_runs(results["runs"]) if r not in in_fit]
    series = sorted(ok_runs(results["days_series"]), key=lambda r: float(r["days"]))

    figure, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    panels = (
        (axes[0], "wall_seconds", "wall time (s)", "time_vs_devices"),
        (axes[1], "net_rss_mib", "peak RSS above interpreter baseline (MiB)", "memory_vs_devices"),
    )
    for axis, key, ylabel, fit_key in panels:
        xs = [float(r["devices"]) for r in in_fit]
        ys = [float(r["derived"][key]) for r in in_fit]
        slope = fits[fit_key]
        label = f"{days:g} days" + (f" (fitted exponent b = {slope:.2f})" if slope else "")
        axis.plot(xs, ys, "o", color="C0", label=label)
        if slope is not None and len(xs) >= 2:
            intercept = float(np.mean(np.log(ys)) - slope * np.mean(np.log(xs)))
            grid = np.geomspace(min(xs), max(xs), 50)
            axis.plot(grid, np.exp(intercept) * grid**slope, "-", color="C0", alpha=0.6)
        for run in others:
            axis.plot(
                float(run["devices"]),
                float(run["derived"][key]),
                "s",
                mfc="none",
                color="C3",
                label=f"{run['devices']:,} devices × {run['days']:g} days (not in fit)",
            )
        _finish_axis(axis, bool(in_fit or others), "devices at day 0", ylabel)
    axes[0].set_title("Wall time against devices")
    axes[1].set_title("Peak memory against devices")

    axis = axes[2]
    if series:
        xs = [float(r["days"]) for r in series]
        ys = [float(r["derived"]["wall_seconds"]) for r in series]
        slope = fits["time_vs_days"]
        label = f"{series[0]['devices']:,} devices" + (
            f" (fitted exponent b = {slope:.2f})" if slope else ""
        )
        axis.plot(xs, ys, "o-", color="C2", label=label)
    _finish_axis(axis, bool(series), "simulated days", "wall time (s)")
    axis.set_title("Wall time against days")

    machine = results["machine"]
    figure.suptitle(
        f"pushsim baseline world — {machine['machine']}, {machine['cores']} cores, "
        f"{machine['date']}",
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
