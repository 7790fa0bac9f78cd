"""moto's request dispatcher, minus two costs it pays on every request (measured with py-spy on a stand-in serving
the store ledgers: ~20 % of its CPU).

* ``DomainDispatcherApplication.get_backend_for_host`` lists moto's package folder (``os.listdir`` and an
  ``isdir`` per entry) for every request to find the service; the answer for a host never changes, so it is kept.
* ``create_backend_app`` makes each service's Flask app with ``debug = True``, which makes Flask wrap every request's
  form parsing in debug helpers; the stand-ins are not debugged through Flask (errors still answer 500).
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

__all__ = ["StandInDispatcher"]


def _quiet_app(service: Any) -> Flask:
    app = create_backend_app(service)
    app.debug = False
    return app


class StandInDispatcher(DomainDispatcherApplication):
    """moto's dispatcher with the backend of each host remembered (called under the dispatcher's lock)."""

    def __init__(self) -> None:
        super().__init__(_quiet_app)
        self._backends: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        if host not in self._backends:
            self._backends[host] = super().get_backend_for_host(host)
        return self._backends[host]
