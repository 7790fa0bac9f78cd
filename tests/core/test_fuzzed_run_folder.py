"""Every reader of a run folder, fuzzed (hypothesis): any content of its file yields records or the project's
one-line error (an :class:`AftershockError`), never another exception; a truncated last line of every JSONL
file (a run killed mid-write) reads as if the line had never been started."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftershock.core.errors import AftershockError
from aftershock.core.journal import FaultJournal, RevertCall, outstanding
from aftershock.core.measurements import read_markers, read_measurements
from aftershock.core.plan import read_plan
from aftershock.core.runfolder import RunFolder
from aftershock.core.samples import read_samples
from aftershock.core.timeline.store import read_timeline
from aftershock.probes.ledger.record import LedgerRecord, Outcome, format_line, read_ledger
from tests.aftershock.gameday.gamedaykit import write_run

START = 1_700_000_000.0

READERS: dict[str, Callable[[RunFolder], Any]] = {
    "markers.jsonl": read_markers,
    "measurements.jsonl": lambda run: list(read_measurements(run)),
    "samples.jsonl": read_samples,
    "faults.jsonl": outstanding,
    "timeline.jsonl": lambda run: read_timeline(run.path).total,
    "ledger.jsonl": lambda run: read_ledger(run.path).records,
}


def _sample_run(base: Path) -> RunFolder:
    """A run folder in the formats aftershock writes: timeline, markers, samples, measurements, journal, ledger."""
    path = write_run(base, start=START, seconds=2, fail_from=0.5, fail_until=1.0, summary={"passed": True},
                     markers=[(0.4, "fault.start", {"action": "az_outage", "role": "disruption"}),
                              (1.5, "fault.end", {"action": "az_outage"})],
                     measurements=[{"kind": "rto", "recovered": True, "rto_s": 0.5, "fault_start": START + 0.4}])
    run = RunFolder(path)
    journal = FaultJournal(run)
    first = journal.injected("az_outage", "AZ us-east-1a down", [RevertCall("az_restore", {"az": "us-east-1a"})])
    journal.injected("kill_pods", "2 pods", [RevertCall("restore_pods", {"region": "us-east-1"})])
    journal.reverted(first, "az_outage", by="rollback")
    (path / "ledger.jsonl").write_text("".join(format_line(LedgerRecord(
        run_id=path.name, seq=i, sent_at=START + i / 10, acked_at=START + i / 10 + 0.01, outcome=Outcome.OK).to_json())
        for i in range(5)))
    return run


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> RunFolder:
    return _sample_run(tmp_path_factory.mktemp("runs"))


@contextmanager
def copy_of(run: RunFolder) -> Iterator[RunFolder]:
    """A scratch copy of ``run`` (hypothesis runs many examples per test: no function-scoped tmp_path)."""
    base = Path(tempfile.mkdtemp(prefix="aftershock-fuzz-"))
    try:
        shutil.copytree(run.path, base / run.path.name)
        yield RunFolder(base / run.path.name)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def read(reader: Callable[[RunFolder], Any], run: RunFolder) -> Any:
    """The reader's result, or None when it raised the project's one-line error."""
    try:
        return reader(run)
    except AftershockError as exc:
        assert "\n" not in str(exc) and str(exc), "the project's errors are one line"
        return None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)


def mutated(record: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """``record`` with one field replaced by any JSON value, or dropped."""
    keys = sorted(record)
    replace = st.tuples(st.sampled_from(keys), json_values).map(lambda kv: {**record, kv[0]: kv[1]})
    drop = st.sampled_from(keys).map(lambda k: {key: v for key, v in record.items() if key != k})
    return replace | drop


def lines_of(valid: list[dict[str, Any]]) -> st.SearchStrategy[list[str]]:
    """Lines of a fuzzed file: valid records, mutated ones, any JSON, any text."""
    line = (st.sampled_from(valid).flatmap(mutated).map(json.dumps) | st.sampled_from(valid).map(json.dumps)
            | json_values.map(json.dumps) | st.text(max_size=40).map(lambda t: t.replace("\n", " ")))
    return st.lists(line, max_size=8)


def valid_records(run: RunFolder, name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in run.file(name).read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("name", sorted(READERS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_content_of_a_jsonl_file_reads_or_is_a_one_line_error(sample_run: RunFolder, name: str,
                                                                  data: st.DataObject) -> None:
    lines = data.draw(lines_of(valid_records(sample_run, name)))
    truncated = data.draw(st.booleans())
    with copy_of(sample_run) as run:
        text = "".join(line + "\n" for line in lines)
        if truncated and lines:
            text = text[:-1]  # the last line without its newline
        run.file(name).write_text(text)
        read(READERS[name], run)


@pytest.mark.parametrize("name", sorted(READERS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.floats(min_value=0.0, max_value=1.0, exclude_max=True))
def test_a_truncated_last_line_reads_as_if_never_started(sample_run: RunFolder, name: str, cut: float) -> None:
    whole = sample_run.file(name).read_text()
    head, _, last = whole.rstrip("\n").rpartition("\n")
    body = head + "\n" if head else ""
    with copy_of(sample_run) as run:
        run.file(name).write_text(body)
        expected = READERS[name](run)
        run.file(name).write_text(body + last[:int(len(last) * cut)])
        assert READERS[name](run) == expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=json_values.map(json.dumps) | st.binary(max_size=60).map(lambda b: b.decode("latin-1")),
       data=st.data())
def test_any_run_json_is_a_plan_or_a_one_line_error(sample_run: RunFolder, content: str,
                                                    data: st.DataObject) -> None:
    with copy_of(sample_run) as run:
        plan_record = json.loads(run.file("run.json").read_text())
        if data.draw(st.booleans()):
            content = json.dumps(data.draw(mutated(plan_record)))
        run.file("run.json").write_text(content)
        read(read_plan, run)
