"""What a state machine's Tasks call when it runs locally: the interface between the interpreter
(cauce.statemachines.local) and the things Tasks run.

The interpreter lives on the capabilities' floor and imports none of them; the local stack
(`cauce.localstack.bindings.StackBindings`) fills this interface with the project's handlers, Glue
jobs and crawlers. `FunctionBindings` binds plain callables, for workflows of Lambda tasks only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from cauce.statemachines.validate import KnownTargets

Handler = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class FunctionSettings:
    """What the Lambda context reports for a function."""

    memory_size: int = 128
    timeout: float = 3


@dataclass
class JobOutcome:
    """How a Glue job run ended: Glue's JobRunState (SUCCEEDED, FAILED, TIMEOUT, ERROR), its error, and
    whatever the runner returned (a JobRunResult locally)."""

    state: str
    error: str | None = None
    result: Any = None


class TaskBindings(Protocol):
    def known_targets(self) -> KnownTargets:
        """The function, job and crawler names Tasks may call (validation reads it)."""

    def handler_for(self, function_name: str) -> Handler:
        """The callable behind a Lambda function; raises LookupError if none, or the import's error."""

    def function_settings(self, function_name: str) -> FunctionSettings: ...

    def run_job(self, job_name: str, arguments: Mapping[str, str], run_id: str) -> JobOutcome:
        """Run a Glue job to its end with the Task's Arguments (`--key`: value)."""

    def run_crawler(self, crawler_name: str) -> Any:
        """Run a crawler to its end; raises LookupError for an unknown crawler."""

    # Optional: `lake_s3(request) -> response` (botocore's prepared request and response) answers the
    # runs' S3 requests from a lake; without it they reach moto's S3 in this process.


class FunctionBindings:
    """Lambda functions bound to callables; no Glue jobs or crawlers."""

    def __init__(self, functions: Mapping[str, Handler] | None = None) -> None:
        self.functions = dict(functions or {})

    def known_targets(self) -> KnownTargets:
        return KnownTargets(functions=frozenset(self.functions))

    def handler_for(self, function_name: str) -> Handler:
        if function_name not in self.functions:
            raise LookupError(f"no local handler for Lambda function {function_name!r}")
        return self.functions[function_name]

    def function_settings(self, function_name: str) -> FunctionSettings:
        return FunctionSettings()

    def run_job(self, job_name: str, arguments: Mapping[str, str], run_id: str) -> JobOutcome:
        return JobOutcome("FAILED", f"no Glue job {job_name!r} is bound (only Lambda functions are)")

    def run_crawler(self, crawler_name: str) -> Any:
        raise LookupError(crawler_name)
