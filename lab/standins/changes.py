"""Which DynamoDB and S3 writes a request makes, and the changes (item / object images) a server records.

A :class:`Change` is what replication ships: the image of one item or object right after a write in its origin
region, stamped with the write's time. :func:`writes_of` reads a request (AWS wire format: DynamoDB JSON 1.0,
S3 REST path-style) and names the items/objects it writes; every other request (reads, other services) names none.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

DYNAMODB = "dynamodb"
S3 = "s3"
_TARGET = "DynamoDB_20120810."
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
# S3 sub-resources that change no object's bytes (and so are not replicated here)
_S3_SUBRESOURCES = {"acl", "tagging", "retention", "legal-hold", "restore", "select", "uploads", "partNumber",
                    "attributes", "torrent"}


@dataclass(frozen=True)
class Write:
    """One item or object a request writes: ``key`` is DynamoDB JSON (an item's key) or the object key."""

    store: str
    name: str
    key: Any
    delete: bool = False
    version_delete: bool = False  # S3 DELETE of one version: never replicated (as on AWS)


@dataclass(frozen=True)
class Change:
    """One replicable write in its origin ``region``: ``image`` None means deleted (a delete marker on S3)."""

    seq: int
    ts: float
    region: str
    store: str
    name: str
    dest: str
    key: Any
    image: Any

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "ts": self.ts, "region": self.region, "store": self.store, "name": self.name,
                "dest": self.dest, "key": self.key, "image": self.image}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Change:
        return cls(int(data["seq"]), float(data["ts"]), str(data["region"]), str(data["store"]),
                   str(data["name"]), str(data["dest"]), data["key"], data.get("image"))

    @property
    def stamp_key(self) -> str:
        """Identifies the item/object in the destination (for last-writer-wins)."""
        return f"{self.store}|{self.dest}|{json.dumps(self.key, sort_keys=True)}"


def service_of(environ: dict[str, Any]) -> str | None:
    """``dynamodb``, ``s3`` or another service name from the SigV4 credential scope (None: unsigned)."""
    if str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith(_TARGET):
        return DYNAMODB
    match = _SCOPE.search(str(environ.get("HTTP_AUTHORIZATION", "")))
    return match.group(1) if match else None


def dynamodb_writes(operation: str, body: dict[str, Any], key_of: Any) -> list[Write]:
    """The items a DynamoDB write names; ``key_of(table, item)`` extracts an item's key (table schema)."""
    if operation == "PutItem":
        return [Write(DYNAMODB, body["TableName"], key_of(body["TableName"], body["Item"]))]
    if operation in ("UpdateItem", "DeleteItem"):
        return [Write(DYNAMODB, body["TableName"], body["Key"], delete=operation == "DeleteItem")]
    found: list[Write] = []
    if operation == "BatchWriteItem":
        for table, requests in (body.get("RequestItems") or {}).items():
            for request in requests:
                if "PutRequest" in request:
                    found.append(Write(DYNAMODB, table, key_of(table, request["PutRequest"]["Item"])))
                elif "DeleteRequest" in request:
                    found.append(Write(DYNAMODB, table, request["DeleteRequest"]["Key"], delete=True))
    elif operation == "TransactWriteItems":
        for entry in body.get("TransactItems") or []:
            for kind, spec in entry.items():
                if kind == "Put":
                    found.append(Write(DYNAMODB, spec["TableName"], key_of(spec["TableName"], spec["Item"])))
                elif kind in ("Update", "Delete"):
                    found.append(Write(DYNAMODB, spec["TableName"], spec["Key"], delete=kind == "Delete"))
    return found


def s3_writes(method: str, path: str, query: str, body: bytes) -> list[Write]:
    """The objects a path-style S3 request writes (PUT/copy, complete multipart upload, DELETE, multi-delete)."""
    bucket, _, key = path.lstrip("/").partition("/")
    params = parse_qs(query, keep_blank_values=True)
    if not bucket:
        return []
    if not key:
        if method == "POST" and "delete" in params:
            return _multi_delete(bucket, body)
        return []
    key = unquote(key)
    if _S3_SUBRESOURCES & params.keys():
        return []
    if method == "PUT" and "uploadId" not in params:
        return [Write(S3, bucket, key)]
    if method == "POST" and "uploadId" in params:
        return [Write(S3, bucket, key)]
    if method == "DELETE" and "uploadId" not in params:
        return [Write(S3, bucket, key, delete=True, version_delete="versionId" in params)]
    return []


def _multi_delete(bucket: str, body: bytes) -> list[Write]:
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return []
    found = []
    for obj in root.iter():
        if obj.tag.rsplit("}", 1)[-1] != "Object":
            continue
        fields = {child.tag.rsplit("}", 1)[-1]: (child.text or "") for child in obj}
        if "Key" in fields:
            found.append(Write(S3, bucket, fields["Key"], delete=True, version_delete="VersionId" in fields))
    return found
