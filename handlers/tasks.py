"""Workflow task handlers: one Lambda function, several operations, invoked by Step Functions.

    from pydantic import BaseModel
    from cauce.handlers import TaskRouter

    router = TaskRouter()

    class ProcessResults(BaseModel):
        job_name: str

    @router.operation("process-results", model=ProcessResults)
    def process_results(payload: ProcessResults) -> dict:
        return {"job": payload.job_name}

    handler = router

The event is the task's `Payload` (`{"operation": "process-results", ...}`). The other keys are
validated against the operation's pydantic model (Powertools parser). The model may also be
named as `"module:Class"`: it is imported at the operation's first call, so a function that is
also a Firehose transform (cauce.handlers.data_processor) does not import pydantic at cold start. Errors carry stable names,
because a Python Lambda reports `errorType` as the exception's class name and that is what a
state machine's Retry and Catch match: `InvalidTaskInput`, `UnknownOperation`, or any exception
class of the user's own (`class JobRunFailed(TaskError)`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from cauce.handlers.config import HandlerSettings
from cauce.handlers.observability import Telemetry


class TaskError(Exception):
    """Base class for task errors a state machine may Retry or Catch by name."""


class InvalidTaskInput(TaskError):
    """The task's payload does not match the operation's model (the message lists each field)."""


class UnknownOperation(TaskError):
    """The payload names no operation, or one this function does not have."""


class TaskRouter:
    """A Lambda handler `(event, context) -> result` routing by the payload's `operation`."""

    def __init__(self, service: str | None = None, settings: HandlerSettings | None = None, log_stream: Any = None) -> None:
        self.settings = settings or HandlerSettings.from_environment(default_service="workflow-tasks", service=service)
        self.telemetry = Telemetry(self.settings, stream=log_stream)
        self.operations: dict[str, tuple[Callable[..., Any], type | str | None]] = {}
        self._handle = self.telemetry.logger.inject_lambda_context(self._dispatch)

    def operation(self, name: str, model: type | str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register `function(payload)` for `name`; with a model (a class, or "module:Class"), `payload` is the validated model."""
        if name in self.operations:
            raise ValueError(f"operation {name!r} is already registered")
        if isinstance(model, str) and not all(model.partition(":")[::2]):
            raise ValueError(f"model {model!r} must be a class or 'module:Class'")

        def register(function: Callable[..., Any]) -> Callable[..., Any]:
            self.operations[name] = (function, model)
            return function

        return register

    def __call__(self, event: Any, context: Any) -> Any:
        return self._handle(event, context)

    def _dispatch(self, event: Any, context: Any) -> Any:
        logger = self.telemetry.logger
        if not isinstance(event, dict):
            raise InvalidTaskInput(f"the task payload must be a JSON object, got {type(event).__name__}")
        name = event.get("operation")
        if name not in self.operations:
            known = ", ".join(sorted(self.operations)) or "none"
            raise UnknownOperation(f"operation {name!r} is not one of: {known}")
        function, model = self.operations[name]
        payload = {k: v for k, v in event.items() if k != "operation"}
        if isinstance(model, str):
            model = _import_model(model)
            self.operations[name] = (function, model)
        if model is not None:
            payload = _validate(payload, model, name)
        logger.append_keys(operation=name)
        try:
            with self.telemetry.traced(f"## {name}"):
                result = function(payload)
        except Exception as error:
            logger.warning("operation failed", extra={"error_type": type(error).__name__, "error": str(error)})
            self.telemetry.publish({"TasksFailed": 1})
            raise
        finally:
            logger.remove_keys(["operation"])
        self.telemetry.publish({"TasksSucceeded": 1})
        return result.model_dump(mode="json") if hasattr(result, "model_dump") else result


def _import_model(reference: str) -> type:
    module, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module), attribute)


def _validate(payload: dict, model: type, operation: str) -> Any:
    from aws_lambda_powertools.utilities.parser import parse
    from pydantic import ValidationError

    try:
        return parse(event=payload, model=model)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(payload)'}: {e['msg']}" for e in error.errors())
        raise InvalidTaskInput(f"{operation}: {problems}") from None


