"""Firehose delivery emulation: buffering hints, the Lambda processor's results, prefixes, GZIP,
error output and backup, against the local lake; every record accounted for."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import pytest

from cauce.localstack.firehose import FirehoseConfigError, FirehoseDelivery
from cauce.handlers import Drop, Failed, Ok, firehose_transform


class Clock:
    def __init__(self, start: float = 1_795_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now


def config(**overrides):
    return {"name": "s3-data-delivery", "buffer_size": 1, "buffer_interval": 60, "compression_format": "UNCOMPRESSED",
            "prefix": "raw-data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/", "s3_backup_mode": "Disabled",
            "error_output_prefix": "errors/!{firehose:error-output-type}/!{timestamp:yyyy}/",
            "processing_configuration": {"enabled": False, "processors": []}, **overrides}


def objects(lake, prefix):
    root = lake.local_path(f"s3://mi-bucket/{prefix}")
    found = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found[str(path.relative_to(lake.local_path("s3://mi-bucket/")))] = gzip.decompress(data) if path.suffix == ".gz" else data
    return found


ARRIVAL = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.timezone.utc)


def test_buffers_until_the_interval_then_delivers_one_object_per_prefix(cauce_lake):
    clock = Clock()
    firehose = FirehoseDelivery(config(), cauce_lake, clock=clock)
    firehose.put_records([b'{"a":1}\n', b'{"a":2}\n'], arrival=ARRIVAL)

    firehose.tick()
    assert objects(cauce_lake, "raw-data/") == {}  # under 1 MB and under 60 s: still buffered
    clock.now += 60
    firehose.tick()

    [(key, body)] = objects(cauce_lake, "raw-data/").items()
    assert key.startswith("raw-data/year=2026/month=11/s3-data-delivery-1-") and body == b'{"a":1}\n{"a":2}\n'
    assert firehose.stats.reconciles() and firehose.stats.delivered == 2


def test_a_full_buffer_delivers_at_once_and_gzip_is_honoured(cauce_lake):
    firehose = FirehoseDelivery(config(compression_format="GZIP"), cauce_lake, clock=Clock())
    firehose.put_records([b"x" * 600_000, b"y" * 600_000], arrival=ARRIVAL)  # 1.2 MB > 1 MB buffer

    [(key, body)] = objects(cauce_lake, "raw-data/").items()
    assert key.endswith(".gz") and len(body) == 1_200_000


def test_the_processors_results_deliver_drop_and_fail_records_with_firehoses_error_format(cauce_lake):
    @firehose_transform(service="firehose-emulation-test")
    def transform(event):
        if event.get("kind") == "noise":
            return Drop("noise")
        if event.get("kind") == "bad":
            return Failed("bad kind")
        return Ok(event, partition_keys={"kind": event["kind"]})

    processing = {"enabled": True, "processors": [{"type": "Lambda", "parameters": [{"parameter_name": "LambdaArn", "parameter_value": "x"}]}]}
    firehose = FirehoseDelivery(config(processing_configuration=processing, prefix="curated/kind=!{partitionKeyFromLambda:kind}/"),
                                cauce_lake, transform=transform, clock=Clock())
    firehose.put_records([json.dumps({"kind": k}).encode() for k in ("view", "noise", "bad", "click", "view")], arrival=ARRIVAL)
    firehose.flush()

    delivered = objects(cauce_lake, "curated/")
    assert sorted(k.split("/")[1] for k in delivered) == ["kind=click", "kind=view"]
    assert sum(body.count(b"\n") for body in delivered.values()) == 3
    [(error_key, error_body)] = objects(cauce_lake, "errors/").items()
    assert error_key.startswith("errors/processing-failed/2026/")
    error = json.loads(error_body)
    assert error["errorCode"] == "Lambda.ProcessingFailedStatus" and json.loads(base64_decode(error["rawData"])) == {"kind": "bad"}
    stats = firehose.stats
    assert (stats.delivered, stats.dropped, stats.processing_failed) == (3, 1, 1) and stats.reconciles()


def base64_decode(text: str) -> bytes:
    import base64

    return base64.b64decode(text)


@pytest.mark.reliability
def test_a_processor_that_keeps_failing_is_retried_then_its_records_go_to_the_error_prefix(cauce_lake):
    calls = []

    def broken(event, context):
        calls.append(len(event["records"]))
        raise RuntimeError("downstream is down")

    processing = {"enabled": True, "processors": []}
    firehose = FirehoseDelivery(config(processing_configuration=processing), cauce_lake, transform=broken, clock=Clock())
    firehose.put_records([b"1", b"2"], arrival=ARRIVAL)
    firehose.flush()

    assert calls == [2, 2, 2, 2]  # the invocation and 3 retries
    [(key, body)] = objects(cauce_lake, "errors/").items()
    errors = [json.loads(line) for line in body.splitlines()]
    assert [e["errorCode"] for e in errors] == ["Lambda.FunctionError"] * 2 and "downstream is down" in errors[0]["errorMessage"]
    assert [e["attemptsMade"] for e in errors] == [4, 4]
    assert firehose.stats.processing_failed == 2 and firehose.stats.reconciles()


def test_backup_keeps_the_source_records_and_the_processor_sees_1_mb_invocations(cauce_lake):
    sizes = []

    def passthrough(event, context):
        sizes.append(len(event["records"]))
        return {"records": [{"recordId": r["recordId"], "result": "Ok", "data": r["data"]} for r in event["records"]]}

    processing = {"enabled": True, "processors": []}
    firehose = FirehoseDelivery(config(processing_configuration=processing, s3_backup_mode="Enabled", buffer_size=5), cauce_lake,
                                transform=passthrough, clock=Clock())
    firehose.put_records([b"r" * 400_000] * 5, arrival=ARRIVAL)
    firehose.flush()

    assert sum(sizes) == 5 and max(sizes) <= 2  # every record, at most 1 MB an invocation (BufferSizeInMBs default)
    assert sum(len(b) for b in objects(cauce_lake, "backup/s3-data-delivery/").values()) == 2_000_000
    assert sum(len(b) for b in objects(cauce_lake, "raw-data/").values()) == 2_000_000


def test_a_missing_partition_key_sends_the_record_to_partitioning_failed(cauce_lake):
    def no_keys(event, context):
        return {"records": [{"recordId": r["recordId"], "result": "Ok", "data": r["data"]} for r in event["records"]]}

    processing = {"enabled": True, "processors": []}
    firehose = FirehoseDelivery(config(processing_configuration=processing, prefix="p/!{partitionKeyFromLambda:customer}/"), cauce_lake,
                                transform=no_keys, clock=Clock())
    firehose.put_records([b"a"], arrival=ARRIVAL)
    firehose.flush()

    assert list(objects(cauce_lake, "errors/"))[0].startswith("errors/partitioning-failed/")
    assert firehose.stats.partitioning_failed == 1 and firehose.stats.reconciles()


def test_processing_without_a_bound_handler_is_refused():
    with pytest.raises(FirehoseConfigError, match="no transform handler is bound"):
        FirehoseDelivery(config(processing_configuration={"enabled": True, "processors": []}), lake=None)


def test_the_processors_number_of_retries_is_honoured_and_attempts_are_counted(cauce_lake):
    """Firehose's processor parameter NumberOfRetries (API reference: ProcessorParameter); a record the
    function itself marks ProcessingFailed took one attempt."""
    calls = []

    def flaky(event, context):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("cold start failed")
        return {"records": [{"recordId": r["recordId"], "result": "ProcessingFailed", "data": r["data"]} for r in event["records"]]}

    processing = {"enabled": True, "processors": [{"type": "Lambda", "parameters": [
        {"parameter_name": "LambdaArn", "parameter_value": "arn:aws:lambda:us-east-1:123456789012:function:transform"},
        {"parameter_name": "NumberOfRetries", "parameter_value": "1"}]}]}
    firehose = FirehoseDelivery(config(processing_configuration=processing), cauce_lake, transform=flaky, clock=Clock())
    firehose.put_records([b"1"], arrival=ARRIVAL)
    firehose.flush()
    [error] = [json.loads(line) for body in objects(cauce_lake, "errors/").values() for line in body.splitlines()]
    assert len(calls) == 2 and error["attemptsMade"] == 2
    assert error["lambdaArn"] == "arn:aws:lambda:us-east-1:123456789012:function:transform"

    calls.clear()
    never = FirehoseDelivery(config(name="never", processing_configuration={"enabled": True, "processors": [{"type": "Lambda", "parameters": [
        {"parameter_name": "NumberOfRetries", "parameter_value": "0"}]}]}), cauce_lake, transform=lambda e, c: calls.append(1) or 1 / 0,
        clock=Clock())
    never.put_records([b"1"], arrival=ARRIVAL)
    never.flush()
    assert calls == [1] and never.stats.processing_failed == 1  # no retry at all


def test_the_processor_has_its_own_buffer_interval_before_the_destinations(cauce_lake):
    """Firehose's processor parameters BufferSizeInMBs and BufferIntervalInSeconds (API reference:
    ProcessorParameter): records wait for the Lambda processor until either is reached, then the
    processed records wait for the destination's own hints."""
    calls = []

    def passthrough(event, context):
        calls.append(len(event["records"]))
        return {"records": [{"recordId": r["recordId"], "result": "Ok", "data": r["data"]} for r in event["records"]]}

    processing = {"enabled": True, "processors": [{"type": "Lambda", "parameters": [
        {"parameter_name": "LambdaArn", "parameter_value": "arn:aws:lambda:us-east-1:123456789012:function:transform"},
        {"parameter_name": "BufferIntervalInSeconds", "parameter_value": "120"}]}]}
    clock = Clock()
    firehose = FirehoseDelivery(config(processing_configuration=processing, buffer_interval=300), cauce_lake, transform=passthrough,
                                clock=clock)
    firehose.put_records([b"a\n", b"b\n"], arrival=ARRIVAL)
    clock.now += 119
    firehose.tick()
    assert calls == []  # the processor's 120 s have not passed
    clock.now += 1
    firehose.tick()
    assert calls == [2] and objects(cauce_lake, "raw-data/") == {}  # processed; the destination's 300 s have not passed
    clock.now += 180
    firehose.tick()
    assert list(objects(cauce_lake, "raw-data/").values()) == [b"a\nb\n"] and firehose.stats.reconciles()


def test_an_objects_timestamp_is_its_oldest_records_arrival(cauce_lake):
    """Firehose, "Custom prefixes for Amazon S3 objects": the timestamp namespace evaluates the approximate
    arrival timestamp of the oldest record in the object, every use of it the same instant."""
    firehose = FirehoseDelivery(config(prefix="raw/!{timestamp:yyyy-MM-dd}/!{timestamp:HH}/!{firehose:random-string}/"), cauce_lake,
                                clock=Clock())
    firehose.put(b"late\n", dt.datetime(2026, 11, 26, 23, 59, 59, tzinfo=dt.timezone.utc))
    firehose.put(b"next day\n", dt.datetime(2026, 11, 27, 0, 0, 1, tzinfo=dt.timezone.utc))
    firehose.flush()
    [(key, body)] = objects(cauce_lake, "raw/").items()
    assert key.startswith("raw/2026-11-26/23/") and body == b"late\nnext day\n"  # one object, under its oldest record's hour
    random_string = key.split("/")[3]
    assert len(random_string) == 11


def test_the_backup_is_gzip_whatever_the_destinations_compression(cauce_lake):
    """infra/firehose.tf configures s3_backup_configuration with compression_format GZIP."""
    firehose = FirehoseDelivery(config(s3_backup_mode="Enabled", compression_format="UNCOMPRESSED"), cauce_lake, clock=Clock())
    firehose.put_records([b"a\n"], arrival=ARRIVAL)
    firehose.flush()
    backup = [p for p in cauce_lake.local_path("s3://mi-bucket/backup/").rglob("*") if p.is_file()]
    delivered = [p for p in cauce_lake.local_path("s3://mi-bucket/raw-data/").rglob("*") if p.is_file()]
    assert [p.suffix for p in backup] == [".gz"] and gzip.decompress(backup[0].read_bytes()) == b"a\n"
    assert [p.suffix for p in delivered] == [""]


def test_dynamic_partitioning_by_inline_jq_parsing(cauce_lake):
    """Firehose Developer Guide, "Partition streaming data with inline parsing": the MetadataExtraction
    processor's JQ query (JsonParsingEngine JQ-1.6) gives the keys of !{partitionKeyFromQuery:...}; a
    record it cannot read goes to the error prefix as partitioning-failed."""
    processing = {"enabled": True, "processors": [
        {"type": "MetadataExtraction", "parameters": [
            {"parameter_name": "MetadataExtractionQuery", "parameter_value": "{customer_id:.customer_id, device:.type.device}"},
            {"parameter_name": "JsonParsingEngine", "parameter_value": "JQ-1.6"}]},
        {"type": "AppendDelimiterToRecord", "parameters": []}]}
    firehose = FirehoseDelivery(config(processing_configuration=processing, buffer_size=64,
                                       prefix="by/customer_id=!{partitionKeyFromQuery:customer_id}/device=!{partitionKeyFromQuery:device}/"),
                                cauce_lake, clock=Clock())
    firehose.put_records([json.dumps({"customer_id": "c1", "type": {"device": "mobile"}}).encode(),
                          json.dumps({"customer_id": "c2", "type": {"device": "web"}}).encode(),
                          json.dumps({"customer_id": "c1", "type": {"device": "mobile"}}).encode(),
                          json.dumps({"customer_id": "c3"}).encode(),  # no device: the key is missing
                          b"not json"], arrival=ARRIVAL)
    firehose.flush()

    delivered = objects(cauce_lake, "by/")
    assert sorted("/".join(key.split("/")[1:3]) for key in delivered) == ["customer_id=c1/device=mobile", "customer_id=c2/device=web"]
    assert [body.count(b"\n") for _, body in sorted(delivered.items())] == [2, 1]  # one record a line (AppendDelimiterToRecord)
    errors = [json.loads(line) for body in objects(cauce_lake, "errors/partitioning-failed/").values() for line in body.splitlines()]
    assert sorted(e["errorCode"] for e in errors) == ["DynamicPartitioning.MetadataExtractionFailed", "DynamicPartitioning.MissingKey"]
    assert (firehose.stats.delivered, firehose.stats.partitioning_failed) == (3, 2) and firehose.stats.reconciles()


def test_a_query_prefix_without_a_query_or_a_query_that_is_no_jq_is_refused_by_name(cauce_lake):
    with pytest.raises(FirehoseConfigError, match="no MetadataExtraction processor gives a MetadataExtractionQuery"):
        FirehoseDelivery(config(prefix="raw/!{partitionKeyFromQuery:customer}/"), cauce_lake, clock=Clock())
    broken = {"enabled": True, "processors": [{"type": "MetadataExtraction", "parameters": [
        {"parameter_name": "MetadataExtractionQuery", "parameter_value": "{customer:.customer"}]}]}
    with pytest.raises(FirehoseConfigError, match="is not valid JQ"):
        FirehoseDelivery(config(processing_configuration=broken, prefix="raw/!{partitionKeyFromQuery:customer}/"), cauce_lake, clock=Clock())
