"""Glue through the endpoint of `cauce up`, with a plain boto3 client: StartJobRun runs the job on
local Spark, StartCrawler runs the crawler, and the catalog the API serves is the one they write.

StartJobRun / GetJobRun and JobRun: https://docs.aws.amazon.com/glue/latest/webapi/API_StartJobRun.html,
https://docs.aws.amazon.com/glue/latest/webapi/API_JobRun.html
StartCrawler / GetCrawler and Crawler (State, LastCrawl): https://docs.aws.amazon.com/glue/latest/webapi/API_Crawler.html
GetTable: https://docs.aws.amazon.com/glue/latest/webapi/API_GetTable.html
"""

from __future__ import annotations

import pytest

from tests.localstack.served import api_client, eventually, stack_server  # noqa: F401 (fixtures)

WRITE_EVENTS = '''
import sys
from awsglue.context import GlueContext
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "day"])
spark = GlueContext(SparkContext.getOrCreate()).spark_session
rows = [("e1", "view", "2026-11-26T10:00:00"), ("e2", "click", "2026-11-26T10:01:00")]
frame = spark.createDataFrame(rows, ["event_id", "event_type", "event_time"])
frame.write.mode("overwrite").json("s3://mi-bucket/raw-data/day=" + args["day"] + "/")
'''


@pytest.fixture(scope="module")
def glue(stack_server, api_client, spark):
    from cauce.etl.runtimes.local import LocalRuntime

    stack_server.bindings._runtime = LocalRuntime(stack_server.lake_dir, spark=spark)  # the test run's one SparkSession
    return api_client("glue")


def script_in_lake(stack_server, key, text):
    path = stack_server.lake_dir / "mi-bucket" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return f"s3://mi-bucket/{key}"


def finished_run(glue, job, run_id):
    return eventually(lambda: glue.get_job_run(JobName=job, RunId=run_id)["JobRun"],
                      lambda r: r["JobRunState"] not in ("STARTING", "RUNNING", "STOPPING", "WAITING"), 120, 0.2)


def test_a_job_created_through_the_api_runs_then_the_crawler_catalogs_its_output(glue, stack_server):
    location = script_in_lake(stack_server, "scripts/write-events.py", WRITE_EVENTS)
    glue.create_job(Name="write-events", Role="arn:aws:iam::123456789012:role/glue",
                    Command={"Name": "glueetl", "ScriptLocation": location, "PythonVersion": "3"}, GlueVersion="5.0")
    run_id = glue.start_job_run(JobName="write-events", Arguments={"--day": "1"})["JobRunId"]
    assert glue.get_job_run(JobName="write-events", RunId=run_id)["JobRun"]["JobRunState"] in ("STARTING", "RUNNING", "SUCCEEDED")
    run = finished_run(glue, "write-events", run_id)
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    assert run["Arguments"] == {"--day": "1"} and run["ExecutionTime"] >= 0 and run["CompletedOn"] >= run["StartedOn"]
    assert [r["Id"] for r in glue.get_job_runs(JobName="write-events")["JobRuns"]] == [run_id]

    glue.start_crawler(Name="raw-data-crawler")  # the stack's crawler: s3://mi-bucket/raw-data/, prefix raw_
    with pytest.raises(glue.exceptions.CrawlerRunningException):
        glue.start_crawler(Name="raw-data-crawler")
    crawler = eventually(lambda: glue.get_crawler(Name="raw-data-crawler")["Crawler"], lambda c: c["State"] == "READY", 120, 0.2)
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED", crawler["LastCrawl"]
    table = glue.get_table(DatabaseName="raw_data", Name="raw_raw_data")["Table"]
    assert table["StorageDescriptor"]["Location"] == "s3://mi-bucket/raw-data/"
    assert {c["Name"] for c in table["StorageDescriptor"]["Columns"]} == {"event_id", "event_type", "event_time"}
    assert [k["Name"] for k in table["PartitionKeys"]] == ["day"]
    partitions = glue.get_partitions(DatabaseName="raw_data", TableName="raw_raw_data")["Partitions"]
    assert [(p["Values"], p["StorageDescriptor"]["Location"]) for p in partitions] == [(["1"], "s3://mi-bucket/raw-data/day=1/")]
    # BatchCreatePartition (API_BatchCreatePartition.html): registered, then listed; a second time, per-partition errors
    day_2 = {"Values": ["2"], "StorageDescriptor": {"Location": "s3://mi-bucket/raw-data/day=2/"}}
    assert "Errors" not in glue.batch_create_partition(DatabaseName="raw_data", TableName="raw_raw_data", PartitionInputList=[day_2])
    assert [p["Values"] for p in glue.get_partitions(DatabaseName="raw_data", TableName="raw_raw_data")["Partitions"]] == [["1"], ["2"]]
    again = glue.batch_create_partition(DatabaseName="raw_data", TableName="raw_raw_data", PartitionInputList=[day_2])
    assert [e["ErrorDetail"]["ErrorCode"] for e in again["Errors"]] == ["AlreadyExistsException"]
    assert "raw_data" in {d["Name"] for d in glue.get_databases()["DatabaseList"]}


def test_a_failing_job_is_failed_with_its_error_and_an_unknown_job_is_refused(glue, stack_server):
    location = script_in_lake(stack_server, "scripts/broken.py", "raise RuntimeError('the source is gone')\n")
    glue.create_job(Name="broken", Role="arn:aws:iam::123456789012:role/glue",
                    Command={"Name": "glueetl", "ScriptLocation": location})
    run = finished_run(glue, "broken", glue.start_job_run(JobName="broken")["JobRunId"])
    assert run["JobRunState"] == "FAILED" and "the source is gone" in run["ErrorMessage"]
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.start_job_run(JobName="no-such-job")
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_table(DatabaseName="raw_data", Name="no_such_table")


def test_a_state_machine_task_runs_the_job_with_start_job_run_sync(glue, stack_server, api_client):
    import json

    location = script_in_lake(stack_server, "scripts/write-events-sync.py", WRITE_EVENTS)
    glue.create_job(Name="write-events-sync", Role="arn:aws:iam::123456789012:role/glue",
                    Command={"Name": "glueetl", "ScriptLocation": location})
    sfn = api_client("stepfunctions")
    definition = {"StartAt": "Run", "States": {"Run": {
        "Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync",
        "Parameters": {"JobName": "write-events-sync", "Arguments": {"--day": "2"}}, "End": True}}}
    machine = sfn.create_state_machine(name="glue-sync", definition=json.dumps(definition),
                                       roleArn="arn:aws:iam::123456789012:role/states")["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    described = eventually(lambda: sfn.describe_execution(executionArn=execution), lambda d: d["status"] != "RUNNING", 120, 0.2)
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])  # the finished JobRun, as Step Functions returns it for .sync
    assert output["JobName"] == "write-events-sync" and output["JobRunState"] == "SUCCEEDED"
    assert (stack_server.lake_dir / "mi-bucket" / "raw-data" / "day=2").is_dir()


def test_a_job_created_with_a_timeout_ends_timeout_past_it(glue, stack_server, monkeypatch):
    # JobRun's JobRunState TIMEOUT: the run went past the job's Timeout (minutes)
    import sys
    import threading
    import types

    from cauce.etl import glue_scripts

    gate = types.ModuleType("cauce_test_gate")
    gate.started = threading.Event()
    monkeypatch.setitem(sys.modules, "cauce_test_gate", gate)
    asked = []

    def deadline_passes_once_started(done, seconds):  # the injected wait: no real minutes go by
        asked.append(seconds)
        assert gate.started.wait(120), "the script did not start"
        return False

    monkeypatch.setattr(glue_scripts, "_wait", deadline_passes_once_started)
    location = script_in_lake(stack_server, "scripts/looping.py", "import cauce_test_gate\ncauce_test_gate.started.set()\nwhile True:\n    pass\n")
    glue.create_job(Name="looping", Role="arn:aws:iam::123456789012:role/glue", Timeout=3, MaxRetries=2,
                    Command={"Name": "glueetl", "ScriptLocation": location}, WorkerType="G.1X", NumberOfWorkers=2)
    run = finished_run(glue, "looping", glue.start_job_run(JobName="looping")["JobRunId"])
    assert (run["JobRunState"], run["ErrorMessage"], run["Attempt"]) == ("TIMEOUT", "RunTimedOut: job looping exceeded its timeout of 3 minute(s)", 0)
    assert asked == [180.0]
