"""Expiring records every consumer has read (cauce.localstack.kinesis), and the moto internals it
relies on: `Shard.records` is an ordered dict by integer sequence number, the next record is
numbered from the newest one kept, and moto tracks every Record in `Record.instances_tracked`."""

from __future__ import annotations

import boto3
from moto.kinesis.models import kinesis_backends

from cauce.core.kinesis import StreamReader
from cauce.localstack.kinesis import expire_read_records


def put(kinesis, count: int, start: int = 0) -> None:
    kinesis.put_records(StreamName="events", Records=[{"Data": str(n).encode(), "PartitionKey": "k"} for n in range(start, start + count)])


def held() -> list[int]:
    shard = next(iter(kinesis_backends["123456789012"]["us-east-1"].streams["events"].shards.values()))
    return list(shard.records)


def test_records_expire_once_every_consumer_has_read_them_and_numbering_continues(aws):
    kinesis = boto3.client("kinesis")
    kinesis.create_stream(StreamName="events", ShardCount=1)
    fast, slow = StreamReader(kinesis, "events"), StreamReader(kinesis, "events")
    put(kinesis, 10)

    assert [r["Data"] for _, r in fast.read()] == [str(n).encode() for n in range(10)]
    assert expire_read_records("events", [fast.last_sequence, slow.last_sequence], "us-east-1") == 0  # slow has read nothing
    assert [r["Data"] for _, r in slow.read()][:4] == [b"0", b"1", b"2", b"3"]

    from moto.kinesis.models import Record

    shard = next(iter(kinesis_backends["123456789012"]["us-east-1"].streams["events"].shards.values()))
    before = {id(record) for record in shard.records.values()}
    assert before <= {id(record) for record in Record.instances_tracked}  # moto keeps every record it creates
    assert expire_read_records("events", [fast.last_sequence, slow.last_sequence], "us-east-1") == 9
    assert held() == [10]  # the newest record stays: moto numbers the next one from it
    tracked = {id(record) for record in Record.instances_tracked}
    assert len(before & tracked) == 1  # moto's instance tracking lets the expired ones go

    put(kinesis, 5, start=10)
    assert held() == [10, 11, 12, 13, 14, 15]
    assert [r["Data"] for _, r in fast.read()] == [b"10", b"11", b"12", b"13", b"14"]
    late = StreamReader(kinesis, "events")  # a new consumer starts at the oldest record kept (TRIM_HORIZON)
    assert [r["Data"] for _, r in late.read()][0] == b"9"
