"""A plain boto3 client of `cauce up`, with no Cauce import: what any AWS client would do.

    python plain_boto3_scenario.py ENDPOINT   -> prints one JSON document of what it saw

A Kinesis stream; a Lambda function created from a zip; a Firehose delivery stream created through
the API, reading the stream through that function (GZIP, 1 MB / 5 s buffering hints; the function's
own buffer has Firehose's defaults, 1 MB / 60 s); 2,000
records, 10% of them not JSON; a state machine Pass -> Choice -> Wait 5 s -> Succeed; the stack's
Glue job through StartJobRun on input a client put; the stack's crawler through StartCrawler.
The processor follows the record transformation contract of the Firehose Developer Guide
("Transform source data in Amazon Data Firehose"): recordId, result, base64 data.
"""

from __future__ import annotations

import gzip
import io
import json
import sys
import time
import zipfile

import boto3

PROCESSOR = '''
import base64, json

def handler(event, context):
    results = []
    for record in event["records"]:
        raw = base64.b64decode(record["data"])
        try:
            line = json.dumps(json.loads(raw)) + "\\n"
        except ValueError:
            results.append({"recordId": record["recordId"], "result": "ProcessingFailed", "data": record["data"]})
            continue
        results.append({"recordId": record["recordId"], "result": "Ok", "data": base64.b64encode(line.encode()).decode()})
    return {"records": results}
'''
MACHINE = {"StartAt": "Start", "States": {
    "Start": {"Type": "Pass", "Result": {"ready": True}, "Next": "Ready?"},
    "Ready?": {"Type": "Choice", "Choices": [{"Variable": "$.ready", "BooleanEquals": True, "Next": "Pause"}], "Default": "Failed"},
    "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Done"},
    "Done": {"Type": "Succeed"},
    "Failed": {"Type": "Fail", "Error": "NotReady"},
}}
RECORDS, NOT_JSON_EVERY = 2_000, 10
BUCKET, ROLE_POLICY = "acceptance-lake", json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com", "firehose.amazonaws.com"]}, "Action": "sts:AssumeRole"}]})


def until(what, check, seconds=120.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


def listing(s3, prefix):
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return keys


def lines(s3, keys):
    body = b""
    for key in keys:
        data = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        body += gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    return body.splitlines()


def main(endpoint: str) -> dict:
    client = lambda service: boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",  # noqa: E731
                                          aws_access_key_id="testing", aws_secret_access_key="testing")
    seen: dict = {}
    kinesis, s3, iam, lam, firehose = client("kinesis"), client("s3"), client("iam"), client("lambda"), client("firehose")
    kinesis.create_stream(StreamName="clicks", ShardCount=1)
    stream_arn = kinesis.describe_stream_summary(StreamName="clicks")["StreamDescriptionSummary"]["StreamARN"]
    s3.create_bucket(Bucket=BUCKET)
    role = iam.create_role(RoleName="acceptance", AssumeRolePolicyDocument=ROLE_POLICY)["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("processor.py", PROCESSOR)
    function = lam.create_function(FunctionName="click-processor", Runtime="python3.12", Role=role, Handler="processor.handler",
                                   Code={"ZipFile": archive.getvalue()}, Timeout=30)["FunctionArn"]
    firehose.create_delivery_stream(
        DeliveryStreamName="clicks-to-lake", DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={"KinesisStreamARN": stream_arn, "RoleARN": role},
        ExtendedS3DestinationConfiguration={
            "RoleARN": role, "BucketARN": f"arn:aws:s3:::{BUCKET}", "Prefix": "clicks/", "ErrorOutputPrefix": "clicks-errors/!{firehose:error-output-type}/",
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 5}, "CompressionFormat": "GZIP",
            "ProcessingConfiguration": {"Enabled": True, "Processors": [
                {"Type": "Lambda", "Parameters": [{"ParameterName": "LambdaArn", "ParameterValue": function}]}]}})
    seen["firehose_hints"] = firehose.describe_delivery_stream(DeliveryStreamName="clicks-to-lake")["DeliveryStreamDescription"][
        "Destinations"][0]["ExtendedS3DestinationDescription"]["BufferingHints"]

    started = time.monotonic()
    records = [(b"not json %d" % i) if i % NOT_JSON_EVERY == 0 else json.dumps({"click": i, "page": "p" * 700}).encode()
               for i in range(RECORDS)]
    for first in range(0, RECORDS, 500):
        kinesis.put_records(StreamName="clicks", Records=[{"Data": data, "PartitionKey": str(first + n)}
                                                          for n, data in enumerate(records[first:first + 500])])
    first_objects = until("the first delivery (1 MB buffer full)", lambda: listing(s3, "clicks/"))
    seen["first_delivery_seconds"] = round(time.monotonic() - started, 2)
    seen["delivered_before_the_interval"] = len(lines(s3, first_objects))
    # the rest waits for the processor's 60 s buffer interval (its default, and its minimum), then the 5 s one
    delivered = until("everything delivered", lambda: (keys := listing(s3, "clicks/")) and len(
        lines(s3, keys)) + len(lines(s3, listing(s3, "clicks-errors/"))) >= RECORDS and keys, seconds=180)
    firehose.delete_delivery_stream(DeliveryStreamName="clicks-to-lake")
    failed = listing(s3, "clicks-errors/")
    seen.update(delivered_objects=delivered, failed_objects=failed, delivered_lines=len(lines(s3, delivered)),
                failed_lines=len(lines(s3, failed)), gzip=all(s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()[:2] == b"\x1f\x8b"
                                                               for k in delivered + failed),
                failed_codes=sorted({json.loads(line)["errorCode"] for line in lines(s3, failed)}),
                firehose_seconds=round(time.monotonic() - started, 2))

    sfn = client("stepfunctions")
    machine = sfn.create_state_machine(name="pass-choice-wait", definition=json.dumps(MACHINE), roleArn=role)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    described = until("the execution to end", lambda: (d := sfn.describe_execution(executionArn=execution))["status"] != "RUNNING" and d)
    history = sfn.get_execution_history(executionArn=execution)["events"]
    seen.update(execution_status=described["status"], execution_states=[e["stateEnteredEventDetails"]["name"] for e in history
                                                                         if "stateEnteredEventDetails" in e])

    events = "".join(json.dumps({"event_id": f"e{i}", "event_type": "click", "user_id": f"u{i % 7}", "amount": 1.5, "currency": "eur",
                                 "event_time": "2026-11-26T10:00:00Z"}) + "\n" for i in range(50))
    s3.put_object(Bucket="mi-bucket", Key="raw-data/2026/11/26/events.json", Body=events.encode())  # read by the job
    glue = client("glue")
    run_id = glue.start_job_run(JobName="etl-proceso-principal")["JobRunId"]
    run = until("the job run to end", lambda: (r := glue.get_job_run(JobName="etl-proceso-principal", RunId=run_id)["JobRun"])[
        "JobRunState"] in ("SUCCEEDED", "FAILED", "TIMEOUT", "ERROR") and r, seconds=300)
    seen.update(job_state=run["JobRunState"], job_error=run.get("ErrorMessage"),
                curated_objects=len([k for k in listing_of(s3, "mi-bucket", "curated/events/") if k.endswith(".parquet")]))
    glue.start_crawler(Name="raw-data-crawler")
    until("the crawler to start", lambda: glue.get_crawler(Name="raw-data-crawler")["Crawler"].get("LastCrawl") or
          glue.get_crawler(Name="raw-data-crawler")["Crawler"]["State"] != "READY", seconds=60)
    crawler = until("the crawler to finish", lambda: (c := glue.get_crawler(Name="raw-data-crawler")["Crawler"])["State"] == "READY"
                    and c.get("LastCrawl") and c, seconds=300)
    table = glue.get_table(DatabaseName="raw_data", Name="raw_raw_data")["Table"]
    seen.update(crawl_status=crawler["LastCrawl"]["Status"], table_location=table["StorageDescriptor"]["Location"],
                table_columns=sorted(c["Name"] for c in table["StorageDescriptor"]["Columns"]))
    seen["cauce_imported"] = any(name == "cauce" or name.startswith("cauce.") for name in sys.modules)
    return seen


def listing_of(s3, bucket, prefix):
    return [item["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", [])]


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
