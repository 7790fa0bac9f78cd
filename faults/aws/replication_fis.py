"""Pausing DynamoDB global-table and S3 replication with AWS FIS, where the target names a template for it.

``aws.fis_templates.pause_table_replication`` / ``pause_bucket_replication`` (:mod:`aftershock.core.fis_templates`)
name the FIS experiment templates; without one, :mod:`aftershock.faults.aws.replication` pauses through the APIs.

- Guardrails, before anything starts: the template is the one the target names (no other id is ever started);
  ``get_experiment_template`` shows only the expected action (``aws:dynamodb:global-table-pause-replication`` /
  ``aws:s3:bucket-pause-replication``) and targets named by ARN, each the target's table (in a target region and an
  allowed account) or one of its buckets, the one asked for among them. Anything else: FaultRefused.
- The pause: the in-flight revert names the template and a token tagged on the experiment (``aftershock:token``)
  *before* ``start_experiment`` (whose ``clientToken`` is the same token), then the experiment's id; then it
  waits until the experiment is ``running``. An experiment that ends first (failed, stopped, cancelled,
  completed) is a HarnessError naming it and FIS's reason.
- The revert (``stop_replication_experiment``): stops the experiment if it is still active and waits until it is
  over; FIS itself restores the table's policy / the bucket's replication when an experiment stops. It stops only
  experiments tagged as ours.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from aftershock.core.errors import FaultRefused, HarnessError
from aftershock.core.fis_templates import FisTemplate
from aftershock.core.target import Target
from aftershock.faults.aws.calls import CallRecorder, InFlight
from aftershock.faults.aws.network import FAULT_TAG
from aftershock.faults.aws.session import AwsSessions
from aftershock.faults.outcome import FaultOutcome, RevertCall

TOKEN_TAG = "aftershock:token"
ACTIONS = {"dynamodb": "aws:dynamodb:global-table-pause-replication", "s3": "aws:s3:bucket-pause-replication"}
FAULTS = {"dynamodb": "pause-table-replication", "s3": "pause-bucket-replication"}
_KEYS = {"dynamodb": "pause_table_replication", "s3": "pause_bucket_replication"}
ACTIVE = ("pending", "initiating", "running")
ENDED = ("failed", "stopped", "cancelled", "completed")
_TABLE_ARN = re.compile(r"arn:[\w-]+:dynamodb:([\w-]+):(\d{12}):table/([\w.-]+)")
_BUCKET_ARN = re.compile(r"arn:[\w-]+:s3:::([\w.-]+)")


class ReplicationFis:
    """Starts and stops the target's replication-pause FIS experiments (reads listed in a dry run)."""

    def __init__(self, target: Target, sessions: AwsSessions, calls: CallRecorder, *,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        assert target.aws is not None
        self._target = target
        self._aws = target.aws
        self._sessions = sessions
        self._calls = calls
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"ReplicationFis(target={self._target.name!r}, templates={self._aws.fis_templates!r})"

    def template(self, store: str) -> FisTemplate | None:
        """The target's template pausing ``store`` (``dynamodb`` or ``s3``), or None (the API route)."""
        return self._aws.fis_templates.for_store(store)

    def _region(self, template: FisTemplate) -> str:
        return template.region or self._target.primary.name

    # -- the fault -----------------------------------------------------------------------------------
    def pause(self, store: str, name: str, inflight: InFlight) -> FaultOutcome:
        """Start the experiment pausing ``name`` (the table or the bucket, already checked against the target)."""
        template = self.template(store)
        assert template is not None
        region = self._region(template)
        fis = self._sessions.client("fis", region)
        duration = self._check_template(fis, store, template.id, name)
        token = uuid.uuid4().hex
        revert = {"store": store, "region": region, "template": template.id, "token": token, "experiment": None}
        inflight.set(RevertCall("stop_replication_experiment", dict(revert)))  # before it starts: found by token
        started = self._calls.write(fis, "start_experiment", clientToken=token, experimentTemplateId=template.id,
                                    tags={FAULT_TAG: FAULTS[store], TOKEN_TAG: token},
                                    dry_result={"experiment": {"id": "EXPdryrun"}})
        revert["experiment"] = experiment = str(started["experiment"]["id"])
        inflight.set(RevertCall("stop_replication_experiment", dict(revert)))
        if not self._calls.dry_run:
            self._wait_running(fis, experiment, template.id)
        what = f"table {name}" if store == "dynamodb" else f"bucket {name}"
        ends = f"; FIS ends it by itself after {duration}" if duration else ""
        return inflight.hand_over(FaultOutcome(
            f"paused replication of {what}: FIS experiment {experiment} from template {template.id} ({region}, "
            f"{ACTIONS[store]}{ends})",
            {"store": store, "name": name, "region": region, "fis_template": template.id,
             "fis_experiment": experiment, "fis_duration": duration},
            (RevertCall("stop_replication_experiment", revert),)))

    def _check_template(self, fis: Any, store: str, template: str, name: str) -> str | None:
        """Refuse a template that does anything but pause ``name``'s replication; its ``duration``, if set."""
        key = f"aws.fis_templates.{_KEYS[store]}"
        found = self._calls.read(fis, "get_experiment_template", id=template)["experimentTemplate"]
        actions = found.get("actions") or {}
        others = sorted({str(a.get("actionId")) for a in actions.values()} - {ACTIONS[store]})
        if not actions or others:
            raise FaultRefused(f"refused: FIS template {template} ({key}) runs {', '.join(others) or 'no action'}, "
                               f"not only {ACTIONS[store]}: make it a template of that one action")
        arns: list[str] = []
        for tname, spec in (found.get("targets") or {}).items():
            if spec.get("resourceTags") or not spec.get("resourceArns"):
                raise FaultRefused(f"refused: FIS template {template} ({key}) selects target {tname!r} by tags, "
                                   "not by ARN: name the resources by their ARNs (resourceArns)")
            arns += [str(a) for a in spec["resourceArns"]]
        names = [self._own(store, arn, template, key) for arn in arns]
        if name not in names:
            raise FaultRefused(f"refused: FIS template {template} ({key}) does not pause {name} (it targets "
                               f"{', '.join(arns) or 'nothing'}): add {name}'s ARN to its targets")
        durations = sorted({str(a["parameters"]["duration"]) for a in actions.values()
                            if (a.get("parameters") or {}).get("duration")})
        return ", ".join(durations) or None

    def _own(self, store: str, arn: str, template: str, key: str) -> str:
        """The table or bucket name in ``arn`` when it is the target's; FaultRefused otherwise."""
        stores = self._target.data_stores
        if store == "dynamodb":
            m = _TABLE_ARN.fullmatch(arn)
            ours = m is not None and stores is not None and m[3] == stores.table and m[2] in \
                self._aws.allowed_account_ids and m[1] in {r.name for r in self._target.regions}
            want = f"table {stores.table if stores else None} of target {self._target.name!r}"
        else:
            m = _BUCKET_ARN.fullmatch(arn)
            ours = m is not None and stores is not None and m[1] in stores.buckets.values()
            want = f"buckets of target {self._target.name!r}"
        if not ours or m is None:
            raise FaultRefused(f"refused: FIS template {template} ({key}) targets {arn}, which is not the {want}: "
                               "fix the template's targets or the target file")
        return m[3] if store == "dynamodb" else m[1]

    def _state(self, fis: Any, experiment: str) -> dict[str, Any]:
        found: dict[str, Any] = self._calls.read(fis, "get_experiment", id=experiment)["experiment"]
        return found

    def _wait_running(self, fis: Any, experiment: str, template: str) -> None:
        deadline = time.monotonic() + self._aws.wait_timeout_s
        while True:
            state = self._state(fis, experiment).get("state") or {}
            status = state.get("status")
            if status == "running":
                return
            if status in ENDED:
                raise HarnessError(f"FIS experiment {experiment} from template {template} is {status} before it "
                                   f"ran ({state.get('reason') or 'no reason given'}): fix the template (its role, "
                                   "targets, stop conditions), then retry")
            if time.monotonic() > deadline:
                raise HarnessError(f"FIS experiment {experiment} from template {template} is still {status} after "
                                   f"{self._aws.wait_timeout_s:.0f} s: see it in the FIS console; the rollback "
                                   "stops it")
            self._sleep(self._aws.poll_interval_s)

    # -- the revert ----------------------------------------------------------------------------------
    def stop(self, store: str, region: str, template: str, token: str, experiment: str | None) -> FaultOutcome:
        """Stop the experiment (``experiment``, or the one started with ``token``) and wait until it is over."""
        fis = self._sessions.client("fis", region)
        ids = [experiment] if experiment else self._by_token(fis, template, token)
        done: list[str] = []
        for one in ids:
            found = self._state(fis, one)
            if (found.get("tags") or {}).get(FAULT_TAG) != FAULTS[store]:
                raise FaultRefused(f"refused: FIS experiment {one} is not tagged {FAULT_TAG}={FAULTS[store]}: "
                                   "aftershock stops only its own experiments; stop it in the FIS console")
            status = (found.get("state") or {}).get("status")
            if status in ACTIVE:
                self._calls.write(fis, "stop_experiment", id=one)
                status = self._wait_over(fis, one)
            done.append(f"FIS experiment {one} {status}")
        what = "table" if store == "dynamodb" else "bucket"
        return FaultOutcome(f"replication of the {what} resumed: " + (
            "; ".join(done) or "no FIS experiment of ours was started"), {"store": store, "experiments": ids})

    def _by_token(self, fis: Any, template: str, token: str) -> list[str]:
        found: list[str] = []
        page: dict[str, Any] = {}
        while True:
            page = self._calls.read(fis, "list_experiments", experimentTemplateId=template, maxResults=100,
                                    **({"nextToken": page["nextToken"]} if page.get("nextToken") else {}))
            found += [str(e["id"]) for e in page.get("experiments", [])
                      if (e.get("tags") or {}).get(TOKEN_TAG) == token]
            if not page.get("nextToken"):
                return sorted(found)

    def _wait_over(self, fis: Any, experiment: str) -> str:
        deadline = time.monotonic() + self._aws.wait_timeout_s
        while True:
            status = str((self._state(fis, experiment).get("state") or {}).get("status"))
            if status not in (*ACTIVE, "stopping") or self._calls.dry_run:
                return status
            if time.monotonic() > deadline:
                raise HarnessError(f"FIS experiment {experiment} is still {status} after "
                                   f"{self._aws.wait_timeout_s:.0f} s: check it in the FIS console, then rerun "
                                   "`aftershock recover RUN_FOLDER`")
            self._sleep(self._aws.poll_interval_s)
