"""Prints the RTO that az-outage and pod-kill give under the lab's fast profile and under AWS default timings.

    .venv/bin/python benchmarks/rto_timings.py [--profiles fast,aws] [--experiments az-outage,pod-kill]
                                               [--runs 1] [--users 10]

For each profile a fresh lab starts in a temporary AFTERSHOCK_HOME (`lab up --timings PROFILE`); each experiment
runs through `aftershock run` with its waits (RTO probe, rollback) stretched 10x for the slow clocks; the RTO,
its error bar and its phases come from the run's summary.json. The aws profile takes several minutes per run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from aftershock.cli.lab import start_lab, stop_lab

REPO = Path(__file__).resolve().parents[1]


def stretched(experiment: Path, out: Path, factor: float) -> Path:
    """A copy of ``experiment`` whose ``timeout_s`` arguments are ``factor`` times longer."""
    data = yaml.safe_load(experiment.read_text())
    for activity in [*data.get("method", []), *data.get("rollbacks", []),
                     *data.get("steady-state-hypothesis", {}).get("probes", [])]:
        arguments = activity.get("provider", {}).get("arguments") or {}
        if "timeout_s" in arguments:
            arguments["timeout_s"] = float(arguments["timeout_s"]) * factor
    path = out / experiment.name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run_once(experiment: Path, out: Path, users: int) -> dict[str, Any]:
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "aftershock", "run", str(experiment), "--out", str(out / "runs"),
                             "--users", str(users)], capture_output=True, text=True, timeout=3600)
    run = sorted((out / "runs").iterdir(), key=lambda p: p.stat().st_mtime)[-1]
    figures = json.loads((run / "summary.json").read_text())["figures"]
    return {"exit": result.returncode, "wall_s": round(time.monotonic() - started, 1), "rto_s": figures.get("rto_s"),
            "rto_error_s": figures.get("rto_error_s"), "phases": figures.get("rto_phases") or {}, "run": str(run)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profiles", default="fast,aws")
    parser.add_argument("--experiments", default="az-outage,pod-kill")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--users", type=int, default=10)
    args = parser.parse_args()
    rows = []
    for profile in args.profiles.split(","):
        with tempfile.TemporaryDirectory(prefix=f"rto-timings-{profile}-") as tmp:
            home = Path(tmp)
            os.environ["AFTERSHOCK_HOME"] = str(home)
            lab_dir = home / "lab"
            began = time.monotonic()
            start_lab(lab_dir, detach=True, timings=profile)
            print(f"{profile}: lab up in {time.monotonic() - began:.1f} s", flush=True)
            try:
                factor = 1.0 if profile == "fast" else 10.0
                for name in args.experiments.split(","):
                    experiment = stretched(REPO / "experiments" / f"{name}.yaml", home, factor)
                    for _ in range(args.runs):
                        row = {"profile": profile, "experiment": name, **run_once(experiment, home, args.users)}
                        phases = row["phases"]
                        print(f"{profile:<5} {name:<10} RTO {row['rto_s']} s ± {row['rto_error_s']} s "
                              f"(detection {phases.get('detection_s')}, failover {phases.get('failover_s')}, client "
                              f"recovery {phases.get('client_recovery_s')}) exit {row['exit']} in {row['wall_s']} s",
                              flush=True)
                        rows.append(row)
            finally:
                stop_lab(lab_dir)
    print(json.dumps([{k: v for k, v in r.items() if k != "run"} for r in rows], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
