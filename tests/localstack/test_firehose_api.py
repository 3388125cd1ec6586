"""Firehose through the endpoint: the stack's delivery streams and those a plain boto3 client creates
deliver through the one emulation, into the lake that S3 through the endpoint lists. A LocalStackServer
runs in this process; its loop is driven with `step()` and the API deliveries' clock moved by hand."""

from __future__ import annotations

import base64
import gzip
import json
import time

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.moto_api._internal.models import moto_api_backend

from cauce.core.aws import ENVIRONMENT
from cauce.core.stack import load_stack
from cauce.localstack.control import _free_port
from cauce.localstack.server import LocalStackServer

PROCESSOR = "arn:aws:lambda:us-east-1:123456789012:function:data-processor"  # the stack's handler (lambda_config)


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def server(tmp_path, monkeypatch):
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    state = tmp_path / "stack"
    state.mkdir()
    server = LocalStackServer(load_stack(None), state, _free_port())
    server.start()
    server.firehose.clock = clock = Clock()
    server.clock = clock
    yield server
    server.apps = []  # no analytics app has records here: do not start Spark to emit nothing
    server.stop()
    moto_api_backend.reset()  # moto's backends are this process's: the next server starts from nothing


def client(server, service):
    return boto3.client(service, region_name="us-east-1", endpoint_url=server.endpoint,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def code(raised) -> str:
    return raised.value.response["Error"]["Code"]


def objects(s3, bucket, prefix):
    """{key: lines} of every object under the prefix, through the S3 API (gunzipped when the key says .gz)."""
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            found[item["Key"]] = (gzip.decompress(body) if item["Key"].endswith(".gz") else body).splitlines()
    return found


def test_the_stacks_delivery_stream_is_listed_described_and_refuses_direct_puts(server):
    firehose = client(server, "firehose")
    assert firehose.list_delivery_streams()["DeliveryStreamNames"] == ["s3-data-delivery"]
    # DescribeDeliveryStream: the source, and the destination with its buffering hints, compression and processor
    described = firehose.describe_delivery_stream(DeliveryStreamName="s3-data-delivery")["DeliveryStreamDescription"]
    assert (described["DeliveryStreamStatus"], described["DeliveryStreamType"]) == ("ACTIVE", "KinesisStreamAsSource")
    assert described["Source"]["KinesisStreamSourceDescription"]["KinesisStreamARN"].endswith(":stream/data-ingestion-stream")
    destination = described["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert destination["BucketARN"] == "arn:aws:s3:::mi-bucket"
    assert (destination["BufferingHints"], destination["CompressionFormat"]) == ({"SizeInMBs": 5, "IntervalInSeconds": 300}, "GZIP")
    assert destination["Prefix"] == "raw-data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/"
    assert destination["ErrorOutputPrefix"].startswith("errors/!{firehose:error-output-type}/")
    assert destination["ProcessingConfiguration"]["Processors"][0]["Parameters"][0]["ParameterName"] == "LambdaArn"
    # PutRecord: a stream whose source is a Kinesis stream takes no direct puts
    with pytest.raises(ClientError) as refused:
        firehose.put_record(DeliveryStreamName="s3-data-delivery", Record={"Data": b"{}"})
    assert code(refused) == "InvalidArgumentException"
    assert refused.value.response["Error"]["Message"] == "This operation is not permitted on KinesisStreamAsSource delivery stream type."
    with pytest.raises(ClientError) as missing:
        firehose.describe_delivery_stream(DeliveryStreamName="missing")
    assert (code(missing), missing.value.response["Error"]["Message"]) == (
        "ResourceNotFoundException", "Firehose missing under account 123456789012 not found.")
    assert "mi-bucket" in [b["Name"] for b in client(server, "s3").list_buckets()["Buckets"]]  # the lake bucket, a folder


def test_the_stacks_delivery_is_listed_by_a_client_and_a_clients_object_is_in_the_lake(server):
    kinesis, s3 = client(server, "kinesis"), client(server, "s3")
    kinesis.put_records(StreamName="data-ingestion-stream", Records=[
        {"Data": json.dumps({"event_id": f"e{i}", "event_type": "view", "event_time": "2026-11-26T10:00:00"}).encode(),
         "PartitionKey": str(i)} for i in range(20)])
    server.step()
    [(delivery, _reader)] = [(d, r) for d, r in server.deliveries if d.name == "s3-data-delivery"]
    delivery.flush()  # as at its buffer interval, or at `cauce down`
    delivered = objects(s3, "mi-bucket", "raw-data/")
    assert sum(len(lines) for lines in delivered.values()) == 20 and all(key.endswith(".gz") for key in delivered)
    s3.put_object(Bucket="mi-bucket", Key="reference/currency.csv", Body=b"code,rate\nEUR,1.0\n")
    assert (server.lake_dir / "mi-bucket" / "reference" / "currency.csv").read_bytes() == b"code,rate\nEUR,1.0\n"


def test_a_kinesis_source_stream_created_through_the_api_delivers_buffered_gzipped_with_failed_records_listed(server):
    kinesis, firehose, s3 = client(server, "kinesis"), client(server, "firehose"), client(server, "s3")
    kinesis.create_stream(StreamName="clicks", ShardCount=2)
    kinesis.put_record(StreamName="clicks", Data=b'{"before": "creation"}', PartitionKey="p")  # Firehose reads from LATEST
    created = firehose.create_delivery_stream(
        DeliveryStreamName="clicks-to-lake", DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={"KinesisStreamARN": "arn:aws:kinesis:us-east-1:123456789012:stream/clicks",
                                          "RoleARN": "arn:aws:iam::123456789012:role/firehose"},
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/firehose", "BucketARN": "arn:aws:s3:::mi-bucket",
            "Prefix": "clicks/year=!{timestamp:yyyy}/", "ErrorOutputPrefix": "clicks-errors/!{firehose:error-output-type}/",
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 60}, "CompressionFormat": "GZIP",
            "ProcessingConfiguration": {"Enabled": True, "Processors": [
                {"Type": "Lambda", "Parameters": [{"ParameterName": "LambdaArn", "ParameterValue": PROCESSOR}]}]}})
    assert created["DeliveryStreamARN"].endswith(":deliverystream/clicks-to-lake")
    assert firehose.describe_delivery_stream(DeliveryStreamName="clicks-to-lake")["DeliveryStreamDescription"]["DeliveryStreamStatus"] == "ACTIVE"

    started = time.perf_counter()
    records = [{"Data": (b"not json %d" % i) if i % 10 == 0 else json.dumps(
        {"event_id": f"e{i}", "event_type": "click", "event_time": "2026-11-26T10:00:00"}).encode(), "PartitionKey": str(i)}
        for i in range(2000)]
    for chunk in range(0, 2000, 500):
        kinesis.put_records(StreamName="clicks", Records=records[chunk:chunk + 500])
    server.step()
    # Buffering hints: under 1 MB and before 60 s nothing is delivered
    assert s3.list_objects_v2(Bucket="mi-bucket", Prefix="clicks")["KeyCount"] == 0
    server.clock.now += 60
    server.step()
    elapsed = time.perf_counter() - started

    delivered = objects(s3, "mi-bucket", "clicks/")
    failed = objects(s3, "mi-bucket", "clicks-errors/processing-failed/")
    assert delivered and all(key.endswith(".gz") and "/clicks-to-lake-1-" in key for key in delivered)
    assert sum(len(lines) for lines in delivered.values()) == 1800
    # Data transformation failure handling: each failed record in Firehose's error format, the raw data base64
    errors = [json.loads(line) for lines in failed.values() for line in lines]
    assert len(errors) == 200 and {(e["errorCode"], e["lambdaArn"]) for e in errors} == {("Lambda.ProcessingFailedStatus", PROCESSOR)}
    assert sorted(base64.b64decode(e["rawData"]) for e in errors)[0].startswith(b"not json")
    status = json.loads((server.state_dir / "status.json").read_text())["firehose"]["clicks-to-lake"]
    assert (status["records_in"], status["delivered"], status["processing_failed"], status["buffered"]) == (2000, 1800, 200, 0)
    print(f"2,000 records through Kinesis, the processor and GZIP delivery: {elapsed:.2f} s")
    assert elapsed < 20, f"2,000 records took {elapsed:.1f} s"


def test_a_direct_put_stream_with_a_function_bound_later_delivers_by_size_and_on_delete(server):
    firehose, s3 = client(server, "firehose"), client(server, "s3")
    firehose.create_delivery_stream(
        DeliveryStreamName="direct", DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/firehose", "BucketARN": "arn:aws:s3:::landing",
            "Prefix": "upper/", "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 300},
            "ProcessingConfiguration": {"Enabled": True, "Processors": [{"Type": "Lambda", "Parameters": [
                {"ParameterName": "LambdaArn", "ParameterValue": "arn:aws:lambda:us-east-1:123456789012:function:upper:$LATEST"}]}]}})

    def upper(event, context):  # as a function created through the Lambda API is bound: after the stream exists
        return {"records": [{"recordId": r["recordId"], "result": "Ok",
                             "data": base64.b64encode(base64.b64decode(r["data"]).upper()).decode()} for r in event["records"]]}

    server.bindings.bind_function("upper", upper)
    assert firehose.list_delivery_streams(DeliveryStreamType="DirectPut")["DeliveryStreamNames"] == ["direct"]
    batch = firehose.put_record_batch(DeliveryStreamName="direct", Records=[{"Data": b"a" * 600_000}, {"Data": b"b" * 600_000}])
    assert batch["FailedPutCount"] == 0 and len(batch["RequestResponses"]) == 2
    [(key, [body])] = objects(s3, "landing", "upper/").items()  # 1.2 MB > the 1 MB hint: delivered at once
    assert body == b"A" * 600_000 + b"B" * 600_000 and not key.endswith(".gz")

    firehose.put_record(DeliveryStreamName="direct", Record={"Data": b"last\n"})
    firehose.delete_delivery_stream(DeliveryStreamName="direct")  # what was accepted is delivered first
    assert sorted(b"".join(lines) for lines in objects(s3, "landing", "upper/").values())[-1] == b"LAST"
    assert firehose.list_delivery_streams()["DeliveryStreamNames"] == ["s3-data-delivery"]
    with pytest.raises(ClientError) as gone:
        firehose.put_record(DeliveryStreamName="direct", Record={"Data": b"x"})
    assert code(gone) == "ResourceNotFoundException"


def test_a_stream_created_through_the_api_partitions_by_inline_jq_parsing(server):
    """The MetadataExtraction processor (Firehose: "Partition streaming data with inline parsing")."""
    firehose, s3 = client(server, "firehose"), client(server, "s3")
    firehose.create_delivery_stream(
        DeliveryStreamName="by-customer", DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/firehose", "BucketARN": "arn:aws:s3:::landing",
            "Prefix": "customers/customer=!{partitionKeyFromQuery:customer}/", "ErrorOutputPrefix": "failed/!{firehose:error-output-type}/",
            "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 300},
            "DynamicPartitioningConfiguration": {"Enabled": True},
            "ProcessingConfiguration": {"Enabled": True, "Processors": [
                {"Type": "MetadataExtraction", "Parameters": [{"ParameterName": "MetadataExtractionQuery", "ParameterValue": "{customer:.customer}"},
                                                              {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"}]},
                {"Type": "AppendDelimiterToRecord", "Parameters": []}]}})
    firehose.put_record_batch(DeliveryStreamName="by-customer", Records=[{"Data": b'{"customer": "c1"}'}, {"Data": b'{"customer": "c2"}'},
                                                                         {"Data": b"no json"}])
    firehose.delete_delivery_stream(DeliveryStreamName="by-customer")  # delivers what is buffered
    assert sorted(objects(s3, "landing", "customers/")) and sorted(key.split("/")[1] for key in objects(s3, "landing", "customers/")) == [
        "customer=c1", "customer=c2"]
    assert [key.split("/")[1] for key in objects(s3, "landing", "failed/")] == ["partitioning-failed"]


def test_create_delivery_stream_refuses_as_the_api_reference_says(server):
    firehose = client(server, "firehose")
    destination = {"RoleARN": "arn:aws:iam::123456789012:role/r", "BucketARN": "arn:aws:s3:::mi-bucket"}
    firehose.create_delivery_stream(DeliveryStreamName="once", ExtendedS3DestinationConfiguration=destination)
    with pytest.raises(ClientError) as twice:
        firehose.create_delivery_stream(DeliveryStreamName="once", ExtendedS3DestinationConfiguration=destination)
    assert code(twice) == "ResourceInUseException" and "once" in twice.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as no_stream:
        firehose.create_delivery_stream(DeliveryStreamName="from-nothing", DeliveryStreamType="KinesisStreamAsSource",
                                        KinesisStreamSourceConfiguration={"KinesisStreamARN": "arn:aws:kinesis:us-east-1:123456789012:stream/none",
                                                                          "RoleARN": "arn:aws:iam::123456789012:role/r"},
                                        ExtendedS3DestinationConfiguration=destination)
    assert code(no_stream) == "InvalidArgumentException"
    with pytest.raises(ClientError) as redshift:
        firehose.create_delivery_stream(DeliveryStreamName="to-redshift", RedshiftDestinationConfiguration={
            "RoleARN": "r", "ClusterJDBCURL": "jdbc:redshift://x", "CopyCommand": {"DataTableName": "t"},
            "S3Configuration": destination})
    assert code(redshift) == "InvalidArgumentException"
    with pytest.raises(ClientError) as too_many:  # PutRecordBatch: at most 500 records per call
        firehose.put_record_batch(DeliveryStreamName="once", Records=[{"Data": b"x"}] * 501)
    assert code(too_many) in ("ValidationException", "InvalidArgumentException")
    assert firehose.list_delivery_streams()["DeliveryStreamNames"] == ["once", "s3-data-delivery"]  # refusals create nothing
