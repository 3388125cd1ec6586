"""Lambda through the endpoint of `cauce up`, with a plain boto3 client: Invoke of the stack's handler
(in process) and of functions created from a zip (in a worker process), as AWS documents them.

Invoke: https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
Error shape of the Python runtime: https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html
Destinations: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.localstack.served import api_client, create_zip_function, eventually, lambda_role, stack_server, zip_of  # noqa: F401 (fixtures)

BOOM = '''
def handler(event, context):
    print("about to fail")
    raise ValueError("boom: " + str(event.get("n")))
'''


def test_invoke_runs_the_stacks_handler_in_process_with_lambdas_answer(api_client):
    lam = api_client("lambda")
    answer = lam.invoke(FunctionName="data-processor", Payload=json.dumps({"operation": "process-results"}), LogType="Tail")
    assert answer["StatusCode"] == 200 and "FunctionError" not in answer
    assert answer["ExecutedVersion"] == "$LATEST"
    assert json.loads(answer["Payload"].read())["status"] == "NO_JOB_RUN"
    log = base64.b64decode(answer["LogResult"]).decode()  # the tail of the log, as CloudWatch has it
    assert log.startswith("START RequestId: ") and "END RequestId: " in log and "REPORT RequestId: " in log

    # a handler's exception: status 200, FunctionError Unhandled, the error shape as the payload
    failed = lam.invoke(FunctionName="data-processor", Payload=json.dumps({"operation": "no-such-operation"}))
    assert failed["StatusCode"] == 200 and failed["FunctionError"] == "Unhandled"
    assert {"errorMessage", "errorType", "stackTrace"} <= set(json.loads(failed["Payload"].read()))

    # the stack's functions are listed and described beside the API's
    assert "data-processor" in {f["FunctionName"] for f in lam.list_functions()["Functions"]}
    assert lam.get_function(FunctionName="data-processor")["Configuration"]["Handler"] == "cauce.handlers.data_processor.handler"


def test_invoke_refuses_an_unknown_function_and_a_payload_that_is_not_json(api_client):
    lam = api_client("lambda")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="no-such-function", Payload=b"{}")
    with pytest.raises(ClientError) as refused:
        lam.invoke(FunctionName="data-processor", Payload=b"not json")
    assert refused.value.response["Error"]["Code"] == "InvalidRequestContentException"
    assert lam.invoke(FunctionName="data-processor", InvocationType="DryRun")["StatusCode"] == 204


def test_a_function_created_from_a_zip_runs_in_a_worker_with_its_environment(api_client, stack_server):
    lam = api_client("lambda")
    code = '''
import importlib.util, os, sys
import boto3
def handler(event, context):
    print("hello from the zip")
    return {"doubled": event["n"] * 2, "stage": os.environ["STAGE"], "remaining": context.get_remaining_time_in_millis() > 0,
            "sys_path": sys.path, "task_root": os.environ["LAMBDA_TASK_ROOT"], "project_importable": importlib.util.find_spec("tests") is not None,
            "streams": boto3.client("kinesis").list_streams()["StreamNames"], "pid": os.getpid()}
'''
    created = create_zip_function(api_client, "zip-doubler", code, Environment={"Variables": {"STAGE": "test"}}, Timeout=10)
    assert created["State"] == "Active"
    answer = lam.invoke(FunctionName="zip-doubler", Payload=json.dumps({"n": 21}), LogType="Tail")
    result = json.loads(answer["Payload"].read())
    assert result["doubled"] == 42 and result["stage"] == "test" and result["remaining"]
    # the zip's code and the interpreter's libraries, not the project's code (the working folder here)
    assert result["sys_path"][0] == result["task_root"] and result["task_root"].startswith(str(stack_server.state_dir))
    assert result["project_importable"] is False
    assert str(Path.cwd()) not in result["sys_path"]
    assert "data-ingestion-stream" in result["streams"]  # its boto3 reaches the stack
    assert "hello from the zip" in base64.b64decode(answer["LogResult"]).decode()
    again = json.loads(lam.invoke(FunctionName="zip-doubler", Payload=json.dumps({"n": 1}))["Payload"].read())
    assert again["pid"] == result["pid"]  # one long-lived worker
    # the stack's bindings reach it too (a Firehose processor, a Task given its ARN)
    assert stack_server.bindings.handler_for("zip-doubler")({"n": 2}, None)["doubled"] == 4


def test_a_raising_zip_function_answers_lambdas_error_shape(api_client):
    create_zip_function(api_client, "zip-boom", BOOM)
    answer = api_client("lambda").invoke(FunctionName="zip-boom", Payload=json.dumps({"n": 7}), LogType="Tail")
    assert answer["StatusCode"] == 200 and answer["FunctionError"] == "Unhandled"
    error = json.loads(answer["Payload"].read())
    assert error["errorType"] == "ValueError" and error["errorMessage"] == "boom: 7"
    assert any('app.py' in frame and "raise ValueError" in frame for frame in error["stackTrace"])
    log = base64.b64decode(answer["LogResult"]).decode()
    assert "about to fail" in log and "[ERROR] ValueError: boom: 7" in log


def test_a_zip_function_past_its_timeout_is_stopped_and_its_worker_restarted(api_client):
    code = '''
import time
def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return "done"
'''
    create_zip_function(api_client, "zip-slow", code, Timeout=1)
    lam = api_client("lambda")
    timed_out = lam.invoke(FunctionName="zip-slow", Payload=json.dumps({"sleep": 5}))
    assert timed_out["FunctionError"] == "Unhandled"
    error = json.loads(timed_out["Payload"].read())
    assert error["errorType"] == "Sandbox.Timedout" and "Task timed out after 1.00 seconds" in error["errorMessage"]
    assert json.loads(lam.invoke(FunctionName="zip-slow", Payload=b"{}")["Payload"].read()) == "done"


def test_an_import_error_is_reported_as_lambda_reports_it(api_client):
    created = api_client("lambda").create_function(
        FunctionName="zip-missing-module", Runtime="python3.12", Role=lambda_role(api_client), Handler="nowhere.handler",
        Code={"ZipFile": zip_of({"app.py": "x = 1"})})
    assert created["FunctionName"] == "zip-missing-module"
    error = json.loads(api_client("lambda").invoke(FunctionName="zip-missing-module", Payload=b"{}")["Payload"].read())
    assert error["errorType"] == "Runtime.ImportModuleError" and "nowhere" in error["errorMessage"]


def test_an_event_invocation_that_keeps_failing_goes_to_the_on_failure_destination(api_client):
    sqs = api_client("sqs")
    queue = sqs.create_queue(QueueName="zip-boom-failures")["QueueUrl"]
    create_zip_function(api_client, "zip-boom-async", BOOM)
    lam = api_client("lambda")
    lam.put_function_event_invoke_config(FunctionName="zip-boom-async", MaximumRetryAttempts=1,
                                         DestinationConfig={"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:zip-boom-failures"}})
    accepted = lam.invoke(FunctionName="zip-boom-async", InvocationType="Event", Payload=json.dumps({"n": 3}))
    assert accepted["StatusCode"] == 202
    messages = eventually(lambda: sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0).get("Messages", []), bool)
    record = json.loads(messages[0]["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2  # the first attempt and one retry
    assert record["requestPayload"] == {"n": 3}
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorMessage"] == "boom: 3"


def test_an_event_source_mapping_created_through_the_api_invokes_the_function_with_batches(api_client, stack_server):
    kinesis = api_client("kinesis")
    kinesis.create_stream(StreamName="api-mapped", ShardCount=1)
    code = '''
import base64, json
def handler(event, context):
    import boto3
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName="mapped-seen")["QueueUrl"]
    for record in event["Records"]:
        sqs.send_message(QueueUrl=url, MessageBody=base64.b64decode(record["kinesis"]["data"]).decode())
'''
    sqs = api_client("sqs")
    seen = sqs.create_queue(QueueName="mapped-seen")["QueueUrl"]
    create_zip_function(api_client, "zip-mapped", code)
    stream_arn = kinesis.describe_stream(StreamName="api-mapped")["StreamDescription"]["StreamARN"]
    mapping = api_client("lambda").create_event_source_mapping(EventSourceArn=stream_arn, FunctionName="zip-mapped",
                                                               StartingPosition="TRIM_HORIZON", BatchSize=10)
    for i in range(3):
        kinesis.put_record(StreamName="api-mapped", Data=json.dumps({"i": i}).encode(), PartitionKey="p")
    stack_server.step()  # what the server's poll loop does every second
    bodies = sorted(m["Body"] for m in sqs.receive_message(QueueUrl=seen, MaxNumberOfMessages=10).get("Messages", []))
    assert bodies == [json.dumps({"i": i}) for i in range(3)]
    api_client("lambda").delete_event_source_mapping(UUID=mapping["UUID"])
    assert all(key != mapping["UUID"] for key, _ in stack_server.mappings)


def test_update_function_code_is_what_the_next_invocation_runs(api_client):
    lam = api_client("lambda")
    create_zip_function(api_client, "zip-versioned", "def handler(event, context):\n    return 'one'\n")
    assert json.loads(lam.invoke(FunctionName="zip-versioned")["Payload"].read()) == "one"
    lam.update_function_code(FunctionName="zip-versioned", ZipFile=zip_of({"app.py": "def handler(event, context):\n    return 'two'\n"}))
    assert json.loads(lam.invoke(FunctionName="zip-versioned")["Payload"].read()) == "two"
    lam.delete_function(FunctionName="zip-versioned")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="zip-versioned")


def test_a_stack_functions_event_invoke_config_routes_its_failures(api_client):
    lam, sqs = api_client("lambda"), api_client("sqs")
    queue = sqs.create_queue(QueueName="data-processor-failures")["QueueUrl"]
    destination = {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:data-processor-failures"}}
    lam.put_function_event_invoke_config(FunctionName="data-processor", MaximumRetryAttempts=0, DestinationConfig=destination)
    assert lam.get_function_event_invoke_config(FunctionName="data-processor")["DestinationConfig"] == destination
    lam.invoke(FunctionName="data-processor", InvocationType="Event", Payload=json.dumps({"operation": "no-such-operation"}))
    messages = eventually(lambda: sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0).get("Messages", []), bool)
    record = json.loads(messages[0]["Body"])
    assert record["requestContext"]["approximateInvokeCount"] == 1 and record["requestPayload"] == {"operation": "no-such-operation"}
    lam.delete_function_event_invoke_config(FunctionName="data-processor")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function_event_invoke_config(FunctionName="data-processor")
