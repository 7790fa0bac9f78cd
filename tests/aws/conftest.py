"""Fixtures for the AWS driver: a moto server on 127.0.0.1, fakes for what moto lacks, fake Kubernetes API servers.

- moto (EC2/NACL, ASG, ELBv2, RDS, CloudWatch, STS, FIS, Secrets Manager) runs as a real HTTP server;
  ``AWS_ENDPOINT_URL`` points every boto3 client at it, with fake credentials, so no real endpoint is reachable.
- Global Accelerator is not in moto, and moto does not implement ``failover_global_cluster`` /
  ``switchover_global_cluster``: :class:`AwsFakes` answers those through botocore's event hooks on the sessions the
  driver builds (its ``session_factory`` seam), keeping its own state (dials, which global member writes).
- :class:`FakeKube` is a small Kubernetes API server (nodes, pods, deployments, HPAs) used through the real
  ``kubernetes`` client, one server per kube context.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import botocore.session
import pytest
import yaml
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from aftershock.core.runfolder import RunFolder
from aftershock.core.target import Target, parse_target
from aftershock.faults.aws.pods import KubeClients
from aftershock.faults.aws.session import AwsSessions
from aftershock.faults.aws_driver import AwsDriver

ACCOUNT = "123456789012"  # moto's account
EAST, WEST = "us-east-1", "us-west-2"
LISTENER = "arn:aws:globalaccelerator::123456789012:accelerator/abcd/listener/0123"


# -- Kubernetes ----------------------------------------------------------------------------------------------
class FakeKube:
    """A Kubernetes API server holding nodes, pods, deployments and HPAs; records every mutating request."""

    def __init__(self) -> None:
        self.nodes: dict[str, dict[str, Any]] = {}
        self.pods: dict[tuple[str, str], dict[str, Any]] = {}
        self.deployments: dict[tuple[str, str], dict[str, Any]] = {}
        self.hpas: dict[tuple[str, str], dict[str, Any]] = {}
        self.mutations: list[tuple[str, str]] = []
        self.authorizations: list[str] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add_node(self, name: str, zone: str, *, unschedulable: bool = False) -> None:
        self.nodes[name] = {"metadata": {"name": name, "labels": {"topology.kubernetes.io/zone": zone}},
                            "spec": {"unschedulable": unschedulable} if unschedulable else {}}

    def add_pod(self, ns: str, name: str, node: str, app: str = "shop") -> None:
        self.pods[(ns, name)] = {"metadata": {"name": name, "namespace": ns, "labels": {"app": app}},
                                 "spec": {"nodeName": node, "containers": [{"name": "c", "image": "shop"}]},
                                 "status": {"phase": "Running"}}

    def add_deployment(self, ns: str, name: str, replicas: int, ready: int, hpa_desired: int | None) -> None:
        self.deployments[(ns, name)] = {
            "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c", "image": "shop"}]}}},
            "status": {"replicas": replicas, "readyReplicas": ready}}
        if hpa_desired is not None:
            self.hpas[(ns, name)] = {
                "metadata": {"name": name, "namespace": ns},
                "spec": {"maxReplicas": 10, "scaleTargetRef": {"kind": "Deployment", "name": name}},
                "status": {"desiredReplicas": hpa_desired, "currentReplicas": ready}}

    def cordoned(self) -> set[str]:
        return {n for n, v in self.nodes.items() if v["spec"].get("unschedulable")}

    @staticmethod
    def _matches(obj: dict[str, Any], selector: str) -> bool:
        labels = obj["metadata"].get("labels", {})
        return all(labels.get(k) == v for k, _, v in (s.partition("=") for s in selector.split(",") if s))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        kube = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _send(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _missing(self) -> None:
                self._send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound",
                                 "code": 404, "message": f"{self.path} not found"})

            def do_GET(self) -> None:
                kube.authorizations.append(self.headers.get("Authorization", ""))
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                selector = query.get("labelSelector", "")
                with kube.lock:
                    if url.path == "/api/v1/nodes":
                        items = [n for n in kube.nodes.values() if kube._matches(n, selector)]
                        return self._send(200, {"kind": "NodeList", "apiVersion": "v1", "metadata": {},
                                                "items": items})
                    m = re.fullmatch(r"/api/v1/namespaces/([^/]+)/pods", url.path)
                    if m:
                        items = [p for (ns, _), p in kube.pods.items() if ns == m[1] and kube._matches(p, selector)]
                        return self._send(200, {"kind": "PodList", "apiVersion": "v1", "metadata": {},
                                                "items": items})
                    m = re.fullmatch(r"/apis/apps/v1/namespaces/([^/]+)/deployments/([^/]+)", url.path)
                    if m and (m[1], m[2]) in kube.deployments:
                        return self._send(200, kube.deployments[(m[1], m[2])])
                    m = re.fullmatch(r"/apis/autoscaling/v2/namespaces/([^/]+)/horizontalpodautoscalers/([^/]+)",
                                     url.path)
                    if m and (m[1], m[2]) in kube.hpas:
                        return self._send(200, kube.hpas[(m[1], m[2])])
                return self._missing()

            def _body(self) -> Any:
                return json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")

            def do_PATCH(self) -> None:
                body = self._body()
                m = re.fullmatch(r"/api/v1/nodes/([^/]+)", urlparse(self.path).path)
                with kube.lock:
                    if not m or m[1] not in kube.nodes:
                        return self._missing()
                    kube.mutations.append(("PATCH", self.path))
                    node = kube.nodes[m[1]]
                    node["spec"].update(body.get("spec", {}))
                    if not node["spec"].get("unschedulable"):
                        node["spec"].pop("unschedulable", None)
                    return self._send(200, node)

            def do_DELETE(self) -> None:
                self._body()
                m = re.fullmatch(r"/api/v1/namespaces/([^/]+)/pods/([^/]+)", urlparse(self.path).path)
                with kube.lock:
                    if not m or (m[1], m[2]) not in kube.pods:
                        return self._missing()
                    kube.mutations.append(("DELETE", self.path))
                    return self._send(200, kube.pods.pop((m[1], m[2])))

        return Handler


# -- what moto lacks -----------------------------------------------------------------------------------------
@dataclass
class AwsFakes:
    """Global Accelerator, and the global database's writer after failover/switchover, via botocore events."""

    dials: dict[str, int] = field(default_factory=lambda: {EAST: 100, WEST: 0})
    global_writer: str | None = None          # region; None: as moto says
    transitions: int = 0                      # describe calls that still show a failover in progress
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    more_listeners: dict[str, dict[str, int]] = field(default_factory=dict)  # listener ARN -> its dials
    zonal_shifts: list[dict[str, Any]] = field(default_factory=list)

    def listeners(self) -> dict[str, dict[str, int]]:
        return {LISTENER: self.dials, **self.more_listeners}

    def group_arn(self, region: str, listener: str = LISTENER) -> str:
        return f"{listener}/endpoint-group/{region}"

    def groups(self, listener: str = LISTENER) -> list[dict[str, Any]]:
        return [{"EndpointGroupArn": self.group_arn(r, listener), "EndpointGroupRegion": r,
                 "TrafficDialPercentage": float(d),
                 "EndpointDescriptions": [{"EndpointId": f"alb-{r}", "HealthState": "HEALTHY"}]}
                for r, d in self.listeners()[listener].items()]

    def _ga(self, op: str, params: dict[str, Any]) -> dict[str, Any]:
        if op == "ListListeners":
            return {"Listeners": [{"ListenerArn": arn} for arn in self.listeners()]}
        if op == "ListEndpointGroups":
            assert params["ListenerArn"] in self.listeners()
            return {"EndpointGroups": self.groups(params["ListenerArn"])}
        if op == "UpdateEndpointGroup":
            listener, region = next((arn, r) for arn, dials in self.listeners().items() for r in dials
                                    if self.group_arn(r, arn) == params["EndpointGroupArn"])
            self.listeners()[listener][region] = int(params["TrafficDialPercentage"])
            return {"EndpointGroup": next(g for g in self.groups(listener) if g["EndpointGroupRegion"] == region)}
        raise ClientError({"Error": {"Code": "NotImplemented", "Message": op}}, op)

    def _zonal_shift(self, op: str, params: dict[str, Any]) -> dict[str, Any]:
        """ARC zonal shift (not in moto): shifts kept in a list, ``status`` ACTIVE until cancelled."""
        if op == "StartZonalShift":
            if any(z["resourceIdentifier"] == params["resourceIdentifier"] and z["status"] == "ACTIVE"
                   for z in self.zonal_shifts):
                raise ClientError({"Error": {"Code": "ConflictException", "Message": "a zonal shift is active"}}, op)
            shift = {"zonalShiftId": f"zonalshift-{len(self.zonal_shifts) + 1}", "status": "ACTIVE",
                     **{k: params[k] for k in ("resourceIdentifier", "awayFrom", "comment")},
                     "expiryTime": "2030-01-01T00:00:00Z", "startTime": "2026-01-01T00:00:00Z"}
            self.zonal_shifts.append(shift)
            return dict(shift)
        if op == "CancelZonalShift":
            shift = next((z for z in self.zonal_shifts if z["zonalShiftId"] == params["zonalShiftId"]), None)
            if shift is None or shift["status"] != "ACTIVE":
                raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no such shift"}}, op)
            shift["status"] = "CANCELED"
            return dict(shift)
        if op == "ListZonalShifts":
            return {"items": [dict(z) for z in self.zonal_shifts if z["status"] == params.get("status", z["status"])
                              and z["resourceIdentifier"] == params.get("resourceIdentifier",
                                                                        z["resourceIdentifier"])]}
        raise ClientError({"Error": {"Code": "NotImplemented", "Message": op}}, op)

    def install(self, session: Any) -> Any:
        def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
            context["fake_params"] = dict(params)

        def ga(model: Any, context: dict[str, Any], **_: Any) -> Any:
            params = context["fake_params"]
            self.calls.append((model.name, params))
            return AWSResponse("https://fake", 200, {}, None), self._ga(model.name, params)

        def zonal_shift(model: Any, context: dict[str, Any], **_: Any) -> Any:
            params = context["fake_params"]
            self.calls.append((model.name, params))
            return AWSResponse("https://fake", 200, {}, None), self._zonal_shift(model.name, params)

        def move(model: Any, context: dict[str, Any], **_: Any) -> Any:
            params = context["fake_params"]
            self.calls.append((model.name, params))
            self.global_writer = params["TargetDbClusterIdentifier"].split(":")[3]
            self.transitions = 2
            return AWSResponse("https://fake", 200, {}, None), {"GlobalCluster": {}}

        def describe(parsed: dict[str, Any], **_: Any) -> None:
            for glob in parsed.get("GlobalClusters", []):
                if self.transitions > 0:
                    self.transitions -= 1
                    glob["FailoverState"] = {"Status": "switching-over"}
                if self.global_writer:
                    members = glob["GlobalClusterMembers"]
                    for m in members:
                        m["IsWriter"] = m["DBClusterArn"].split(":")[3] == self.global_writer

        events = session.events
        events.register("before-parameter-build", remember)
        events.register("before-call.global-accelerator", ga)
        events.register("before-call.arc-zonal-shift", zonal_shift)
        events.register("before-call.rds.FailoverGlobalCluster", move)
        events.register("before-call.rds.SwitchoverGlobalCluster", move)
        events.register("after-call.rds.DescribeGlobalClusters", describe)
        return session

    def mutations(self) -> list[str]:
        return [op for op, _ in self.calls if not op.startswith(("List", "Describe"))]


# -- the stack -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Every boto3 call goes to the local moto server, with fake credentials; moto starts empty."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN",
                 "AWS_WEB_IDENTITY_TOKEN_FILE", "AFTERSHOCK_RUN_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", EAST)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"), timeout=10).close()
    return moto_url


@dataclass
class Stack:
    """The seed architecture in moto + fakes, and what it looked like before any fault."""

    target: Target
    fakes: AwsFakes
    kube: dict[str, FakeKube]
    kubeconfig: Path
    run: RunFolder
    vpc: str
    other_vpc_instance: str
    subnets: dict[str, list[str]]
    custom_acl: str
    instances: dict[str, str]           # AZ -> instance id (east VPC), not in any ASG
    asg: str
    tg_arn: str
    asg_instance: str = ""              # the ASG's instance (moto puts it in the first subnet: us-east-1a)

    def driver(self, **kw: Any) -> AwsDriver:
        sessions = AwsSessions(self.target.aws, session_factory=self.session) if self.target.aws else None
        return AwsDriver(self.target, run=kw.pop("run", self.run), sessions=sessions,
                         kube=KubeClients(str(self.kubeconfig)), **kw)

    botocore_session: Any = None
    clients: dict[tuple[str, str], Any] = field(default_factory=dict)

    def session(self, **kw: Any) -> Any:
        # one botocore session for the whole test (its loaded service models are shared: fast); an assumed
        # role's session brings its own (holding the role's credentials) and gets the fakes installed
        if "botocore_session" in kw:
            return self.fakes.install(boto3.Session(**kw))
        return boto3.Session(botocore_session=self.botocore_session, **kw)

    def client(self, service: str, region: str = EAST) -> Any:
        if (service, region) not in self.clients:
            self.clients[(service, region)] = self.session().client(service, region_name=region)
        return self.clients[(service, region)]

    # -- snapshots of the state the tests compare ---------------------------------------------------------
    def nacl_of_subnets(self) -> dict[str, str]:
        acls = self.client("ec2").describe_network_acls()["NetworkAcls"]
        return {a["SubnetId"]: acl["NetworkAclId"] for acl in acls for a in acl.get("Associations", [])}

    def acl_ids(self) -> set[str]:
        return {a["NetworkAclId"] for a in self.client("ec2").describe_network_acls()["NetworkAcls"]}

    def instance_states(self) -> dict[str, str]:
        res = self.client("ec2").describe_instances()["Reservations"]
        return {i["InstanceId"]: i["State"]["Name"] for r in res for i in r["Instances"]}

    def suspended(self, asg: str = "") -> list[str]:
        g = self.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[asg or self.asg])
        return sorted(p["ProcessName"] for p in g["AutoScalingGroups"][0].get("SuspendedProcesses", []))

    def asg_subnets(self) -> dict[str, str]:
        groups = self.client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]
        return {g["AutoScalingGroupName"]: g["VPCZoneIdentifier"] for g in groups}

    def snapshot(self) -> dict[str, Any]:
        return {"nacls": self.nacl_of_subnets(), "acl_ids": self.acl_ids(), "instances": self.instance_states(),
                "suspended": self.suspended(), "asg_subnets": self.asg_subnets(), "dials": dict(self.fakes.dials),
                "cordoned": {c: k.cordoned() for c, k in self.kube.items()}}


def _target(vpc: str, kubeconfig: Path, tg_arn: str, secret_arn: str) -> Target:
    data = {
        "name": "aws-test", "kind": "aws",
        "regions": [{"name": EAST, "role": "primary", "azs": [f"{EAST}a", f"{EAST}b", f"{EAST}c"]},
                    {"name": WEST, "role": "secondary", "azs": [f"{WEST}a", f"{WEST}b"]}],
        "front_door": {"url": "https://shop.example.com", "listener_arn": LISTENER,
                       "accelerator_arn": LISTENER.rsplit("/listener", 1)[0],
                       "endpoint_groups": [{"region": EAST, "traffic_dial": 100, "load_balancer": "alb-east"},
                                           {"region": WEST, "traffic_dial": 0, "load_balancer": "alb-west"}]},
        "load_balancers": [{"name": "alb-east", "region": EAST, "target_group_arn": tg_arn}],
        "deployments": [
            {"name": "shop", "region": EAST, "replicas": 3, "kube_context": "east",
             "autoscaler": {"min_replicas": 3, "max_replicas": 10, "target_value": 50}},
            {"name": "shop", "region": WEST, "replicas": 1, "kube_context": "west"}],
        "database": {"global_cluster": "shop-global", "password_from": f"secretsmanager:{secret_arn}",
                     "clusters": [
                         {"name": "shop-east", "region": EAST, "role": "primary",
                          "instances": [{"name": "east-1", "az": f"{EAST}a", "role": "writer"},
                                        {"name": "east-2", "az": f"{EAST}b", "role": "reader"}]},
                         {"name": "shop-west", "region": WEST, "role": "secondary",
                          "instances": [{"name": "west-1", "az": f"{WEST}a", "role": "reader"}]}]},
        "aws": {"allowed_account_ids": [ACCOUNT], "kubeconfig": str(kubeconfig), "poll_interval_s": 0.01,
                "wait_timeout_s": 5, "regions": [{"name": EAST, "vpc_id": vpc, "asg_names": ["shop-nodes"]}]},
    }
    return parse_target(data, "aws-test.yaml")


def _kubeconfig(path: Path, servers: dict[str, str]) -> None:
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "east",
        "clusters": [{"name": n, "cluster": {"server": url}} for n, url in servers.items()],
        "users": [{"name": "tester", "user": {"token": "fake-token"}}],
        "contexts": [{"name": n, "context": {"cluster": n, "user": "tester"}} for n in servers],
    }))


@pytest.fixture
def stack(aws_env: str, tmp_path: Path) -> Iterator[Stack]:
    fakes = AwsFakes()
    shared = botocore.session.Session()
    session = fakes.install(boto3.Session(botocore_session=shared))
    ec2 = session.client("ec2", region_name=EAST)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets: dict[str, list[str]] = {}
    cidr = iter(range(1, 50))
    for az, count in ((f"{EAST}a", 2), (f"{EAST}b", 1), (f"{EAST}c", 1)):
        subnets[az] = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{next(cidr)}.0/24",
                                         AvailabilityZone=az)["Subnet"]["SubnetId"] for _ in range(count)]
    # one subnet of the AZ on a custom ACL: the restore must put it back there, not on the default one
    custom_acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    assoc = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id",
                                                "Values": [subnets[f"{EAST}a"][0]]}])["NetworkAcls"][0]
    ec2.replace_network_acl_association(
        AssociationId=next(a["NetworkAclAssociationId"] for a in assoc["Associations"]
                           if a["SubnetId"] == subnets[f"{EAST}a"][0]), NetworkAclId=custom_acl)
    instances = {az: ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="t3.micro",
                                       SubnetId=ids[0])["Instances"][0]["InstanceId"] for az, ids in subnets.items()}
    other_vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    other_subnet = ec2.create_subnet(VpcId=other_vpc, CidrBlock="10.1.1.0/24",
                                     AvailabilityZone=f"{EAST}a")["Subnet"]["SubnetId"]
    other_instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1,
                                       SubnetId=other_subnet)["Instances"][0]["InstanceId"]

    asg = session.client("autoscaling", region_name=EAST)
    ec2.create_launch_template(LaunchTemplateName="nodes", LaunchTemplateData={"ImageId": "ami-12c6146b",
                                                                              "InstanceType": "t3.medium"})
    asg.create_auto_scaling_group(AutoScalingGroupName="shop-nodes", MinSize=1, MaxSize=4, DesiredCapacity=1,
                                  LaunchTemplate={"LaunchTemplateName": "nodes"},
                                  VPCZoneIdentifier=",".join(s[0] for s in subnets.values()))
    asg.suspend_processes(AutoScalingGroupName="shop-nodes", ScalingProcesses=["AddToLoadBalancer"])
    [asg_instance] = [i["InstanceId"] for g in asg.describe_auto_scaling_groups()["AutoScalingGroups"]
                      for i in g["Instances"]]

    elb = session.client("elbv2", region_name=EAST)
    tg_arn = elb.create_target_group(Name="shop", Protocol="HTTP", Port=80, VpcId=vpc,
                                     TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=tg_arn, Targets=[{"Id": instances[f"{EAST}b"]}])

    for region, cluster, members in ((EAST, "shop-east", (("east-1", f"{EAST}a"), ("east-2", f"{EAST}b"))),
                                     (WEST, "shop-west", (("west-1", f"{WEST}a"),))):
        rds = session.client("rds", region_name=region)
        if region == EAST:
            rds.create_global_cluster(GlobalClusterIdentifier="shop-global", Engine="aurora-postgresql")
        rds.create_db_cluster(DBClusterIdentifier=cluster, Engine="aurora-postgresql", MasterUsername="shop",
                              MasterUserPassword="not-the-secret-1", GlobalClusterIdentifier="shop-global")
        for name, az in members:
            rds.create_db_instance(DBInstanceIdentifier=name, DBClusterIdentifier=cluster, Engine="aurora-postgresql",
                                   DBInstanceClass="db.r6g.large", AvailabilityZone=az)
    secret_arn = session.client("secretsmanager", region_name=EAST).create_secret(
        Name="shop-db", SecretString=json.dumps({"username": "shop", "password": "s3cret-from-sm"}))["ARN"]

    kubes = {"east": FakeKube(), "west": FakeKube()}
    east = kubes["east"]
    east.add_node("node-a1", f"{EAST}a")
    east.add_node("node-a2", f"{EAST}a", unschedulable=True)   # cordoned before: must stay cordoned
    east.add_node("node-b1", f"{EAST}b")
    east.add_pod("shop", "shop-1", "node-a1")
    east.add_pod("shop", "shop-2", "node-b1")
    east.add_pod("shop", "shop-3", "node-a1")
    east.add_pod("shop", "other-1", "node-a1", app="other")
    east.add_deployment("shop", "shop", 3, 3, hpa_desired=3)
    kubes["west"].add_node("node-w1", f"{WEST}a")
    kubes["west"].add_pod("shop", "shop-w1", "node-w1")
    kubes["west"].add_deployment("shop", "shop", 1, 1, hpa_desired=None)
    kubeconfig = tmp_path / "kubeconfig"
    _kubeconfig(kubeconfig, {name: k.url for name, k in kubes.items()})

    run_path = tmp_path / "run"
    run_path.mkdir()
    target = _target(vpc, kubeconfig, tg_arn, secret_arn)
    try:
        yield Stack(target, fakes, kubes, kubeconfig, RunFolder(run_path), vpc, other_instance, subnets,
                    custom_acl, instances, "shop-nodes", tg_arn, asg_instance=asg_instance, botocore_session=shared)
    finally:
        for k in kubes.values():
            k.stop()
