"""The bindings reach into moto's internals (moto is pinned to 5.2.5). These tests fail loudly,
naming what moved, if an upgrade breaks one, and tell when the .sync workaround can go."""

from __future__ import annotations

import importlib

import pytest

from tests.stacks import empty_stack

# (module, attribute path) that statemachines/local.py patches or calls
PATCHED = [
    ("moto.awslambda_simple.models", "LambdaSimpleBackend.invoke"),
    ("moto.glue.models", "GlueBackend.start_job_run"),
    ("moto.glue.models", "GlueBackend.get_job_run"),
    ("moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_glue",
     "StateTaskServiceGlue._eval_integration_pattern"),
    ("moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_glue",
     "StateTaskServiceGlue._build_sync_resolver"),
    ("moto.stepfunctions.parser.asl.component.common.retry.retrier_decl", "time.sleep"),
    ("moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function", "WaitFunction._wait_interval"),
    ("moto.stepfunctions.parser.asl.eval.event.event_manager", "EventManager._get_current_timestamp"),
    ("moto.stepfunctions.parser.backend.execution_worker", "ExecutionWorker.start"),
    ("moto.stepfunctions.parser.backend.execution_worker", "ExecutionWorker._execution_logic"),
    ("moto.awslambda.exceptions", "UnknownFunctionException"),
    ("moto.stepfunctions.parser.models", "stepfunctions_parser_backends"),
    ("moto.stepfunctions.parser.models", "StepFunctionsParserBackend.get_execution_history"),
    ("moto.glue.exceptions", "JobRunNotFoundException"),
    ("moto.glue.exceptions", "CrawlerNotFoundException"),
    ("moto.glue.models", "GlueBackend.start_crawler"),
    ("moto.stepfunctions.parser.models", "StepFunctionsParserBackend._validate_definition"),
    ("moto.stepfunctions.parser.models", "InvalidDefinition"),
    ("moto.stepfunctions.parser.backend.execution_worker", "ExecutionWorker._get_evaluation_entrypoint"),
    ("moto.stepfunctions.parser.asl.parse.asl_parser", "AmazonStateLanguageParser.parse"),
    # statemachines/jsonata.py
    ("moto.stepfunctions.parser.asl.jsonata.jsonata", "_eval_jsonata"),
    ("moto.stepfunctions.parser.asl.jsonata.jsonata", "JSONataException"),
    ("moto.stepfunctions.parser.asl.component.common.string.string_expression", "StringJSONata._eval_body"),
    ("moto.stepfunctions.parser.asl.component.common.string.string_expression", "StringVariableSample._eval_body"),
    ("moto.stepfunctions.parser.asl.parse.preprocessor", "Preprocessor.visitAssign_template_value_terminal_string_literal"),
    ("moto.stepfunctions.parser.asl.antlt4utils.antlr4utils", "from_string_literal"),
    ("moto.stepfunctions.parser.asl.component.common.assign.assign_template_value_terminal", "AssignTemplateValueTerminalLit"),
    ("moto.stepfunctions.parser.asl.component.common.query_language", "QueryLanguageMode.JSONata"),
    ("moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type",
     "StatesErrorNameType.StatesQueryEvaluationError"),
    ("moto.stepfunctions.parser.api", "EvaluationFailedEventDetails"),
    ("moto.stepfunctions.parser.models", "StepFunctionsParserBackend.describe_execution"),
    ("moto.stepfunctions.parser.backend.execution", "Execution.to_describe_output"),
    # statemachines/integrations.py
    ("moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service", "StateTaskService._normalise_parameters"),
    ("moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service", "StateTaskService._normalise_response"),
    ("moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service", "StateTaskService._to_boto_request"),
    ("moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service", "StateTaskService._from_boto_response"),
    ("moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service", "StateTaskService._get_boto_service_name"),
    ("moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service", "StateTaskService._get_boto_service_action"),
    ("moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils", "execute_lambda_function_integration"),
    ("moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils", "_invoke_lambda_function"),
    ("moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils", "LambdaFunctionErrorException"),
    ("moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback",
     "StateTaskServiceCallback._eval_wait_for_task_token"),
    ("moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback",
     "StateTaskServiceCallback._from_error"),
    ("moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource", "ResourceCondition.WaitForTaskToken"),
    ("moto.stepfunctions.parser.asl.eval.callback.callback", "CallbackOutcomeTimedOut"),
    ("moto.stepfunctions.parser.asl.eval.callback.callback", "HeartbeatTimedOut"),
    ("moto.stepfunctions.parser.asl.eval.callback.callback", "HeartbeatTimeoutError"),
    ("moto.stepfunctions.parser.asl.eval.callback.callback", "CallbackEndpoint.get_outcome"),
    ("moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type",
     "StatesErrorNameType.StatesHeartbeatTimeout"),
    ("moto.stepfunctions.parser.api", "TaskTimedOutEventDetails"),
    ("moto.stepfunctions.responses", "StepFunctionResponse.send_task_failure"),
    # statemachines/mocks.py (and the mocked test case local.py hands the execution worker)
    ("moto.stepfunctions.parser.mocking.mock_config", "MockTestCase"),
    ("moto.stepfunctions.parser.mocking.mock_config", "StateMockedResponses"),
    ("moto.stepfunctions.parser.mocking.mock_config", "MockedResponseReturn"),
    ("moto.stepfunctions.parser.mocking.mock_config", "MockedResponseThrow"),
    ("moto.stepfunctions.parser.asl.eval.environment", "Environment.is_mocked_mode"),
]


@pytest.mark.parametrize("module, path", PATCHED, ids=[p for _, p in PATCHED])
def test_the_moto_internals_the_bindings_use_are_there(module, path):
    target = importlib.import_module(module)
    for part in path.split("."):
        assert hasattr(target, part), f"moto moved {module}.{path}: update statemachines/local.py"
        target = getattr(target, part)


def test_moto_without_docker_serves_lambda_from_the_simple_backend():
    from moto.awslambda.utils import get_backend
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.core.config import default_user_config

    saved = default_user_config.get("lambda", {}).get("use_docker")
    default_user_config.setdefault("lambda", {})["use_docker"] = False
    try:
        assert isinstance(get_backend("123456789012", "us-east-1"), LambdaSimpleBackend)
    finally:
        default_user_config["lambda"]["use_docker"] = saved


def test_moto_glue_sync_is_still_broken_upstream_so_the_workaround_is_needed(monkeypatch):
    """If this fails, moto fixed `glue:startJobRun.sync`: drop the `glue_integration` patch in local.py."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_glue

    from cauce.statemachines.local import LocalStepFunctions

    document = {"StartAt": "Run", "States": {"Run": {"Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync",
                                                     "Parameters": {"JobName": "no-such-job"}, "End": True}}}

    with LocalStepFunctions(stack=empty_stack()) as sfn:  # the run itself fails (no such job); moto's .sync then crashes
        monkeypatch.setattr(state_task_service_glue.StateTaskServiceGlue, "_eval_integration_pattern",
                            state_task_service_glue.StateTaskServiceCallback._eval_integration_pattern)
        result = sfn.run(document, validate=False)

    assert result.status == "FAILED"
    assert "interrupt_all" in (result.cause or ""), result.cause


def test_moto_still_leaves_the_jsonata_evaluator_unset():
    """If this fails, moto ships a JSONata evaluator: compare it with statemachines/jsonata.py's before keeping ours."""
    from moto.stepfunctions.parser.asl.jsonata import jsonata

    assert jsonata._eval_jsonata is None


def test_the_variable_store_keeps_its_two_scopes_as_jsonata_py_reads_them():
    from moto.stepfunctions.parser.asl.eval.variable_store import VariableStore

    store = VariableStore()
    store.set("x", 1)
    inner = VariableStore.as_inner_scope_of(store)
    inner.set("y", 2)
    assert ({**inner._outer_scope, **inner._inner_scope}) == {"x": 1, "y": 2}


def test_moto_still_leaves_service_requests_unnormalised():
    """If this fails, moto normalises Task parameters itself: drop integrations.py's _normalise_* patches."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import StateTaskService

    parameters = {"StateMachineArn": "arn"}
    StateTaskService._normalise_parameters(None, parameters)
    assert parameters == {"StateMachineArn": "arn"}


def test_moto_still_drops_the_cause_of_send_task_failure():
    """If this fails, moto passes SendTaskFailure's cause on: drop integrations.py's _send_task_failure."""
    import inspect

    from moto.stepfunctions.responses import StepFunctionResponse

    assert "cause" not in inspect.getsource(StepFunctionResponse.send_task_failure)


def test_the_execution_worker_still_takes_a_mock_test_case():
    import inspect

    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    assert "mock_test_case" in inspect.signature(ExecutionWorker.__init__).parameters
    assert "self._mock_test_case" in inspect.getsource(ExecutionWorker._get_evaluation_environment)


def test_a_machine_is_parsed_once_for_its_first_execution(monkeypatch):
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    from cauce.statemachines.local import LocalStepFunctions

    calls = []
    original = AmazonStateLanguageParser.parse
    monkeypatch.setattr(AmazonStateLanguageParser, "parse", staticmethod(lambda text: calls.append(text) or original(text)))
    document = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
    with LocalStepFunctions(stack=empty_stack()) as sfn:
        first, second = sfn.run(document), sfn.run(document)
    assert first.status == second.status == "SUCCEEDED"
    assert len(calls) == 2  # one per machine (each run creates its own), none again at the start
