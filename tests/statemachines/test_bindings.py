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
