"""What aftershock attaches to every Locust run: its command-line options, the 100 ms timeline and the
target's HTTP settings on every User class. Used by the built-in ``locustfile.py`` and by
``aftershock_plugin.py`` (loaded next to a user's own locustfile); :func:`attach` runs once per process.

Options (besides Locust's ``-H/-u/-r/-t``)::

    --shape steady|step|spike   load shape (loadtests/shapes.py), sized by -u/-r/-t
    --timeline-dir DIR          write DIR/timeline.jsonl (master or single process); empty = no timeline
    --timeline-bucket-ms MS     timeline bucket size (default 100)
    --timeline-slow-ms MS       successes slower than this count as slow in the timeline (default 1000)
    --connect-timeout S         connect timeout per request (default 2)
    --response-timeout S        response timeout per request (default 5)
    --task-rate R               tasks per second per browser/shopper user (default 2; 0 = no pacing)
    --fresh-rate R              requests per second of the fresh-connection user (default 20)
    --aftershock-transport JSON the target's probe and HTTP settings (aftershock.core.workload.Transport)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from locust.env import Environment
from locust.event import Events
from locust.runners import MasterRunner

from aftershock.core.loadworkers import WORKERS_FILE
from aftershock.loadtests import resolver, timeline_plugin
from aftershock.loadtests.clocks import WorkerClocks
from aftershock.loadtests.collector import tune_collector
from aftershock.loadtests.shapes import SHAPES
from aftershock.loadtests.transport import transport_of, wrap_user_classes
from aftershock.loadtests.workers import WorkerWatch

_ATTACHED = "_aftershock_attached"


def add_options(parser: Any) -> None:
    parser.add_argument("--shape", choices=sorted(SHAPES), default="steady", help="load shape (default steady)")
    parser.add_argument("--timeline-dir", default="", help="folder for timeline.jsonl (empty: no timeline)")
    parser.add_argument("--timeline-bucket-ms", type=int, default=100, help="timeline bucket size in ms")
    parser.add_argument("--timeline-slow-ms", type=float, default=1000.0,
                        help="successes slower than this (ms) count as slow in the timeline")
    parser.add_argument("--connect-timeout", type=float, default=2.0, help="connect timeout (s)")
    parser.add_argument("--response-timeout", type=float, default=5.0, help="response timeout (s)")
    parser.add_argument("--task-rate", type=float, default=2.0, help="tasks/s per user (0: as fast as possible)")
    parser.add_argument("--fresh-rate", type=float, default=20.0, help="requests/s of the fresh-connection user")
    parser.add_argument("--aftershock-transport", default="", help="probe and HTTP settings (JSON, from aftershock)")


def _on_init(environment: Environment, clocks: WorkerClocks) -> None:
    wrap_user_classes(list(environment.user_classes))
    resolver.install(transport_of(environment))  # names resolve through the target's DNS, cached as it says
    folder = getattr(environment.parsed_options, "timeline_dir", "") or ""
    runner = environment.runner
    if isinstance(runner, MasterRunner) and folder:  # joins, losses and clocks of workers, next to the timeline
        watch = WorkerWatch(runner, Path(folder) / WORKERS_FILE, clocks)
        watch.start()
        environment.events.test_stopping.add_listener(watch.stop)  # the end of the run is no loss
        environment.events.quitting.add_listener(watch.stop)
    tune_collector()  # last: what start-up made is frozen


def attach(events: Events) -> None:
    """Options, timeline and HTTP settings for this Locust process (a second call does nothing)."""
    if getattr(events, _ATTACHED, False):
        return
    setattr(events, _ATTACHED, True)
    events.init_command_line_parser.add_listener(add_options)
    plugin = timeline_plugin.install(events)
    events.init.add_listener(lambda environment, **_kw: _on_init(environment, plugin.clocks))


__all__ = ["add_options", "attach"]
