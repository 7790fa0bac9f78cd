"""The wheel works as installed: built from the checkout, installed into a fresh venv outside it, used from a folder
outside it (so no checkout folder can shadow the installed package).

How the venv gets its dependencies: ``pip install <wheel>`` with all dependencies from the index took 43.5 s and
61.7 s (94 distributions from a local index, 2 cores shared with other work), over the ~60 s we allow here and
far more against PyPI over the network. So the fresh venv reuses the project's installed dependencies instead:
a link farm of the test environment's (.venv's) site-packages without the project's own editable install (the
``__editable__*aftershock*`` finder and .pth, ``aftershock-*.dist-info``) and without .pth files, listed by one
``.pth`` in the fresh venv; the wheel goes in with ``pip install --no-deps``. The fresh site-packages comes first
on sys.path, so ``aftershock`` (files, metadata, console script, pytest11 entry point) is the wheel's. pytest is
reached as ``python -m pytest`` (its console script lives in the project's venv).

The wheel is built from a copy of the checkout (links kept, .venv/.git/tests/caches left out): ``pip wheel`` on the
checkout itself writes ``build/`` and ``aftershock.egg-info`` into it, and a stale ``build/lib`` would put modules
deleted since into the next wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.labkit import RunningLab, processes_mentioning

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
OLD_NAMES = ("lab", "faults", "probes", "reports", "loadtests", "core")
LEFT_OUT_AT_TOP = {".venv", ".git", "build", "dist", "tests", "benchmarks", "runs", ".aftershock", ".hypothesis",
                   ".mypy_cache", ".ruff_cache", ".pytest_cache"}
NOT_REUSED = ("__editable__*", "aftershock-*.dist-info", "aftershock", "*.pth", "__pycache__")


@dataclass(frozen=True)
class Installed:
    """A fresh venv with the wheel installed, and a working folder outside the checkout."""

    venv: Path
    workdir: Path
    wheel: Path

    def run(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        """``args[0]`` from the venv's bin/ with the rest, in ``workdir``, with an environment that cannot reach
        the checkout (no PYTHONPATH, no user site)."""
        env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}}
        env.update(COLUMNS="300", PYTHONNOUSERSITE="1", PATH=f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
        return subprocess.run([str(self.venv / "bin" / args[0]), *args[1:]], cwd=self.workdir, env=env,
                              capture_output=True, text=True, timeout=timeout, check=False)


def _ignore(folder: str, names: list[str]) -> set[str]:
    left_out = {n for n in names if n == "__pycache__" or n.endswith(".egg-info")}
    return left_out | (LEFT_OUT_AT_TOP & set(names) if Path(folder) == REPO else set())


def _checked(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"{result.args} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


def _reuse_installed_dependencies(venv: Path, farm: Path) -> None:
    """Make the project's installed dependencies, but not the project itself, importable in ``venv``."""
    site_packages = Path(sysconfig.get_paths()["purelib"])
    farm.mkdir()
    for entry in sorted(site_packages.iterdir()):
        if not any(entry.match(pattern) for pattern in NOT_REUSED):
            (farm / entry.name).symlink_to(entry)
    (fresh_site,) = venv.glob("lib/python*/site-packages")
    (fresh_site / "reused-dependencies.pth").write_text(f"{farm}\n")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    base = tmp_path_factory.mktemp("wheel")
    assert not base.resolve().is_relative_to(REPO), "the fresh venv must live outside the checkout"
    source = base / "source"
    shutil.copytree(REPO, source, symlinks=True, ignore=_ignore)
    _checked(subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(base / "dist"),
                             str(source)], cwd=base, capture_output=True, text=True, timeout=300, check=False))
    (wheel,) = (base / "dist").glob("aftershock-*.whl")
    venv = base / "venv"
    _checked(subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True, timeout=120,
                            check=False))
    _reuse_installed_dependencies(venv, base / "dependencies")
    workdir = base / "work"
    workdir.mkdir()
    fresh = Installed(venv, workdir, wheel)
    _checked(fresh.run("python", "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                       "--disable-pip-version-check", str(wheel)))
    yield fresh
    assert not processes_mentioning(str(venv)), "a process started from the fresh venv is still running"


def test_version(installed: Installed) -> None:
    assert _checked(installed.run("aftershock", "--version")).stdout.strip() == "aftershock, version 0.1.0"


def test_the_package_comes_from_the_venv_with_its_folders_and_experiments(installed: Installed) -> None:
    where = _checked(installed.run("python", "-c", "import aftershock, sys; print(aftershock.__file__); "
                                   "print(*sys.path, sep='\\n')")).stdout.splitlines()
    package = Path(where[0]).parent
    assert package.is_relative_to(installed.venv), f"aftershock imported from {package}, not the fresh venv"
    assert not [p for p in where[1:] if p and Path(p).resolve().is_relative_to(REPO)], where
    assert not list(installed.venv.glob("lib/python*/site-packages/__editable__*"))
    for part in ("experiments/az-outage.yaml", "core/__init__.py", "lab/__init__.py", "lab/shop/__main__.py",
                 "faults/actions.py", "probes/__init__.py", "reports/__init__.py", "loadtests/locustfile.py",
                 "py.typed"):
        assert (package / part).is_file(), f"{part} is missing from the installed package"
        assert not (package / part.split("/")[0]).is_symlink()


@pytest.mark.parametrize("name", OLD_NAMES)
def test_old_top_level_names_do_not_import(installed: Installed, name: str) -> None:
    result = installed.run("python", "-c", f"import {name}")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == f"ModuleNotFoundError: No module named '{name}'"


def test_pytest_lists_the_plugin_options(installed: Installed) -> None:
    help_text = _checked(installed.run("python", "-m", "pytest", "-p", "no:cacheprovider", "--help")).stdout
    assert "aftershock resilience suite:" in help_text
    for option in ("--resilience", "--target=TARGET", "--scenario=NAME_OR_TAG", "--experiments-dir=DIR"):
        assert option in help_text


def test_demo_help(installed: Installed) -> None:
    result = _checked(installed.run("aftershock", "demo", "--help"))
    assert result.stdout.startswith("Usage: aftershock demo [OPTIONS]")
    assert "az-outage" in result.stdout


def test_dry_run_of_a_bundled_experiment_against_the_lab(installed: Installed, lab: RunningLab) -> None:
    started = time.time()
    out = installed.workdir / "runs"
    result = _checked(installed.run("aftershock", "run", "az-outage", "--dry-run", "--out", str(out)))
    assert "aftershock.faults.actions.az_outage(az='')" in result.stdout
    assert "dry run: nothing was injected" in result.stdout
    assert not out.exists()
    assert not [e for e in lab.events(since=started) if e["kind"] == "fault.injected"]
