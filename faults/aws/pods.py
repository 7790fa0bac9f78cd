"""Kubernetes (EKS) access: one ApiClient per kubeconfig context, pods killed, nodes cordoned.

``kubernetes.config.load_kube_config`` replaces the process-global client configuration, so two regions'
activities could race; :class:`KubeClients` builds an independent ``ApiClient`` per context instead
(``new_client_from_config``), and never writes the kubeconfig back. EKS contexts usually get their tokens from
``aws eks get-token`` (an ``exec`` entry of the kubeconfig), which the client runs itself.

Example::

    clients = KubeClients("~/.kube/config")
    core = clients.core("arn:aws:eks:us-east-1:111111111111:cluster/shop")
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client as k8s
from kubernetes import config as k8s_config

from aftershock.core.errors import FaultRefused
from aftershock.core.target import Target
from aftershock.faults.aws.calls import ApiCall, CallRecorder

ZONE_LABEL = "topology.kubernetes.io/zone"


class KubeClients:
    """ApiClients per context (``None``: the kubeconfig's current context), created once each."""

    def __init__(self, kubeconfig: str | None) -> None:
        self._kubeconfig = str(Path(kubeconfig).expanduser()) if kubeconfig else None
        self._lock = threading.Lock()
        self._clients: dict[str | None, k8s.ApiClient] = {}

    def __repr__(self) -> str:
        return f"KubeClients({self._kubeconfig!r}, contexts={sorted(str(c) for c in self._clients)})"

    def api(self, context: str | None) -> k8s.ApiClient:
        with self._lock:
            if context not in self._clients:
                self._clients[context] = k8s_config.new_client_from_config(
                    config_file=self._kubeconfig, context=context, persist_config=False)  # type: ignore[no-untyped-call]
            return self._clients[context]

    def core(self, context: str | None) -> k8s.CoreV1Api:
        return k8s.CoreV1Api(self.api(context))

    def autoscaling(self, context: str | None) -> k8s.AutoscalingV2Api:
        return k8s.AutoscalingV2Api(self.api(context))

    def apps(self, context: str | None) -> k8s.AppsV1Api:
        return k8s.AppsV1Api(self.api(context))

    def close(self) -> None:
        with self._lock:
            for api in self._clients.values():
                api.close()  # type: ignore[no-untyped-call]
            self._clients.clear()


@dataclass(frozen=True)
class Workload:
    """The pods of one deployment in one region's cluster."""

    region: str
    context: str | None
    namespace: str
    label_selector: str
    name: str


def workloads(target: Target, region: str) -> list[Workload]:
    """The target's deployments in ``region`` with their kube context (refused when ambiguous)."""
    settings = target.aws.region(region) if target.aws else None
    found = []
    for d in target.deployments:
        if d.region != region:
            continue
        context = d.kube_context or (settings.kube_context if settings else None)
        if context is None and len(target.regions) > 1:
            raise FaultRefused(f"deployment {d.name!r} in {region} has no kube context: set deployments[].kube_context "
                               f"or aws.regions[name={region}].kube_context in target {target.name!r}")
        found.append(Workload(region, context, d.namespace, d.label_selector, d.name))
    return found


def _call(region: str, context: str | None, op: str, **params: Any) -> ApiCall:
    return ApiCall("kubernetes", region, op, {"context": context, **params}, mutating=op.startswith(("delete",
                                                                                                     "patch")))


def live_pods(clients: KubeClients, rec: CallRecorder, w: Workload) -> list[Any]:
    rec.observe(_call(w.region, w.context, "list_namespaced_pod", namespace=w.namespace,
                      label_selector=w.label_selector))
    pods: list[Any] = clients.core(w.context).list_namespaced_pod(w.namespace, label_selector=w.label_selector).items
    return [p for p in pods if p.metadata.deletion_timestamp is None and p.status.phase in ("Running", "Pending")]


def zone_nodes(clients: KubeClients, rec: CallRecorder, region: str, context: str | None, az: str) -> list[Any]:
    selector = f"{ZONE_LABEL}={az}"
    rec.observe(_call(region, context, "list_node", label_selector=selector))
    return list(clients.core(context).list_node(label_selector=selector).items)


def delete_pod(clients: KubeClients, rec: CallRecorder, region: str, context: str | None, namespace: str,
               name: str) -> None:
    rec.mutate(_call(region, context, "delete_namespaced_pod", namespace=namespace, name=name, grace_period_seconds=0),
               lambda: clients.core(context).delete_namespaced_pod(name, namespace, grace_period_seconds=0), None)


def set_unschedulable(clients: KubeClients, rec: CallRecorder, region: str, context: str | None, node: str,
                      unschedulable: bool) -> None:
    """Cordon (``True``) or uncordon (``False``) a node."""
    body = {"spec": {"unschedulable": unschedulable}}
    rec.mutate(_call(region, context, "patch_node", name=node, body=body),
               lambda: clients.core(context).patch_node(node, body), None)


def kill_pods(clients: KubeClients, rec: CallRecorder, target: Target, region: str, *, az: str | None,
              count: int | None, percent: float | None, rng: random.Random | None = None) -> list[str]:
    """Delete ``count`` or ``percent`` (rounded up) of the region's shop pods, optionally only in ``az``."""
    pods: list[tuple[Workload, Any]] = []
    for w in workloads(target, region):
        found = live_pods(clients, rec, w)
        if az:
            in_zone = {n.metadata.name for n in zone_nodes(clients, rec, region, w.context, az)}
            found = [p for p in found if p.spec.node_name in in_zone]
        pods += [(w, p) for p in found]
    where = f"{region}" + (f" ({az})" if az else "")
    if not pods:
        raise FaultRefused(f"no running pods of target {target.name!r} in {where}: check the deployments' "
                           "namespace/label_selector and kube_context in the target file")
    wanted = count if count else math.ceil(len(pods) * float(percent or 0) / 100)
    chosen = (rng or random.Random()).sample(pods, min(max(wanted, 1), len(pods)))
    for w, pod in chosen:
        delete_pod(clients, rec, region, w.context, w.namespace, pod.metadata.name)
    return sorted(f"{w.namespace}/{p.metadata.name}" for w, p in chosen)
