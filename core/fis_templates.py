"""FIS experiment templates the AWS driver starts to pause data replication (``aws.fis_templates``).

Where a template is named, ``pause_table_replication`` / ``pause_bucket_replication`` start an AWS FIS experiment
from it (``aws:dynamodb:global-table-pause-replication`` / ``aws:s3:bucket-pause-replication``) and the revert
stops it; where none is, the driver pauses replication through the APIs (:mod:`aftershock.faults.aws.replication`).
A template runs in ``region`` (default: the primary region, where the table's replica and the source bucket are).

Example::

    aws:
      fis_templates:
        pause_table_replication: EXTa1b2c3d4e5f6g7h                 # in the primary region
        pause_bucket_replication: {id: EXTh8i9j0k1l2m3n4, region: us-east-1}
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

_ID = re.compile(r"EXT[0-9A-Za-z]+")
KEYS = ("pause_table_replication", "pause_bucket_replication")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FisTemplate(_Model):
    """One template: its id (``EXT...``) and the region it lives in (None: the primary region)."""

    id: str
    region: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _id_only(cls, value: object) -> object:
        return {"id": value} if isinstance(value, str) else value

    @field_validator("id")
    @classmethod
    def _template_id(cls, value: str) -> str:
        if not _ID.fullmatch(value):
            raise ValueError(f"{value!r} is not a FIS experiment template id (EXT...): copy it from "
                             "`aws fis list-experiment-templates`")
        return value


class FisTemplates(_Model):
    """The templates per replication pause (both optional)."""

    pause_table_replication: FisTemplate | None = None
    pause_bucket_replication: FisTemplate | None = None

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, value: object) -> object:
        if isinstance(value, dict):
            unknown = sorted(str(k) for k in value if k not in KEYS)
            if unknown:
                raise ValueError(f"unknown key {unknown[0]!r}: use {' or '.join(KEYS)}")
        return value

    def for_store(self, store: str) -> FisTemplate | None:
        """The template pausing ``store`` (``dynamodb``: the table, ``s3``: the bucket), if any."""
        return self.pause_table_replication if store == "dynamodb" else self.pause_bucket_replication

    def regions(self) -> list[tuple[str, str]]:
        """(``aws.fis_templates.KEY``, region) of every template that names its region."""
        return [(f"aws.fis_templates.{key}", t.region) for key in KEYS
                if (t := getattr(self, key)) is not None and t.region is not None]

    def problem(self, *, table: str | None, buckets: dict[str, str], primary: str) -> str | None:
        """What the target lacks for these templates (one line naming the key and the fix), or None."""
        if self.pause_table_replication is not None and not table:
            return "aws.fis_templates.pause_table_replication needs the table: add data_stores.table"
        bucket = self.pause_bucket_replication
        if bucket is not None and (bucket.region or primary) not in buckets:
            where = bucket.region or primary
            return (f"aws.fis_templates.pause_bucket_replication runs in {where}, which has no source bucket: add "
                    f"data_stores.buckets[{where}] or set the template's region to the source bucket's")
        return None
