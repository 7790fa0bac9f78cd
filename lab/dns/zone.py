"""A hosted zone: its record sets by name, changed atomically (Route 53's ``ChangeResourceRecordSets``)."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from aftershock.core.errors import FaultRefused
from aftershock.lab.dns.records import RecordSet, fqdn


class Zone:
    """The record sets of one public or private hosted zone; safe to read and change from several threads."""

    def __init__(self, name: str, *, private: bool = False, records: Iterable[RecordSet] = ()) -> None:
        self.name = fqdn(name)
        self.private = private
        self._lock = threading.Lock()
        self._records: dict[tuple[str, str, str | None], RecordSet] = {}
        self.change(upsert=records)

    def __repr__(self) -> str:
        return f"Zone({self.name!r}, private={self.private}, records={len(self._records)})"

    def holds(self, name: str) -> bool:
        """True when ``name`` is this zone's apex or below it."""
        name = fqdn(name)
        return name == self.name or name.endswith("." + self.name)

    def change(self, *, upsert: Iterable[RecordSet] = (), delete: Iterable[RecordSet] = ()) -> None:
        """Apply a change batch all at once; a record outside the zone refuses the whole batch."""
        upserts, deletes = list(upsert), list(delete)
        for record in (*upserts, *deletes):
            if not self.holds(record.name):
                raise FaultRefused(f"record {record.name} is not in zone {self.name}: use a name ending in "
                                   f"{self.name}")
        with self._lock:
            for record in deletes:
                self._records.pop(record.key, None)
            for record in upserts:
                self._records[record.key] = record

    def record_sets(self, name: str, rtype: str | None = None) -> list[RecordSet]:
        """The record sets of ``name`` (of type ``rtype`` when given), in a stable order."""
        name = fqdn(name)
        with self._lock:
            found = [r for key, r in self._records.items() if key[0] == name and (rtype is None or key[1] == rtype)]
        return sorted(found, key=lambda r: r.set_id or "")

    def all(self) -> list[RecordSet]:
        with self._lock:
            return sorted(self._records.values(), key=lambda r: (r.name, r.type, r.set_id or ""))


__all__ = ["Zone"]
