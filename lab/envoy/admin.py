"""Envoy's admin API, read-only: readiness, per-host health, stats."""

from __future__ import annotations

from typing import Any

import httpx

from aftershock.lab.envoy.models import HostHealth

_FAILED_FLAGS = (
    "failed_active_health_check",
    "failed_outlier_check",
    "failed_active_degraded_check",
    "pending_dynamic_removal",
    "excluded_via_immediate_hc_fail",
    "active_hc_timeout",
)


class AdminApi:
    """A client of one Envoy admin listener on 127.0.0.1."""

    def __init__(self, port: int, timeout: float = 2.0) -> None:
        # trust_env=False: a proxy from the environment must never sit between us and 127.0.0.1.
        self._client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=timeout, trust_env=False)

    def close(self) -> None:
        self._client.close()

    def ready(self) -> bool:
        """True once Envoy has loaded its configuration and serves (``/ready`` answers 200)."""
        try:
            return self._client.get("/ready").status_code == 200
        except httpx.HTTPError:
            return False

    def stats(self, pattern: str) -> dict[str, str]:
        """Stats whose name matches the regex ``pattern``, as name -> text value (text readouts unquoted)."""
        response = self._client.get("/stats", params={"filter": pattern})
        response.raise_for_status()
        found: dict[str, str] = {}
        for line in response.text.splitlines():
            name, sep, value = line.partition(": ")
            if sep:
                found[name] = value.strip().strip('"')
        return found

    def host_health(self) -> dict[str, list[HostHealth]]:
        """Every cluster's hosts (clusters without hosts map to an empty list)."""
        response = self._client.get("/clusters", params={"format": "json"})
        response.raise_for_status()
        return {
            status["name"]: [_host(status["name"], host) for host in status.get("host_statuses", [])]
            for status in response.json().get("cluster_statuses", [])
        }


def _host(cluster: str, host: dict[str, Any]) -> HostHealth:
    socket = host["address"]["socket_address"]
    address = f"{socket['address']}:{socket['port_value']}"
    health = host.get("health_status", {})
    failed = any(health.get(flag, False) for flag in _FAILED_FLAGS)
    pending = bool(health.get("pending_active_hc", False))
    eds_ok = health.get("eds_health_status", "HEALTHY") in ("HEALTHY", "UNKNOWN")
    return HostHealth(
        cluster=cluster,
        name=host.get("hostname") or address,
        address=address,
        zone=host.get("locality", {}).get("zone", ""),
        priority=int(host.get("priority", 0)),
        healthy=eds_ok and not failed and not pending,
        failed_active_hc=bool(health.get("failed_active_health_check", False)),
        pending_first_hc=pending,
    )
