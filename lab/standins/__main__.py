"""The AWS stand-ins alone, without the rest of the lab (for tests and for trying boto3 code against them).

    python -m aftershock.lab.standins --log-dir /tmp/aws [--dynamodb-lag 0.05] [--s3-lag 0.1]

Prints one JSON line ``{"endpoints": {...}, "table": ..., "buckets": {...}}`` once serving, then reads commands,
one JSON object per line on stdin, and answers each with one JSON line (``{"error": ...}`` when refused)::

    {"op": "pause", "store": "dynamodb", "name": "shop-carts"}     {"op": "resume", ...}
    {"op": "lose", "region": "us-east-1"}    {"op": "restore", "region": "us-east-1"}    {"op": "status"}

End of input stops everything.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from aftershock.core.errors import AftershockError
from aftershock.lab import topology
from aftershock.lab.standins.replicator import ReplicationSettings
from aftershock.lab.standins.standins import StandIns, StoreSettings


def _answer(standins: StandIns, command: dict[str, Any]) -> dict[str, Any]:
    op = command.get("op")
    handlers = standins.fault_handlers()
    if op in ("pause", "resume"):
        did, details, _ = handlers[f"faults/{op}-data-replication"](command)
        return {"did": did, "details": details, "at": time.time()}
    if op == "lose":
        return standins.lose_region(str(command["region"]))
    if op == "restore":
        standins.restore_region(str(command["region"]))
        return {"at": time.time()}
    if op == "status":
        return standins.status()
    return {"error": f"unknown op {op!r}: use pause, resume, lose, restore or status"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log-dir", type=Path, required=True)
    parser.add_argument("--dynamodb-lag", type=float, default=ReplicationSettings().dynamodb_lag_s)
    parser.add_argument("--s3-lag", type=float, default=ReplicationSettings().s3_lag_s)
    args = parser.parse_args(argv)
    settings = StoreSettings(replication=ReplicationSettings(dynamodb_lag_s=args.dynamodb_lag, s3_lag_s=args.s3_lag))
    events = args.log_dir / "events.jsonl"
    args.log_dir.mkdir(parents=True, exist_ok=True)

    def emit(kind: str, /, **fields: Any) -> None:
        with events.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"ts": time.time(), "kind": kind, **fields}, default=str) + "\n")

    standins = StandIns(tuple(r.name for r in topology.REGIONS), args.log_dir, settings, emit)
    try:
        standins.start()
        print(json.dumps({"endpoints": standins.endpoints, "table": settings.table, "buckets": standins.buckets}),
              flush=True)
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                reply = _answer(standins, json.loads(line))
            except (AftershockError, ValueError, KeyError) as exc:
                reply = {"error": str(exc)}
            print(json.dumps(reply, default=str), flush=True)
    finally:
        standins.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
