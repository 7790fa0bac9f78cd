"""The lab driver: faults and observers through the lab's control API."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from aftershock.core import paths
from aftershock.core.credentials import endpoint_conninfo, password_from_env, require_database
from aftershock.core.errors import FaultRefused, HarnessError, TargetError
from aftershock.core.phases import PlatformEvent
from aftershock.core.target import Target
from aftershock.faults.driver import Observation, RegionReplicas
from aftershock.faults.outcome import FaultOutcome, RevertCall
from aftershock.faults.phases import LAB_SOURCES, lab_platform_events
from aftershock.lab.client import LabClient

# control API action -> driver method, for the reverts the lab proposes
_REVERT_METHODS = {
    "faults/az-restore": "az_restore",
    "faults/traffic-dial": "set_traffic_dial",
    "faults/global-switchover": "switchover_global_database",
    "faults/restore-region": "restore_database_region",
    "faults/restore-replication": "restore_replication",
    "faults/resume-data-replication": "resume_data_replication",
    "faults/dns-health-check": "set_dns_health_check",
    "faults/dns-failover": "set_dns_primary",
    "faults/alb-outage": "set_alb_outage",
    "faults/routing-control": "set_routing_control",
}


class LabDriver:
    """Drives the embedded lab described by ``target`` (``kind: lab``)."""

    journals_in_flight = False  # one short control-API call per fault: signals are held until it is journaled

    def __init__(self, target: Target) -> None:
        if target.lab is None:
            raise TargetError(f"target {target.name!r} has no lab section: is it a lab target?")
        self.target = target
        self._client = LabClient(target.lab.control_url)

    def __repr__(self) -> str:
        return f"LabDriver({self.target.lab.control_url if self.target.lab else '?'})"

    def _fault(self, path: str, **body: Any) -> FaultOutcome:
        result = self._client.post(path, {k: v for k, v in body.items() if v is not None})
        revert = result.get("revert")
        calls: list[RevertCall] = []
        if revert:
            args = dict(revert["args"])
            method = _REVERT_METHODS[revert["action"]]
            calls.append(RevertCall(method, {"to_region": args["region"]} if method.startswith("switchover") else args))
            if method == "restore_database_region":  # then move the writer back where it was
                calls.append(RevertCall("switchover_global_database", {"to_region": args["region"]}))
        return FaultOutcome(result["did"], result.get("details") or {}, tuple(calls))

    # -- faults --------------------------------------------------------------------------------------
    def restore_baseline(self) -> FaultOutcome:
        """Undo whatever differs from the lab's baseline (the revert of a fault whose journal line never came)."""
        return self._fault("faults/restore-baseline")

    def kill_pods(self, region: str, *, az: str | None, count: int | None, percent: float | None) -> FaultOutcome:
        return self._fault("faults/kill-pods", region=region, az=az, count=count, percent=percent)

    def az_outage(self, az: str) -> FaultOutcome:
        return self._fault("faults/az-outage", az=az)

    def az_restore(self, az: str) -> FaultOutcome:
        return self._fault("faults/az-restore", az=az)

    def crash_writer(self) -> FaultOutcome:
        return self._fault("faults/crash-writer")

    def failover_global_database(self, to_region: str) -> FaultOutcome:
        return self._fault("faults/global-failover", region=to_region)

    def switchover_global_database(self, to_region: str) -> FaultOutcome:
        return self._fault("faults/global-switchover", region=to_region)

    def restore_database_region(self, region: str) -> FaultOutcome:
        return self._fault("faults/restore-region", region=region)

    def set_traffic_dial(self, region: str, dial: int) -> FaultOutcome:
        return self._fault("faults/traffic-dial", region=region, dial=dial)

    def start_zonal_shift(self, az: str, *, resources: list[str] | None = None,
                          expires_in: str = "1h") -> FaultOutcome:
        raise FaultRefused("start_zonal_shift is not available on the lab: it has no ARC zonal shift; use "
                           "set_traffic_dial as the remediation step instead", target=self.target.name,
                           fault="start_zonal_shift")

    def cut_replication(self, region: str) -> FaultOutcome:
        return self._fault("faults/cut-replication", region=region)

    def restore_replication(self, region: str) -> FaultOutcome:
        return self._fault("faults/restore-replication", region=region)

    def set_dns_health_check(self, region: str, inverted: bool = True) -> FaultOutcome:
        """Invert (or restore) ``region``'s Route 53 health check in the lab's DNS."""
        return self._fault("faults/dns-health-check", region=region, inverted=inverted)

    def set_dns_primary(self, primary: str) -> FaultOutcome:
        """Make ``primary``'s failover record the PRIMARY (a manual DNS failover)."""
        return self._fault("faults/dns-failover", primary=primary)

    def set_routing_control(self, region: str, state: str = "Off") -> FaultOutcome:
        """Turn ``region``'s ARC routing control in the lab's DNS Off or On (its record follows at once)."""
        return self._fault("faults/routing-control", region=region, state=state)

    def set_alb_outage(self, region: str, down: bool = True) -> FaultOutcome:
        """Take ``region``'s ALB out (no targets: it answers 503) or bring it back (route53-failover lab)."""
        return self._fault("faults/alb-outage", region=region, down=down)

    def pause_data_replication(self, store: str, name: str) -> FaultOutcome:
        """Pause the lab replicator for the global table (``dynamodb``) or the assets bucket (``s3``)."""
        return self._fault("faults/pause-data-replication", store=store, name=name or None)

    def resume_data_replication(self, store: str, name: str) -> FaultOutcome:
        return self._fault("faults/resume-data-replication", store=store, name=name or None)

    # -- observers -----------------------------------------------------------------------------------
    def platform_events(self, since: float, until: float) -> tuple[tuple[PlatformEvent, ...], tuple[str, ...]]:
        """The lab's event log and Envoy's health-check events as RTO phase boundaries (:mod:`~.phases`)."""
        events = self._client.get(f"events?since={since}").get("events") or []
        health = self._client.get(f"health-events?since={since}").get("events") or []
        dns = self.target.front_door.kind == "route53-failover"  # GA's listener is not the clients' path then
        return lab_platform_events(events, health, since=since, until=until, dns_front_door=dns), LAB_SOURCES

    def observe(self) -> Observation:
        status = self._client.get("status")
        db = status["database"]
        nodes = {n["name"]: n for n in db["nodes"]}
        writer = db.get("writer")
        lag_bytes: dict[str, int | None] = {}
        lag_s: dict[str, float | None] = {}
        for node in db["nodes"]:
            if node["role"] == "reader":
                lag_bytes[node["name"]] = node.get("lag_bytes")
                lag_s[node["name"]] = node.get("lag_seconds")
        replicas = tuple(RegionReplicas(d["region"], d["desired"], d["ready"]) for d in status["deployments"])
        dials = {k: int(v) for k, v in status["dials"].items()}
        baseline_dials = {g.region: g.traffic_dial for g in self.target.front_door.endpoint_groups}
        healthy = (
            writer is not None
            and nodes[writer]["region"] == self.target.primary.name
            and not status["azs_down"]
            and dials == baseline_dials
            and all(r.ready >= r.desired > 0 for r in replicas)
            and all(n["alive"] for n in db["nodes"])
        )
        return Observation(
            ts=float(status["ts"]), writer=writer, writer_region=nodes[writer]["region"] if writer else None,
            replicas=replicas, dials=dials, azs_down=tuple(status["azs_down"]),
            replication_lag_bytes=lag_bytes, replication_lag_s=lag_s, healthy=healthy,
        )

    def wait_healthy(self, timeout_s: float) -> Observation:
        """Wait until the lab is back to its baseline: writer in the primary, dials, no AZ down, replicas ready."""
        deadline = time.monotonic() + timeout_s
        observation = self.observe()
        while not observation.healthy:
            if time.monotonic() > deadline:
                raise HarnessError(f"the lab did not return to its baseline within {timeout_s:.0f} s: "
                                   f"{observation}; check `aftershock lab status`")
            time.sleep(0.25)
            observation = self.observe()
        return observation

    def writer_conninfo(self) -> str:
        """The writer endpoint of this lab target; the password from the lab's secrets file or ``env:VAR``."""
        source = require_database(self.target).password_from
        scheme, _, name = source.partition(":")
        if source == "lab":
            password = self._lab_password()
        elif scheme == "env" and name:
            password = password_from_env(self.target, name)
        else:
            raise TargetError(f"database.password_from {source!r} of target {self.target.name!r} is not supported "
                              "for a lab target: use 'lab' or 'env:VAR'", target=self.target.name)
        return endpoint_conninfo(self.target, password)

    def _lab_password(self) -> str:
        lab_home = Path(self.target.lab.home) if self.target.lab is not None else paths.lab_dir()
        path = lab_home / "secrets.json"
        restart = "restart the lab with `aftershock lab down` and `aftershock lab up --detach`"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise TargetError(f"the lab's secrets file {path} is missing: start the lab with "
                              "`aftershock lab up --detach`", target=self.target.name) from None
        except (OSError, ValueError) as exc:
            raise TargetError(f"the lab's secrets file {path} is unreadable ({exc.__class__.__name__}): {restart}",
                              target=self.target.name) from None
        password = data.get("db_password") if isinstance(data, dict) else None
        if not isinstance(password, str) or not password:
            raise TargetError(f"the lab's secrets file {path} has no db_password: {restart}", target=self.target.name)
        return password

    def close(self) -> None:
        """Close the control API's HTTP client."""
        self._client.close()

    def __enter__(self) -> LabDriver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
