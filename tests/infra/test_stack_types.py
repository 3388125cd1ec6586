"""The typed stack model (cauce.core.stack) against the module's variables: the same names, types,
required and optional attributes and defaults as infra/variables.tf (read with python-hcl2), and
values converted as Terraform converts them, with errors naming the path, the value and the type."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import typing

import pytest

from cauce.core.stack import Stack, StackError, load_stack, parse_stack
from cauce.core.terraform_types import attributes, terraform_type, to_document
from tests.infra.test_contract import INFRA, blocks

EXAMPLE = INFRA / "examples" / "complete" / "stack.tfvars.json"


def parse_type_expression(text: str):
    """A Terraform type expression (`map(object({a = string, b = optional(number, 1)}))`) as the
    data cauce.core.terraform_types.terraform_type gives for a hint."""
    text = text.removeprefix("${").removesuffix("}") if text.startswith("${") else text
    tokens = re.findall(r'"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*|[(){}=,]', text)
    position = 0

    def take(expected=None):
        nonlocal position
        token = tokens[position]
        assert expected is None or token == expected, f"expected {expected!r} at {token!r} in {text}"
        position += 1
        return token

    def literal(token):
        if token.startswith('"'):
            return json.loads(token)
        if token in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[token]
        return float(token) if "." in token else int(token)

    def one_type():
        name = take()
        if name in ("string", "number", "bool", "any"):
            return name
        take("(")
        if name == "object":
            take("{")
            found = {}
            while tokens[position] != "}":
                attribute = take()
                take("=")
                if tokens[position] == "optional":
                    take(), take("(")
                    kind = one_type()
                    default = literal(take(",") and take()) if tokens[position] == "," else None
                    take(")")
                    found[attribute] = (kind, True, default)
                else:
                    found[attribute] = (one_type(), False, None)
                if tokens[position] == ",":
                    take()
            take("}"), take(")")
            return ("object", found)
        element = one_type()
        take(")")
        return (name, element)

    result = one_type()
    assert position == len(tokens), f"unparsed rest of {text}: {tokens[position:]}"
    return result


VARIABLES = blocks(INFRA / "variables.tf", "variable")


def test_the_type_expression_reader_reads_what_it_is_given():
    assert parse_type_expression("map(object({a = string, b = optional(number, 100), c = optional(string), d = list(set(bool))}))") == (
        "map", ("object", {"a": ("string", False, None), "b": ("number", True, 100), "c": ("string", True, None), "d": (("list", ("set", "bool")), False, None)}))
    assert parse_type_expression("${object({x = optional(bool, true)})}") == ("object", {"x": ("bool", True, True)})


def test_the_model_has_every_variable_in_the_modules_order_and_no_other():
    assert [f.name for f in attributes(Stack)] == list(VARIABLES)


def hint_of(name: str):
    return typing.get_type_hints(Stack)[name]


@pytest.mark.parametrize("field", attributes(Stack), ids=lambda f: f.name)
def test_each_variables_type_default_and_required_attributes_are_the_models(field):
    variable = VARIABLES[field.name]
    assert terraform_type(hint_of(field.name)) == parse_type_expression(variable["type"]), f"{field.name}: the model's type differs from variables.tf's"
    has_default = field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
    assert ("default" in variable) == has_default, f"{field.name}: required in one, optional in the other"
    if has_default:
        default = field.default_factory() if field.default_factory is not dataclasses.MISSING else field.default
        assert to_document(default) == variable["default"]


def test_a_changed_attribute_would_be_seen():
    # the comparison is by attribute name, optionality, default and element type: any one differing fails
    expression = VARIABLES["lambda_event_sources"]["type"]
    model = terraform_type(hint_of("lambda_event_sources"))
    assert model == parse_type_expression(expression)
    for changed in (expression.replace("optional(number, 100)", "optional(number, 10)"),
                    expression.replace("stream_key = string", "stream_key = optional(string)"),
                    expression.replace("use_enhanced_fan_out = optional(bool, false)", "use_enhanced_fan_out = optional(string, false)"),
                    expression.replace("function_key = string, ", "")):
        assert changed != expression and model != parse_type_expression(changed)


# --- conversion -----------------------------------------------------------------------------------

def example() -> dict:
    return json.loads(EXAMPLE.read_text())


def refused(values: dict) -> str:
    with pytest.raises(StackError) as error:
        parse_stack(values)
    return str(error.value)


def test_the_example_stack_parses_and_reads_by_attribute():
    stack = load_stack(EXAMPLE)
    assert stack.glue_config.job_config["etl-job"].worker_type == "G.1X"
    assert stack.kinesis_config.stream_config["data-stream"].shard_count == 2
    assert stack.lambda_config["data-processor"].tracing_config.mode == "Active"
    assert stack.warnings == ()
    assert stack.document["glue_config"] == example()["glue_config"]


def test_numbers_and_bools_given_as_strings_convert_as_terraform_converts_them():
    values = example()
    stream = values["kinesis_config"]["stream_config"]["data-stream"]
    stream.update(shard_count="2", retention_period="4.8e1", enforce_consumer_deletion="false")
    values["lambda_config"]["data-processor"]["memory_size"] = "+256"
    values["step_functions_config"]["etl-workflow"]["tracing_configuration"]["enabled"] = "1"
    stack = parse_stack(values)
    converted = stack.kinesis_config.stream_config["data-stream"]
    assert (converted.shard_count, converted.retention_period, converted.enforce_consumer_deletion) == (2, 48, False)
    assert isinstance(converted.shard_count, int)
    assert stack.lambda_config["data-processor"].memory_size == 256
    assert stack.step_functions_config["etl-workflow"].tracing_configuration.enabled is True
    assert stack.document["kinesis_config"]["stream_config"]["data-stream"]["shard_count"] == 2


def test_numbers_and_bools_convert_to_strings_where_a_string_is_expected():
    values = example()
    values["lambda_config"]["data-processor"]["environment"].update(RETRIES=3, RATIO=0.5, DEBUG=True)
    values["kinesis_config"]["stream_config"]["data-stream"]["kms_key_id"] = 12
    stack = parse_stack(values)
    assert stack.lambda_config["data-processor"].environment == {"STAGE": "prod", "LOG_LEVEL": "INFO", "RETRIES": "3", "RATIO": "0.5", "DEBUG": "true"}
    assert stack.kinesis_config.stream_config["data-stream"].kms_key_id == "12"


def test_a_number_converted_to_a_string_is_terraforms_text_of_it():
    values = example()
    values["glue_config"]["job_config"]["etl-job"]["glue_version"] = 5.0  # Terraform makes it "5", which the rule refuses
    assert 'glue_version: must be one of 2.0, 3.0, 4.0, 5.0' in refused(values)


@pytest.mark.parametrize("value, message", [
    ("two", '"two" is not a number'),
    (" 2", '" 2" is not a number'),
    ("0x10", '"0x10" is not a number'),
    (True, "true is not a number"),
    ([2], "[2] is not a number"),
])
def test_a_value_that_is_not_a_number_is_refused_naming_the_path_the_value_and_the_type(value, message):
    values = example()
    values["kinesis_config"]["stream_config"]["data-stream"]["shard_count"] = value
    text = refused(values)
    assert f'kinesis_config.stream_config["data-stream"].shard_count: {message}' in text
    assert "shard_count must be at least 1" not in text  # the type check's error, not the rule's


@pytest.mark.parametrize("value", ["yes", "TRUE", 1, 0])
def test_bools_accept_only_true_false_and_their_strings(value):
    values = example()
    values["kinesis_config"]["stream_config"]["data-stream"]["enforce_consumer_deletion"] = value
    assert f'kinesis_config.stream_config["data-stream"].enforce_consumer_deletion: {json.dumps(value)} is not a bool' in refused(values)


def test_a_missing_required_attribute_is_an_error_not_a_broken_rule():
    values = example()
    del values["lambda_config"]["data-processor"]["tracing_config"]
    del values["glue_config"]["job_config"]["etl-job"]["execution_property"]
    text = refused(values)
    assert 'lambda_config["data-processor"].tracing_config: missing; the module\'s type requires it (object({mode = string}))' in text
    assert 'glue_config.job_config["etl-job"].execution_property: missing' in text
    assert "must be Active or PassThrough" not in text
    assert "2 value(s) not of the module's variable types" in text


def test_a_missing_required_variable_is_an_error():
    values = example()
    del values["environment"]
    assert "environment: missing; the module's type requires it (string)" in refused(values)


def test_null_for_a_required_attribute_is_refused():
    values = example()
    values["kinesis_config"]["stream_config"]["data-stream"]["name"] = None
    assert 'kinesis_config.stream_config["data-stream"].name: null where the module needs a string' in refused(values)


def test_every_error_is_listed_at_once():
    values = example()
    values["kinesis_config"]["stream_config"]["data-stream"]["shard_count"] = "two"
    values["lambda_config"]["data-processor"]["layers"] = "arn:a"
    values["glue_config"]["crawler_config"]["data-crawler"]["s3_target"][0]["exclusions"] = {"a": 1}
    text = refused(values)
    assert text.count("\n  ") == 3
    assert 'lambda_config["data-processor"].layers: "arn:a" is not a list(string)' in text
    assert 'glue_config.crawler_config["data-crawler"].s3_target[0].exclusions: {"a": 1} is not a list(string)' in text


def test_absent_and_null_optional_attributes_take_their_defaults():
    values = example()
    values["lambda_event_sources"] = {"to-processor": {"function_key": "data-processor", "stream_key": "data-stream", "batch_size": None}}
    values["log_retention_days"] = "30"
    stack = parse_stack(values)
    source = stack.lambda_event_sources["to-processor"]
    assert (source.batch_size, source.starting_position, source.bisect_batch_on_function_error, source.on_failure_destination_arn) == (100, "LATEST", True, None)
    assert stack.log_retention_days == 30
    assert stack.firehose_sources == {} and stack.lambda_layer_zip is None
    assert stack.document["lambda_event_sources"]["to-processor"]["maximum_record_age_in_seconds"] == 86400


def test_extra_attributes_are_dropped_and_reported_as_warnings():
    values = example()
    values["lambda_config"]["data-processor"]["memory"] = 512
    values["firehose_source"] = {}
    stack = parse_stack(values)
    assert not hasattr(stack.lambda_config["data-processor"], "memory")
    assert "memory" not in stack.document["lambda_config"]["data-processor"] and "firehose_source" not in stack.document
    assert any(w.startswith('lambda_config["data-processor"].memory: not an attribute') for w in stack.warnings)
    assert any(w.startswith("firehose_source: not a variable of the module") for w in stack.warnings)


def test_sets_drop_duplicates_and_lists_keep_order():
    values = example()
    values["glue_auto_scaling"] = ["etl-job", "b", "etl-job"]
    values["lambda_config"]["data-processor"]["layers"] = ["z", "a"]
    stack = parse_stack(values)
    assert stack.glue_auto_scaling == frozenset({"etl-job", "b"})
    assert stack.document["glue_auto_scaling"] == ["b", "etl-job"]
    assert stack.lambda_config["data-processor"].layers == ("z", "a")


def test_the_modules_rules_run_on_the_converted_values():
    values = example()
    values["kinesis_config"]["stream_config"]["data-stream"]["shard_count"] = "0"
    assert 'shard_count must be at least 1 and retention_period 24-8760 hours. (at kinesis_config.stream_config["data-stream"])' in refused(values)


def test_the_model_is_read_only():
    stack = load_stack(EXAMPLE)
    with pytest.raises(AttributeError):
        stack.project_name = "other"  # type: ignore[misc]


def test_a_stack_file_with_a_wrong_type_is_refused_naming_the_file(tmp_path):
    values = copy.deepcopy(example())
    values["kinesis_config"]["stream_config"]["data-stream"]["shard_count"] = "two"
    path = tmp_path / "stack.tfvars.json"
    path.write_text(json.dumps(values))
    with pytest.raises(StackError, match=re.escape(f"{path}: 1 value(s) not of the module's variable types")):
        load_stack(path)


def test_the_embedded_default_is_the_example():
    assert load_stack(None) == load_stack(EXAMPLE)


def test_a_command_mentions_what_terraform_would_drop(tmp_path):
    from click.testing import CliRunner

    from cauce.cli import cli

    values = example()
    values["lambda_config"]["data-processor"]["memory"] = 512
    path = tmp_path / "stack.tfvars.json"
    path.write_text(json.dumps(values))
    result = CliRunner().invoke(cli, ["sfn", "list", "--stack", str(path)])
    assert result.exit_code == 0, result.output
    assert f'{path}: lambda_config["data-processor"].memory: not an attribute of the module\'s type; Terraform drops it' in result.stderr
