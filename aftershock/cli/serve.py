"""``aftershock serve``: the web console (live runs, game-day control, scorecards)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from aftershock.serve.server import ServeSettings, serve


@click.command()
@click.option("--runs", type=click.Path(path_type=Path), default=Path("runs"), show_default=True,
              help="The folder runs and game days go to (what the console lists and watches).")
@click.option("--bind", default="127.0.0.1:0", show_default=True,
              help="HOST:PORT to listen on (port 0: a free port). A non-local host requires the printed token.")
@click.option("--plans", type=click.Path(path_type=Path), default=None,
              help="A folder of game-day PLAN.yaml files the console may start (besides the bundled ones).")
@click.option("--db", "history_db", type=click.Path(path_type=Path), default=None,
              help="History store for the scorecards (default: $AFTERSHOCK_HOME/history.sqlite).")
@click.option("--interval", type=float, default=0.4, show_default=True, help="Seconds between live updates.")
def serve_command(runs: Path, bind: str, plans: Path | None, history_db: Path | None, interval: float) -> None:
    """Serve the web console: live run views, game-day control (go / skip / stop / abort, scribe notes) and
    per-target scorecards. Binds 127.0.0.1 by default; Ctrl-C stops it (a running game-day step is rolled back)."""
    settings = ServeSettings.parse(runs=runs, bind=bind, plans=plans, history_db=history_db, interval_s=interval)
    try:
        serve(settings, lambda line: print(line, flush=True, file=sys.stdout))
    except KeyboardInterrupt:  # uvicorn shut down cleanly, then re-raised the Ctrl-C
        print("aftershock console stopped", flush=True)
