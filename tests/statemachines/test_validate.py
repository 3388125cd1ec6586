"""`cauce sfn validate`: every problem is refused before running, naming the state and the field."""

from __future__ import annotations

import copy
import json

import pytest

from cauce.core.stack import load_stack
from cauce.statemachines.definition import DefinitionError, fill_placeholders, load_definition, template_variables
from cauce.statemachines.validate import KnownTargets, validate
from tests.stacks import empty_stack

KNOWN = KnownTargets(functions=frozenset({"data-processor", "worker"}), jobs=frozenset({"etl-proceso-principal"}))
LAMBDA = "arn:aws:states:::lambda:invoke"


def machine(**states):
    return {"StartAt": next(iter(states)), "States": states}


def messages(document, known=KNOWN):
    return [str(p) for p in validate(document, known)]


def test_the_seed_workflow_is_valid_and_bound():
    definition = load_definition("etl-workflow", load_stack(None))
    assert definition.document["States"]["StartETLProcess"]["Parameters"]["JobName"] == "etl-proceso-principal"
    assert messages(definition.document) == []


def test_placeholders_come_from_the_stack_like_terraforms_templatefile():
    variables = template_variables(load_stack(None))
    assert variables["glue_job_etl_job"] == "etl-proceso-principal"
    assert variables["lambda_function_data_processor"] == "data-processor"
    assert variables["glue_crawler_data_crawler"] == "raw-data-crawler"
    assert fill_placeholders('{"a": "${x}", "b": "$${literal}"}', {"x": "1"}, "t") == '{"a": "1", "b": "${literal}"}'


def test_missing_placeholders_are_all_named_with_their_line():
    with pytest.raises(DefinitionError) as error:
        fill_placeholders('{\n"a": "${nope}",\n"b": "${upper(x)}"\n}', {"x": "1"}, "wf.asl.json")
    assert "line 2: ${nope} has no value (the stack defines: x)" in str(error.value)
    assert "line 3: ${upper(x)} is not a variable name" in str(error.value)


def test_invalid_json_names_line_and_column(tmp_path):
    path = tmp_path / "broken.asl.json"
    path.write_text('{"StartAt": "A",\n "States": {,}}')
    with pytest.raises(DefinitionError, match=r"not valid JSON at line 2 column 13"):
        load_definition(str(path), empty_stack())


@pytest.mark.parametrize(
    "document, expected",
    [
        (machine(A={"Type": "Tusk", "End": True}), "States.A.Type: 'Tusk' is not a state type"),
        (machine(A={"Type": "Pass", "End": True, "Resource": "x"}), "States.A.Resource: not a field of a Pass state"),
        (machine(A={"Type": "Pass"}), 'States.A: needs exactly one of Next and "End": true'),
        (machine(A={"Type": "Pass", "Next": "B"}), "States.A.Next: 'B' is not a state here"),
        (machine(A={"Type": "Pass", "End": True}, B={"Type": "Succeed"}), "States.B: unreachable"),
        (machine(A={"Type": "Pass", "Next": "B"}, B={"Type": "Pass", "Next": "A"}), "States.A: never ends"),
        ({"States": {"A": {"Type": "Succeed"}}}, "(definition): StartAt is required"),
        ({"StartAt": "Z", "States": {"A": {"Type": "Succeed"}}}, "StartAt: 'Z' is not a state here"),
        (machine(A={"Type": "Task", "Resource": LAMBDA, "Parameters": {"FunctionName": "worker"}, "End": True,
                    "Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"], "BackoffRate": 0.5, "MaxAttempts": -1}]}),
         "States.A.Retry[0].ErrorEquals: a retrier with States.ALL must be the last one"),
        (machine(A={"Type": "Task", "Resource": LAMBDA, "Parameters": {"FunctionName": "worker"}, "End": True,
                    "Retry": [{"ErrorEquals": ["X"], "BackoffRate": 0.5}]}),
         "States.A.Retry[0].BackoffRate: a number, 1.0 or more; got 0.5"),
        (machine(A={"Type": "Task", "Resource": LAMBDA, "Parameters": {"FunctionName": "worker"}, "End": True,
                    "Catch": [{"ErrorEquals": [], "Next": "Nowhere"}]}),
         "States.A.Catch[0].ErrorEquals: a non-empty list of error names"),
        (machine(A={"Type": "Task", "Resource": LAMBDA, "Parameters": {"FunctionName": "worker"}, "End": True,
                    "Catch": [{"ErrorEquals": ["X"], "Next": "Nowhere"}]}),
         "States.A.Catch[0].Next: 'Nowhere' is not a state here"),
        (machine(A={"Type": "Pass", "End": True, "InputPath": "$..["}), "States.A.InputPath: invalid JSONPath '$..['"),
        (machine(A={"Type": "Pass", "End": True, "Parameters": {"x.$": "States.Formatt('{}', $.a)"}}),
         "States.A.Parameters.x.$: unknown intrinsic function States.Formatt"),
        (machine(A={"Type": "Pass", "End": True, "Parameters": {"deep": {"x.$": "States.Format('{}', $.a"}}}),
         "States.A.Parameters.deep.x.$: invalid intrinsic function call"),
        (machine(A={"Type": "Pass", "End": True, "Parameters": {"x.$": 3}}), "States.A.Parameters.x.$: a key ending in .$ takes a path"),
        (machine(A={"Type": "Choice", "Choices": [{"Variable": "$.a", "StringEqualz": "x", "Next": "A"}]}),
         "States.A.Choices[0].StringEqualz: not a choice rule field"),
        (machine(A={"Type": "Wait", "End": True}), "States.A: a Wait state needs exactly one of Seconds"),
        (machine(A={"Type": "Map", "End": True, "ItemBatcher": {"MaxItemsPerBatchPath": "$.n"},
                    "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                                      **machine(P={"Type": "Succeed"})}}),
         "States.A.ItemBatcher.MaxItemsPerBatchPath: does not run locally"),
        (machine(A={"Type": "Map", "End": True, "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                                                               "ReaderConfig": {"InputType": "JSONL"},
                                                               "Parameters": {"Bucket": "b", "Key": "inventory/manifest.json"}},
                    "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                                      **machine(P={"Type": "Succeed"})}}),
         "States.A.ItemReader.ReaderConfig.InputType: JSONL does not run locally"),
        (machine(A={"Type": "Map", "End": True, "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                                                                  **machine(P={"Type": "Succeed"})}}),
         "States.A.ItemProcessor.ProcessorConfig.ExecutionType: EXPRESS child executions do not run locally"),
        (machine(A={"Type": "Parallel", "End": True, "Branches": [machine(A={"Type": "Succeed"})]}),
         "States.A.Branches[0].States.A: state name 'A' is already used at States.A"),
    ],
)
def test_structural_problems_name_the_state_and_field(document, expected):
    found = messages(document)
    assert any(message.startswith(expected) for message in found), found


@pytest.mark.parametrize(
    "state, expected",
    [
        ({"Resource": LAMBDA, "Parameters": {"FunctionName": "ghost"}}, "States.A.Parameters.FunctionName: no local handler for Lambda function 'ghost'"),
        ({"Resource": "arn:aws:lambda:us-east-1:123456789012:function:ghost"}, "States.A.Resource: no local handler for Lambda function 'ghost'"),
        ({"Resource": "arn:aws:states:::glue:startJobRun.sync", "Parameters": {"JobName": "nightly"}}, "States.A.Parameters.JobName: no local Glue job 'nightly'"),
        ({"Resource": "arn:aws:states:::ecs:runTask.sync", "Parameters": {}},
         "States.A.Resource: the ecs:runTask integration does not run locally (supported: dynamodb:deleteItem"),
        ({"Resource": "arn:aws:states:::sns:publish.sync", "Parameters": {}},
         "States.A.Resource: sns:publish.sync: .sync is not a pattern of sns:publish (it has: request-response, .waitForTaskToken)"),
        ({"Resource": "arn:aws:states:::aws-sdk:nosuchservice:doThing", "Parameters": {}},
         "States.A.Resource: aws-sdk:nosuchservice is not an AWS SDK service boto3 knows"),
        ({"Resource": "arn:aws:states:::aws-sdk:s3:fly", "Parameters": {}}, "States.A.Resource: aws-sdk:s3:fly is not an action of s3"),
        ({"Resource": "arn:aws:states:us-east-1:123456789012:activity:approve"}, "States.A.Resource: activities do not run locally"),
        ({"Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken", "Parameters": {"FunctionName": "ghost"}},
         "States.A.Parameters.FunctionName: no local handler for Lambda function 'ghost'"),
        ({"Resource": LAMBDA, "Parameters": {}}, "States.A.Parameters.FunctionName: required for lambda:invoke"),
    ],
)
def test_every_task_must_be_bound_to_something_known(state, expected):
    document = machine(A={"Type": "Task", "End": True, **state})
    assert expected in "\n".join(messages(document))


def test_binding_checks_are_skipped_without_known_targets_and_function_arns_count_by_name():
    unbound = machine(A={"Type": "Task", "Resource": "arn:aws:states:::sns:publish", "End": True})
    assert messages(unbound, known=None) == []
    by_arn = machine(A={"Type": "Task", "Resource": LAMBDA, "End": True,
                        "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:worker:live"}})
    assert messages(by_arn) == []


def test_all_problems_are_reported_at_once():
    document = copy.deepcopy(load_definition("etl-workflow", load_stack(None)).document)
    document["States"]["StartETLProcess"]["Retry"][0]["MaxAttempts"] = "four"
    document["States"]["NotifyFailure"]["Next"] = "Nope"
    del document["States"]["Succeeded"]
    found = messages(json.loads(json.dumps(document)))
    assert len(found) >= 3
    assert "States.StartETLProcess.Retry[0].MaxAttempts: a whole number, 0 or more; got 'four'" in found
    assert "States.NotifyFailure.Next: 'Nope' is not a state here" in found
    assert "States.PostProcess.Next: 'Succeeded' is not a state here" in found
