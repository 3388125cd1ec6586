from __future__ import annotations

import base64
import hashlib

import pytest
from aws_kinesis_agg.aggregator import RecordAggregator
from aws_kinesis_agg.deaggregator import deaggregate_records

from cauce.core.kpl import MAGIC, KplFormatError, aggregate, deaggregate, is_aggregated


def test_reads_what_aws_kpl_aggregator_writes():
    aggregator = RecordAggregator()
    expected = [(f"pk-{i % 3}", f'{{"n": {i}}}'.encode() * (i + 1)) for i in range(25)]
    for key, data in expected:
        aggregator.add_user_record(key, data)
    _, _, blob = aggregator.clear_and_get().get_contents()

    records = deaggregate(blob)

    assert [(r.partition_key, r.data) for r in records] == expected
    assert [r.subsequence_number for r in records] == list(range(25))
    assert all(r.aggregated for r in records)


def test_aws_deaggregator_reads_what_we_write():
    pairs = [("a", b"one"), ("b", b"two"), ("a", b"")]
    blob = aggregate(pairs)
    event_record = {"kinesis": {"data": base64.b64encode(blob).decode(), "partitionKey": "x",
                                "sequenceNumber": "1", "kinesisSchemaVersion": "1.0",
                                "approximateArrivalTimestamp": 1.0}}
    unpacked = deaggregate_records([event_record])
    decoded = [(r["kinesis"]["partitionKey"], base64.b64decode(r["kinesis"]["data"])) for r in unpacked]
    assert decoded == pairs


def test_plain_data_is_one_record_with_its_partition_key():
    [record] = deaggregate(b'{"a": 1}', partition_key="pk")
    assert (record.data, record.partition_key, record.aggregated) == (b'{"a": 1}', "pk", False)


def test_magic_with_a_wrong_checksum_is_plain_data_as_in_the_kcl():
    blob = bytearray(aggregate([("a", b"x")]))
    blob[-1] ^= 0xFF
    assert not is_aggregated(bytes(blob))
    [record] = deaggregate(bytes(blob))
    assert record.data == bytes(blob)


def test_malformed_body_with_a_valid_checksum_is_an_error_naming_the_problem():
    body = b"\x1a\x05\x08\x07\x1a\x01x"  # a record pointing at partition key 7 of an empty table
    blob = MAGIC + body + hashlib.md5(body).digest()
    with pytest.raises(KplFormatError, match="partition key index 7"):
        deaggregate(blob)
    truncated = MAGIC + b"\x1a\x40" + hashlib.md5(b"\x1a\x40").digest()
    with pytest.raises(KplFormatError, match="runs past the end"):
        deaggregate(truncated)
