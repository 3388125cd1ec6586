"""Issue 18's acceptance: a plain boto3 client (tests/localstack/clients/plain_boto3_scenario.py, run
in its own interpreter, importing no Cauce) against `cauce up` started as a user starts it.

It creates a stream, a Lambda function from a zip and a Firehose delivery stream reading the stream
through it; puts 2,000 records, 10% not JSON; lists delivered and processing-failed objects (the
1 MB buffering hint and GZIP honoured); runs Pass -> Choice -> Wait 5 s -> Succeed to SUCCEEDED (Wait
compressed by CAUCE_TIME_SCALE); runs the stack's Glue job through StartJobRun on input it put with
put_object, and the stack's crawler through StartCrawler, then sees the table with get_table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCENARIO = Path(__file__).parent / "clients" / "plain_boto3_scenario.py"


@pytest.fixture
def endpoint(tmp_path):
    state = tmp_path / "stack"
    environment = {**os.environ, "CAUCE_TIME_SCALE": "0.1"}
    started = subprocess.run([sys.executable, "-m", "cauce", "up", "--state", str(state), "--json"], capture_output=True, text=True,
                             env=environment, timeout=120)
    assert started.returncode == 0, started.stderr
    yield json.loads(started.stdout)["endpoint"]
    subprocess.run([sys.executable, "-m", "cauce", "down", "--state", str(state)], capture_output=True, timeout=120)


def test_a_plain_boto3_client_runs_the_whole_scenario_against_cauce_up(endpoint):
    ran = subprocess.run([sys.executable, "-I", str(SCENARIO), endpoint], capture_output=True, text=True, timeout=900)
    assert ran.returncode == 0, ran.stderr[-3000:]
    seen = json.loads(ran.stdout)
    assert seen["cauce_imported"] is False

    assert seen["firehose_hints"] == {"SizeInMBs": 1, "IntervalInSeconds": 5}
    # 1.3 MB of records: the processor's and the destination's 1 MB hints deliver at once, the rest waits for the intervals
    assert 0 < seen["delivered_before_the_interval"] < 1_800
    assert (seen["delivered_lines"], seen["failed_lines"]) == (1_800, 200)  # every record accounted for
    assert seen["gzip"] is True and all(key.endswith(".gz") for key in seen["delivered_objects"] + seen["failed_objects"])
    assert all(key.startswith("clicks-errors/processing-failed/") for key in seen["failed_objects"])
    assert seen["failed_codes"] == ["Lambda.ProcessingFailedStatus"]

    assert seen["execution_status"] == "SUCCEEDED" and seen["execution_states"] == ["Start", "Ready?", "Pause", "Done"]

    assert (seen["job_state"], seen["job_error"]) == ("SUCCEEDED", None)
    assert seen["curated_objects"] >= 1  # the job read what the client put, through the same S3
    assert seen["crawl_status"] == "SUCCEEDED" and seen["table_location"] == "s3://mi-bucket/raw-data/"
    assert {"event_id", "event_type", "event_time"} <= set(seen["table_columns"])
