"""One-state tests shaped like AWS's TestState API: status, output, error and next state of one state."""

from __future__ import annotations

import pytest

from cauce.statemachines import LocalStepFunctions
from tests.stacks import empty_stack

LAMBDA = "arn:aws:states:::lambda:invoke"
ORDER_FLOW = {"StartAt": "Charge", "States": {
    "Charge": {"Type": "Task", "Resource": LAMBDA, "Parameters": {"FunctionName": "charge", "Payload.$": "$"},
               "ResultSelector": {"charged.$": "$.Payload.ok"}, "ResultPath": "$.charge", "Next": "Paid?",
               "Retry": [{"ErrorEquals": ["Card.Timeout"], "MaxAttempts": 2}],
               "Catch": [{"ErrorEquals": ["Card.Declined"], "ResultPath": "$.error", "Next": "Declined"}]},
    "Paid?": {"Type": "Choice", "Choices": [{"Variable": "$.charge.charged", "BooleanEquals": True, "Next": "Ship"}], "Default": "Declined"},
    "Ship": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": {"ship": "{% $states.input.id %}", "by": "{% $carrier %}"}, "End": True},
    "Declined": {"Type": "Fail", "Error": "Order.Declined"},
}}


@pytest.fixture
def sfn():
    with LocalStepFunctions(stack=empty_stack(), functions={"charge": lambda event, context: {"ok": event["amount"] < 100}}) as local:
        yield local


def test_a_task_with_a_mocked_result_goes_on_to_its_next_state(sfn):
    outcome = sfn.test_state(ORDER_FLOW, "Charge", {"id": 1, "amount": 5}, mock={"result": {"Payload": {"ok": True}}})
    assert (outcome.status, outcome.next_state) == ("SUCCEEDED", "Paid?")
    assert outcome.output == {"id": 1, "amount": 5, "charge": {"charged": True}}
    assert sfn.lambda_calls == []  # mocked


def test_without_a_mock_the_task_calls_its_handler(sfn):
    outcome = sfn.test_state(ORDER_FLOW, "Charge", {"id": 1, "amount": 500})
    assert outcome.output["charge"] == {"charged": False}
    assert [call.function for call in sfn.lambda_calls] == ["charge"]


def test_a_mocked_error_is_caught_or_retriable(sfn):
    caught = sfn.test_state(ORDER_FLOW, "Charge", {"id": 1}, mock={"errorOutput": {"error": "Card.Declined", "cause": "no funds"}})
    assert (caught.status, caught.next_state, caught.error) == ("CAUGHT_ERROR", "Declined", "Card.Declined")
    assert caught.output["error"] == {"Error": "Card.Declined", "Cause": "no funds"}

    retriable = sfn.test_state(ORDER_FLOW, "Charge", {"id": 1}, mock={"errorOutput": {"error": "Card.Timeout", "cause": "slow"}})
    assert (retriable.status, retriable.error, retriable.next_state) == ("RETRIABLE", "Card.Timeout", None)

    failed = sfn.test_state(ORDER_FLOW, "Charge", {"id": 1}, mock={"errorOutput": {"error": "Other", "cause": "?"}})
    assert (failed.status, failed.error, failed.cause) == ("FAILED", "Other", "?")


def test_a_choice_names_the_branch_and_a_jsonata_pass_sees_given_variables(sfn):
    choice = sfn.test_state(ORDER_FLOW, "Paid?", {"charge": {"charged": False}})
    assert (choice.status, choice.next_state) == ("SUCCEEDED", "Declined")

    ship = sfn.test_state(ORDER_FLOW, "Ship", {"id": 7}, variables={"carrier": "post"})
    assert (ship.status, ship.output, ship.next_state) == ("SUCCEEDED", {"ship": 7, "by": "post"}, None)

    fail = sfn.test_state(ORDER_FLOW, "Declined", {})
    assert (fail.status, fail.error) == ("FAILED", "Order.Declined")


def test_an_unknown_state_is_named(sfn):
    with pytest.raises(KeyError, match="no state 'Nope'"):
        sfn.test_state(ORDER_FLOW, "Nope", {})


def test_the_step_functions_fixture_binds_the_tests_functions(step_functions):
    with step_functions(stack=empty_stack(), functions={"charge": lambda event, context: {"ok": True}}) as sfn:
        outcome = sfn.test_state(ORDER_FLOW, "Charge", {"id": 2, "amount": 1})
    assert (outcome.status, outcome.output["charge"], outcome.next_state) == ("SUCCEEDED", {"charged": True}, "Paid?")


def test_state_from_the_command_line_answers_in_test_states_shape(tmp_path):
    """`cauce sfn test-state`: the fields of AWS's TestState response (status, output, error, cause,
    nextState, inspectionData), with the same mock forms."""
    import json

    from click.testing import CliRunner

    from cauce.cli import cli

    workflow = tmp_path / "order.asl.json"
    workflow.write_text(json.dumps(ORDER_FLOW))
    run = lambda *args: CliRunner().invoke(cli, ["sfn", "test-state", str(workflow), *args])  # noqa: E731

    caught = run("Charge", "--input", '{"id": 1}', "--mock", '{"errorOutput": {"error": "Card.Declined", "cause": "no funds"}}', "--json")
    assert caught.exit_code == 0, caught.output
    assert json.loads(caught.output) == {"status": "CAUGHT_ERROR", "nextState": "Declined", "error": "Card.Declined", "cause": "no funds",
                                         "output": {"id": 1, "error": {"Error": "Card.Declined", "Cause": "no funds"}},
                                         "inspectionData": {"input": {"id": 1}}}
    ship = run("Ship", "--input", '{"id": 7}', "--variables", '{"carrier": "post"}')
    assert ship.exit_code == 0 and ship.output.splitlines() == ["Ship: SUCCEEDED", '  output: {"ship": 7, "by": "post"}']

    unknown = run("Nope")
    assert unknown.exit_code == 2 and "no state 'Nope'" in unknown.output and "Traceback" not in unknown.output
    bad_mock = run("Charge", "--mock", '{"Payload": 1}')
    assert bad_mock.exit_code == 2 and '{"result": ...} or {"errorOutput"' in bad_mock.output
    assert run("Charge", "--input", "{not json").exit_code == 2
