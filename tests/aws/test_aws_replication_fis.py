"""Pausing table and bucket replication with AWS FIS (``aws.fis_templates``): start, wait until running, stop on
revert; the template guardrails; a failed start; the dry run; recover after the harness died.

moto's FIS jumps straight to ``completed`` and never fails, so a small fake answers the FIS (and STS) calls through
botocore's ``before-call`` events: the driver's real boto3 clients validate every request; nothing leaves the
process (``AWS_ENDPOINT_URL`` points at a closed port on 127.0.0.1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from aftershock.core.errors import FaultRefused, HarnessError, TargetError
from aftershock.core.journal import outstanding
from aftershock.core.runfolder import RunFolder
from aftershock.core.target import Target, parse_target
from aftershock.faults.aws.pods import KubeClients
from aftershock.faults.aws.session import AwsSessions
from aftershock.faults.aws_driver import AwsDriver
from aftershock.faults.reverts import record_injected, revert_outstanding

ACCOUNT, EAST, WEST = "123456789012", "us-east-1", "us-west-2"
TABLE_ARN = f"arn:aws:dynamodb:{EAST}:{ACCOUNT}:table/carts"
TABLE_TPL, BUCKET_TPL = "EXTtable0001", "EXTbucket0001"
PAUSE_TABLE, PAUSE_BUCKET = "aws:dynamodb:global-table-pause-replication", "aws:s3:bucket-pause-replication"


def _template(action: str, arns: list[str], *, resource_type: str = "aws:dynamodb:global-table",
              extra: dict[str, Any] | None = None) -> dict[str, Any]:
    actions = {"pause": {"actionId": action, "parameters": {"duration": "PT10M"}, "targets": {"Tables": "t"}},
               **(extra or {})}
    return {"actions": actions, "targets": {"t": {"resourceType": resource_type, "resourceArns": arns,
                                                  "selectionMode": "ALL"}}}


@dataclass
class FakeFis:
    """FIS templates and experiments; an experiment moves one step of ``script`` per ``GetExperiment``."""

    templates: dict[str, dict[str, Any]] = field(default_factory=dict)
    experiments: dict[str, dict[str, Any]] = field(default_factory=dict)
    script: list[tuple[str, str]] = field(default_factory=lambda: [("pending", ""), ("initiating", ""),
                                                                   ("running", "")])
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    crash_on_start: bool = False

    def add(self, template: str, tags: dict[str, str], status: str = "running") -> str:
        """An experiment started by someone (or something) else."""
        eid = f"EXP{len(self.experiments) + 1:04d}"
        self.experiments[eid] = {"id": eid, "experimentTemplateId": template, "tags": tags, "steps": [],
                                 "state": {"status": status, "reason": ""}}
        return eid

    def _answer(self, op: str, p: dict[str, Any]) -> dict[str, Any]:
        if op == "GetCallerIdentity":
            return {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/tester", "UserId": "tester"}
        if op == "GetExperimentTemplate":
            return {"experimentTemplate": {"id": p["id"], **self.templates[p["id"]]}}
        if op == "StartExperiment":
            eid = self.add(p["experimentTemplateId"], dict(p.get("tags") or {}), "pending")
            self.experiments[eid]["steps"] = list(self.script)
            if self.crash_on_start:
                raise KeyboardInterrupt  # the harness dies right after FIS started the experiment
            return {"experiment": self._view(eid)}
        exp = self.experiments.get(p.get("id", ""))
        if op == "GetExperiment" and exp is not None:
            if exp["steps"]:
                status, reason = exp["steps"].pop(0)
                exp["state"] = {"status": status, "reason": reason}
            return {"experiment": self._view(exp["id"])}
        if op == "StopExperiment" and exp is not None:
            exp["state"] = {"status": "stopping", "reason": "Stopped by user"}
            exp["steps"] = [("stopping", ""), ("stopped", "Stopped by user")]
            return {"experiment": self._view(exp["id"])}
        if op == "ListExperiments":
            return {"experiments": [self._view(e) for e, x in self.experiments.items()
                                    if x["experimentTemplateId"] == p.get("experimentTemplateId")]}
        raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": f"{op} {p}"}}, op)

    def _view(self, eid: str) -> dict[str, Any]:
        e = self.experiments[eid]
        return {"id": eid, "experimentTemplateId": e["experimentTemplateId"], "tags": dict(e["tags"]),
                "state": dict(e["state"])}

    def install(self, session: Any) -> None:
        def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
            context["fake_params"] = dict(params)

        def answer(model: Any, context: dict[str, Any], **_: Any) -> Any:
            self.calls.append((model.name, context["fake_params"]))
            return AWSResponse("http://127.0.0.1", 200, {}, None), self._answer(model.name, context["fake_params"])

        session.register("before-parameter-build", remember)
        session.register("before-call.fis", answer)
        session.register("before-call.sts", answer)
        session.register("before-call.s3", answer)  # the API route's first call fails here, not on the network

    def ops(self) -> list[str]:
        return [op for op, _ in self.calls if op != "GetCallerIdentity"]


@dataclass
class Fis:
    fake: FakeFis
    run: RunFolder
    botocore_session: Any
    target: Target

    def driver(self, **kw: Any) -> AwsDriver:
        assert self.target.aws is not None
        sessions = AwsSessions(self.target.aws, session_factory=lambda **k: boto3.Session(
            botocore_session=self.botocore_session, **k))
        return AwsDriver(self.target, run=kw.pop("run", self.run), sessions=sessions, kube=KubeClients(None), **kw)

    def writes(self) -> list[tuple[str, str]]:
        return [(r["event"], r["op"]) for r in self.run.records("aws-calls.jsonl") if r["event"] != "note"]


def _target_data(templates: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "aws-test", "kind": "aws",
        "regions": [{"name": EAST, "role": "primary", "azs": [f"{EAST}a"]},
                    {"name": WEST, "role": "secondary", "azs": [f"{WEST}a"]}],
        "front_door": {"url": "https://shop.example.com",
                       "endpoint_groups": [{"region": EAST, "traffic_dial": 100, "load_balancer": "alb-east"}]},
        "data_stores": {"table": "carts", "buckets": {EAST: "assets-east", WEST: "assets-west"}},
        "aws": {"allowed_account_ids": [ACCOUNT], "poll_interval_s": 0.001, "wait_timeout_s": 2,
                "fis_templates": templates},
    }


@pytest.fixture
def fis(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Fis:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN",
                 "AWS_WEB_IDENTITY_TOKEN_FILE", "AFTERSHOCK_RUN_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # never reached: the fake answers first
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    fake = FakeFis(templates={TABLE_TPL: _template(PAUSE_TABLE, [TABLE_ARN]),
                              BUCKET_TPL: _template(PAUSE_BUCKET, ["arn:aws:s3:::assets-east"],
                                                    resource_type="aws:s3:bucket")})
    core = botocore.session.Session()
    fake.install(core)
    (tmp_path / "run").mkdir()
    target = parse_target(_target_data({"pause_table_replication": TABLE_TPL,
                                        "pause_bucket_replication": {"id": BUCKET_TPL, "region": EAST}}), "t.yaml")
    return Fis(fake, RunFolder(tmp_path / "run"), core, target)


# -- the target file -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("templates", "drop", "message"), [
    ({"pause_table_replication": "tpl-1"}, None,
     "aws.fis_templates.pause_table_replication.id: Value error, 'tpl-1' is not a FIS experiment template id "
     "(EXT...): copy it from `aws fis list-experiment-templates`"),
    ({"pause_tabel_replication": "EXT1"}, None,
     "aws.fis_templates: Value error, unknown key 'pause_tabel_replication': use pause_table_replication or "
     "pause_bucket_replication"),
    ({"pause_table_replication": "EXT1"}, "table",
     "(top level): Value error, aws.fis_templates.pause_table_replication needs the table: add data_stores.table"),
    ({"pause_bucket_replication": {"id": "EXT1", "region": "eu-west-1"}}, None,
     "(top level): Value error, aws.fis_templates.pause_bucket_replication names region 'eu-west-1', which is not "
     "in regions ['us-east-1', 'us-west-2']"),
    ({"pause_bucket_replication": "EXT1"}, "buckets",
     "(top level): Value error, aws.fis_templates.pause_bucket_replication runs in us-east-1, which has no source "
     "bucket: add data_stores.buckets[us-east-1] or set the template's region to the source bucket's"),
])
def test_a_wrong_fis_templates_section_is_one_line_naming_the_key_and_the_fix(
        templates: dict[str, Any], drop: str | None, message: str) -> None:
    data = _target_data(templates)
    if drop:
        del data["data_stores"][drop]
    with pytest.raises(TargetError) as err:
        parse_target(data, "t.yaml")
    assert str(err.value) == f"t.yaml: invalid target, {message} (fix the file and retry)"


def test_a_bare_template_id_runs_in_the_primary_region() -> None:
    target = parse_target(_target_data({"pause_table_replication": "EXTabc"}), "t.yaml")
    assert target.aws is not None
    template = target.aws.fis_templates.for_store("dynamodb")
    assert template is not None and (template.id, template.region) == ("EXTabc", None)
    assert target.aws.fis_templates.for_store("s3") is None  # the bucket keeps the API route


# -- start, running, stop ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("store", "template", "name"), [("dynamodb", TABLE_TPL, "carts"),
                                                          ("s3", BUCKET_TPL, "assets-east")])
def test_the_pause_starts_the_template_waits_for_running_and_the_revert_stops_it(
        fis: Fis, store: str, template: str, name: str) -> None:
    outcome = fis.driver().pause_data_replication(store, "")
    start = next(p for op, p in fis.fake.calls if op == "StartExperiment")
    [experiment] = fis.fake.experiments
    assert start["experimentTemplateId"] == template and start["tags"]["aftershock:token"] == start["clientToken"]
    assert fis.fake.ops() == ["GetExperimentTemplate", "StartExperiment", "GetExperiment", "GetExperiment",
                              "GetExperiment"]  # pending, initiating, running
    assert fis.fake.experiments[experiment]["state"]["status"] == "running"
    assert outcome.details["fis_experiment"] == experiment and outcome.details["fis_duration"] == "PT10M"
    assert outcome.description.startswith(f"paused replication of {'table' if store == 'dynamodb' else 'bucket'} "
                                           f"{name}: FIS experiment {experiment} from template {template} (us-east-1")
    # the in-flight entry named the experiment before the fault's own entry superseded it
    [inflight] = outstanding(fis.run)
    assert inflight.reverts[0].args["experiment"] == experiment
    record_injected(fis.run, f"pause_{'table' if store == 'dynamodb' else 'bucket'}_replication", outcome, 0.0)

    done = revert_outstanding(fis.run, fis.driver(), by="rollback")

    assert done == [f"replication of the {'table' if store == 'dynamodb' else 'bucket'} resumed: "
                    f"FIS experiment {experiment} stopped"]
    assert fis.fake.experiments[experiment]["state"]["status"] == "stopped"
    assert fis.fake.ops()[5:] == ["GetExperiment", "StopExperiment", "GetExperiment", "GetExperiment"]
    assert fis.writes() == [("call", "start_experiment"), ("done", "start_experiment"),
                            ("call", "stop_experiment"), ("done", "stop_experiment")]
    assert outstanding(fis.run) == []
    # the revert is never journaled as a fault: the journal holds the in-flight entry, the fault, its revert
    events = [(r["event"], r["action"]) for r in fis.run.records("faults.jsonl")]
    assert [e for e, _ in events].count("injected") == 3 and events[-1][0] == "reverted"


def test_without_a_template_for_the_store_the_api_route_is_kept(fis: Fis) -> None:
    fis.target = parse_target(_target_data({"pause_table_replication": TABLE_TPL}), "t.yaml")
    assert fis.driver().replication_fis.template("s3") is None
    with pytest.raises(ClientError, match="GetBucketReplication"):  # the API route's first read (no S3 here)
        fis.driver().pause_data_replication("s3", "")
    assert "StartExperiment" not in fis.fake.ops()


# -- guardrails ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("store", "template", "message"), [
    ("dynamodb", _template("aws:ec2:stop-instances", [TABLE_ARN]),
     f"refused: FIS template {TABLE_TPL} (aws.fis_templates.pause_table_replication) runs aws:ec2:stop-instances, "
     f"not only {PAUSE_TABLE}: make it a template of that one action"),
    ("dynamodb", _template(PAUSE_TABLE, [TABLE_ARN], extra={"stop": {"actionId": "aws:ec2:stop-instances"}}),
     f"refused: FIS template {TABLE_TPL} (aws.fis_templates.pause_table_replication) runs aws:ec2:stop-instances"),
    ("dynamodb", _template(PAUSE_TABLE, [f"arn:aws:dynamodb:{EAST}:{ACCOUNT}:table/orders"]),
     f"refused: FIS template {TABLE_TPL} (aws.fis_templates.pause_table_replication) targets "
     f"arn:aws:dynamodb:{EAST}:{ACCOUNT}:table/orders, which is not the table carts of target 'aws-test': fix the "
     "template's targets or the target file"),
    ("dynamodb", _template(PAUSE_TABLE, [f"arn:aws:dynamodb:{EAST}:999999999999:table/carts"]),
     "targets arn:aws:dynamodb:us-east-1:999999999999:table/carts, which is not the table carts"),
    ("dynamodb", {"actions": {"p": {"actionId": PAUSE_TABLE}}, "targets": {"t": {
        "resourceType": "aws:dynamodb:global-table", "resourceTags": {"team": "shop"}, "selectionMode": "ALL"}}},
     f"refused: FIS template {TABLE_TPL} (aws.fis_templates.pause_table_replication) selects target 't' by tags, "
     "not by ARN: name the resources by their ARNs (resourceArns)"),
    ("s3", _template(PAUSE_BUCKET, ["arn:aws:s3:::someone-elses-bucket"], resource_type="aws:s3:bucket"),
     "targets arn:aws:s3:::someone-elses-bucket, which is not the buckets of target 'aws-test'"),
    ("s3", _template(PAUSE_BUCKET, ["arn:aws:s3:::assets-west"], resource_type="aws:s3:bucket"),
     f"refused: FIS template {BUCKET_TPL} (aws.fis_templates.pause_bucket_replication) does not pause assets-east "
     "(it targets arn:aws:s3:::assets-west): add assets-east's ARN to its targets"),
    ("s3", _template(PAUSE_TABLE, [TABLE_ARN]), f"runs {PAUSE_TABLE}, not only {PAUSE_BUCKET}"),
])
def test_a_template_doing_anything_else_is_refused_before_any_start(
        fis: Fis, store: str, template: dict[str, Any], message: str) -> None:
    fis.fake.templates[TABLE_TPL if store == "dynamodb" else BUCKET_TPL] = template
    with pytest.raises(FaultRefused) as err:
        fis.driver().pause_data_replication(store, "")
    assert message in str(err.value)
    assert fis.fake.ops() == ["GetExperimentTemplate"] and fis.fake.experiments == {}
    assert fis.writes() == [] and outstanding(fis.run) == []


# -- a failed start ------------------------------------------------------------------------------------------
def test_an_experiment_that_fails_before_running_is_an_error_naming_it_and_why(fis: Fis) -> None:
    reason = "The role lacks dynamodb:PutResourcePolicy"
    fis.fake.script = [("pending", ""), ("failed", reason)]
    with pytest.raises(HarnessError) as err:
        fis.driver().pause_data_replication("dynamodb", "")
    [experiment] = fis.fake.experiments
    assert str(err.value) == (f"FIS experiment {experiment} from template {TABLE_TPL} is failed before it ran "
                              f"({reason}): fix the template (its role, targets, stop conditions), then retry")
    # the in-flight entry is left for the rollback, which finds nothing to stop
    assert revert_outstanding(fis.run, fis.driver(), by="rollback") == [
        f"replication of the table resumed: FIS experiment {experiment} failed"]
    assert "StopExperiment" not in fis.fake.ops()


# -- dry run -------------------------------------------------------------------------------------------------
def test_the_dry_run_lists_every_call_and_starts_nothing(fis: Fis) -> None:
    lines: list[str] = []
    outcome = fis.driver(dry_run=True, echo=lines.append).pause_data_replication("dynamodb", "")
    assert [line.split("(")[0] for line in lines] == ["dry run: read  fis@us-east-1 get_experiment_template",
                                                      "dry run: WRITE fis@us-east-1 start_experiment"]
    assert f"experimentTemplateId='{TABLE_TPL}'" in lines[1]
    assert outcome.details["fis_experiment"] == "EXPdryrun"
    assert fis.fake.ops() == ["GetExperimentTemplate"] and fis.fake.experiments == {}
    assert outstanding(fis.run) == []


# -- recover -------------------------------------------------------------------------------------------------
def test_recover_stops_an_experiment_left_running_by_a_killed_harness(fis: Fis) -> None:
    outcome = fis.driver().pause_data_replication("s3", "assets-east")
    # the harness is SIGKILLed before journaling the fault: only its in-flight entry is there
    run = RunFolder(fis.run.path)
    [left] = outstanding(run)
    assert left.action == "pause_bucket_replication (in flight)"
    experiment = outcome.details["fis_experiment"]

    done = revert_outstanding(run, fis.driver(run=run), by="recover")

    assert done == [f"replication of the bucket resumed: FIS experiment {experiment} stopped"]
    assert fis.fake.experiments[experiment]["state"]["status"] == "stopped" and outstanding(run) == []


def test_recover_after_a_kill_during_the_start_finds_the_experiment_by_its_token(fis: Fis) -> None:
    foreign = fis.fake.add(TABLE_TPL, {"team": "other"})  # someone else's run of the same template
    fis.fake.crash_on_start = True
    with pytest.raises(KeyboardInterrupt):
        fis.driver().pause_data_replication("dynamodb", "carts")
    [left] = outstanding(fis.run)
    assert left.reverts[0].args["experiment"] is None
    ours = next(e for e in fis.fake.experiments if e != foreign)
    fis.fake.experiments[ours]["steps"] = [("running", "")]

    done = revert_outstanding(fis.run, fis.driver(), by="recover")

    assert done == [f"replication of the table resumed: FIS experiment {ours} stopped"]
    assert fis.fake.experiments[foreign]["state"]["status"] == "running"  # left alone
    assert [p["id"] for op, p in fis.fake.calls if op == "StopExperiment"] == [ours]
    assert left.reverts[0].args["template"] == TABLE_TPL and left.reverts[0].args["token"]
