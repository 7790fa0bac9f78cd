"""The built-in shop load for ``locust -f loadtests/locustfile.py`` (aftershock runs it as a subprocess).

Users: :class:`Browser` and :class:`Shopper` (the shop journeys), :class:`FreshConnection` (the
fresh-connection probe). Options (``--shape``, ``--timeline-dir``, ``--task-rate``, ...): see
:mod:`aftershock.loadtests.wiring`. A workload of your own goes next to aftershock's plugin file instead:
``-f yours.py,loadtests/aftershock_plugin.py`` (what ``aftershock run/load --locustfile`` does).

Example::

    python -m locust -f loadtests/locustfile.py --headless -H http://127.0.0.1:8080 -u 50 -r 50 -t 60s \
        --shape step --timeline-dir runs/x --exit-code-on-error 0 --only-summary
"""

from __future__ import annotations

from locust import events

from aftershock.loadtests.fresh import FreshConnection
from aftershock.loadtests.journeys import Browser, Shopper
from aftershock.loadtests.shapes import AftershockShape
from aftershock.loadtests.wiring import attach

__all__ = ["AftershockShape", "Browser", "FreshConnection", "Shopper"]

attach(events)
