"""The lab: the seed architecture on one machine, composed from its real parts.

Global Accelerator and the ALBs are one Envoy process, the Aurora-like database is PostgreSQL streaming
replication with an RDS-like control plane, and the shop pods are processes run by a deployment controller
and an HPA. Faults are validated in full before anything changes, and each says how to reverse it.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from aftershock.core.errors import FaultRefused, LabError, UsageError
from aftershock.core.procs import spawn
from aftershock.core.target import Target
from aftershock.lab import topology
from aftershock.lab.baseline import BaselinePart, restore_baseline
from aftershock.lab.config import LabSettings
from aftershock.lab.db import DatabaseFleet, FleetTopology, NodeSpec
from aftershock.lab.description import describe_lab
from aftershock.lab.dns.part import LabDns
from aftershock.lab.envoy import EnvoyLayout, EnvoyProxy
from aftershock.lab.envoy.models import Endpoint
from aftershock.lab.events import Emit
from aftershock.lab.identity.part import LabIdentity
from aftershock.lab.k8s.controller import DeploymentController
from aftershock.lab.k8s.hpa import Autoscaler, HpaSettings
from aftershock.lab.k8s.pods import PodTarget
from aftershock.lab.ports import free_ports
from aftershock.lab.runtime_root import runtime_root
from aftershock.lab.shop.schema import load_schema_and_seed
from aftershock.lab.standins.standins import StandIns, start_in_background


@dataclass(frozen=True)
class FaultResult:
    """What a fault did, its details, and the call that reverses it (None: the lab heals by itself)."""

    did: str
    details: dict[str, Any] = field(default_factory=dict)
    revert: dict[str, Any] | None = None


class Lab:
    """Owns every part of a running lab; thread-safe entry points for the control API."""

    def __init__(self, lab_dir: Path, settings: LabSettings, emit: Emit, *, password: str) -> None:
        self.lab_dir = lab_dir
        self.settings = settings
        self._emit = emit
        self._password = password
        self._token_key = os.urandom(16).hex()
        route53 = settings.front_door == "route53-failover"
        self.layout = EnvoyLayout.allocate(alb_hosts=settings.dns.alb_hosts if route53 else None)
        ports = free_ports(len(topology.DB_INSTANCES))
        self.db_nodes = [NodeSpec(s.name, s.region, s.az, port)
                         for s, port in zip(topology.DB_INSTANCES, ports, strict=True)]
        self.envoy = EnvoyProxy(self.layout, lab_dir / "envoy", emit, ga_health=settings.ga_health,
                                alb_health=settings.alb_health,
                                alb_keepalive_s=settings.dns.alb_keepalive_s if route53 else None)
        self.dns = LabDns(settings.dns, self.layout.regions, self.layout.alb[self.layout.primary], emit,
                          on_alb_change=lambda r: self._on_targets(r, self.controller.ready_targets(r))) \
            if route53 else None
        self.standins = StandIns(tuple(r.name for r in topology.REGIONS), lab_dir / "aws", settings.stores, emit)
        self.identity = LabIdentity(settings.identity, self.standins.endpoints, lab_dir / "identity.json", emit)
        self.runtime_root = runtime_root()
        self.fleet = DatabaseFleet(self.runtime_root / "db", self.db_nodes, password=password, emit=emit,
                                   on_topology_change=self._on_db_topology,
                                   detection_interval_s=settings.db_detection_interval_s,
                                   rebuild_delay_s=settings.db_rebuild_delay_s)
        self.controller = DeploymentController(self._launch_pod, self._on_targets, emit, settings.controller)
        self.hpa = Autoscaler(self.controller, [
            HpaSettings(region=region, min_replicas=d.min_replicas, max_replicas=d.max_replicas,
                        target_rps_per_pod=d.target_rps_per_pod, sync_period_s=settings.hpa_sync_period_s,
                        scale_down_stabilization_s=settings.hpa_scale_down_stabilization_s)
            for region, d in settings.deployments.items()
        ], emit)
        self._wiring = threading.Lock()
        self._envoy_up = False
        self._pending_topology: FleetTopology | None = None
        self._faults = threading.Lock()
        self._handlers: dict[str, Callable[[dict[str, Any]], FaultResult]] = {
            "faults/kill-pods": self._kill_pods,
            "faults/az-outage": self._az_outage,
            "faults/az-restore": self._az_restore,
            "faults/crash-writer": self._crash_writer,
            "faults/global-switchover": self._global_switchover,
            "faults/global-failover": self._global_failover,
            "faults/restore-region": self._restore_region,
            "faults/traffic-dial": self._traffic_dial,
            "faults/cut-replication": self._cut_replication,
            "faults/restore-replication": self._restore_replication,
            "deployments/scale": self._scale,
            "faults/restore-baseline": self._restore_baseline,
        }
        for path, fault in self.standins.fault_handlers().items():  # data replication (DynamoDB, S3)
            self._handlers[path] = partial(_standin_fault, fault)
        for path, change in (self.dns.handlers() if self.dns else {}).items():  # Route 53's faults
            self._handlers[path] = functools.partial(_as_fault_result, change)

    @property
    def front_door_url(self) -> str:
        return f"http://127.0.0.1:{self.layout.front_door}"

    # -- lifecycle -----------------------------------------------------------------------------------
    def write_secrets(self) -> Path:
        """Keep the database password where only this user can read it (the RPO ledger needs it)."""
        path = self.lab_dir / "secrets.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump({"db_password": self._password}, fh)
        return path

    def start(self) -> None:
        """Start Envoy, the pods and the database together (pods wait for the database on their own)."""
        (self.lab_dir / "pods").mkdir(parents=True, exist_ok=True)
        envoy_error: list[BaseException] = []

        def start_envoy() -> None:
            try:
                self.envoy.start()
                self.envoy.set_traffic_dials(dict(self.settings.dials))
            except BaseException as exc:
                envoy_error.append(exc)

        standins_started = start_in_background(self.standins)  # the regions' AWS API endpoints
        envoy_thread = threading.Thread(target=start_envoy, name="envoy-start")
        envoy_thread.start()
        for region, dep in self.settings.deployments.items():
            self.controller.add_deployment("shop", region, topology.region(region).azs, dep.replicas)
        self.controller.start()
        self.fleet.bootstrap(self._load_schema)
        envoy_thread.join()
        if envoy_error:
            raise LabError(f"Envoy did not start: {envoy_error[0]}") from envoy_error[0]
        with self._wiring:
            self._envoy_up = True
            pending = self._pending_topology
        self._on_db_topology(pending or self.fleet.topology())
        for region in self.settings.deployments:
            self._on_targets(region, self.controller.ready_targets(region))
        self.fleet.start_monitor()
        self.hpa.start()
        standins_started()  # last: the front door and the shop do not wait for the AWS stand-ins
        self.identity.start()  # the user pools live on the stand-ins
        if self.dns is not None:
            self.dns.start()

    def _load_schema(self, conninfo: str) -> None:
        seeded = load_schema_and_seed(conninfo, products=self.settings.products, users=self.settings.users)
        self._emit("db.seeded", products=seeded.products, users=seeded.users, seconds=round(seeded.seconds, 3))

    def stop(self) -> None:
        """Stop every part; each step runs even if an earlier one failed."""
        dns_stop = [self.dns.stop] if self.dns is not None else []
        for step in (*dns_stop, self.hpa.stop, self.controller.stop, self.fleet.stop, self.envoy.stop,
                     self.identity.stop, self.standins.stop):
            try:
                step()
            except Exception as exc:
                self._emit("lab.stop_error", step=getattr(step, "__qualname__", "?"), error=str(exc))
        shutil.rmtree(self.runtime_root, ignore_errors=True)

    # -- wiring between parts --------------------------------------------------------------------------
    def _launch_pod(self, name: str, region: str, az: str, port: int) -> Any:
        conninfo = "host=127.0.0.1 port={} dbname=" + topology.DB_NAME + " user=" + topology.DB_USER
        argv = [sys.executable, "-m", "aftershock.lab.shop", "--name", name, "--region", region, "--az", az,
                "--port", str(port), "--writer", conninfo.format(self.layout.db_writer),
                "--reader", conninfo.format(self.layout.db_readers[region])]
        env = {**os.environ, "PGPASSWORD": self._password, "SHOP_TOKEN_KEY": self._token_key,
               "SHOP_IDENTITY_FILE": str(self.identity.config_path),
               "SHOP_STORES_FILE": str(self.standins.shop_config_path), "SHOP_CART_STORE": "dynamodb"}
        return spawn(argv, log_path=self.lab_dir / "pods" / f"{name}.log", env=env)

    def _on_targets(self, region: str, targets: Sequence[PodTarget]) -> None:
        with self._wiring:
            if not self._envoy_up:
                return  # applied once Envoy is up
            if self.dns is not None and self.dns.alb_down(region):
                targets = ()  # the region's front door is out (LabDns's alb-outage fault)
            self.envoy.set_alb_targets(region, [Endpoint(t.name, "127.0.0.1", t.port, t.az) for t in targets])

    def _on_db_topology(self, topo: FleetTopology) -> None:
        if self.dns is not None:  # the private zone's CNAMEs follow the endpoints
            self.dns.on_db_topology(topo.writer.name if topo.writer else None,
                                    {r: [n.name for n in topo.readers_in(r)] for r in self.layout.regions},
                                    {n.name: n.port for n in self.db_nodes})
        with self._wiring:
            if not self._envoy_up:
                self._pending_topology = topo
                return
            writer = topo.writer
            self.envoy.set_db_writer(Endpoint(writer.name, writer.host, writer.port, writer.az) if writer else None)
            for region in self.layout.regions:
                readers = list(topo.readers_in(region))
                if not readers and writer is not None and writer.region == region:
                    readers = [writer]  # like Aurora: a cluster with no reader serves reads from its writer
                self.envoy.set_db_readers(region, [Endpoint(r.name, r.host, r.port, r.az) for r in readers])

    # -- control API entry points ----------------------------------------------------------------------
    def handle(self, path: str, body: dict[str, Any]) -> FaultResult:
        handler = self._handlers.get(path)
        if handler is None:
            raise UsageError(f"unknown lab action {path!r}: use one of {', '.join(sorted(self._handlers))}")
        with self._faults:  # one fault at a time: each validates against the state it will change
            result = handler(body)
        self._emit("fault.injected" if path.startswith("faults/") else "lab.changed", action=path,
                   did=result.did, **{"args": body})
        return result

    def status(self) -> dict[str, Any]:
        fleet = self.fleet.status()
        views = self.controller.view()
        return {
            "ts": time.time(),
            "front_door_url": self.front_door_url,
            "endpoints": {"front_door": self.layout.front_door, "alb": dict(self.layout.alb),
                          "db_writer": self.layout.db_writer, "db_readers": dict(self.layout.db_readers),
                          "envoy_admin": self.layout.admin},
            "dials": self.envoy.dials(),
            "azs_down": sorted({az for v in views for az in v.azs_down}),
            "deployments": [asdict(v) for v in views],
            "hpa": {r: asdict(d) for r, d in self.hpa.last_decisions.items()},
            "database": _jsonable(fleet),
            "load_balancers": {c: [asdict(h) for h in hosts] for c, hosts in self.envoy.host_health().items()},
            "aws": self.standins.status(),
            "identity": self.identity.status(),
            **({"dns": self.dns.status()} if self.dns is not None else {}),
        }

    # -- faults ----------------------------------------------------------------------------------------
    def _region_arg(self, body: dict[str, Any], key: str = "region") -> str:
        name = body.get(key)
        if not isinstance(name, str):
            raise FaultRefused(f"missing {key!r}: give one of {', '.join(self.layout.regions)}")
        if name not in self.layout.regions:
            raise FaultRefused(f"unknown region {name!r}: use one of {', '.join(self.layout.regions)}")
        return name

    def _az_arg(self, body: dict[str, Any]) -> str:
        az = body.get("az")
        every = [a for r in topology.REGIONS for a in r.azs]
        if az not in every:
            raise FaultRefused(f"unknown AZ {az!r}: use one of {', '.join(every)}")
        return str(az)

    def _kill_pods(self, body: dict[str, Any]) -> FaultResult:
        region = self._region_arg(body)
        az = body.get("az")
        if az is not None and az not in topology.region(region).azs:
            raise FaultRefused(f"unknown AZ {az!r} for region {region}: use one of "
                               f"{', '.join(topology.region(region).azs)}")
        killed = self.controller.kill_pods(region, az=az, count=body.get("count"), percent=body.get("percent"))
        return FaultResult(f"killed {len(killed)} pod(s) in {az or region}: {', '.join(killed)}",
                           {"pods": killed, "region": region, "az": az})

    def _az_outage(self, body: dict[str, Any]) -> FaultResult:
        az = self._az_arg(body)
        if self.controller.az_down(az):
            raise FaultRefused(f"AZ {az} is already down: restore it first with `aftershock lab az-restore {az}`")
        on_az = [n.name for n in self.fleet.status().nodes if n.az == az and n.alive]
        killed = self.controller.set_az_down(az, True)
        self.fleet.set_az_down(az, True)
        crashed = on_az
        return FaultResult(f"AZ {az} is down: {len(killed)} pod(s) killed, database nodes crashed: "
                           f"{', '.join(crashed) or 'none'}",
                           {"az": az, "pods": killed, "db_instances": crashed},
                           {"action": "faults/az-restore", "args": {"az": az}})

    def _az_restore(self, body: dict[str, Any]) -> FaultResult:
        az = self._az_arg(body)
        if not self.controller.az_down(az):
            raise FaultRefused(f"AZ {az} is not down: nothing to restore")
        self.controller.set_az_down(az, False)
        self.fleet.set_az_down(az, False)
        return FaultResult(f"AZ {az} is back; its database readers are being rebuilt", {"az": az})

    def _crash_writer(self, body: dict[str, Any]) -> FaultResult:
        name = self.fleet.crash_writer()
        return FaultResult(f"crashed the database writer {name}; the control plane fails over in-region",
                           {"instance": name})

    def _global_switchover(self, body: dict[str, Any]) -> FaultResult:
        region = self._region_arg(body)
        before = self._writer_region()
        result = self.fleet.switchover_global(region)
        return FaultResult(f"switched the global database over to {region} (planned, no data loss)",
                           _jsonable(result), {"action": "faults/global-switchover", "args": {"region": before}})

    def _global_failover(self, body: dict[str, Any]) -> FaultResult:
        region = self._region_arg(body)
        before = self._writer_region()
        result = self.fleet.failover_global(region)
        self.standins.lose_region(before)  # its unreplicated DynamoDB/S3 writes are gone too
        return FaultResult(f"failed the global database over to {region} (unplanned, {before} lost)",
                           _jsonable(result), {"action": "faults/restore-region", "args": {"region": before}})

    def _restore_region(self, body: dict[str, Any]) -> FaultResult:
        region = self._region_arg(body)
        rebuilt = self.fleet.restore_region(region)
        self.standins.restore_region(region)
        return FaultResult(f"rebuilt database region {region} as readers: {', '.join(rebuilt) or 'none'}",
                           {"db_instances": rebuilt},
                           {"action": "faults/global-switchover", "args": {"region": region}})

    def _traffic_dial(self, body: dict[str, Any]) -> FaultResult:
        region = self._region_arg(body)
        dial = body.get("dial")
        if not isinstance(dial, int) or isinstance(dial, bool) or not 0 <= dial <= 100:
            raise FaultRefused(f"traffic dial for {region} must be an integer 0-100, got {dial!r}")
        before = self.envoy.dials()[region]
        self.envoy.set_traffic_dials({region: dial})
        return FaultResult(f"traffic dial of {region}: {before} -> {dial}", {"region": region, "dial": dial},
                           {"action": "faults/traffic-dial", "args": {"region": region, "dial": before}})

    def _cut_replication(self, body: dict[str, Any]) -> FaultResult:
        region = self._region_arg(body)
        self.fleet.cut_replication(region)
        cut = [n.name for n in self.fleet.status().nodes if n.region == region and n.cut]
        return FaultResult(f"cut replication to {region}: {', '.join(cut)} no longer receive WAL",
                           {"region": region, "db_instances": cut},
                           {"action": "faults/restore-replication", "args": {"region": region}})

    def _restore_replication(self, body: dict[str, Any]) -> FaultResult:
        region = self._region_arg(body)
        restored = self.fleet.restore_replication(region)
        done = ", ".join(f"{name} {how}" for name, how in restored.items())
        return FaultResult(f"replication to {region} restored: {done or 'nothing to restore'}",
                           {"db_instances": restored})

    def _scale(self, body: dict[str, Any]) -> FaultResult:
        region = self._region_arg(body)
        replicas = body.get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            raise FaultRefused(f"replicas for {region} must be an integer >= 0, got {replicas!r}")
        self.controller.scale(region, replicas, reason="operator")
        return FaultResult(f"desired replicas of {region} set to {replicas}", {"region": region})

    def _restore_baseline(self, body: dict[str, Any]) -> FaultResult:
        parts: list[object] = [self.standins, self.dns]
        done = restore_baseline(self, self._handlers, [p for p in parts if isinstance(p, BaselinePart)])
        return FaultResult("; ".join(done) or "the lab was at its baseline: nothing changed", {"done": done})

    def _writer_region(self) -> str:
        writer = self.fleet.topology().writer
        if writer is None:
            raise FaultRefused("the database has no writer right now: wait for the failover to finish")
        return writer.region

    def target_description(self, control_url: str) -> Target:
        """The lab as a target description (``--target lab``)."""
        described = describe_lab(self.settings, self.layout, self.front_door_url, self.lab_dir, control_url,
                                 dns_port=self.dns.port if self.dns is not None else None)
        return described.model_copy(update={"data_stores": self.standins.description(),
                                            "identity": self.identity.description()})


def _standin_fault(fault: Callable[[dict[str, Any]], tuple[str, dict[str, Any], dict[str, Any] | None]],
                   body: dict[str, Any]) -> FaultResult:
    return FaultResult(*fault(body))


def _as_fault_result(change: Callable[[dict[str, Any]], dict[str, Any]], body: dict[str, Any]) -> FaultResult:
    return FaultResult(**change(body))


def _jsonable(value: Any) -> Any:
    """Frozen dataclasses (and enums inside them) as plain JSON values."""
    from dataclasses import fields, is_dataclass
    from enum import Enum

    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
