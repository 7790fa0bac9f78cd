"""The deployment controller: keeps each region's desired replicas running, spread over its up AZs.

Like a ReplicaSet with topology spread constraints: a pod that dies is replaced after ``pod_start_delay_s``
(scheduling + container start), never into an AZ that is down; pods are registered with the region's load
balancer when their readiness probe passes and deregistered when they end.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from aftershock.core.errors import FaultRefused
from aftershock.core.procs import stop
from aftershock.lab.events import Emit
from aftershock.lab.k8s.pods import Pod, PodLauncher, PodTarget, pod_name
from aftershock.lab.ports import free_port

TargetsChanged = Callable[[str, Sequence[PodTarget]], None]


@dataclass(frozen=True)
class ControllerSettings:
    """Timings of the controller. Kubernetes' own: probe period 10 s, pod start several seconds."""

    pod_start_delay_s: float = 2.0
    deregistration_delay_s: float = 2.0
    """How long a pod that *died* stays registered with the load balancer (EKS: endpoint removal and the AWS
    Load Balancer Controller take seconds; until then only the ALB's health checks protect clients)."""
    readiness_period_s: float = 0.2
    tick_s: float = 0.1
    termination_grace_s: float = 3.0


@dataclass(frozen=True)
class PodView:
    name: str
    region: str
    az: str
    port: int
    phase: str
    pid: int | None
    created_at: float
    ready_at: float | None


@dataclass(frozen=True)
class DeploymentView:
    name: str
    region: str
    desired: int
    ready: int
    pods: tuple[PodView, ...]
    azs_down: tuple[str, ...]


class _Deployment:
    def __init__(self, name: str, region: str, azs: Sequence[str], replicas: int) -> None:
        self.name = name
        self.region = region
        self.azs = tuple(azs)
        self.desired = replicas
        self.pods: list[Pod] = []
        self.lingering: list[tuple[PodTarget, float]] = []  # dead pods still registered, until the deadline
        self.last_targets: tuple[PodTarget, ...] = ()


class DeploymentController:
    """Reconciles pods towards each deployment's desired replica count, on its own thread."""

    def __init__(
        self,
        launcher: PodLauncher,
        on_targets_changed: TargetsChanged,
        emit: Emit,
        settings: ControllerSettings | None = None,
    ) -> None:
        self._launch = launcher
        self._on_targets_changed = on_targets_changed
        self._emit = emit
        self.settings = settings or ControllerSettings()
        self._deployments: dict[str, _Deployment] = {}
        self._azs_down: set[str] = set()
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._http = httpx.Client(timeout=0.5)

    # -- configuration -------------------------------------------------------------------------------
    def add_deployment(self, name: str, region: str, azs: Sequence[str], replicas: int) -> None:
        """Own a deployment; its first pods start at once (no scheduling delay at lab start)."""
        with self._lock:
            dep = _Deployment(name, region, azs, replicas)
            self._deployments[region] = dep
            now = time.time()
            for _ in range(replicas):
                self._schedule(dep, start_at=now)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="deployment-controller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop reconciling and stop every pod (graceful, then killed)."""
        self._stopping.set()
        if self._thread:
            self._thread.join(timeout=5)
        with self._lock:
            procs = [p.proc for d in self._deployments.values() for p in d.pods if p.proc]
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            stop(proc, grace=self.settings.termination_grace_s)
        self._http.close()

    # -- queries -------------------------------------------------------------------------------------
    def view(self) -> list[DeploymentView]:
        with self._lock:
            return [
                DeploymentView(
                    name=d.name,
                    region=d.region,
                    desired=d.desired,
                    ready=sum(1 for p in d.pods if p.phase == "ready"),
                    pods=tuple(
                        PodView(p.name, p.region, p.az, p.port, p.phase, p.proc.pid if p.proc else None,
                                p.created_at, p.ready_at)
                        for p in d.pods
                    ),
                    azs_down=tuple(az for az in d.azs if az in self._azs_down),
                )
                for d in self._deployments.values()
            ]

    def ready_targets(self, region: str) -> list[PodTarget]:
        with self._lock:
            return [p.target for p in self._deployment(region).pods if p.phase == "ready"]

    def desired(self, region: str) -> int:
        with self._lock:
            return self._deployment(region).desired

    def az_down(self, az: str) -> bool:
        with self._lock:
            return az in self._azs_down

    # -- changes -------------------------------------------------------------------------------------
    def scale(self, region: str, replicas: int, *, reason: str) -> None:
        """Set a deployment's desired replicas (HPA or an operator); the loop does the rest."""
        if replicas < 0:
            raise FaultRefused(f"replicas must be >= 0, got {replicas}")
        with self._lock:
            dep = self._deployment(region)
            if dep.desired != replicas:
                self._emit("deployment.scaled", region=region, deployment=dep.name,
                           replicas_from=dep.desired, replicas_to=replicas, reason=reason)
                dep.desired = replicas

    def kill_pods(self, region: str, *, az: str | None = None, count: int | None = None,
                  percent: float | None = None) -> list[str]:
        """SIGKILL running pods of a region (optionally one AZ): ``count`` of them or ``percent`` (rounded up)."""
        with self._lock:
            dep = self._deployment(region)
            if az is not None and az not in dep.azs:
                raise FaultRefused(f"unknown AZ {az!r} for region {region}: use one of {', '.join(dep.azs)}")
            if (count is None) == (percent is None):
                raise FaultRefused("kill pods needs exactly one of count or percent")
            if count is not None and count < 1:
                raise FaultRefused(f"count must be >= 1, got {count}")
            if percent is not None and not 0 < percent <= 100:
                raise FaultRefused(f"percent must be in (0, 100], got {percent}")
            running = [p for p in dep.pods if p.phase in ("starting", "ready") and (az is None or p.az == az)]
            if not running:
                where = f"{region}/{az}" if az else region
                raise FaultRefused(f"no running pods in {where} to kill: check `aftershock lab status`")
            wanted = count if count is not None else max(1, -(-len(running) * float(percent or 0) // 100))
            victims = random.sample(running, min(int(wanted), len(running)))
            for pod in victims:
                self._kill(pod, reason="fault")
            self._publish_targets(dep)
            return [p.name for p in victims]

    def set_az_down(self, az: str, down: bool) -> list[str]:
        """Take an AZ down (its pods die, nothing is scheduled there) or bring it back."""
        with self._lock:
            dep = next((d for d in self._deployments.values() if az in d.azs), None)
            if dep is None:
                known = ", ".join(a for d in self._deployments.values() for a in d.azs)
                raise FaultRefused(f"unknown AZ {az!r}: use one of {known}")
            if down == (az in self._azs_down):
                state = "down" if down else "up"
                raise FaultRefused(f"AZ {az} is already {state}: check `aftershock lab status`")
            killed: list[str] = []
            if down:
                self._azs_down.add(az)
                for pod in [p for p in dep.pods if p.az == az and p.phase != "terminating"]:
                    self._kill(pod, reason="az-outage")
                    killed.append(pod.name)
                self._publish_targets(dep)
            else:
                self._azs_down.discard(az)
            return killed

    # -- the loop ------------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stopping.wait(self.settings.tick_s):
            try:
                self.reconcile_once()
            except Exception as exc:  # keep reconciling; the failure is recorded, not swallowed
                self._emit("controller.error", error=f"{type(exc).__name__}: {exc}")

    def reconcile_once(self) -> None:
        with self._lock:
            deployments = list(self._deployments.values())
        for dep in deployments:
            self._reconcile(dep)

    def _reconcile(self, dep: _Deployment) -> None:
        now = time.time()
        with self._lock:
            for pod in list(dep.pods):
                code = pod.proc.poll() if pod.proc else None
                if pod.proc is not None and code is not None:
                    self._linger(dep, pod, now)
                    if pod.end_reason != "scale-down":
                        self._emit("pod.died", pod=pod.name, region=pod.region, az=pod.az, exit_code=code,
                                   reason=pod.end_reason or "crashed")
                    else:
                        self._emit("pod.terminated", pod=pod.name, region=pod.region, az=pod.az)
                    dep.pods.remove(pod)
            active = [p for p in dep.pods if p.phase != "terminating"]
            for _ in range(dep.desired - len(active)):
                self._schedule(dep, start_at=now + self.settings.pod_start_delay_s)
            if len(active) > dep.desired:
                order = {"pending": 0, "starting": 1, "ready": 2}
                surplus = sorted(active, key=lambda p: (order[p.phase], -p.created_at))
                for pod in surplus[: len(active) - dep.desired]:
                    self._terminate(pod)
            for pod in dep.pods:
                if pod.phase == "pending" and pod.start_at <= now and pod.az not in self._azs_down:
                    self._start(pod)
                elif pod.phase == "pending" and pod.az in self._azs_down:
                    pod.az = self._pick_az(dep) or pod.az
            probing = [p for p in dep.pods if p.phase == "starting" and p.next_probe_at <= now]
        for pod in probing:  # probe outside the lock: a slow pod must not stall faults
            ready = self._probe(pod)
            with self._lock:
                pod.next_probe_at = time.time() + self.settings.readiness_period_s
                if ready and pod.phase == "starting":
                    pod.phase = "ready"
                    pod.ready_at = time.time()
                    self._emit("pod.ready", pod=pod.name, region=pod.region, az=pod.az, port=pod.port,
                               startup_s=round(pod.ready_at - (pod.started_at or pod.ready_at), 3))
        with self._lock:
            self._publish_targets(dep)

    def _probe(self, pod: Pod) -> bool:
        try:
            return self._http.get(f"http://127.0.0.1:{pod.port}/ready").status_code == 200
        except httpx.HTTPError:
            return False

    def _schedule(self, dep: _Deployment, *, start_at: float) -> None:
        az = self._pick_az(dep)
        if az is None:
            self._emit("pod.unschedulable", region=dep.region, reason="every AZ of the region is down")
            return
        pod = Pod(name=pod_name(dep.name, az), region=dep.region, az=az, created_at=time.time(), start_at=start_at)
        dep.pods.append(pod)
        self._emit("pod.scheduled", pod=pod.name, region=pod.region, az=az,
                   start_in_s=round(max(0.0, start_at - time.time()), 3))

    def _pick_az(self, dep: _Deployment) -> str | None:
        """Topology spread: the up AZ with the fewest active pods (first in order on ties)."""
        up = [az for az in dep.azs if az not in self._azs_down]
        if not up:
            return None
        counts = {az: 0 for az in up}
        for pod in dep.pods:
            if pod.phase != "terminating" and pod.az in counts:
                counts[pod.az] += 1
        return min(up, key=lambda az: counts[az])

    def _start(self, pod: Pod) -> None:
        pod.port = free_port()
        pod.proc = self._launch(pod.name, pod.region, pod.az, pod.port)
        pod.phase = "starting"
        pod.started_at = time.time()
        self._emit("pod.started", pod=pod.name, region=pod.region, az=pod.az, port=pod.port, pid=pod.proc.pid)

    def _kill(self, pod: Pod, *, reason: str) -> None:
        if pod.proc is not None and pod.proc.poll() is None:
            pod.proc.kill()
            self._emit("pod.killed", pod=pod.name, region=pod.region, az=pod.az, reason=reason)
        pod.end_reason = reason
        self._linger(self._deployment(pod.region), pod, time.time())
        pod.ready_at = None  # lingers once, from the kill
        if pod.phase == "pending":
            pod.phase = "terminating"
            self._deployment(pod.region).pods.remove(pod)
            return
        pod.phase = "terminating"  # reaped by the loop, which then schedules a replacement

    def _terminate(self, pod: Pod) -> None:
        """Graceful scale-down: deregister first, then SIGTERM (the pod drains and exits)."""
        if pod.phase == "pending" or pod.proc is None:
            self._deployment(pod.region).pods.remove(pod)
            return
        pod.phase = "terminating"
        pod.end_reason = "scale-down"
        self._emit("pod.terminating", pod=pod.name, region=pod.region, az=pod.az)
        pod.proc.terminate()

    def _linger(self, dep: _Deployment, pod: Pod, now: float) -> None:
        """A pod that died while registered stays a target until the deregistration delay has passed."""
        if pod.ready_at is not None and pod.end_reason != "scale-down":
            dep.lingering.append((pod.target, now + self.settings.deregistration_delay_s))

    def _publish_targets(self, dep: _Deployment) -> None:
        now = time.time()
        dep.lingering = [(t, until) for t, until in dep.lingering if until > now]
        alive = [p.target for p in dep.pods if p.phase == "ready"]
        targets = tuple(alive + [t for t, _ in dep.lingering if t not in alive])
        if targets != dep.last_targets:
            dep.last_targets = targets
            self._on_targets_changed(dep.region, targets)

    def _deployment(self, region: str) -> _Deployment:
        try:
            return self._deployments[region]
        except KeyError:
            known = ", ".join(self._deployments)
            raise FaultRefused(f"unknown region {region!r}: use one of {known}") from None
