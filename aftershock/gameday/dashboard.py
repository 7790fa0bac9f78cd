"""The live dashboard of a run: a rich renderable of a :class:`Snapshot`, and the ``aftershock watch`` loop.

Example::

    console.print(render(RunWatcher(RunFolder(path)).snapshot()))     # one frame
    watch(Path("runs/20261121T125255Z-az-outage"), console)            # live until the run is done
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from aftershock.core.errors import UsageError
from aftershock.core.kinds import MarkerKind
from aftershock.core.runfolder import RunFolder
from aftershock.gameday.snapshot import ENDED_PHASES, WINDOW_S, RunWatcher, Snapshot

PHASE_STYLES = {"warming up": "dim", "steady state": "green", "fault": "bold white on red",
                "recovering": "bold yellow", "rolling back": "bold magenta", "rolled back": "cyan",
                "finished": "bold green", "aborted": "bold magenta"}
MAX_MARKERS = 8


def _rto_text(snap: Snapshot) -> Text:
    rto = snap.rto
    if rto.kind == "none":
        return Text("no fault yet", style="dim")
    if rto.kind == "measured":
        if rto.seconds is None or not rto.recovered:
            return Text("measured: not recovered", style="bold red")
        return Text(f"{rto.seconds:.1f} s (measured)", style="bold")
    seconds = rto.seconds or 0.0
    if snap.phase in ("rolled back", *ENDED_PHASES):
        return Text(f"not measured (the run ended before recovery was confirmed); last failure {seconds:.1f} s "
                    "after the fault", style="yellow")
    if rto.failing:
        return Text(f"RTO so far {seconds:.1f} s, still failing", style="bold red")
    return Text(f"RTO so far {seconds:.1f} s, no failures now", style="yellow")


def _replicas(snap: Snapshot) -> Text:
    if not snap.replicas:
        return Text(snap.sample_error or "no samples yet", style="dim")
    text = Text()
    for region, (desired, ready) in snap.replicas.items():
        style = "green" if ready >= desired else "bold yellow"
        text.append(f"{region} ", style="bold")
        text.append(f"{ready}/{desired} ready", style=style)
        text.append("  ")
    if snap.azs_down:
        text.append(f"AZ down: {', '.join(snap.azs_down)}", style="bold red")
    return text


def _writer(snap: Snapshot) -> Text:
    if snap.writer is None and not snap.replicas:
        return Text("no samples yet", style="dim")
    text = Text(f"{snap.writer or 'NONE'}", style="bold" if snap.writer else "bold red")
    if snap.writer_region:
        text.append(f" ({snap.writer_region})")
    if snap.lag_s:
        lags = ", ".join(f"{node} {'?' if lag is None else f'{lag:.2f} s'}" for node, lag in snap.lag_s.items())
        text.append(f"  lag {lags}")
    return text


def _markers(snap: Snapshot) -> Table:
    table = Table.grid(padding=(0, 1))
    shown = snap.markers[-MAX_MARKERS:]
    for marker in shown:
        style = "red" if marker.kind in (MarkerKind.FAULT_START, MarkerKind.RUN_INTERRUPTED) else "cyan"
        table.add_row(f"T+{marker.at_s:.1f}s", Text(marker.kind, style=style), Text(marker.text, overflow="fold"))
    if not shown:
        table.add_row(Text("none yet", style="dim"))
    return table


def render(snap: Snapshot, *, title: str | None = None, hint: str | None = None) -> RenderableType:
    """One frame of the dashboard."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    phase = Text(f" {snap.phase.upper()} ", style=PHASE_STYLES.get(snap.phase, "bold"))
    if snap.interrupted:
        phase.append("  interrupted: rolling the fault back" if snap.phase not in ENDED_PHASES else "  interrupted",
                     style="bold magenta")
    phase.append(f"   T+{snap.elapsed_s:.1f} s")
    grid.add_row("phase", phase)
    p95 = "-" if snap.p95_ms is None else f"{snap.p95_ms:.0f} ms"
    traffic = Text(f"ok {snap.ok_rps:.1f} req/s  ")
    traffic.append(f"failed {snap.fail_rps:.1f} req/s", style="bold red" if snap.fail_rps else "")
    traffic.append(f"  p95 {p95}  (last {WINDOW_S:g} s)")
    grid.add_row("traffic", traffic)
    grid.add_row("RTO", _rto_text(snap))
    grid.add_row("replicas", _replicas(snap))
    grid.add_row("writer", _writer(snap))
    grid.add_row("ledger", Text(f"{snap.acknowledged} acknowledged, {snap.failed_writes} failed, "
                                f"{snap.in_doubt} in doubt"))
    grid.add_row("markers", _markers(snap))
    if snap.verdict:
        grid.add_row("verdict", Text(snap.verdict, style="bold green" if snap.verdict.startswith("PASSED")
                                     else "bold red"))
    parts: list[RenderableType] = [grid]
    if hint:
        parts.append(Text(hint, style="bold"))
    return Panel(Group(*parts), title=title or f"aftershock · {snap.scenario} · {snap.name}", title_align="left")


def find_run(folder: Path) -> RunFolder | None:
    """``folder`` itself when it is a run folder, else its newest run folder (a game-day folder, its ``steps``,
    or a ``runs`` folder); None when there is none yet."""
    if (folder / "run.json").exists():
        return RunFolder(folder)
    for base in (folder / "steps", folder):
        runs = sorted((p for p in base.glob("*/run.json")), key=lambda p: p.stat().st_mtime)
        if runs:
            return RunFolder(runs[-1].parent)
    return None


def watch(folder: Path, console: Console, *, once: bool = False, interval_s: float = 0.5,
          sleep: Callable[[float], None] = time.sleep) -> None:
    """Show the dashboard of ``folder`` until its run is done (``once``: one frame)."""
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder: pass a run folder (runs/<stamp>-<scenario>)")
    run = find_run(folder)
    if once:
        if run is None:
            raise UsageError(f"{folder} holds no run folder (no run.json): pass a folder under runs/")
        console.print(render(RunWatcher(run).snapshot()))
        return
    with Live(console=console, auto_refresh=False, transient=False) as live:
        while run is None:
            live.update(Text(f"waiting for a run in {folder} ... (Ctrl-C to leave)"), refresh=True)
            sleep(interval_s)
            run = find_run(folder)
        watcher = RunWatcher(run)
        follow = not (folder / "run.json").exists()  # a game-day or runs folder: move on to each new run
        while True:
            snap = watcher.snapshot()
            latest = find_run(folder) if follow else None
            if latest is not None and latest.path != watcher.run.path:
                watcher = RunWatcher(latest)
                continue
            hint = "Ctrl-C leaves the dashboard (the run goes on)"
            if snap.phase in ENDED_PHASES and follow and not _game_day_over(folder):
                hint = "step done; waiting for the next step ... (Ctrl-C leaves)"
            live.update(render(snap, hint=hint), refresh=True)
            if snap.phase in ENDED_PHASES and (not follow or _game_day_over(folder)):
                return
            sleep(interval_s)


def _game_day_over(folder: Path) -> bool:
    """True unless ``folder`` is a game day that has not ended yet (a plain runs folder is never waited on)."""
    record = folder / "gameday.json"
    if not record.exists():
        return True
    try:
        return json.loads(record.read_text()).get("ended_at") is not None
    except (OSError, ValueError):
        return False
