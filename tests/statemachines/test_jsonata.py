"""JSONata in local Step Functions: the evaluator, AWS's added functions, states in JSONata, variables,
and public workflows from AWS's Step Functions documentation run with their expected outputs."""

from __future__ import annotations

import copy
import hashlib
import os
import uuid
from pathlib import Path

import pytest

from cauce.statemachines import LocalStepFunctions
from cauce.statemachines.jsonata import UNDEFINED, JsonataError, evaluate, syntax_error
from cauce.statemachines.validate import KnownTargets, validate
from tests.stacks import empty_stack

LAMBDA = "arn:aws:states:::lambda:invoke"


def run(document, execution_input=None, **functions):
    with LocalStepFunctions(stack=empty_stack(), functions=functions) as sfn:
        return sfn.run(document, execution_input if execution_input is not None else {})


def echo(event, context):
    return event


# --- the evaluator and AWS's additions ---------------------------------------------------------

def test_expressions_see_their_bindings_and_undefined_is_not_null():
    assert evaluate("$states.input.a & $x", {"states": {"input": {"a": 'q"'}}, "x": "\\y"}) == 'q"\\y'
    assert evaluate("$states.input.missing", {"states": {"input": {}}}) is UNDEFINED
    assert evaluate("$states.input.a", {"states": {"input": {"a": None}}}) is None


@pytest.mark.parametrize("expression, expected", [
    # the examples of AWS's "JSONata functions provided by Step Functions"
    ("$partition([1,2,3,4,5,6,7,8,9], 3)", [[1, 2, 3], [4, 5, 6], [7, 8, 9]]),
    ("$partition([1,2,3,4], 3)", [[1, 2, 3], [4]]),
    ("$range(0, 10, 2)", [0, 2, 4, 6, 8, 10]),
    ("$range(5, 1, -2)", [5, 3, 1]),
    ("$hash('input data', 'SHA-256')", hashlib.sha256(b"input data").hexdigest()),
    ("$hash('x', 'MD5')", hashlib.md5(b"x").hexdigest()),
    ("$parse('{\"a\": [1, true]}')", {"a": [1, True]}),
    ("$random(42) = $random(42)", True),
])
def test_step_functions_added_functions(expression, expected):
    assert evaluate(expression) == expected


def test_random_and_uuid():
    assert 0 <= evaluate("$random()") < 1
    assert uuid.UUID(evaluate("$uuid()")).version == 4


@pytest.mark.parametrize("expression", ["$eval('1 + 1')", "$hash('x', 'CRC32')", "$range(0, 5000, 1)", "$partition([1], 0)"])
def test_refused_uses_raise(expression):
    with pytest.raises(JsonataError):
        evaluate(expression)


def test_syntax_errors_are_jsonatas_messages():
    assert "S0207" in syntax_error("$states.input.a +")
    assert syntax_error("$states.input.a + 1") is None
    with pytest.raises(JsonataError) as error:
        evaluate("$number('x') + 1")
    assert error.value.code == "D3030"


# --- states in JSONata ------------------------------------------------------------------------

def jsonata_machine(**states):
    return {"QueryLanguage": "JSONata", "StartAt": next(iter(states)), "States": states}


def test_pass_choice_map_with_output_assign_condition_items_and_variables():
    document = jsonata_machine(
        Shape={"Type": "Pass", "Assign": {"who": "{% $states.input.who %}", "quoted": 'a"b\\c'},
               "Output": {"greeting": "{% 'Hello ' & $states.input.who %}", "n": "{% $count($states.input.items) %}"},
               "Next": "Many?"},
        **{"Many?": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.n > 1 %}", "Next": "Double"}], "Default": "Few"}},
        Double={"Type": "Map", "Items": "{% $states.input.n = 2 ? [1, 2, 3] : [] %}",
                "ItemProcessor": {"StartAt": "Twice", "States": {"Twice": {"Type": "Pass", "Output": "{% $states.input * 2 %}", "End": True}}},
                "Output": {"doubled": "{% $states.result %}", "who": "{% $who & $quoted %}",
                           "machine": "{% $states.context.StateMachine.Name %}"}, "End": True},
        Few={"Type": "Fail", "Error": "{% 'Only' & $string($states.input.n) %}", "Cause": "{% $who %}"},
    )

    many = run(document, {"who": "World", "items": [1, 2]})
    few = run(document, {"who": "Ada", "items": [1]})

    assert many.status == "SUCCEEDED", many.cause
    assert many.output["doubled"] == [2, 4, 6] and many.output["who"] == 'Worlda"b\\c'
    assert many.output["machine"].startswith("inline")
    assert (few.status, few.error, few.cause) == ("FAILED", "Only1", "Ada")


def test_wait_parallel_map_item_selector_and_succeed_in_jsonata():
    document = jsonata_machine(
        Hold={"Type": "Wait", "Seconds": "{% $states.input.s %}", "Next": "Both"},
        Both={"Type": "Parallel", "Arguments": {"x": "{% $states.input.s * 2 %}"}, "Branches": [
            {"StartAt": "One", "States": {"One": {"Type": "Pass", "Output": "{% $states.input.x + 1 %}", "End": True}}},
            {"StartAt": "Two", "States": {"Two": {"Type": "Pass", "Output": "{% $states.input.x + 2 %}", "End": True}}}],
            "Output": {"sum": "{% $sum($states.result) %}"}, "Assign": {"branches": "{% $states.result %}"}, "Next": "Each"},
        Each={"Type": "Map", "Items": "{% ['a', 'b'] %}", "MaxConcurrency": "{% 1 %}",
              "ItemSelector": {"value": "{% $states.context.Map.Item.Value %}", "index": "{% $states.context.Map.Item.Index %}"},
              "ItemProcessor": {"StartAt": "Keep", "States": {"Keep": {"Type": "Pass", "End": True}}},
              "Output": {"items": "{% $states.result %}", "branches": "{% $branches %}", "sum": "{% $states.input.sum %}"}, "Next": "Done"},
        Done={"Type": "Succeed", "Output": "{% $merge([$states.input, {'done': true}]) %}"},
    )
    assert messages(document) == []

    with LocalStepFunctions(stack=empty_stack()) as sfn:
        result = sfn.run(document, {"s": 30})

    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {"items": [{"value": "a", "index": 0}, {"value": "b", "index": 1}], "branches": [61, 62], "sum": 123, "done": True}
    assert sfn.clock.waits == [30.0]


def test_task_arguments_output_and_error_output_in_catch():
    def fail(event, context):
        raise ValueError(f"bad {event['order']}")

    document = jsonata_machine(
        Call={"Type": "Task", "Resource": LAMBDA, "Arguments": {"FunctionName": "echo", "Payload": {"order": "{% $states.input.id %}"}},
              "Output": "{% $states.result.Payload %}", "Assign": {"status": "{% $states.result.StatusCode %}"}, "Next": "Break"},
        Break={"Type": "Task", "Resource": LAMBDA, "Arguments": {"FunctionName": "fail", "Payload": "{% $states.input %}"},
               "Catch": [{"ErrorEquals": ["ValueError"], "Next": "Caught",
                          "Output": {"error": "{% $states.errorOutput.Error %}", "message": "{% $parse($states.errorOutput.Cause).errorMessage %}",
                                     "status": "{% $status %}"}}],
               "End": True},
        Caught={"Type": "Succeed"},
    )

    result = run(document, {"id": 7}, echo=echo, fail=fail)

    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {"error": "ValueError", "message": "bad 7", "status": 200}


def test_a_string_output_is_the_execution_output():
    result = run(jsonata_machine(Say={"Type": "Pass", "Output": "{% 'hi ' & $states.input.name %}", "End": True}), {"name": "Ada"})
    assert result.output == "hi Ada"


def test_undefined_fails_the_state_with_query_evaluation_error():
    result = run(jsonata_machine(Read={"Type": "Pass", "Output": "{% $states.input.nothing %}", "End": True}))
    assert (result.status, result.error) == ("FAILED", "States.QueryEvaluationError")
    assert "returned nothing (undefined)" in result.cause


def test_an_evaluation_error_is_a_query_evaluation_error_that_catch_can_take():
    document = jsonata_machine(
        Bad={"Type": "Pass", "Output": "{% $number('x') + 1 %}", "End": True},
    )
    result = run(document)
    assert (result.status, result.error) == ("FAILED", "States.QueryEvaluationError")


def test_a_jsonata_state_in_a_jsonpath_machine_and_variables_across_both():
    document = {"StartAt": "Keep", "States": {
        "Keep": {"Type": "Pass", "Assign": {"customer.$": "$.name", "count": 2}, "Next": "Use"},
        "Use": {"Type": "Pass", "Parameters": {"name.$": "$customer", "twice.$": "States.MathAdd($count, $count)"}, "Next": "Modern"},
        "Modern": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": {"upper": "{% $uppercase($customer) %}", "from": "{% $states.input.name %}"},
                   "End": True},
    }}

    result = run(document, {"name": "maría"})

    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {"upper": "MARÍA", "from": "maría"}


# --- public workflows from AWS's documentation ---------------------------------------------------

# "Using Amazon States Language to define Step Functions workflows", Example Amazon States Language
# Specification (JSONata): docs.aws.amazon.com/step-functions/latest/dg/concepts-amazon-states-language.html
ASL_EXAMPLE = {
    "Comment": "An example of the Amazon States Language using a choice state.",
    "QueryLanguage": "JSONata",
    "StartAt": "FirstState",
    "States": {
        "FirstState": {"Type": "Task", "Assign": {"foo": "{% $states.input.foo_input %}"},
                       "Resource": "arn:aws:lambda:us-east-1:123456789012:function:FUNCTION_NAME", "Next": "ChoiceState"},
        "ChoiceState": {"Type": "Choice", "Default": "DefaultState", "Choices": [
            {"Next": "FirstMatchState", "Condition": "{% $foo = 1 %}"},
            {"Next": "SecondMatchState", "Condition": "{% $foo = 2 %}"}]},
        "FirstMatchState": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:OnFirstMatch", "Next": "NextState"},
        "SecondMatchState": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:OnSecondMatch", "Next": "NextState"},
        "DefaultState": {"Type": "Fail", "Error": "DefaultStateError", "Cause": "No Matches!"},
        "NextState": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:FUNCTION_NAME", "End": True},
    },
}


def test_aws_asl_example_in_jsonata_takes_the_branch_its_variable_chooses():
    functions = {"FUNCTION_NAME": lambda event, context: {**event, "seen": event.get("seen", 0) + 1},
                 "OnFirstMatch": lambda event, context: {**event, "match": "first"},
                 "OnSecondMatch": lambda event, context: {**event, "match": "second"}}
    assert validate(ASL_EXAMPLE, KnownTargets(functions=frozenset(functions))) == []

    first = run(ASL_EXAMPLE, {"foo_input": 1}, **functions)
    second = run(ASL_EXAMPLE, {"foo_input": 2}, **functions)
    neither = run(ASL_EXAMPLE, {"foo_input": 3}, **functions)

    assert first.output == {"foo_input": 1, "seen": 2, "match": "first"}
    assert [r.state for r in second.rows] == ["FirstState", "ChoiceState", "SecondMatchState", "NextState"]
    assert (neither.status, neither.error, neither.cause) == ("FAILED", "DefaultStateError", "No Matches!")


# "Transforming data with JSONata in Step Functions": the sample after conversion to JSONata, given the
# input {"title": "Doctor"} and the variable customerName "María", produces
# {"static": "Hello", "title": "Doctor", "name": "María", "not-evaluated": "$customerName"}.
# docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html
def test_aws_conversion_sample_arguments_give_the_documented_result():
    document = jsonata_machine(
        Declare={"Type": "Pass", "Assign": {"customerName": "María"}, "Next": "Converted"},
        Converted={"QueryLanguage": "JSONata", "Type": "Task", "Resource": LAMBDA, "End": True,
                   "Arguments": {"FunctionName": "echo", "Payload": {
                       "static": "Hello", "title": "{% $states.input.title %}", "name": "{% $customerName %}",
                       "not-evaluated": "$customerName"}},
                   "Output": "{% $states.result.Payload %}"},
    )
    result = run(document, {"title": "Doctor"}, echo=echo)
    assert result.output == {"static": "Hello", "title": "Doctor", "name": "María", "not-evaluated": "$customerName"}


# "Passing data between states with variables": an Assign of literals, then referenced as $name.
# docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html
def test_aws_variables_sample_literals_are_assigned_and_read():
    document = jsonata_machine(
        Store={"Type": "Pass", "Assign": {"productName": "product1", "count": 42, "available": True}, "Next": "Read"},
        Read={"Type": "Pass", "Output": {"product": "{% $productName %}", "more": "{% $count + 1 %}", "available": "{% $available %}"},
              "End": True},
    )
    assert run(document).output == {"product": "product1", "more": 43, "available": True}


# --- validation -----------------------------------------------------------------------------

def messages(document, known=None):
    return [str(p) for p in validate(document, known)]


def test_jsonata_machines_validate():
    document = jsonata_machine(
        A={"Type": "Pass", "Output": {"x": "{% $states.input.x %}"}, "Assign": {"y": 1}, "Next": "W"},
        W={"Type": "Wait", "Seconds": "{% 5 %}", "Next": "M"},
        M={"Type": "Map", "Items": "{% [1] %}", "MaxConcurrency": "{% 2 %}",
           "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, "Next": "C"},
        C={"Type": "Choice", "Choices": [{"Condition": "{% $y = 1 %}", "Next": "S", "Output": "{% 1 %}"}], "Default": "S"},
        S={"Type": "Succeed", "Output": "{% $y %}"},
    )
    assert messages(document) == []


@pytest.mark.parametrize("document, expected", [
    (jsonata_machine(A={"Type": "Pass", "Parameters": {"a": 1}, "End": True}),
     "States.A.Parameters: a JSONPath field: not in a JSONata state (use Arguments)"),
    (jsonata_machine(A={"Type": "Pass", "ResultPath": "$.x", "End": True}), "States.A.ResultPath: a JSONPath field: not in a JSONata state"),
    (jsonata_machine(A={"Type": "Wait", "SecondsPath": "$.s", "End": True}), "States.A.SecondsPath: a JSONPath field"),
    ({"StartAt": "A", "States": {"A": {"Type": "Pass", "Output": {"a": 1}, "End": True}}},
     "States.A.Output: a JSONata field: not in a JSONPath state"),
    ({"StartAt": "A", "States": {"A": {"Type": "Map", "Items": [1], "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Succeed"}}}, "End": True}}},
     "States.A.Items: a JSONata field"),
    (jsonata_machine(A={"Type": "Pass", "Output": {"deep": ["{% $states.input. %}"]}, "End": True}),
     "States.A.Output.deep[0]: invalid JSONata '$states.input.'"),
    (jsonata_machine(A={"Type": "Pass", "Output": "{% $eval('1') %}", "End": True}), "States.A.Output: $eval is not available"),
    (jsonata_machine(A={"Type": "Pass", "Assign": {"x.$": "$.a"}, "End": True}), "States.A.Assign.x.$: JSONata states do not use .$ keys"),
    (jsonata_machine(A={"Type": "Choice", "Choices": [{"Variable": "$.a", "StringEquals": "x", "Next": "B"}], "Default": "B"},
                     B={"Type": "Succeed"}), "States.A.Choices[0].Variable: not a field of a JSONata choice rule"),
    (jsonata_machine(A={"Type": "Choice", "Choices": [{"Condition": "$.a == 1", "Next": "B"}], "Default": "B"}, B={"Type": "Succeed"}),
     "States.A.Choices[0].Condition: true, false, or a JSONata expression"),
    (jsonata_machine(A={"Type": "Task", "Resource": LAMBDA, "Arguments": {"FunctionName": "f"}, "End": True,
                        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.e", "Next": "A"}]}),
     "States.A.Catch[0].ResultPath: a JSONPath field: not in a JSONata state"),
    (jsonata_machine(A={"Type": "Pass", "QueryLanguage": "JSONPath", "End": True}), "States.A.QueryLanguage: a JSONPath state in a JSONata state machine"),
    ({**jsonata_machine(A={"Type": "Succeed"}), "QueryLanguage": "JSONata2"}, "QueryLanguage: 'JSONata2' is not a query language"),
    (jsonata_machine(A={"Type": "Pass", "Output": " {% 1 %}", "End": True}), "States.A.Output: a JSONata expression is the whole string"),
])
def test_jsonata_problems_name_state_and_field(document, expected):
    found = messages(document)
    assert any(message.startswith(expected) for message in found), found


def test_jsonata_task_targets_are_checked_in_arguments():
    document = jsonata_machine(A={"Type": "Task", "Resource": LAMBDA, "Arguments": {"FunctionName": "nope"}, "End": True})
    dynamic = copy.deepcopy(document)
    dynamic["States"]["A"]["Arguments"]["FunctionName"] = "{% $states.input.fn %}"
    known = KnownTargets(functions=frozenset({"echo"}))
    assert any(m.startswith("States.A.Arguments.FunctionName: no local handler for Lambda function 'nope'") for m in messages(document, known))
    assert messages(dynamic, known) == []


# --- the reference suite ----------------------------------------------------------------------

def _suite() -> Path | None:
    root = os.environ.get("CAUCE_JSONATA_SUITE")
    if not root:
        return None
    from benchmarks.jsonata_conformance import suite_folder

    return suite_folder(Path(root))


def test_conformance_on_the_jsonata_reference_suite(capsys):
    """Runs jsonata-js's test/test-suite from a fetched copy named by CAUCE_JSONATA_SUITE (skipped without one)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    folder = _suite()
    if folder is None:
        pytest.skip("set CAUCE_JSONATA_SUITE to a copy of jsonata-js (or its test/test-suite) to measure conformance")
    from benchmarks.jsonata_conformance import Jsonatapy, conformance, load_cases, uses_eval

    cases = [c for c in load_cases(folder) if not uses_eval(c)]
    passed, total, failures = conformance(Jsonatapy(), cases)
    with capsys.disabled():
        print(f"\njsonatapy: {passed} of {total} JSONata reference cases pass ({100 * passed / total:.1f}%), without the $eval cases AWS refuses; "
              f"failing groups: {dict(failures)}")
    assert passed / total >= 0.99
