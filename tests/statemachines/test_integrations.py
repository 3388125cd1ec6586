"""Service integrations run locally against moto's backends in process; each test asserts in moto what
the call did. Task tokens and timeouts run in virtual time."""

from __future__ import annotations

import json

import boto3
import pytest

from cauce.statemachines import LocalStepFunctions
from cauce.statemachines.validate import KnownTargets, validate
from tests.stacks import empty_stack

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/cauce-local-states"


def task(resource, parameters, **extra):
    return {"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True, **extra}}}


def client(name):
    return boto3.client(name, region_name=REGION)


@pytest.fixture
def sfn():
    with LocalStepFunctions(stack=empty_stack(), functions={"echo": lambda event, context: {"echo": event}}) as local:
        yield local


def assert_valid(document, functions=("echo",)):
    assert validate(document, KnownTargets(functions=frozenset(functions))) == []


def test_lambda_invoke_result_has_aws_shape(sfn):
    document = task("arn:aws:states:::lambda:invoke", {"FunctionName": "echo", "Payload": {"a": 1}})

    result = sfn.run(document)

    assert set(result.output) == {"ExecutedVersion", "Payload", "SdkHttpMetadata", "SdkResponseMetadata", "StatusCode"}
    assert result.output["Payload"] == {"echo": {"a": 1}} and result.output["StatusCode"] == 200
    assert result.output["ExecutedVersion"] == "$LATEST"
    metadata = result.output["SdkHttpMetadata"]
    assert metadata["HttpStatusCode"] == 200 and metadata["HttpHeaders"]["Content-Type"] == "application/json"
    assert metadata["AllHttpHeaders"]["X-Amz-Executed-Version"] == ["$LATEST"]
    assert result.output["SdkResponseMetadata"]["RequestId"] == metadata["HttpHeaders"]["x-amzn-RequestId"] != ""


def test_sns_publish_reaches_the_topics_subscribers(sfn):
    topic = client("sns").create_topic(Name="orders")["TopicArn"]
    queue = client("sqs").create_queue(QueueName="order-copies")["QueueUrl"]
    queue_arn = client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    document = task("arn:aws:states:::sns:publish", {"TopicArn": topic, "Message.$": "$.order", "Subject": "new order"})
    assert_valid(document)

    result = sfn.run(document, {"order": {"id": 7}})

    assert result.status == "SUCCEEDED", result.cause
    assert "MessageId" in result.output
    messages = client("sqs").receive_message(QueueUrl=queue)["Messages"]
    assert json.loads(messages[0]["Body"]) == {"id": 7}  # an object Message is sent as its JSON text, as on AWS


def test_sqs_send_message_puts_the_message_in_the_queue(sfn):
    queue = client("sqs").create_queue(QueueName="work")["QueueUrl"]
    document = {"QueryLanguage": "JSONata", "StartAt": "Send", "States": {"Send": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": True,
        "Arguments": {"QueueUrl": queue, "MessageBody": {"job": "{% $states.input.job %}"}}}}}
    assert_valid(document)

    result = sfn.run(document, {"job": "resize"})

    assert result.status == "SUCCEEDED", result.cause
    assert set(result.output) >= {"MessageId", "MD5OfMessageBody"}
    messages = client("sqs").receive_message(QueueUrl=queue)["Messages"]
    assert json.loads(messages[0]["Body"]) == {"job": "resize"}


def wait_for_token(queue, **extra):
    return {"StartAt": "Ask", "States": {
        "Ask": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token", "order.$": "$.order"}}, "End": True, **extra}}}


def test_wait_for_task_token_round_trip_through_a_queue_handler(sfn):
    queue = client("sqs").create_queue(QueueName="approvals")["QueueUrl"]
    seen = []

    def approver(event, context):  # a handler on the queue, as Lambda's SQS event source would call it
        for record in event["Records"]:
            body = json.loads(record["body"])
            seen.append(body)
            client("stepfunctions").send_task_success(taskToken=body["token"], output=json.dumps({"approved": body["order"]}))

    sfn.subscribe("approvals", approver)
    document = wait_for_token(queue)
    assert_valid(document)

    result = sfn.run(document, {"order": 42})

    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {"approved": 42}
    assert seen[0]["order"] == 42 and seen[0]["token"] == sfn.task_tokens.waited[0]
    assert client("sqs").receive_message(QueueUrl=queue).get("Messages", []) == []  # delivered and deleted


def test_send_task_failure_from_a_test_fails_the_task_with_its_error(sfn):
    queue = client("sqs").create_queue(QueueName="reviews")["QueueUrl"]
    sfn.on_task_token(lambda token, state: sfn.send_task_failure(token, error="Rejected", cause=f"{state} said no"))

    result = sfn.run(wait_for_token(queue), {"order": 1})

    assert (result.status, result.error, result.cause) == ("FAILED", "Rejected", "Ask said no")
    body = json.loads(client("sqs").receive_message(QueueUrl=queue)["Messages"][0]["Body"])
    assert body["token"] == sfn.task_tokens.waited[0]


def test_no_answer_times_out_in_virtual_time(sfn):
    queue = client("sqs").create_queue(QueueName="nobody")["QueueUrl"]

    result = sfn.run(wait_for_token(queue, TimeoutSeconds=3600), {"order": 1})

    assert (result.status, result.error) == ("FAILED", "States.Timeout")
    assert sfn.clock.skipped_seconds == 3600


def test_timeout_seconds_path_and_heartbeat_timeout(sfn):
    queue = client("sqs").create_queue(QueueName="slow")["QueueUrl"]

    by_path = sfn.run(wait_for_token(queue, TimeoutSecondsPath="$.timeout"), {"order": 1, "timeout": 120})
    assert (by_path.status, by_path.error) == ("FAILED", "States.Timeout")
    assert sfn.clock.waits[-1] == 120

    heartbeat = sfn.run(wait_for_token(queue, TimeoutSeconds=600, HeartbeatSeconds=60), {"order": 1})
    assert (heartbeat.status, heartbeat.error) == ("FAILED", "States.HeartbeatTimeout")
    assert sfn.clock.waits[-1] == 60


def test_lambda_wait_for_task_token_answered_by_the_handler():
    def worker(event, context):
        client("stepfunctions").send_task_success(taskToken=event["token"], output=json.dumps({"done": event["n"] * 2}))
        return None

    document = task("arn:aws:states:::lambda:invoke.waitForTaskToken",
                    {"FunctionName": "worker", "Payload": {"token.$": "$$.Task.Token", "n.$": "$.n"}})
    assert_valid(document, functions=("worker",))
    with LocalStepFunctions(stack=empty_stack(), functions={"worker": worker}) as sfn:
        result = sfn.run(document, {"n": 21})
    assert result.output == {"done": 42}


def test_dynamodb_put_get_update_delete_and_sdk_query(sfn):
    client("dynamodb").create_table(TableName="orders", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                                    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    key = {"pk": {"S": "o-1"}}
    document = {"StartAt": "Put", "States": {
        "Put": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "ResultPath": None, "Next": "Update",
                "Parameters": {"TableName": "orders", "Item": {"pk": {"S": "o-1"}, "total": {"N.$": "States.Format('{}', $.total)"}}}},
        "Update": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:updateItem", "ResultPath": None, "Next": "Get",
                   "Parameters": {"TableName": "orders", "Key": key, "UpdateExpression": "SET #s = :s",
                                  "ExpressionAttributeNames": {"#s": "status"}, "ExpressionAttributeValues": {":s": {"S": "paid"}}}},
        "Get": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem", "ResultPath": "$.got", "Next": "Query",
                "Parameters": {"TableName": "orders", "Key": key}},
        "Query": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:query", "ResultPath": "$.found", "Next": "Delete",
                  "Parameters": {"TableName": "orders", "KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": "o-1"}}}},
        "Delete": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:deleteItem", "ResultPath": None, "End": True,
                   "Parameters": {"TableName": "orders", "Key": {"pk": {"S.$": "$.got.Item.pk.S"}}}},
    }}
    assert_valid(document)

    result = sfn.run(document, {"total": 30})

    assert result.status == "SUCCEEDED", result.cause
    assert result.output["got"]["Item"] == {"pk": {"S": "o-1"}, "total": {"N": "30"}, "status": {"S": "paid"}}
    assert result.output["found"]["Count"] == 1
    assert "Item" not in client("dynamodb").get_item(TableName="orders", Key=key)  # the last state deleted it


def test_eventbridge_put_events_reach_the_bus(sfn):
    events, sqs = client("events"), client("sqs")
    queue = sqs.create_queue(QueueName="order-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="orders", EventPattern=json.dumps({"source": ["shop.orders"]}))
    events.put_targets(Rule="orders", Targets=[{"Id": "q", "Arn": queue_arn}])
    document = task("arn:aws:states:::events:putEvents",
                    {"Entries": [{"Source": "shop.orders", "DetailType": "OrderPlaced", "Detail": {"id.$": "$.id"}}]})
    assert_valid(document)

    result = sfn.run(document, {"id": 9})

    assert result.status == "SUCCEEDED", result.cause
    assert result.output["FailedEntryCount"] == 0
    event = json.loads(sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"])
    assert (event["source"], event["detail-type"], event["detail"]) == ("shop.orders", "OrderPlaced", {"id": 9})


@pytest.mark.parametrize("pattern", ["", ".sync", ".sync:2"])
def test_start_execution_nested_sync_and_sync2(sfn, pattern):
    child = {"StartAt": "Double", "States": {"Double": {"Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"}, "End": True}}}
    child_arn = client("stepfunctions").create_state_machine(name="child", definition=json.dumps(child), roleArn=ROLE)["stateMachineArn"]
    document = task(f"arn:aws:states:::states:startExecution{pattern}", {"StateMachineArn": child_arn, "Input": {"n.$": "$.n"}})
    assert_valid(document)

    result = sfn.run(document, {"n": 4})

    assert result.status == "SUCCEEDED", result.cause
    executions = client("stepfunctions").list_executions(stateMachineArn=child_arn)["executions"]
    assert [e["status"] for e in executions] == ["SUCCEEDED"]
    assert result.output["ExecutionArn"] == executions[0]["executionArn"]
    assert isinstance(result.output["StartDate"], int)  # epoch milliseconds, as Step Functions writes it
    if pattern == ".sync":
        assert json.loads(result.output["Output"]) == {"doubled": 8}  # .sync gives the child's output as JSON text
    elif pattern == ".sync:2":
        assert result.output["Output"] == {"doubled": 8}  # .sync:2 gives it parsed
    else:
        assert "Output" not in result.output


def test_aws_sdk_calls_run_through_boto3_against_moto(sfn):
    client("s3").create_bucket(Bucket="lake")
    document = task("arn:aws:states:::aws-sdk:s3:putObject", {"Bucket": "lake", "Key": "raw/a.json", "Body.$": "$.record"})
    assert_valid(document)

    result = sfn.run(document, {"record": {"a": 1}})

    assert result.status == "SUCCEEDED", result.cause
    assert "ETag" in result.output
    assert json.loads(client("s3").get_object(Bucket="lake", Key="raw/a.json")["Body"].read()) == {"a": 1}


def test_jsonata_task_token_from_the_context_with_heartbeats_then_success(sfn):
    queue = client("sqs").create_queue(QueueName="jsonata-approvals")["QueueUrl"]
    answers = []

    @sfn.on_task_token
    def answer(token, state):
        sfn.send_task_heartbeat(token)
        sfn.send_task_success(token, {"state": state})
        answers.append(token)

    document = {"QueryLanguage": "JSONata", "StartAt": "Ask", "States": {"Ask": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "HeartbeatSeconds": 30, "TimeoutSeconds": 300,
        "Arguments": {"QueueUrl": queue, "MessageBody": {"token": "{% $states.context.Task.Token %}"}},
        "Output": {"answer": "{% $states.result %}"}, "End": True}}}
    assert_valid(document)

    result = sfn.run(document, {})

    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {"answer": {"state": "Ask"}}
    body = json.loads(client("sqs").receive_message(QueueUrl=queue)["Messages"][0]["Body"])
    assert body["token"] == answers[0] and sfn.clock.skipped_seconds == 0


def test_distributed_map_reads_items_from_s3_and_writes_a_manifest(sfn):
    s3 = client("s3")
    s3.create_bucket(Bucket="lake")
    s3.put_object(Bucket="lake", Key="in/rows.csv", Body="id,amount\n1,5\n2,7\n")
    document = {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "MaxConcurrency": 2, "End": True,
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                       "Parameters": {"Bucket": "lake", "Key": "in/rows.csv"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                          "StartAt": "Keep", "States": {"Keep": {"Type": "Pass", "Parameters": {"id.$": "$.id"}, "End": True}}},
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "lake", "Prefix": "out"}}}}}
    assert_valid(document)

    result = sfn.run(document)

    assert result.status == "SUCCEEDED", result.cause
    manifest = result.output["ResultWriterDetails"]
    assert manifest["Bucket"] == "lake" and manifest["Key"].startswith("out/")
    assert s3.get_object(Bucket="lake", Key=manifest["Key"])["ContentLength"] > 0
    listed = sfn.run({"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "End": True, "ItemReader": {"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": {"Bucket": "lake", "Prefix": "in/"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                          "StartAt": "Key", "States": {"Key": {"Type": "Pass", "Parameters": {"key.$": "$.Key"}, "End": True}}}}}})
    assert listed.output == [{"key": "in/rows.csv"}]


def test_with_the_stacks_bindings_a_runs_s3_is_the_lake(tmp_path):
    """`cauce sfn run` binds the stack: its Distributed Map reads items from the lake's files and writes its
    ResultWriter manifest and results into the lake, and an `aws-sdk:s3` Task puts an object there, as
    the same workflow does under `cauce up` (whose S3 is the lake)."""
    from cauce.core.lake import LocalLake
    from cauce.localstack.bindings import StackBindings

    lake = LocalLake(tmp_path / "lake")
    lake.put_object("s3://mi-bucket/in/rows.csv", b"id,amount\n1,5\n2,7\n")
    document = {"StartAt": "Each", "States": {
        "Each": {"Type": "Map", "Next": "Note", "ResultPath": "$.written",
                 "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                                "Parameters": {"Bucket": "mi-bucket", "Key": "in/rows.csv"}},
                 "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                                   "StartAt": "Keep", "States": {"Keep": {"Type": "Pass", "Parameters": {"id.$": "$.id"}, "End": True}}},
                 "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "mi-bucket", "Prefix": "out"}}},
        "Note": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:putObject", "End": True, "ResultPath": "$.note",
                 "Parameters": {"Bucket": "mi-bucket", "Key": "notes/done.txt", "Body": "2 rows"}}}}
    with LocalStepFunctions(stack=empty_stack(), bindings=StackBindings(empty_stack(), lake=lake.root)) as sfn:
        result = sfn.run(document, {}, validate=False)

    assert result.status == "SUCCEEDED", result.cause
    assert "2 rows" in lake.local_path("s3://mi-bucket/notes/done.txt").read_text()
    details = result.output["written"]["ResultWriterDetails"]
    assert details["Bucket"] == "mi-bucket" and details["Key"].startswith("out/") and details["Key"].endswith("manifest.json")
    assert json.loads(lake.local_path(f"s3://mi-bucket/{details['Key']}").read_text())  # the manifest is in the lake


def test_a_distributed_map_reads_an_s3_inventory_manifest_from_the_lake(tmp_path):
    """ItemReader with InputType MANIFEST (Developer Guide, "ItemReader (Map)"): the items are the rows
    of the inventory's CSV files, named by the manifest's fileSchema. The manifest follows S3's
    documented inventory manifest ("Locating your inventory list")."""
    import gzip

    from cauce.core.lake import LocalLake
    from cauce.localstack.bindings import StackBindings

    lake = LocalLake(tmp_path / "lake")
    rows = '"shop-data","orders/2026/11/a.csv","120"\n"shop-data","orders/2026/11/b.csv","80"\n'
    lake.put_object("s3://inventory/shop-data/all/data/part-0.csv.gz", rows.encode())  # the lake gzips a .gz key
    assert gzip.decompress(lake.local_path("s3://inventory/shop-data/all/data/part-0.csv.gz").read_bytes()).decode() == rows
    lake.put_object("s3://inventory/shop-data/all/2026-11-30T01-00Z/manifest.json", json.dumps({
        "sourceBucket": "shop-data", "destinationBucket": "arn:aws:s3:::inventory", "version": "2016-11-30",
        "creationTimestamp": "1796000000000", "fileFormat": "CSV", "fileSchema": "Bucket, Key, Size",
        "files": [{"key": "shop-data/all/data/part-0.csv.gz", "size": 60, "MD5checksum": "x"}]}).encode())
    document = {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "End": True,
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "MANIFEST"},
                       "Parameters": {"Bucket": "inventory", "Key": "shop-data/all/2026-11-30T01-00Z/manifest.json"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                          "StartAt": "Keep", "States": {"Keep": {"Type": "Pass", "Parameters": {"key.$": "$.Key", "size.$": "$.Size"},
                                                                 "End": True}}}}}}
    assert_valid(document)
    with LocalStepFunctions(stack=empty_stack(), bindings=StackBindings(empty_stack(), lake=lake.root)) as sfn:
        result = sfn.run(document, {})
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == [{"key": "orders/2026/11/a.csv", "size": "120"}, {"key": "orders/2026/11/b.csv", "size": "80"}]
