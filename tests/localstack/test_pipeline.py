"""The whole local stack: streaming with bounded stream contents, and the failure paths (a transform
that raises mid-run, a job that fails, a crawler on an empty path, a consumer with poison records),
each reported with its stage while every accepted record stays accounted for."""

from __future__ import annotations

import base64
import copy
import gzip
import json

import pytest

from cauce.localstack.pipeline import run_pipeline
from cauce.core.stack import load_stack, parse_stack
from cauce.etl.jobs.etl_main import EtlProcesoPrincipal
from cauce.handlers.data_processor import handler as data_processor


def error_records(lake_dir, error_type: str = "processing-failed") -> list[dict]:
    records = []
    for path in (lake_dir / "mi-bucket" / "errors" / error_type).rglob("*"):
        if path.is_file():
            body = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
            records += [json.loads(line) for line in body.splitlines()]
    return records


@pytest.mark.reliability
def test_the_stream_stages_hold_a_bounded_number_of_records_and_reconcile(tmp_path, spark):
    from moto.kinesis.models import kinesis_backends

    held = []

    def progress(_events_done, _detail):
        stream = kinesis_backends["123456789012"]["us-east-1"].streams["data-ingestion-stream"]
        held.append(sum(len(shard.records) for shard in stream.shards.values()))

    report = run_pipeline(tmp_path / "lake", 600, 0.05, 0.02, seed=3, progress=progress, chunk_events=100)

    assert report["reconciled"], [c for c in report["checks"] if not c["ok"]]
    assert report["failed_stage"] is None and len(held) == 7  # six full chunks, then the last (short) one
    assert max(held) <= 2  # after each chunk every consumer has read the stream: one newest record per shard is kept
    assert report["stages"]["kinesis"]["max_records_held"] <= 100 + report["expected"]["duplicates"] + 2  # one chunk at most
    assert report["records_put"] == 600 + report["expected"]["duplicates"]
    assert report["stages"]["analytics"]["apps"]["realtime-processing"]["events_counted"] + \
        report["stages"]["analytics"]["apps"]["realtime-processing"]["refused"] == report["records_put"]


@pytest.mark.reliability
def test_a_transform_that_raises_mid_run_fails_the_firehose_stage_and_loses_no_record(tmp_path, spark):
    calls = {"firehose": 0}

    def flaky(event, context):
        if "records" in event and "deliveryStreamArn" in event:
            calls["firehose"] += 1
            if any(b'"ev-150"' in base64.b64decode(r["data"]) for r in event["records"]):
                raise ConnectionError("downstream lookup refused the connection")
        return data_processor(event, context)

    values = copy.deepcopy(load_stack(None).document)
    processor = values["kinesis_config"]["firehose_config"]["s3-delivery"]["processing_configuration"]["processors"][0]
    processor["parameters"].append({"parameter_name": "BufferSizeInMBs", "parameter_value": "0.01"})  # ~50 records an invocation
    stack = parse_stack(values)

    report = run_pipeline(tmp_path / "lake", 400, 0.0, 0.0, seed=5, stack=stack, functions={"data-processor": flaky}, chunk_events=100)

    firehose = report["stages"]["firehose"]
    assert not report["reconciled"] and report["failed_stage"] == "firehose"
    failed_check = next(c for c in report["checks"] if not c["ok"])
    assert "ConnectionError: downstream lookup refused the connection" in failed_check["check"]
    assert firehose["invocation_errors"] == 4  # the first attempt and Firehose's three retries
    # nothing lost: the failed invocation's records are under the error prefix with their raw data
    failed = error_records(tmp_path / "lake")
    assert len(failed) == firehose["processing_failed"] > 0
    assert firehose["delivered"] + firehose["processing_failed"] == report["records_put"] == 400
    assert all(r["errorCode"] == "Lambda.FunctionError" for r in failed)
    assert any(b'"ev-150"' in base64.b64decode(r["rawData"]) for r in failed)
    assert 0 < firehose["processing_failed"] < 100 and calls["firehose"] > 5  # one invocation's records, the rest delivered


@pytest.mark.reliability
def test_a_stage_failing_mid_stream_still_delivers_every_record_already_accepted(tmp_path, spark, monkeypatch):
    from cauce.analytics.streaming import IncrementalRunner

    real_process, calls = IncrementalRunner.process, []

    def process_then_break(self, records):
        calls.append(len(records))
        if len(calls) == 2:
            raise MemoryError("the analytics worker ran out of memory")
        return real_process(self, records)

    monkeypatch.setattr(IncrementalRunner, "process", process_then_break)
    monkeypatch.setattr("cauce.localstack.pipeline.ANALYTICS_BATCH", 100)

    report = run_pipeline(tmp_path / "lake", 1000, 0.0, 0.0, seed=4, chunk_events=100)

    assert report["failed_stage"] == "analytics" and report["failure"] == "MemoryError: the analytics worker ran out of memory"
    firehose = report["stages"]["firehose"]
    assert 0 < report["records_put"] < 1000  # it stopped part-way ...
    assert firehose["delivered"] == report["records_put"]  # ... and Firehose delivered every record put before it did
    assert "workflow" not in report["stages"]


class BrokenJob(EtlProcesoPrincipal):
    def transform(self, events):
        raise ValueError("currency table is missing")


@pytest.mark.reliability
def test_a_failing_job_fails_the_workflow_stage_with_its_reason(tmp_path, spark):
    report = run_pipeline(tmp_path / "lake", 200, 0.0, 0.0, seed=1, jobs={"etl-proceso-principal": BrokenJob})

    assert not report["reconciled"] and report["failed_stage"] == "workflow"
    assert "etl-workflow FAILED" in report["failure"] and "currency table is missing" in report["failure"]
    workflow = report["stages"]["workflow"]
    assert ("NotifyFailure", "SUCCEEDED") in [tuple(s) for s in workflow["states"]]  # caught and notified
    # the delivered records wait in the lake for the next run
    assert report["stages"]["firehose"]["delivered"] == 200
    assert any((tmp_path / "lake" / "mi-bucket" / "raw-data").rglob("*.gz"))


def test_a_crawler_on_an_empty_path_stops_the_run_before_the_workflow(tmp_path, spark):
    values = copy.deepcopy(load_stack(None).document)
    values["glue_config"]["crawler_config"]["data-crawler"]["s3_target"][0]["path"] = "s3://mi-bucket/nothing-here/"
    stack = parse_stack(values)

    report = run_pipeline(tmp_path / "lake", 100, 0.0, 0.0, seed=1, stack=stack)

    assert report["failed_stage"] == "crawler" and "s3://mi-bucket/nothing-here/" in report["failure"]
    assert "workflow" not in report["stages"]
    assert report["stages"]["firehose"]["delivered"] == 100


@pytest.mark.reliability
def test_a_consumer_with_poison_records_sends_them_to_the_destination_and_the_shard_moves_on(tmp_path, spark, service, logs):
    import boto3

    from cauce.handlers import kinesis_consumer

    seen = []

    def consume(event):
        if event.get("event_type") == "refund":
            raise RuntimeError("refunds are not handled yet")
        seen.append(event["event_id"])

    values = copy.deepcopy(load_stack(None).document)
    values["lambda_config"]["consumer"] = {**values["lambda_config"]["data-processor"], "function_name": "events-consumer", "handler": "unused.handler"}
    values["lambda_event_sources"] = {"events": {"function_key": "consumer", "stream_key": "data-stream", "batch_size": 50,
                                                 "maximum_retry_attempts": 1,
                                                 "on_failure_destination_arn": "arn:aws:sqs:us-east-1:123456789012:events-failures"}}
    stack = parse_stack(values)
    failures = []

    def progress(_done, _detail):  # read the destination while moto is still up
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.get_queue_url(QueueName="events-failures")["QueueUrl"]
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            for message in messages:
                failures.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    consumer = kinesis_consumer(consume, service=service, log_stream=logs)
    report = run_pipeline(tmp_path / "lake", 300, 0.0, 0.0, seed=2, stack=stack, functions={"events-consumer": consumer},
                          progress=progress, chunk_events=100)

    mapping = report["stages"]["event_sources"]["mappings"]["events"]
    assert mapping["records_read"] == 300 and mapping["to_destination"] > 0
    assert mapping["succeeded"] + mapping["to_destination"] == 300
    assert sum(f["KinesisBatchInfo"]["batchSize"] for f in failures) == mapping["to_destination"]
    assert len(seen) >= mapping["succeeded"]  # at least once: a retried batch re-runs its records before the failure
    assert report["reconciled"], [c for c in report["checks"] if not c["ok"]]


@pytest.mark.parametrize("reason", ["IAM roles", "VPC networking", "KMS encryption", "X-Ray tracing"])
def test_aws_only_settings_are_reported_as_not_applicable(reason):
    from cauce.localstack.applicability import not_applicable_locally

    found = not_applicable_locally(load_stack(None))

    paths = next(paths for text, paths in found.items() if text.startswith(reason))
    assert paths  # each names the settings it covers
    if reason == "VPC networking":
        assert paths == ["glue_config.connection_config.jdbc-connection.physical_connection_requirements",
                         "lambda_config.data-processor.vpc_config"]


def test_a_stage_failing_because_of_ctrl_c_is_an_interrupt_not_a_stage_failure():
    """The issue's case: Ctrl-C during the crawler was reported as "crawler FAILED: Py4JError"."""
    import os
    import signal

    from cauce.localstack.pipeline import StageFailed, _Timer

    def call_that_fails_after_an_interrupt():  # as a Spark call whose job Ctrl-C cancelled
        try:
            os.kill(os.getpid(), signal.SIGINT)
        except KeyboardInterrupt:
            pass
        raise RuntimeError("An error occurred while calling o153.json")

    before = signal.getsignal(signal.SIGINT)
    timer = _Timer()
    with pytest.raises(KeyboardInterrupt):
        with timer.stage("crawler"):
            call_that_fails_after_an_interrupt()
    with pytest.raises(StageFailed, match="crawler: RuntimeError: a real failure"):
        with timer.stage("crawler"):
            raise RuntimeError("a real failure")
    assert signal.getsignal(signal.SIGINT) == before  # the stage's watch is gone
