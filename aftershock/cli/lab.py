"""``aftershock lab``: start, inspect and stop the embedded lab, and inject its faults by hand."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from aftershock.cli.lab_dns import dns_table
from aftershock.console import stdout
from aftershock.core import paths
from aftershock.core.errors import LabError, UsageError
from aftershock.core.procs import pid_alive
from aftershock.lab.client import LabClient
from aftershock.lab.config import LabSettings
from aftershock.lab.events import read_events
from aftershock.lab.state import clear_state, read_state
from aftershock.lab.timings import PROFILES, load_timings, ready_timeout_s

START_TIMEOUT_S = 60.0


@click.group()
def lab() -> None:
    """The embedded multi-region lab: Envoy, PostgreSQL replication, shop pods with HPA."""


def _client() -> LabClient:
    return LabClient.from_lab_dir(paths.lab_dir())


def _running_lab_pid(lab_dir: Path) -> int | None:
    state = read_state(lab_dir)
    if state and pid_alive(state.pid):
        return state.pid
    return None


def start_lab(lab_dir: Path, *, detach: bool, timeout: float = START_TIMEOUT_S,
              front_door: str = "global-accelerator", timings: str = "fast") -> subprocess.Popen[bytes]:
    """Start the supervisor and wait until the front door serves; raise LabError with its log otherwise.
    ``timings``: fast, aws or a target file (:mod:`aftershock.lab.timings`; slower clocks wait longer)."""
    timeout = max(timeout, ready_timeout_s(load_timings(timings).apply(LabSettings())) + 15.0)
    running = _running_lab_pid(lab_dir)
    if running:
        state = read_state(lab_dir)
        url = state.control_url if state else "?"
        raise UsageError(f"a lab is already running (pid {running}, control API {url}): "
                         "use it, or stop it first with `aftershock lab down`")
    lab_dir.mkdir(parents=True, exist_ok=True)
    clear_state(lab_dir)
    log = lab_dir / "supervisor.log"
    argv = [sys.executable, "-m", "aftershock.lab.supervisor", "--lab-dir", str(lab_dir), "--front-door", front_door,
            "--timings", timings]
    with log.open("ab") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=detach)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = read_state(lab_dir)
        if state and state.ready_at and state.pid == proc.pid:
            return proc
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
    why = tail[0] if tail else "no output"
    raise LabError(f"the lab did not start within {timeout:.0f} s ({why}); see {log}")


@lab.command()
@click.option("--detach", is_flag=True, help="Return once the lab serves; it keeps running in the background.")
@click.option("--front-door", type=click.Choice(["global-accelerator", "route53-failover"]),
              default="global-accelerator", show_default=True,
              help="route53-failover: clients resolve the shop through the lab's DNS (Route 53 failover records).")
@click.option("--timings", default="fast", show_default=True, metavar="fast|aws|FILE",
              help="Clocks of the lab: fast (seconds), aws (AWS/Kubernetes defaults: health checks, Aurora failover "
                   "detection, pod start, HPA sync) or a target file (aws with its health checks).")
def up(detach: bool, front_door: str, timings: str) -> None:
    """Start the lab (front door, ALBs, pods, HPA, database) on 127.0.0.1."""
    lab_dir = paths.lab_dir()
    load_timings(timings)  # bad input: one-line error before anything starts
    timings = timings if timings in PROFILES else str(Path(timings).resolve())  # the supervisor's cwd may differ
    started = time.monotonic()
    proc = start_lab(lab_dir, detach=detach, front_door=front_door, timings=timings)
    state = read_state(lab_dir)
    assert state is not None
    console = stdout()
    console.print(f"[green]lab up[/] in {time.monotonic() - started:.1f} s: front door {state.front_door_url}, "
                  f"control API {state.control_url}")
    console.print(f"target description: {paths.lab_target_file()}  (used by --target lab)")
    if detach:
        console.print("stop it with `aftershock lab down`")
        return
    console.print("following the event log; Ctrl-C stops the lab")
    since = time.time()
    try:
        while proc.poll() is None:
            for event in read_events(lab_dir / "events.jsonl", since=since):
                since = event.ts + 1e-6
                console.print(_event_line(event.ts, event.kind, event.fields), highlight=False)
            time.sleep(0.3)
    except KeyboardInterrupt:
        console.print("stopping the lab ...")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


def _event_line(ts: float, kind: str, fields: dict[str, Any]) -> str:
    clock = time.strftime("%H:%M:%S", time.localtime(ts)) + f".{int(ts * 1000) % 1000:03d}"
    details = " ".join(f"{k}={v}" for k, v in fields.items())
    return f"{clock} {kind:<22} {details}"


def stop_lab(lab_dir: Path, timeout: float = 30.0) -> bool:
    """Stop the lab in ``lab_dir``; True when one was running. Kills it if it does not stop in time."""
    state = read_state(lab_dir)
    if state is None or not pid_alive(state.pid):
        clear_state(lab_dir)
        return False
    os.kill(state.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pid_alive(state.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if pid_alive(state.pid):
        os.kill(state.pid, signal.SIGKILL)  # its children die with it (parent-death signal)
    clear_state(lab_dir)
    return True


@lab.command()
def down() -> None:
    """Stop the lab; no process is left behind."""
    if stop_lab(paths.lab_dir()):
        stdout().print("[green]lab down[/]")
    else:
        stdout().print("no lab was running")


@lab.command()
@click.option("--json", "as_json", is_flag=True, help="Print the full status as JSON.")
def status(as_json: bool) -> None:
    """Topology and health: dials, ALB targets, pods desired/ready per region, database writer and lag, and the
    lab's Route 53 (answer, health checks) with the route53-failover front door."""
    with _client() as client:
        body = client.get("status")
    if as_json:
        click.echo(json.dumps(body, indent=2))
        return
    console = stdout()
    console.print(f"front door {body['front_door_url']}  dials {body['dials']}  "
                  f"azs down: {', '.join(body['azs_down']) or 'none'}")
    pods = Table(title="deployments")
    for col in ("region", "desired", "ready", "pods (az:phase)"):
        pods.add_column(col)
    for dep in body["deployments"]:
        listing = " ".join(f"{p['az'][-2:]}:{p['phase']}" for p in dep["pods"])
        pods.add_row(dep["region"], str(dep["desired"]), str(dep["ready"]), listing)
    console.print(pods)
    db = Table(title=f"database (writer: {body['database']['writer']})")
    for col in ("instance", "region", "az", "role", "alive", "lag"):
        db.add_column(col)
    for node in body["database"]["nodes"]:
        db.add_row(node["name"], node["region"], node["az"], node["role"], str(node["alive"]),
                   str(node.get("lag_bytes", "")))
    console.print(db)
    if "dns" in body:  # the route53-failover front door
        console.print(dns_table(body["dns"]))


def _fault(path: str, body: dict[str, Any]) -> None:
    with _client() as client:
        result = client.post(path, body)
    stdout().print(f"[yellow]{result['did']}[/]", highlight=False)
    if result.get("revert"):
        stdout().print(f"revert with: {result['revert']}", highlight=False)


@lab.command("kill-pods")
@click.option("--region", default="us-east-1", show_default=True)
@click.option("--az", default=None, help="Only pods in this AZ.")
@click.option("--count", type=int, default=None, help="How many pods (or use --percent).")
@click.option("--percent", type=float, default=None, help="Percent of the running pods, rounded up.")
def kill_pods(region: str, az: str | None, count: int | None, percent: float | None) -> None:
    """SIGKILL shop pods; the deployment controller replaces them after its start delay."""
    if count is None and percent is None:
        count = 1
    _fault("faults/kill-pods", {"region": region, "az": az, "count": count, "percent": percent})


@lab.command("az-outage")
@click.argument("az")
def az_outage(az: str) -> None:
    """An AZ goes dark: its pods and database node die and nothing is scheduled there."""
    _fault("faults/az-outage", {"az": az})


@lab.command("az-restore")
@click.argument("az")
def az_restore(az: str) -> None:
    """Bring an AZ back (its database reader is rebuilt)."""
    _fault("faults/az-restore", {"az": az})


@lab.command("crash-writer")
def crash_writer() -> None:
    """Crash the database writer; the control plane promotes the in-region reader."""
    _fault("faults/crash-writer", {})


@lab.command()
@click.option("--to", "region", required=True, help="Region that gets the writer.")
def switchover(region: str) -> None:
    """Planned global switchover of the database (no data loss)."""
    _fault("faults/global-switchover", {"region": region})


@lab.command()
@click.option("--to", "region", required=True, help="Region whose replica is promoted.")
def failover(region: str) -> None:
    """Unplanned global failover: the writer's region is lost, the other is promoted (data loss allowed)."""
    _fault("faults/global-failover", {"region": region})


@lab.command("restore-region")
@click.argument("region")
def restore_region(region: str) -> None:
    """Rebuild a lost database region as readers of the current writer."""
    _fault("faults/restore-region", {"region": region})


@lab.command()
@click.argument("region")
@click.argument("percent", type=int)
def dial(region: str, percent: int) -> None:
    """Set a front-door endpoint group's traffic dial (0-100), live."""
    _fault("faults/traffic-dial", {"region": region, "dial": percent})


@lab.command("cut-replication")
@click.option("--region", default="us-west-2", show_default=True, help="Region whose replicas stop receiving WAL.")
def cut_replication(region: str) -> None:
    """Cut cross-region replication: later writes never reach that region (a real, non-zero RPO)."""
    _fault("faults/cut-replication", {"region": region})


@lab.command("restore-replication")
@click.option("--region", default="us-west-2", show_default=True)
def restore_replication(region: str) -> None:
    """Resume replication to a region."""
    _fault("faults/restore-replication", {"region": region})


@lab.command()
@click.argument("region")
@click.argument("replicas", type=int)
def scale(region: str, replicas: int) -> None:
    """Set a region's desired shop replicas (the HPA may change it again)."""
    _fault("deployments/scale", {"region": region, "replicas": replicas})


@lab.command()
@click.option("--since", type=float, default=0.0, help="Only events after this epoch time.")
def events(since: float) -> None:
    """Print the lab's event log."""
    for event in read_events(paths.lab_dir() / "events.jsonl", since=since):
        click.echo(_event_line(event.ts, event.kind, event.fields))
