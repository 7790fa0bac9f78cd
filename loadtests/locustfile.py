"""The shop load for ``locust -f loadtests/locustfile.py`` (aftershock runs it as a subprocess).

Custom options (besides Locust's ``-H/-u/-r/-t``)::

    --shape steady|step|spike   load shape (loadtests/shapes.py), sized by -u/-r/-t
    --timeline-dir DIR          write DIR/timeline.jsonl (master or single process); empty = no timeline
    --timeline-bucket-ms MS     timeline bucket size (default 100)
    --connect-timeout S         connect timeout per request (default 2)
    --response-timeout S        response timeout per request (default 5)
    --task-rate R               tasks per second per browser/shopper user (default 2; 0 = no pacing)
    --fresh-rate R              requests per second of the fresh-connection user (default 20)

Example::

    python -m locust -f loadtests/locustfile.py --headless -H http://127.0.0.1:8080 -u 50 -r 50 -t 60s \
        --shape step --timeline-dir runs/x --exit-code-on-error 0 --only-summary
"""

from __future__ import annotations

from typing import Any

from locust import events

from aftershock.loadtests import timeline_plugin
from aftershock.loadtests.journeys import Browser, FreshConnection, Shopper
from aftershock.loadtests.shapes import SHAPES, AftershockShape

__all__ = ["AftershockShape", "Browser", "FreshConnection", "Shopper"]


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    parser.add_argument("--shape", choices=sorted(SHAPES), default="steady", help="load shape (default steady)")
    parser.add_argument("--timeline-dir", default="", help="folder for timeline.jsonl (empty: no timeline)")
    parser.add_argument("--timeline-bucket-ms", type=int, default=100, help="timeline bucket size in ms")
    parser.add_argument("--connect-timeout", type=float, default=2.0, help="connect timeout (s)")
    parser.add_argument("--response-timeout", type=float, default=5.0, help="response timeout (s)")
    parser.add_argument("--task-rate", type=float, default=2.0, help="tasks/s per user (0: as fast as possible)")
    parser.add_argument("--fresh-rate", type=float, default=20.0, help="requests/s of the fresh-connection user")


timeline_plugin.install(events)
