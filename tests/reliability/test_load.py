"""Load: the whole local stack under 1,000,000 events, 5% of them malformed, as a user runs it
(`cauce demo`, in its own process so that its memory is its own): every event reconciled, and
what each stage holds at once bounded by its configuration, not by the number of events.

CAUCE_LOAD_EVENTS changes the count (the default is the issue's million; it takes about five
minutes on two cores)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.reliability

EVENTS = int(os.environ.get("CAUCE_LOAD_EVENTS", "1000000"))
PEAK_MEMORY_LIMIT_MB = 1536  # holding the events would take several GB: a 100,000-event run that did peaked at 520 MB


def test_a_million_events_through_the_local_stack_with_bounded_memory_and_no_loss(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "cauce", "demo", "--events", str(EVENTS), "--malformed-share", "0.05",
                                "--lake", str(tmp_path / "lake"), "--json"], capture_output=True, text=True, timeout=3600)

    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout)
    assert report["reconciled"], [c for c in report["checks"] if not c["ok"]]
    expected, stages = report["expected"], report["stages"]
    assert expected["valid"] + expected["malformed"] == EVENTS and expected["malformed"] > EVENTS * 0.04
    firehose, workflow = stages["firehose"], stages["workflow"]
    assert firehose["delivered"] + firehose["processing_failed"] + firehose["dropped"] == report["records_put"]
    assert workflow["rows_written"] == expected["valid"]
    assert firehose["processing_failed"] + workflow["rows_quarantined"] == expected["malformed"]
    # bounded by configuration: one chunk of records in the stream, one buffer in Firehose (5 MB here)
    assert stages["kinesis"]["max_records_held"] <= 5_000 * 2 + 2
    assert firehose["max_buffered_bytes"] <= 5 * 1024 * 1024 + 1024 * 1024
    assert report["peak_memory_mb"] < PEAK_MEMORY_LIMIT_MB
