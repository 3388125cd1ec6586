"""Kinesis consumer: partial batch failures, ordering, KPL, poison queue (moto SQS), idempotency (moto DynamoDB)."""

from __future__ import annotations

import base64
import json

import boto3
import pytest

from cauce.handlers import PoisonRecord, kinesis_consumer
from cauce.handlers.testing import kinesis_event


class Orders:
    """A record function that remembers what it saw and fails on request."""

    def __init__(self):
        self.seen: list = []

    def __call__(self, order):
        self.seen.append(order)
        if order.get("fail") == "transient":
            raise TimeoutError("database busy")
        if order.get("fail") == "poison":
            raise PoisonRecord("order has no customer")
        return None


def sequence_numbers(event):
    return [r["kinesis"]["sequenceNumber"] for r in event["Records"]]


@pytest.fixture
def orders():
    return Orders()


@pytest.fixture
def consume(orders, service, logs):
    def build(**options):
        return kinesis_consumer(orders, service=service, log_stream=logs, **options)

    return build


def test_a_clean_batch_reports_no_failures(consume, orders, lambda_context):
    event = kinesis_event([{"n": n} for n in range(5)])

    assert consume()(event, lambda_context) == {"batchItemFailures": []}
    assert orders.seen == [{"n": n} for n in range(5)]


def test_a_transient_failure_is_reported_by_sequence_number_and_the_rest_is_processed(consume, orders, lambda_context):
    event = kinesis_event([{"n": 0}, {"n": 1, "fail": "transient"}, {"n": 2}])

    response = consume()(event, lambda_context)

    assert response == {"batchItemFailures": [{"itemIdentifier": sequence_numbers(event)[1]}]}
    assert [o["n"] for o in orders.seen] == [0, 1, 2]


def test_ordered_mode_stops_the_shard_at_its_first_failure(consume, orders, lambda_context, logs):
    event = kinesis_event([{"n": 0}, {"n": 1, "fail": "transient"}, {"n": 2}, {"n": 3}])

    response = consume(ordered=True)(event, lambda_context)

    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == sequence_numbers(event)[1:]
    assert [o["n"] for o in orders.seen] == [0, 1]  # 2 and 3 were not processed out of order
    [summary] = logs.messages("consumed batch")
    assert (summary["failed"], summary["skipped"]) == (3, 2)


@pytest.mark.reliability
def test_every_record_failing_is_a_partial_response_not_a_crash(consume, lambda_context):
    event = kinesis_event([{"fail": "transient"}] * 3)

    response = consume()(event, lambda_context)

    assert len(response["batchItemFailures"]) == 3


def test_kpl_aggregated_records_reach_the_function_one_user_record_at_a_time(consume, orders, lambda_context):
    event = kinesis_event([{"n": n} for n in range(7)], aggregate_per_record=3)
    assert len(event["Records"]) == 3

    assert consume()(event, lambda_context) == {"batchItemFailures": []}
    assert [o["n"] for o in orders.seen] == list(range(7))


def test_a_failed_user_record_fails_its_whole_aggregated_kinesis_record(consume, lambda_context):
    event = kinesis_event([{"n": 0}, {"n": 1, "fail": "transient"}, {"n": 2}, {"n": 3}], aggregate_per_record=2)

    response = consume()(event, lambda_context)

    assert response == {"batchItemFailures": [{"itemIdentifier": sequence_numbers(event)[0]}]}


def test_poison_records_without_a_queue_are_retried_never_dropped(consume, lambda_context, logs, monkeypatch):
    monkeypatch.delenv("CAUCE_POISON_QUEUE_URL", raising=False)
    event = kinesis_event([{"n": 0, "fail": "poison"}, "not json", {"n": 2}])

    response = consume()(event, lambda_context)

    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == sequence_numbers(event)[:2]


@pytest.mark.reliability
def test_poison_records_go_to_the_sqs_queue_and_the_shard_moves_on(consume, orders, lambda_context, aws, capsys, emf_documents):
    queue_url = boto3.client("sqs").create_queue(QueueName="orders-poison")["QueueUrl"]
    event = kinesis_event([{"n": 0, "fail": "poison"}, b"{not json", {"n": 2}, {"n": 3, "fail": "transient"}])
    event["Records"][1]["kinesis"]["data"] = "%%% not base64"

    response = consume(poison_queue_url=queue_url)(event, lambda_context)

    assert response == {"batchItemFailures": [{"itemIdentifier": sequence_numbers(event)[3]}]}
    messages = boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    bodies = sorted((json.loads(m["Body"]) for m in messages), key=lambda b: b["sequenceNumber"])
    assert [b["reason"] for b in bodies] == ["order has no customer", bodies[1]["reason"]]
    assert bodies[1]["reason"].startswith("data is not valid base64")
    assert bodies[0]["sequenceNumber"] == sequence_numbers(event)[0]
    assert json.loads(base64.b64decode(bodies[0]["data"])) == {"n": 0, "fail": "poison"}  # the original, to replay
    assert bodies[0]["shardId"] == "shardId-000000000000"
    [metrics] = emf_documents(capsys.readouterr().out)
    assert (metrics["RecordsOk"], metrics["RecordsPoisoned"], metrics["RecordsFailed"]) == ([1.0], [2.0], [1.0])


def test_poison_in_an_aggregate_names_its_subsequence_number(consume, lambda_context, aws):
    queue_url = boto3.client("sqs").create_queue(QueueName="poison")["QueueUrl"]
    event = kinesis_event([{"n": 0}, {"n": 1, "fail": "poison"}, {"n": 2}], aggregate_per_record=3)

    assert consume(poison_queue_url=queue_url)(event, lambda_context) == {"batchItemFailures": []}

    [message] = boto3.client("sqs").receive_message(QueueUrl=queue_url)["Messages"]
    assert json.loads(message["Body"])["subsequenceNumber"] == 1


def test_when_the_poison_queue_is_unreachable_the_record_is_retried(consume, lambda_context, aws):
    missing = "https://sqs.us-east-1.amazonaws.com/123456789012/does-not-exist"
    event = kinesis_event([{"fail": "poison"}])

    response = consume(poison_queue_url=missing)(event, lambda_context)

    assert response == {"batchItemFailures": [{"itemIdentifier": sequence_numbers(event)[0]}]}


@pytest.mark.parametrize("event, got", [({}, "an object with keys none"), ({"Records": None}, "an object with keys Records"),
                                        ([], "a list"), ("x", "a str")])
def test_a_malformed_event_fails_the_invocation_so_lambda_retries_the_whole_batch(consume, lambda_context, event, got):
    from cauce.handlers import InvalidEvent

    with pytest.raises(InvalidEvent, match=f"not a Kinesis event: expected an object with a 'Records' list, got {got}"):
        consume()(event, lambda_context)


def test_a_record_without_data_is_poison_and_without_a_sequence_number_retries_the_batch(consume, lambda_context):
    event = kinesis_event([{"n": 0}, {"n": 1}])
    del event["Records"][0]["kinesis"]["data"]
    del event["Records"][1]["kinesis"]["sequenceNumber"]
    event["Records"][1]["kinesis"]["data"] = "!!"

    response = consume()(event, lambda_context)

    assert response == {"batchItemFailures": [{"itemIdentifier": sequence_numbers(kinesis_event([1]))[0]}, {"itemIdentifier": ""}]}


@pytest.fixture
def idempotency_table(aws):
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName="idempotency",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return "idempotency"


def test_idempotency_runs_the_function_once_per_payload_across_retries(consume, orders, lambda_context, idempotency_table):
    handler = consume(idempotency_table=idempotency_table)
    first = kinesis_event([{"n": 0}, {"n": 1, "fail": "transient"}, {"n": 2}])
    retry = kinesis_event([{"n": 0}, {"n": 2}])  # Lambda redelivers from the failed record on

    assert len(handler(first, lambda_context)["batchItemFailures"]) == 1
    assert handler(retry, lambda_context) == {"batchItemFailures": []}

    assert [o["n"] for o in orders.seen] == [0, 1, 2]
    assert boto3.client("dynamodb").scan(TableName=idempotency_table)["Count"] == 2  # the failure was not stored


def test_idempotency_by_a_key_inside_the_payload(consume, orders, lambda_context, idempotency_table):
    handler = consume(idempotency_table=idempotency_table, idempotency_key="order_id")

    handler(kinesis_event([{"order_id": "A", "v": 1}, {"order_id": "A", "v": 2}, {"order_id": "B"}]), lambda_context)

    assert [o.get("v") for o in orders.seen] == [1, None]


def test_idempotency_key_needs_json_input(orders):
    with pytest.raises(ValueError, match="needs input='json'"):
        kinesis_consumer(orders, input="bytes", idempotency_key="id")
