"""Step Functions through the endpoint of `cauce up`, with a plain boto3 client: executions run on
the server (in real time, compressed here by CAUCE_TIME_SCALE=0.01), with histories true to the run.

StartExecution: https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
DescribeExecution: https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html
GetExecutionHistory / HistoryEvent: https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html
JSONata in ASL: https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html
"""

from __future__ import annotations

import json
import time

from tests.localstack.served import api_client, create_zip_function, eventually, stack_server  # noqa: F401 (fixtures)

ROLE = "arn:aws:iam::123456789012:role/states"


def run(sfn, name, definition, execution_input=None, seconds=20.0):
    machine = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps(execution_input or {}))["executionArn"]
    described = eventually(lambda: sfn.describe_execution(executionArn=execution), lambda d: d["status"] != "RUNNING", seconds)
    return machine, execution, described


def test_pass_choice_wait_succeed_runs_to_succeeded_with_its_history(api_client):
    sfn = api_client("stepfunctions")
    definition = {"StartAt": "Prepare", "States": {
        "Prepare": {"Type": "Pass", "Result": {"size": 3}, "ResultPath": "$.prepared", "Next": "Big?"},
        "Big?": {"Type": "Choice", "Choices": [{"Variable": "$.prepared.size", "NumericGreaterThan": 2, "Next": "Pause"}],
                 "Default": "Small"},
        "Small": {"Type": "Fail", "Error": "TooSmall"},
        "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Done"},
        "Done": {"Type": "Succeed"}}}
    machine, execution, described = run(sfn, "pass-choice-wait", definition, {"order": 1})
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"order": 1, "prepared": {"size": 3}}
    events = sfn.get_execution_history(executionArn=execution)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]
    assert entered == ["Prepare", "Big?", "Pause", "Done"]
    assert events[0]["type"] == "ExecutionStarted" and events[-1]["type"] == "ExecutionSucceeded"
    wait_entered = next(e for e in events if e["type"] == "WaitStateEntered")["timestamp"]
    wait_exited = next(e for e in events if e["type"] == "WaitStateExited")["timestamp"]
    assert 0.04 <= (wait_exited - wait_entered).total_seconds() < 2  # it waited 5 s x CAUCE_TIME_SCALE (0.01)
    listed = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert [(e["executionArn"], e["status"]) for e in listed] == [(execution, "SUCCEEDED")]
    again = sfn.start_execution(stateMachineArn=machine)["executionArn"]  # no name: Step Functions gives it a UUID
    assert again != execution and len(again.rsplit(":", 1)[-1]) == 36


def test_a_failing_execution_is_failed_in_its_description_and_history(api_client):
    sfn = api_client("stepfunctions")
    definition = {"StartAt": "Nope", "States": {"Nope": {"Type": "Fail", "Error": "Broken", "Cause": "on purpose"}}}
    _machine, execution, described = run(sfn, "always-fails", definition)
    assert (described["status"], described["error"], described["cause"]) == ("FAILED", "Broken", "on purpose")
    assert sfn.get_execution_history(executionArn=execution)["events"][-1]["type"] == "ExecutionFailed"


def test_a_distributed_map_with_an_item_batcher_and_a_failure_threshold_runs_as_on_aws(api_client):
    """ItemBatcher ("ItemBatcher (Map)") and ToleratedFailureCount, which moto's grammar and interpreter lack."""
    sfn = api_client("stepfunctions")
    each = {"Type": "Map", "ItemsPath": "$.items", "End": True, "ItemBatcher": {"MaxItemsPerBatch": 2}, "ToleratedFailurePercentage": 50,
            "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "Size", "States": {
                "Size": {"Type": "Pass", "Parameters": {"n.$": "States.ArrayLength($.Items)"}, "End": True}}}}
    _machine, _execution, described = run(sfn, "batched", {"StartAt": "Each", "States": {"Each": each}}, {"items": [1, 2, 3]})
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == [{"n": 2}, {"n": 1}]


def test_a_jsonata_state_machine_runs(api_client):
    sfn = api_client("stepfunctions")
    definition = {"QueryLanguage": "JSONata", "StartAt": "Total", "States": {
        "Total": {"Type": "Pass", "Output": {"total": "{% $sum($states.input.items.price) %}",
                                             "names": "{% $states.input.items.name %}"}, "End": True}}}
    _machine, _execution, described = run(sfn, "jsonata-total", definition,
                                           {"items": [{"name": "a", "price": 2}, {"name": "b", "price": 5}]})
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"total": 7, "names": ["a", "b"]}


def test_a_task_calls_a_function_created_from_a_zip_and_a_retry_waits(api_client):
    code = '''
import os
def handler(event, context):
    marker = os.path.join("/tmp", "cauce-flaky-" + event["run"])
    if not os.path.exists(marker):  # fails on the first attempt, succeeds on the retry
        open(marker, "w").close()
        raise RuntimeError("first attempt")
    return {"greeting": "hello " + event["who"]}
'''
    create_zip_function(api_client, "zip-flaky", code)
    sfn = api_client("stepfunctions")
    definition = {"StartAt": "Greet", "States": {"Greet": {
        "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:zip-flaky",
        "Retry": [{"ErrorEquals": ["RuntimeError"], "IntervalSeconds": 2, "MaxAttempts": 2}], "End": True}}}
    _machine, execution, described = run(sfn, "zip-task", definition, {"who": "world", "run": str(time.time_ns())})
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"greeting": "hello world"}
    kinds = [e["type"] for e in sfn.get_execution_history(executionArn=execution)["events"]]
    assert kinds.count("LambdaFunctionScheduled") == 2 and "LambdaFunctionFailed" in kinds and "LambdaFunctionSucceeded" in kinds


def test_the_stacks_state_machines_are_there_and_a_stopped_execution_is_aborted(api_client):
    sfn = api_client("stepfunctions")
    assert "etl-workflow" in {m["name"] for m in sfn.list_state_machines()["stateMachines"]}
    definition = {"StartAt": "Long", "States": {"Long": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    machine = sfn.create_state_machine(name="long-wait", definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    sfn.stop_execution(executionArn=execution, error="Enough", cause="test")
    described = eventually(lambda: sfn.describe_execution(executionArn=execution), lambda d: d["status"] != "RUNNING")
    assert described["status"] == "ABORTED"
    assert sfn.get_execution_history(executionArn=execution)["events"][-1]["type"] == "ExecutionAborted"


def test_a_lambda_invoke_task_runs_the_stacks_handler_in_process(api_client):
    sfn = api_client("stepfunctions")
    definition = {"StartAt": "Report", "States": {"Report": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:data-processor",
                       "Payload": {"operation": "process-results"}},
        "OutputPath": "$.Payload", "End": True}}}
    _machine, _execution, described = run(sfn, "stack-handler-task", definition)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"])["status"] == "NO_JOB_RUN"
