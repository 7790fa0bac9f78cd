"""``aftershock load``: drive the shop with Locust and keep a 100 ms timeline of what every request saw.

The run folder (``runs/<utc-stamp>-load/`` unless ``--out``) holds ``timeline.jsonl`` (see
:mod:`aftershock.core.timeline.store`), ``locust.log`` (Locust's stdout and stderr, one file per local worker),
``locust-stats.json`` (Locust's own totals) and ``load.json`` (arguments, result, summary, outages).
Failed requests do not fail the command: measuring them is the point. Exit codes: 0 done, 2 bad arguments
or harness failure, 130 interrupted (the timeline is still readable).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from aftershock.console import stderr, stdout
from aftershock.core.errors import AftershockError, UsageError
from aftershock.core.timeline.outages import Outage, find_outages
from aftershock.core.timeline.store import Timeline, read_timeline
from aftershock.core.timeline.summary import summarize
from aftershock.core.workload import Transport, Workload
from aftershock.load.config import SHAPES, LoadConfig, LoadResult, parse_duration
from aftershock.load.launcher import check_reachable, run_load
from aftershock.load.locustfile import check_locustfile, locustfiles

FRESH_PREFIX = "fresh:"


def resolve_front_door_url(target: str) -> str:
    """The URL the load goes to: ``target`` itself when it is a URL, else the front door of ``lab`` or of a
    target YAML file (:func:`aftershock.core.target.load_target`)."""
    if target.startswith(("http://", "https://")):
        return target
    from aftershock.core.target import load_target  # the target model is only needed for --target

    return load_target(target).front_door.url


def target_workload(target: str | None) -> tuple[str, Workload]:
    """The target file's ``load:`` section (the lab's and a bare URL's: the defaults) and a name for messages."""
    if target is None or target.startswith(("http://", "https://")):
        return "", Workload()
    from aftershock.core.target import load_target
    from aftershock.planning import check_headers

    model = load_target(target)
    check_headers(model)
    return model.name, model.load


def _first(*values: Any) -> Any:
    """The first value given (not None): command line, then the target's, then the default."""
    return next((v for v in values if v is not None), None)


def _user_locustfile(cli: Path | None, target_name: str, workload: Workload) -> Path | None:
    """The checked locustfile: ``--locustfile``, else the target's ``load.locustfile``, else None (built-in)."""
    if cli is not None:
        return check_locustfile(cli, source="--locustfile")
    if workload.locustfile:
        return check_locustfile(workload.locustfile, source=f"load.locustfile of target {target_name}")
    return None


def _announcer(config: LoadConfig, duration: str) -> Callable[[LoadResult], None]:
    """What to print once Locust started (and, for remote workers, the command they must run)."""
    err = stderr()

    def started(preview: LoadResult) -> None:
        err.print(f"load: {config.users} users on {config.url} for {duration}, run folder {config.out_dir}")
        if config.remote_workers and preview.master_port is not None:
            err.print(
                f"waiting for {config.remote_workers} remote worker(s): python -m locust -f "
                f"{locustfiles(config.locustfile)}"
                f" --worker --master-host <this host> --master-port {preview.master_port}",
                soft_wrap=True,
            )

    return started


def default_run_dir(now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return Path("runs") / f"{stamp}-load"


def _fmt_ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _fmt_epoch(ms: float | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000.0, UTC).strftime("%H:%M:%S.%f")[:-3]


def _outages_json(outages: list[Outage]) -> list[dict[str, Any]]:
    return [{**asdict(o), "duration_ms": o.duration_ms, "errors": dict(o.errors)} for o in outages]


def render_summary(timeline: Timeline, result: LoadResult) -> list[Any]:
    """The rich renderables the command prints: a table per request name and the outages found."""
    table = Table(title=f"load: {result.out_dir}", title_justify="left")
    for column in ("request", "requests", "failures", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors"):
        table.add_column(
            column, justify="left" if column in ("request", "errors") else "right", no_wrap=column != "errors"
        )
    for row in summarize(timeline):
        errors = ", ".join(f"{kind} x{count}" for kind, count in row.errors[:3])
        table.add_row(
            row.name,
            str(row.requests),
            str(row.failures),
            f"{row.rps:.1f}",
            _fmt_ms(row.p50_ms),
            _fmt_ms(row.p95_ms),
            _fmt_ms(row.p99_ms),
            errors,
            style="bold" if row.name == "TOTAL" else None,
        )
    outages = Table(title="outages (100 ms windows, per-request edges, UTC)", title_justify="left")
    for column in ("traffic", "start", "end", "duration ms", "failures", "errors"):
        outages.add_column(column)
    for label, names in (("all", None), ("fresh connections", lambda n: n.startswith(FRESH_PREFIX))):
        for outage in find_outages(timeline, names=names):
            outages.add_row(
                label,
                _fmt_epoch(outage.start_ms),
                _fmt_epoch(outage.end_ms) if outage.end_ms is not None else "not over",
                _fmt_ms(outage.duration_ms),
                str(outage.failures),
                ", ".join(f"{kind} x{count}" for kind, count in outage.errors[:3]),
            )
    if not outages.row_count:
        return [table, "no outages found"]
    return [table, outages]


def _config_json(config: LoadConfig) -> dict[str, Any]:
    values = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()}
    return {**values, "transport": config.transport.model_dump(mode="json")}  # header values by variable name


def _write_record(config: LoadConfig, result: LoadResult, timeline: Timeline) -> None:
    """``load.json``: arguments, result, summary and outages (all traffic and fresh connections)."""
    record = {
        "args": _config_json(config),
        "result": result.to_json(),
        "timeline": {
            "requests": timeline.total,
            "failures": timeline.failures,
            "skipped_lines": timeline.skipped_lines,
        },
        "summary": [{**asdict(row), "errors": dict(row.errors)} for row in summarize(timeline)],
        "outages": _outages_json(find_outages(timeline)),
        "fresh_outages": _outages_json(find_outages(timeline, names=lambda n: n.startswith(FRESH_PREFIX))),
    }
    (config.out_dir / "load.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def _print_summary(timeline: Timeline, result: LoadResult) -> None:
    console = stdout()
    if not console.is_terminal:  # a log or a pipe: do not squeeze the table into 80 columns
        console.width = max(console.width, 160)
    for renderable in render_summary(timeline, result):
        console.print(renderable)


@click.command("load")
@click.option("--target", default=None, help="lab (default), a target YAML file, or a URL.")
@click.option("--url", default=None, help="Send the load here instead (e.g. http://127.0.0.1:8080).")
@click.option("--users", type=int, default=None,
              help="Peak number of simulated users [default: the target's, else 10].")  # fmt: skip
@click.option("--rate", type=float, default=None, help="Users started per second [default: all at once].")
@click.option("--duration", default="60s", show_default=True, help="Run time: 90, 90s, 5m, 1h30m.")
@click.option("--shape", default=None, help=f"Load shape: {', '.join(SHAPES)} [default: the target's, else steady].")
@click.option("--workers", type=int, default=0, show_default=True, help="Local Locust worker processes (0: one).")
@click.option("--remote-workers", type=int, default=0, show_default=True,
              help="Extra workers to wait for, started elsewhere: locust -f loadtests/locustfile.py "
                   "--worker --master-host HOST --master-port PORT (port printed at start).")  # fmt: skip
@click.option("--master-host", "master_bind_host", default="127.0.0.1", show_default=True,
              help="Interface the master listens on for workers (0.0.0.0 for remote workers).")  # fmt: skip
@click.option("--master-port", type=int, default=None, help="Port the master listens on [default: a free one].")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Run folder [default: runs/<utc>-load].")
@click.option("--bucket-ms", type=int, default=100, show_default=True, help="Timeline bucket size.")
@click.option("--connect-timeout", type=float, default=None,
              help="Per-request connect timeout (s) [default: the target's, else 2].")  # fmt: skip
@click.option("--response-timeout", type=float, default=None,
              help="Per-request timeout (s) [default: the target's, else 5].")  # fmt: skip
@click.option("--task-rate", type=float, default=None,
              help="Tasks per second per user (0: as fast as possible) [default: the target's, else 2].")  # fmt: skip
@click.option("--locustfile", type=click.Path(path_type=Path), default=None,
              help="Your own Locust journeys (any User classes) [default: the target's load.locustfile, else the "
                   "shop's]; aftershock adds the timeline and the fresh-connection probe.")  # fmt: skip
def load_command(
    target: str | None,
    url: str | None,
    users: int | None,
    rate: float | None,
    duration: str,
    shape: str | None,
    workers: int,
    remote_workers: int,
    master_bind_host: str,
    master_port: int | None,
    out: Path | None,
    bucket_ms: int,
    connect_timeout: float | None,
    response_timeout: float | None,
    task_rate: float | None,
    locustfile: Path | None,
) -> None:
    """Run the load (the shop's journeys or --locustfile, plus a fresh-connection probe) and record a 100 ms
    timeline."""
    if url is not None and target is not None:
        raise UsageError("--url and --target both given: pass only one of them")
    flag = "--url" if url is not None else "--target"
    front_door = url if url is not None else resolve_front_door_url(target or "lab")
    name, workload = target_workload(target)
    config = LoadConfig(
        url=front_door,
        out_dir=out or default_run_dir(),
        users=_first(users, workload.users, 10),
        spawn_rate=_first(rate, workload.spawn_rate),
        duration_s=parse_duration(duration),
        shape=_first(shape, workload.shape, "steady"),
        workers=workers,
        remote_workers=remote_workers,
        master_bind_host=master_bind_host,
        master_port=master_port,
        bucket_ms=bucket_ms,
        connect_timeout_s=_first(connect_timeout, workload.connect_timeout_s, 2.0),
        response_timeout_s=_first(response_timeout, workload.response_timeout_s, 5.0),
        task_rate=_first(task_rate, workload.task_rate, 2.0),
        fresh_rate=workload.probe.rate,
        locustfile=_user_locustfile(locustfile, name, workload),
        transport=Transport.of(workload),
    )
    check_reachable(config.url, flag=flag, resolver=config.transport.resolver)
    err = stderr()
    result = run_load(config, on_started=_announcer(config, duration))
    timeline = read_timeline(result.timeline_path) if result.timeline_path.exists() else Timeline((), bucket_ms)
    _write_record(config, result, timeline)
    _print_summary(timeline, result)
    if result.interrupted:
        err.print(f"interrupted: the timeline so far is in {result.timeline_path}")
        sys.exit(130)


def main(argv: list[str] | None = None) -> None:
    """``python -m aftershock.cli.load ...``: the command on its own, with the main CLI's error handling."""
    try:
        load_command.main(args=argv, prog_name="aftershock load", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        sys.exit(130)
    except AftershockError as exc:
        stderr().print(f"[bold red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
