"""Client of the lab's control API (used by the CLI and by the lab fault driver).

Example::

    client = LabClient.from_lab_dir(paths.lab_dir())
    client.post("faults/kill-pods", {"region": "us-east-1", "count": 1})
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from aftershock.core.errors import FaultRefused, LabError
from aftershock.core.procs import pid_alive
from aftershock.lab.state import read_state


class LabClient:
    """Talks JSON to the lab supervisor; a refused fault raises FaultRefused with the lab's message."""

    def __init__(self, control_url: str, *, timeout: float = 60.0) -> None:
        self.control_url = control_url.rstrip("/")
        self._http = httpx.Client(timeout=timeout)

    @classmethod
    def from_lab_dir(cls, lab_dir: Path, *, timeout: float = 60.0) -> LabClient:
        state = read_state(lab_dir)
        if state is None or not pid_alive(state.pid):
            raise LabError("no lab is running: start it with `aftershock lab up --detach`")
        return cls(state.control_url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> LabClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, path: str) -> dict[str, Any]:
        return self._handle(lambda: self._http.get(f"{self.control_url}/{path}"))

    def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._handle(lambda: self._http.post(f"{self.control_url}/{path}", json=body or {}))

    def _handle(self, call: Any) -> dict[str, Any]:
        try:
            response: httpx.Response = call()
        except httpx.HTTPError as exc:
            raise LabError(f"lab control API at {self.control_url} did not answer ({exc}); "
                           "check `aftershock lab status` or restart the lab") from exc
        body: dict[str, Any] = response.json()
        if response.status_code == 400:
            raise FaultRefused(str(body.get("error", "refused")))
        if response.status_code >= 400:
            raise LabError(str(body.get("error", f"lab answered HTTP {response.status_code}")))
        return body
