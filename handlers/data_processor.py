"""data-processor: the seed's Lambda function, in both roles the seed gives it.

- Firehose processor of the `s3-delivery` stream: each raw event is checked against the shape
  the ETL job `etl-proceso-principal` reads (event_id, event_type, event_time required) and
  passed on as one JSON line; anything else is ProcessingFailed and lands under the stream's
  `errors/processing-failed/` prefix with the original bytes.
- Task of the `etl-workflow` state machine, `{"operation": "process-results"}`: it reads the
  Glue job run that the previous state returned (if the state machine passes it as `job_run`)
  and reports it, failing with `JobRunFailed` when the run did not succeed. Its failure path
  calls `{"operation": "notify-failure", "error": {"Error": ..., "Cause": ...}}`, which logs the
  failure at ERROR level (the alarm source) and counts it in the `WorkflowFailures` metric.

Deploy with handler `cauce.handlers.data_processor.handler`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cauce.handlers.firehose import firehose_transform
from cauce.handlers.results import Failed
from cauce.handlers.tasks import TaskError, TaskRouter

REQUIRED_FIELDS = ("event_id", "event_type", "event_time")


class JobRunFailed(TaskError):
    """The Glue job run handed to process-results did not end in SUCCEEDED."""


class GlueJobRun(BaseModel):
    """The fields of Glue's JobRun (GetJobRun, or the output of `glue:startJobRun.sync`) used here."""

    model_config = ConfigDict(extra="allow")

    JobName: str
    Id: str
    JobRunState: str
    ExecutionTime: int | None = None
    ErrorMessage: str | None = None


class ProcessResults(BaseModel):
    job_run: GlueJobRun | None = Field(default=None, description="The Glue job run to report on")


class StatesError(BaseModel):
    """What a Catch puts at its ResultPath: the error name and its cause."""

    Error: str
    Cause: str | None = None


class NotifyFailure(BaseModel):
    execution: str | None = None
    error: StatesError


@firehose_transform(service="data-processor")
def transform(event: Any) -> Any:
    if not isinstance(event, dict):
        return Failed(f"expected a JSON object, got {type(event).__name__}")
    missing = [name for name in REQUIRED_FIELDS if event.get(name) in (None, "")]
    if missing:
        return Failed(f"missing required field(s): {', '.join(missing)}")
    return event


tasks = TaskRouter(service="data-processor")


@tasks.operation("process-results", model=ProcessResults)
def process_results(payload: ProcessResults) -> dict[str, Any]:
    stage = tasks.settings.stage
    run = payload.job_run
    if run is None:
        return {"stage": stage, "job_run": None, "status": "NO_JOB_RUN"}
    if run.JobRunState != "SUCCEEDED":
        raise JobRunFailed(f"{run.JobName} run {run.Id} ended {run.JobRunState}: {run.ErrorMessage or 'no error message'}")
    return {"stage": stage, "job_name": run.JobName, "job_run_id": run.Id, "status": run.JobRunState, "execution_seconds": run.ExecutionTime}


@tasks.operation("notify-failure", model=NotifyFailure)
def notify_failure(payload: NotifyFailure) -> dict[str, Any]:
    tasks.telemetry.logger.error(
        "workflow failed", extra={"execution": payload.execution, "error": payload.error.Error, "cause": payload.error.Cause}
    )
    tasks.telemetry.publish({"WorkflowFailures": 1})
    return {"notified": True, "execution": payload.execution, "error": payload.error.Error}


def handler(event: Any, context: Any) -> Any:
    """Firehose transformation events have `records`; everything else is a workflow task."""
    if isinstance(event, dict) and "records" in event and "operation" not in event:
        return transform(event, context)
    return tasks(event, context)
