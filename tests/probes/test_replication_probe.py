"""The replication-lag probe: worst lag of the live readers (of a region) against a limit."""

from __future__ import annotations

from typing import Any

from aftershock.core.runfolder import RunFolder
from aftershock.probes.replication import replication_lag_within
from tests.runkit import FakeDriver


def lag_measurements(run: RunFolder) -> list[dict[str, Any]]:
    return [m for m in run.records("measurements.jsonl") if m["kind"] == "replication_lag"]


def test_within_the_limit_and_recorded(configuration: dict[str, Any], driver: FakeDriver, run: RunFolder) -> None:
    driver.lag_s = {"db-east-a": 0.2, "db-west-a": 0.4}
    assert replication_lag_within(max_lag_s=1.0, configuration=configuration) is True
    [measured] = lag_measurements(run)
    assert measured["worst_s"] == 0.4 and measured["met"] is True


def test_one_slow_reader_breaks_it(configuration: dict[str, Any], driver: FakeDriver, run: RunFolder) -> None:
    driver.lag_s = {"db-east-a": 0.2, "db-west-a": 3.5}
    assert replication_lag_within(max_lag_s=1.0, configuration=configuration) is False


def test_region_filter_and_unmeasurable_readers(configuration: dict[str, Any], driver: FakeDriver,
                                                run: RunFolder) -> None:
    driver.lag_s = {"db-east-a": 9.0, "db-west-a": 0.1, "db-west-b": None}
    assert replication_lag_within(max_lag_s=1.0, region="us-west-2", configuration=configuration) is True
    assert lag_measurements(run)[-1]["lag_s"] == {"db-west-a": 0.1}
    driver.lag_s = {"db-west-a": None}
    assert replication_lag_within(max_lag_s=1.0, region="us-west-2", configuration=configuration) is False
