"""Kinesis event source mappings: batches in shard order, partial batch failures, retries, bisect,
and the on-failure destination (moto SQS), with a Cauce consumer handler."""

from __future__ import annotations

import json

import boto3
import pytest

from cauce.localstack.event_source import KinesisEventSourceMapping, sqs_destination
from cauce.handlers import PoisonRecord, kinesis_consumer


@pytest.fixture
def stream(aws):
    kinesis = boto3.client("kinesis")
    kinesis.create_stream(StreamName="orders", ShardCount=1)
    kinesis.put_records(StreamName="orders", Records=[{"Data": json.dumps({"n": n}).encode(), "PartitionKey": "k"} for n in range(10)])
    return kinesis


def test_every_record_reaches_the_consumer_in_order_in_batches(stream, service, logs):
    seen = []
    consumer = kinesis_consumer(lambda order: seen.append(order["n"]), service=service, log_stream=logs)

    stats = KinesisEventSourceMapping(stream, "orders", consumer, batch_size=4).drain()

    assert seen == list(range(10)) and stats.invocations == 3 and stats.records_succeeded == 10


@pytest.mark.reliability
def test_a_partial_failure_retries_from_the_failed_record_then_goes_to_the_destination(stream, service, logs):
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="orders-failures")["QueueUrl"]
    calls = []

    def handle(order):
        calls.append(order["n"])
        if order["n"] == 5:
            raise TimeoutError("inventory service is down")

    consumer = kinesis_consumer(handle, service=service, log_stream=logs)
    mapping = KinesisEventSourceMapping(stream, "orders", consumer, batch_size=10, maximum_retry_attempts=2,
                                        on_failure=sqs_destination(sqs, queue))
    stats = mapping.drain()

    # first invocation: 0-9 (5 fails); then retries from 5: 5-9 twice; then the rest goes to the destination
    assert calls == list(range(10)) + [5, 6, 7, 8, 9] * 2
    assert stats.records_succeeded == 5 and stats.records_sent_to_destination == 5
    assert stats.records_succeeded + stats.records_sent_to_destination == stats.records_read
    [message] = sqs.receive_message(QueueUrl=queue)["Messages"]
    info = json.loads(message["Body"])["KinesisBatchInfo"]
    assert info["batchSize"] == 5 and info["shardId"] == "shardId-000000000000"


def test_a_function_error_bisects_the_batch_to_isolate_the_bad_record(stream):
    def crashing(event, context):
        if any(json.loads(__import__("base64").b64decode(r["kinesis"]["data"]))["n"] == 7 for r in event["Records"]):
            raise RuntimeError("crash")
        return {"batchItemFailures": []}

    stats = KinesisEventSourceMapping(stream, "orders", crashing, batch_size=10, maximum_retry_attempts=4).drain()

    assert stats.records_sent_to_destination == 1 and stats.records_succeeded == 9
    assert stats.failure_records[0]["KinesisBatchInfo"]["batchSize"] == 1


@pytest.mark.reliability
def test_poison_records_with_a_poison_queue_never_block_the_shard(stream, service, logs):
    sqs = boto3.client("sqs")
    poison = sqs.create_queue(QueueName="poison")["QueueUrl"]

    def handle(order):
        if order["n"] % 3 == 0:
            raise PoisonRecord("multiple of three")

    consumer = kinesis_consumer(handle, service=service, log_stream=logs, poison_queue_url=poison)
    stats = KinesisEventSourceMapping(stream, "orders", consumer, batch_size=5).drain()

    assert stats.records_succeeded == 10 and stats.records_sent_to_destination == 0 and stats.invocations == 2
    assert len(sqs.receive_message(QueueUrl=poison, MaxNumberOfMessages=10)["Messages"]) == 4
