"""`cauce up` / `send` / `status` / `down`: the local stack as a server process on 127.0.0.1 that
separate commands and plain boto3 clients share, with its state in one project-local folder."""

from __future__ import annotations

import gzip
import json

import boto3
import pytest
from click.testing import CliRunner

from cauce.cli import cli


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def state_dir(tmp_path):
    state = tmp_path / "stack"
    yield state
    invoke("down", "--state", str(state))  # never leave a server behind, even when a test fails


def test_a_stack_started_by_up_is_used_by_send_status_boto3_and_down(state_dir, tmp_path):
    started = json.loads(invoke("up", "--state", str(state_dir), "--json").stdout)
    assert started["streams"] == {"data-ingestion-stream": {"status": "ACTIVE", "shards": 2},
                                  "processed-data-stream": {"status": "ACTIVE", "shards": 1}}
    assert "KMS encryption: the local lake and streams are not encrypted" in started["not_applicable_locally"]
    assert json.loads(invoke("up", "--state", str(state_dir), "--json").stdout)["already_running"] is True

    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps({"event_id": f"e{i}", "event_type": "view", "event_time": "2026-11-26T10:00:00"}) + "\n"
                              for i in range(700)) + "not json\n")
    sent = invoke("send", "data-ingestion-stream", str(events), "--state", str(state_dir), "--json")
    assert json.loads(sent.stdout)["records"] == 701

    # any client with the endpoint sees the same stack
    kinesis = boto3.client("kinesis", region_name="us-east-1", endpoint_url=started["endpoint"],
                           aws_access_key_id="testing", aws_secret_access_key="testing")
    kinesis.put_record(StreamName="data-ingestion-stream", Data=b'{"event_id": "direct", "event_type": "click", "event_time": "t"}',
                       PartitionKey="p")
    status = json.loads(invoke("status", "--state", str(state_dir), "--json").stdout)
    assert status["endpoint"] == started["endpoint"] and set(status["firehose"]) == {"s3-data-delivery"}

    stopped = json.loads(invoke("down", "--state", str(state_dir), "--json").stdout)

    # the buffers were delivered before the server stopped: nothing accepted is lost
    firehose = stopped["final_status"]["firehose"]["s3-data-delivery"]
    assert (firehose["delivered"], firehose["processing_failed"], firehose["buffered"]) == (701, 1, 0)
    lake = state_dir / "lake" / "mi-bucket"
    delivered = [line for path in (lake / "raw-data").rglob("*.gz") for line in gzip.decompress(path.read_bytes()).splitlines()]
    assert len(delivered) == 701 and b'"direct"' in b"".join(delivered)
    analytics = stopped["final_status"]["analytics"]["realtime-processing"]  # the app ran over the stream, its windows emitted at `down`
    assert (analytics["events_counted"], analytics["refused"], analytics["pending"]) == (701, 1, 0) and analytics["rows"] >= 1
    assert invoke("status", "--state", str(state_dir)).exit_code == 1

    assert (lake / "raw-data").exists()  # the lake survives `down` ...
    invoke("down", "--state", str(state_dir), "--purge")
    assert not state_dir.exists()  # ... and `down --purge` clears it


def test_send_names_an_unknown_stream_and_a_missing_stack(state_dir, tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_text('{"a": 1}\n')
    missing = invoke("send", "data-ingestion-stream", str(events), "--state", str(state_dir))
    assert missing.exit_code == 1 and "no local stack is running" in missing.output

    invoke("up", "--state", str(state_dir))
    unknown = invoke("send", "no-such-stream", str(events), "--state", str(state_dir))
    assert unknown.exit_code == 1 and "no-such-stream" in unknown.output and "not found" in unknown.output
