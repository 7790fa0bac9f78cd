"""aftershock's plugin locustfile, loaded next to a user's own: ``locust -f theirs.py,aftershock_plugin.py``.

It adds the fresh-connection probe (:class:`FreshConnection`), the load shape (:class:`AftershockShape`,
unless the user's file brings a shape of its own: Locust uses the first one) and the options, the 100 ms
timeline and the target's HTTP settings (:mod:`aftershock.loadtests.wiring`). The user's file imports nothing
of aftershock: every request its users make lands in the timeline under its own name.
"""

from __future__ import annotations

from locust import events

from aftershock.loadtests.fresh import FreshConnection
from aftershock.loadtests.shapes import AftershockShape
from aftershock.loadtests.wiring import attach

__all__ = ["AftershockShape", "FreshConnection"]

attach(events)
