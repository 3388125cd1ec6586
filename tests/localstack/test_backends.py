"""The server's in-process clients of moto's backends (cauce.localstack.backends) answer as boto3
clients of the same moto do: same records, same response shapes, same refusals. And the moto
internals they call keep the signatures they rely on."""

from __future__ import annotations

import datetime as dt
import inspect

import boto3
import pytest

from cauce.core.kinesis import StreamReader, put_records
from cauce.localstack.backends import InProcessKinesis, InProcessSqs

REGION = "us-east-1"


def test_records_put_through_either_are_read_alike_through_both(aws):
    client, here = boto3.client("kinesis"), InProcessKinesis(REGION)
    here.create_stream(StreamName="events", ShardCount=2)
    client.put_records(StreamName="events", Records=[{"Data": f"c{n}".encode(), "PartitionKey": f"k{n}"} for n in range(20)])
    put_records(here, "events", [{"Data": f"h{n}".encode(), "PartitionKey": f"k{n}"} for n in range(20)])

    through_client = list(StreamReader(client, "events").read())
    through_here = list(StreamReader(here, "events").read())

    assert len(through_here) == 40
    assert [(shard, r["Data"], r["PartitionKey"], r["SequenceNumber"]) for shard, r in through_here] == \
        [(shard, r["Data"], r["PartitionKey"], r["SequenceNumber"]) for shard, r in through_client]
    for (_, mine), (_, theirs) in zip(through_here, through_client, strict=True):
        assert mine["ApproximateArrivalTimestamp"].tzinfo is not None  # aware, as boto3 gives it
        assert abs(mine["ApproximateArrivalTimestamp"] - theirs["ApproximateArrivalTimestamp"]) < dt.timedelta(milliseconds=1)
    assert sorted(s["ShardId"] for s in client.list_shards(StreamName="events")["Shards"]) == \
        [s["ShardId"] for s in here.list_shards(StreamName="events")["Shards"]]


def test_put_records_answers_with_boto3s_shape(aws):
    here = InProcessKinesis(REGION)
    here.create_stream(StreamName="events", ShardCount=1)
    response = here.put_records(StreamName="events", Records=[{"Data": b"{}", "PartitionKey": "a"}, {"Data": b"[]", "PartitionKey": "b"}])
    assert response["FailedRecordCount"] == 0
    assert [set(r) for r in response["Records"]] == [{"SequenceNumber", "ShardId"}] * 2
    assert boto3.client("kinesis").describe_stream_summary(StreamName="events")["StreamDescriptionSummary"]["StreamName"] == \
        here.describe_stream_summary(StreamName="events")["StreamDescriptionSummary"]["StreamName"]


def test_an_unknown_stream_is_refused_as_kinesis_refuses_it(aws):
    client, here = boto3.client("kinesis"), InProcessKinesis(REGION)
    with pytest.raises(client.exceptions.ResourceNotFoundException) as theirs:
        client.list_shards(StreamName="missing")
    with pytest.raises(Exception) as mine:
        here.list_shards(StreamName="missing")
    assert mine.value.error_type == "ResourceNotFoundException"
    assert mine.value.message == theirs.value.response["Error"]["Message"]  # names the stream and the account


def test_a_message_sent_in_process_is_received_by_a_client(aws):
    sqs = InProcessSqs(REGION, "http://127.0.0.1:4566")
    url = sqs.create_queue(QueueName="failures")["QueueUrl"]
    assert url == "http://127.0.0.1:4566/123456789012/failures"
    assert sqs.get_queue_url(QueueName="failures")["QueueUrl"] == url
    sent = sqs.send_message(QueueUrl=url, MessageBody='{"batch": 1}')

    client = boto3.client("sqs")
    received = client.receive_message(QueueUrl=client.get_queue_url(QueueName="failures")["QueueUrl"])["Messages"]
    assert [(m["MessageId"], m["Body"], m["MD5OfBody"]) for m in received] == [(sent["MessageId"], '{"batch": 1}', sent["MD5OfMessageBody"])]


def test_the_moto_internals_relied_on_keep_their_signatures():
    from moto.kinesis.models import KinesisBackend, Record, Stream
    from moto.sqs.models import Message, SQSBackend

    def parameters(function) -> list[str]:
        return list(inspect.signature(function).parameters)[1:]

    assert parameters(KinesisBackend.create_stream)[:2] == ["stream_name", "shard_count"]
    assert parameters(KinesisBackend.describe_stream) == ["stream_arn", "stream_name"]
    assert parameters(KinesisBackend.get_shard_iterator) == ["stream_arn", "stream_name", "shard_id", "shard_iterator_type",
                                                            "starting_sequence_number", "at_timestamp"]
    assert parameters(KinesisBackend.get_records) == ["stream_arn", "shard_iterator", "limit"]
    assert parameters(KinesisBackend.put_records) == ["stream_arn", "stream_name", "records"]
    assert {"partition_key", "data", "sequence_number", "created_at_datetime"} <= set(vars(Record("k", "e30=", 1, None)))
    assert isinstance(Stream("s", 1, None, None, "123456789012", REGION).shards, dict)
    assert parameters(SQSBackend.create_queue)[0] == "name" and parameters(SQSBackend.get_queue_url) == ["queue_name"]
    assert parameters(SQSBackend.send_message)[:2] == ["queue_name", "message_body"]
    assert isinstance(Message.body_md5, property)
