"""The calibration budget: ``python -m benchmarks.calibrate`` (``make bench-calibrate``).

Runs ``pushsim calibrate examples/observations.toml --scenario baseline`` (5,000 devices × 365
days, 2 replications per point, every core) as a user would, in a fresh subprocess, into a
temporary folder, and measures its wall time against the budget of issue 15 (6–8 parameters at
5,000 devices in ≤ 15 minutes on a 2-core machine). Then it sets the fitted values beside the
truth the example was measured from (:data:`sim.calibration.synthetic.EXAMPLE_TRUTH`): each
estimate, its 95 % interval, and whether the truth is inside.

Writes ``calibration.md`` next to this file (``--out`` elsewhere) and prints it. Nothing is
carried over from earlier runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sim.calibration.synthetic import EXAMPLE_TRUTH

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BUDGET_SECONDS = 15 * 60


def _load() -> str:
    with open("/proc/loadavg", encoding="utf-8") as loadavg:
        return loadavg.read().split()[0]


def main(argv: list[str] | None = None) -> int:
    """Run the example calibration, time it, and compare the fit with the truth."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--out", type=Path, default=HERE / "calibration.md")
    parser.add_argument("--devices", default="5000")
    parser.add_argument("--replications", default="2")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pushsim-calibrate-") as scratch:
        folder = Path(scratch) / "cal"
        command = [
            sys.executable,
            "-m",
            "sim",
            "calibrate",
            "examples/observations.toml",
            "--scenario",
            "baseline",
            "--devices",
            args.devices,
            "--replications",
            args.replications,
            "--out",
            str(folder),
        ]
        load_before = _load()
        started = time.perf_counter()
        done = subprocess.run(command, cwd=REPO, check=False, env=os.environ.copy())
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            print(f"calibrate exited {done.returncode}", file=sys.stderr)
            return 1
        fit = json.loads((folder / "fit.json").read_text(encoding="utf-8"))
    lines = [
        "# Calibration budget",
        "",
        f"`{' '.join(['pushsim', *command[3:-2]])}`, measured "
        f"{dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M')} UTC on {os.cpu_count()} cores "
        f"(1-minute load {load_before} before the run).",
        "",
        f"- **Wall time: {seconds / 60:.1f} min** (budget {BUDGET_SECONDS // 60} min: "
        f"{'within' if seconds <= BUDGET_SECONDS else 'OVER'}); {fit['runs']} runs, "
        f"{fit['points']} points, {fit['iterations']} iterations; {fit['message']}",
        f"- χ² = {fit['chi_square']:.2f} over {fit['dof']} degrees of freedom"
        + (f" (p = {fit['p_value']:.3g})" if fit["p_value"] is not None else ""),
        f"- Warnings: {len(fit['warnings'])}" + "".join(f"\n  - {w}" for w in fit["warnings"]),
        "",
        "| parameter | start | truth | fitted | 95 % interval | truth inside |",
        "|---|---|---|---|---|---|",
    ]
    inside = 0
    for estimate in fit["estimates"]:
        truth = EXAMPLE_TRUTH.get(estimate["parameter"])
        hit = truth is not None and estimate["ci_low"] <= truth <= estimate["ci_high"]
        inside += hit
        lines.append(
            f"| `{estimate['parameter']}` | {estimate['start']:.4g} | "
            f"{'—' if truth is None else f'{truth:.4g}'} | {estimate['value']:.4g} | "
            f"[{estimate['ci_low']:.4g}, {estimate['ci_high']:.4g}] | {'yes' if hit else 'no'} |"
        )
    lines += ["", f"Truth inside the 95 % interval: {inside} of {len(fit['estimates'])}."]
    text = "\n".join(lines) + "\n"
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
