"""The wheel is a product: built, installed into a fresh venv, and used away from the repository.

The wheel is built from a copy of the sources (nothing is written into the checkout) with the
dev venv's setuptools (no build isolation: nothing is downloaded). The fresh venv gets the wheel
only (``--no-deps``); its dependencies come from the dev venv's site-packages, listed in a
``.pth`` file. The ``.pth`` files of that folder are not processed, so the dev venv's editable
pushsim is not visible: ``sim`` must come from the wheel.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "sim", "scenarios")
#: generous: a loaded CI machine may be slow, and no step should ever come near this
TIMEOUT = 600


def _call(args: Sequence[str | Path], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, (
        f"{' '.join(map(str, args))} exited {done.returncode}\n"
        f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    )
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the sources."""
    root = tmp_path_factory.mktemp("build")
    source = root / "src"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=ignore)
        else:
            shutil.copy2(REPO / name, source / name)
    dist = root / "dist"
    _call(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            dist,
            source,
        ],
        cwd=root,
    )
    (built,) = dist.glob("pushsim-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed (and the dev venv's dependencies importable)."""
    home = tmp_path_factory.mktemp("venv") / "venv"
    _call([sys.executable, "-m", "venv", "--without-pip", home], cwd=home.parent)
    python = home / "bin" / "python"
    _call(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            python,
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            wheel,
        ],
        cwd=home.parent,
    )
    purelib = _call(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], home
    ).strip()
    dependencies = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(purelib) / "pushsim_test_dependencies.pth").write_text(
        "".join(f"{folder}\n" for folder in sorted(dependencies))
    )
    return home


@pytest.fixture
def env(venv: Path) -> dict[str, str]:
    """The environment of a command run in the fresh venv, away from the repository."""
    values = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    values["PATH"] = f"{venv / 'bin'}{os.pathsep}{values.get('PATH', '')}"
    values["VIRTUAL_ENV"] = str(venv)
    values["MPLBACKEND"] = "Agg"
    return values


def test_every_subpackage_of_sim_is_listed_in_pyproject() -> None:
    listed = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    found = [
        ".".join(init.parent.relative_to(REPO).parts) for init in REPO.glob("sim/**/__init__.py")
    ]
    assert sorted(found) == sorted(p for p in listed if not p.startswith("sim.library"))


def test_the_wheel_carries_the_scenarios_stories_license_and_typing_marker(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in sorted((REPO / "scenarios").glob("*.toml")):
        assert f"sim/library/{path.name}" in names
    for path in sorted((REPO / "scenarios" / "stories").iterdir()):
        if path.suffix in (".toml", ".md"):
            assert f"sim/library/stories/{path.name}" in names
    assert "sim/py.typed" in names
    assert "sim/remote/openapi.yaml" in names
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)


def test_the_installed_wheel_runs_away_from_the_repository(
    venv: Path, env: dict[str, str], tmp_path: Path
) -> None:
    python = venv / "bin" / "python"
    pushsim = venv / "bin" / "pushsim"
    where = _call(
        [python, "-c", "import sim, sim.scenario as s; print(sim.__file__); print(s.STORIES_DIR)"],
        tmp_path,
        env,
    ).split()
    module, stories = Path(where[0]), Path(where[1])
    assert module.is_relative_to(venv.resolve()), module
    assert stories == module.parent / "library" / "stories"
    assert stories.is_dir()

    out = tmp_path / "out"
    _call(
        [
            pushsim,
            "run",
            "baseline",
            "--set",
            "population.devices=200",
            "--days",
            "10",
            "--quiet",
            "--workers",
            "1",
            "--out",
            out,
        ],
        tmp_path,
        env,
    )
    assert (out / "report.md").is_file()

    told = _call([pushsim, "story", "charlie_and_kim"], tmp_path, env)
    assert told.startswith("pass  "), told

    verdict = _call([pushsim, "conform", "reference", "--operations", "50"], tmp_path, env)
    assert re.search(r"^(\d+) stories \(\1 passed\)", verdict, re.MULTILINE), verdict
    assert "follows 14/14 rules" in verdict, verdict

    _call([pushsim, "init", "web_push"], tmp_path, env)
    copied = (tmp_path / "web_push.toml").read_bytes()
    assert copied == (module.parent / "library" / "web_push.toml").read_bytes()
