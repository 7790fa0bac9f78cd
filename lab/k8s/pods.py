"""A shop pod: one process labelled with region and AZ, and its lifecycle phase."""

from __future__ import annotations

import secrets
import subprocess
from dataclasses import dataclass, field
from typing import Literal, Protocol

Phase = Literal["pending", "starting", "ready", "terminating"]


@dataclass(frozen=True)
class PodTarget:
    """A ready pod as a load-balancer target."""

    name: str
    port: int
    az: str


class PodLauncher(Protocol):
    """Starts the process of a pod (the supervisor passes one that runs ``python -m aftershock.lab.shop``)."""

    def __call__(self, name: str, region: str, az: str, port: int) -> subprocess.Popen[bytes]: ...


@dataclass
class Pod:
    """Mutable record the controller keeps for each pod it owns (guarded by the controller's lock)."""

    name: str
    region: str
    az: str
    created_at: float
    start_at: float
    phase: Phase = "pending"
    port: int = 0
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    started_at: float | None = None
    ready_at: float | None = None
    next_probe_at: float = 0.0
    end_reason: str | None = None  # why the controller ended it: fault, az-outage, scale-down

    @property
    def target(self) -> PodTarget:
        return PodTarget(self.name, self.port, self.az)


def pod_name(deployment: str, az: str) -> str:
    """A Kubernetes-like pod name: ``shop-us-east-1a-k2x9q``."""
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    suffix = "".join(secrets.choice(alphabet) for _ in range(5))
    return f"{deployment}-{az}-{suffix}"
