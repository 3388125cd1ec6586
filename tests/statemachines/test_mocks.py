"""Step Functions Local's mock configuration format: the example from AWS's documentation runs unchanged."""

from __future__ import annotations

import json

import boto3
import pytest
from click.testing import CliRunner

from cauce.statemachines import LocalStepFunctions, StateMachineDefinition
from cauce.statemachines.mocks import MockConfigError, load_mock_config
from tests.stacks import empty_stack

# "Mocked service integration configuration file", docs.aws.amazon.com/step-functions/latest/dg/sfn-local-mock-cfg-file.html
MOCK_CONFIG = {
    "StateMachines": {"LambdaSQSIntegration": {"TestCases": {
        "HappyPath": {"LambdaState": "MockedLambdaSuccess", "SQSState": "MockedSQSSuccess"},
        "RetryPath": {"LambdaState": "MockedLambdaRetry", "SQSState": "MockedSQSSuccess"},
        "HybridPath": {"LambdaState": "MockedLambdaSuccess"}}}},
    "MockedResponses": {
        "MockedLambdaSuccess": {"0": {"Return": {"StatusCode": 200, "Payload": {"StatusCode": 200, "body": "Hello from Lambda!"}}}},
        "LambdaMockedResourceNotReady": {"0": {"Throw": {"Error": "Lambda.ResourceNotReadyException", "Cause": "Lambda resource is not ready."}}},
        "MockedSQSSuccess": {"0": {"Return": {"MD5OfMessageBody": "3bcb6e8e-7h85-4375-b0bc-1a59812c6e51",
                                              "MessageId": "3bcb6e8e-8b51-4375-b0bc-1a59812c6e51"}}},
        "MockedLambdaRetry": {
            "0": {"Throw": {"Error": "Lambda.ResourceNotReadyException", "Cause": "Lambda resource is not ready."}},
            "1-2": {"Throw": {"Error": "Lambda.TimeoutException", "Cause": "Lambda timed out."}},
            "3": {"Return": {"StatusCode": 200, "Payload": {"StatusCode": 200, "body": "Hello from Lambda!"}}}},
    },
}
# the state machine the same guide's "Using mocked service integrations for testing in Step Functions Local" mocks
# (docs.aws.amazon.com/step-functions/latest/dg/sfn-local-test-sm-exec.html)
LAMBDA_SQS_INTEGRATION = {
    "Comment": "This state machine is called: LambdaSQSIntegration",
    "StartAt": "LambdaState",
    "States": {
        "LambdaState": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                        "Parameters": {"Payload.$": "$", "FunctionName": "HelloWorldFunction"},
                        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2}],
                        "Next": "SQSState"},
        "SQSState": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
                     "Parameters": {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/myQueue", "MessageBody.$": "$"},
                     "End": True},
    },
}
DEFINITION = StateMachineDefinition("LambdaSQSIntegration", "STANDARD", LAMBDA_SQS_INTEGRATION, "LambdaSQSIntegration")
SQS_RESULT = {"MD5OfMessageBody": "3bcb6e8e-7h85-4375-b0bc-1a59812c6e51", "MessageId": "3bcb6e8e-8b51-4375-b0bc-1a59812c6e51"}


def test_happy_path_takes_both_mocked_responses():
    with LocalStepFunctions(stack=empty_stack(), mock_config=MOCK_CONFIG) as sfn:
        result = sfn.run(DEFINITION, {"a": 1}, test_case="HappyPath")
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == SQS_RESULT
    assert sfn.lambda_calls == []  # mocked: no handler ran


def test_retry_path_plays_the_responses_by_attempt_in_virtual_time():
    with LocalStepFunctions(stack=empty_stack(), mock_config=MOCK_CONFIG) as sfn:
        result = sfn.run(DEFINITION, {"a": 1}, test_case="RetryPath")
    assert result.status == "SUCCEEDED", result.cause
    lambda_state = result.row("LambdaState")
    assert (lambda_state.attempts, lambda_state.error) == (4, "Lambda.TimeoutException")
    assert sfn.clock.waits == [2.0, 4.0, 8.0]


def test_hybrid_path_runs_the_unmocked_state_for_real():
    with LocalStepFunctions(stack=empty_stack(), mock_config=MOCK_CONFIG) as sfn:
        queue = boto3.client("sqs", region_name="us-east-1").create_queue(QueueName="myQueue")["QueueUrl"]
        result = sfn.run(DEFINITION, {"a": 1}, test_case="HybridPath")
        message = boto3.client("sqs", region_name="us-east-1").receive_message(QueueUrl=queue)["Messages"][0]
    assert result.status == "SUCCEEDED", result.cause
    # the real SendMessage sent the mocked Lambda's result, the state's input
    assert json.loads(message["Body"])["Payload"] == {"StatusCode": 200, "body": "Hello from Lambda!"}


@pytest.mark.parametrize("change, expected", [
    (lambda c: c["StateMachines"]["LambdaSQSIntegration"]["TestCases"]["HappyPath"].update(SQSState="Nope"),
     "TestCases.HappyPath.SQSState: no mocked response 'Nope'"),
    (lambda c: c["MockedResponses"]["MockedLambdaRetry"].pop("1-2"), "Inconsistent event numbering"),
    (lambda c: c["MockedResponses"]["MockedSQSSuccess"]["0"].update(Throw={"Error": "x"}), "exactly one of Return"),
])
def test_a_broken_mock_file_is_refused_naming_where(change, expected):
    config = json.loads(json.dumps(MOCK_CONFIG))
    change(config)
    with pytest.raises(MockConfigError, match=expected):
        load_mock_config(config).test_case("LambdaSQSIntegration", "HappyPath" if "SQSState" in expected or "Return" in expected else "RetryPath")


def test_unknown_machine_or_case_names_what_there_is():
    config = load_mock_config(MOCK_CONFIG)
    with pytest.raises(MockConfigError, match="it has: HappyPath, HybridPath, RetryPath"):
        config.test_case("LambdaSQSIntegration", "SadPath")


def test_cauce_sfn_run_with_a_mock_file_from_the_environment(tmp_path, monkeypatch):
    from cauce.cli import cli

    workflow = tmp_path / "LambdaSQSIntegration.asl.json"
    workflow.write_text(json.dumps(LAMBDA_SQS_INTEGRATION))
    mock_file = tmp_path / "MockConfigFile.json"
    mock_file.write_text(json.dumps(MOCK_CONFIG))
    monkeypatch.setenv("SFN_MOCK_CONFIG", str(mock_file))

    result = CliRunner().invoke(cli, ["sfn", "run", str(workflow), "--test-case", "RetryPath", "--json"])

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["output"] == SQS_RESULT and document["history"][0]["attempts"] == 4
