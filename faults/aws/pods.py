"""Kubernetes (EKS) access: one ApiClient per kubeconfig context, pods killed, nodes cordoned.

``kubernetes.config.load_kube_config`` replaces the process-global client configuration, so two regions'
activities could race; :class:`KubeClients` builds an independent ``ApiClient`` per context instead
(``new_client_from_config``), and never writes the kubeconfig back. A context whose cluster is an EKS ARN (as
``aws eks update-kubeconfig`` writes it) is checked against the target's accounts and regions before any request,
and gets its tokens in-process from the harness's own session (:mod:`aftershock.faults.aws.eks`): the kubeconfig's
``exec: aws eks get-token`` is never run, so the ``aws`` CLI is not needed.

Example::

    clients = KubeClients("~/.kube/config")
    core = clients.core("arn:aws:eks:us-east-1:111111111111:cluster/shop")
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from aftershock.core.errors import FaultRefused
from aftershock.core.target import Target
from aftershock.faults.aws.calls import ApiCall, CallRecorder
from aftershock.faults.aws.eks import TOKEN_TTL_S, EksCluster, check_cluster, eks_cluster, eks_token

ZONE_LABEL = "topology.kubernetes.io/zone"


class KubeClients:
    """ApiClients per context (``None``: the kubeconfig's current context), created once each."""

    def __init__(self, kubeconfig: str | None, *, credentials: Any = None, accounts: tuple[str, ...] = (),
                 regions: tuple[str, ...] = ()) -> None:
        """``credentials``: a callable returning botocore credentials for EKS tokens (``AwsSessions.credentials``);
        ``accounts`` / ``regions``: where an EKS context's cluster must be (empty: not checked)."""
        self._kubeconfig = str(Path(kubeconfig).expanduser()) if kubeconfig else None
        self._credentials = credentials
        self._accounts = accounts
        self._regions = regions
        self._lock = threading.Lock()
        self._clients: dict[str | None, k8s.ApiClient] = {}

    def __repr__(self) -> str:
        return f"KubeClients({self._kubeconfig!r}, contexts={sorted(str(c) for c in self._clients)})"

    def api(self, context: str | None) -> k8s.ApiClient:
        with self._lock:
            if context not in self._clients:
                self._clients[context] = self._new(context)
            return self._clients[context]

    def _new(self, context: str | None) -> k8s.ApiClient:
        config: dict[str, Any] = {}
        if self._kubeconfig and Path(self._kubeconfig).exists():
            config = yaml.safe_load(Path(self._kubeconfig).read_text(encoding="utf-8")) or {}
        name = context or config.get("current-context")
        entry: dict[str, Any] = next((c["context"] for c in config.get("contexts") or [] if c.get("name") == name), {})
        cluster = eks_cluster(str(entry.get("cluster", "")))
        if cluster is None:
            return k8s_config.new_client_from_config(  # type: ignore[no-untyped-call,no-any-return]
                config_file=self._kubeconfig, context=context, persist_config=False)
        check_cluster(name, cluster, accounts=self._accounts, regions=self._regions)
        if self._credentials is None:
            return k8s_config.new_client_from_config(  # type: ignore[no-untyped-call,no-any-return]
                config_file=self._kubeconfig, context=context, persist_config=False)
        return self._eks(config, str(name), entry, cluster)

    def _eks(self, config: dict[str, Any], name: str, entry: dict[str, Any], cluster: EksCluster) -> k8s.ApiClient:
        """A client of an EKS context whose user is replaced by an in-process token, refreshed before it expires."""
        issued = [time.monotonic()]
        token = eks_token(self._credentials(), cluster.region, cluster.name)
        user = f"aftershock-eks-{name}"
        config = {**config, "users": [{"name": user, "user": {"token": token}}],
                  "contexts": [{"name": name, "context": {**entry, "user": user}}], "current-context": name}
        api = k8s_config.new_client_from_config_dict(config, context=name, persist_config=False)  # type: ignore[no-untyped-call]

        def refresh(configuration: Any) -> None:
            if time.monotonic() - issued[0] > TOKEN_TTL_S:
                issued[0] = time.monotonic()
                fresh = eks_token(self._credentials(), cluster.region, cluster.name)
                configuration.api_key["authorization"] = f"Bearer {fresh}"

        api.configuration.refresh_api_key_hook = refresh
        client: k8s.ApiClient = api
        return client

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
