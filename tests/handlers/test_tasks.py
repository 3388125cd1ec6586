"""Workflow tasks (the seed's data-processor) and the function's environment."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from cauce.handlers import ConfigurationError, HandlerSettings, InvalidTaskInput, TaskRouter, UnknownOperation
from cauce.handlers.data_processor import handler as data_processor
from cauce.handlers.testing import decode_firehose_response, firehose_event, invoke, step_functions_task_event


class Resize(BaseModel):
    width: int
    height: int = 10


@pytest.fixture
def router(service, logs):
    router = TaskRouter(service=service, log_stream=logs)

    @router.operation("resize", model=Resize)
    def resize(payload: Resize) -> Resize:
        return Resize(width=payload.width * 2, height=payload.height)

    @router.operation("echo")
    def echo(payload: dict) -> dict:
        return payload

    return router


def test_operations_are_routed_and_models_validated_and_dumped(router, lambda_context):
    assert router({"operation": "resize", "width": "3"}, lambda_context) == {"width": 6, "height": 10}
    assert router({"operation": "echo", "a": [1]}, lambda_context) == {"a": [1]}


def test_a_model_named_as_module_and_class_is_imported_at_its_first_call(service, logs, lambda_context):
    router = TaskRouter(service=service, log_stream=logs)

    @router.operation("resize", model=f"{__name__}:Resize")
    def resize(payload: Resize) -> dict:
        return {"area": payload.width * payload.height}

    assert router.operations["resize"][1] == f"{__name__}:Resize"  # not imported yet
    assert router({"operation": "resize", "width": "3"}, lambda_context) == {"area": 30}
    assert router.operations["resize"][1] is Resize
    with pytest.raises(ValueError, match="module:Class"):
        router.operation("bad", model="no_colon")


def test_invalid_input_names_every_field_and_has_a_stable_error_type(router, lambda_context):
    outcome = invoke(router, {"operation": "resize", "width": "wide", "height": None}, lambda_context)

    assert outcome["ok"] is False
    assert outcome["response"]["errorType"] == "InvalidTaskInput"  # what Retry/Catch ErrorEquals matches
    assert "width: Input should be a valid integer" in outcome["response"]["errorMessage"]
    assert "height: Input should be a valid integer" in outcome["response"]["errorMessage"]


@pytest.mark.parametrize("event, error", [({"operation": "fly"}, UnknownOperation), ({}, UnknownOperation), ([1], InvalidTaskInput)])
def test_unknown_or_missing_operations_are_refused(router, lambda_context, event, error):
    with pytest.raises(error):
        router(event, lambda_context)


def test_an_operation_cannot_be_registered_twice(router):
    with pytest.raises(ValueError, match="already registered"):
        router.operation("echo")


def test_data_processor_reports_a_succeeded_glue_job_run(lambda_context, monkeypatch):
    run = {"JobName": "etl-proceso-principal", "Id": "jr_1", "JobRunState": "SUCCEEDED", "ExecutionTime": 42, "Attempt": 0}

    result = data_processor(step_functions_task_event("process-results", job_run=run), lambda_context)

    assert result == {"stage": "dev", "job_name": "etl-proceso-principal", "job_run_id": "jr_1", "status": "SUCCEEDED", "execution_seconds": 42}
    assert data_processor(step_functions_task_event("process-results"), lambda_context)["status"] == "NO_JOB_RUN"


def test_data_processor_fails_a_failed_run_with_a_catchable_name(lambda_context):
    run = {"JobName": "etl-proceso-principal", "Id": "jr_2", "JobRunState": "FAILED", "ErrorMessage": "OOM"}

    outcome = invoke(data_processor, step_functions_task_event("process-results", job_run=run), lambda_context)

    assert outcome["response"]["errorType"] == "JobRunFailed"
    assert outcome["response"]["errorMessage"] == "etl-proceso-principal run jr_2 ended FAILED: OOM"


def test_data_processor_as_the_firehose_processor_passes_valid_events_and_fails_the_rest(lambda_context):
    good = {"event_id": "e1", "event_type": "view", "event_time": "2026-11-26T10:00:00", "user_id": "u1"}
    event = firehose_event([good, {"event_id": "e2"}, [1, 2]], source_stream="data-ingestion-stream")

    results = decode_firehose_response(data_processor(event, lambda_context))

    assert [r[1] for r in results] == ["Ok", "ProcessingFailed", "ProcessingFailed"]
    assert results[0][2] == b'{"event_id":"e1","event_type":"view","event_time":"2026-11-26T10:00:00","user_id":"u1"}\n'


def test_settings_come_from_the_seed_environment_variables():
    settings = HandlerSettings.from_environment("fallback", environ={"STAGE": "prod", "LOG_LEVEL": "debug", "AWS_LAMBDA_FUNCTION_NAME": "data-processor"})

    assert (settings.stage, settings.log_level, settings.service) == ("prod", "DEBUG", "data-processor")
    assert HandlerSettings.from_environment("fallback", service="explicit", environ={}).service == "explicit"


def test_invalid_settings_fail_the_cold_start_naming_each_variable():
    with pytest.raises(ConfigurationError) as error:
        HandlerSettings.from_environment("x", environ={"STAGE": "prod env!", "LOG_LEVEL": "LOUD"})

    assert "STAGE='prod env!'" in str(error.value)
    assert "LOG_LEVEL='LOUD': expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL" in str(error.value)


def test_a_handler_module_with_a_bad_environment_does_not_import(monkeypatch):
    from cauce.handlers import firehose_transform

    monkeypatch.setenv("LOG_LEVEL", "verbose")
    with pytest.raises(ConfigurationError, match="LOG_LEVEL"):
        firehose_transform(lambda e: e)


def test_every_function_of_the_default_stack_resolves_to_a_handler():
    import importlib

    from cauce.core.stack import load_stack

    functions = load_stack(None).lambda_config
    assert functions, "the default stack deploys the seed's data-processor"
    for key, function in functions.items():
        module, _, attribute = function.handler.rpartition(".")
        assert callable(getattr(importlib.import_module(module), attribute)), key
        assert function.runtime in ("python3.11", "python3.12", "python3.13")
