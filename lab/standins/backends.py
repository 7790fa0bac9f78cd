"""Item and object images read from, and written to, moto's in-process backends (inside a stand-in server).

Replicated writes go straight into the backend, as AWS's replication service writes without going through the
public API: they are not recorded as new changes, so nothing is replicated back.
"""

from __future__ import annotations

import base64
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.s3.models import s3_backends

from aftershock.lab.standins.changes import DYNAMODB, Write


class Backends:
    """The DynamoDB backend of ``region`` and the S3 backend of this process (moto's default account)."""

    def __init__(self, region: str) -> None:
        self.region = region

    @property
    def _dynamodb(self) -> Any:
        return dynamodb_backends[DEFAULT_ACCOUNT_ID][self.region]

    @property
    def _s3(self) -> Any:
        return s3_backends[DEFAULT_ACCOUNT_ID]["aws"]

    def item_key(self, table: str, item: dict[str, Any]) -> dict[str, Any]:
        """The key attributes of ``item`` (DynamoDB JSON) per the table's key schema."""
        schema = self._dynamodb.get_table(table)
        names = [schema.hash_key_attr] + ([schema.range_key_attr] if schema.range_key_attr else [])
        return {name: item[name] for name in names if name in item}

    def image(self, write: Write) -> Any:
        """The item's attributes or the object's bytes and metadata right now (None: absent)."""
        if write.store == DYNAMODB:
            item = self._dynamodb.get_item(write.name, write.key)
            return None if item is None else item.to_json()["Attributes"]
        obj = self._s3.get_object(write.name, write.key)
        if obj is None or getattr(obj, "is_delete_marker", False):
            return None
        metadata = {k: str(v) for k, v in dict(getattr(obj, "metadata", {}) or {}).items()}
        return {"body": base64.b64encode(obj.value).decode(), "metadata": metadata}

    def s3_destination(self, bucket: str, key: str, delete: bool) -> str | None:
        """The destination bucket of the first enabled replication rule of ``bucket`` matching ``key`` (None:
        not replicated; a delete marker only when the rule replicates delete markers)."""
        try:
            config = self._s3.get_bucket_replication(bucket)
        except Exception:  # moto raises its own "no such bucket" types
            return None
        rules = (config or {}).get("Rule") or []
        for rule in sorted(rules if isinstance(rules, list) else [rules], key=lambda r: int(r.get("Priority") or 0),
                           reverse=True):
            if rule.get("Status") != "Enabled":
                continue
            prefix = (rule.get("Filter") or {}).get("Prefix") or rule.get("Prefix") or ""
            if not key.startswith(prefix):
                continue
            if delete and (rule.get("DeleteMarkerReplication") or {}).get("Status") != "Enabled":
                return None
            return str((rule.get("Destination") or {}).get("Bucket", "")).rsplit(":", 1)[-1] or None
        return None

    def apply(self, store: str, name: str, key: Any, image: Any) -> None:
        """Write ``image`` (None: delete, a delete marker in a versioned bucket) into ``name``."""
        if store == DYNAMODB:
            if image is None:
                self._dynamodb.delete_item(name, key)
            else:
                self._dynamodb.put_item(name, image)
            return
        if image is None:
            self._s3.delete_object(name, key)
            return
        obj = self._s3.put_object(name, key, base64.b64decode(image["body"]))
        for meta_key, value in (image.get("metadata") or {}).items():
            obj.set_metadata({meta_key: value}, replace=False)
