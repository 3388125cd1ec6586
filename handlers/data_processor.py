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

from typing import TYPE_CHECKING, Any

from cauce.handlers.firehose import firehose_transform
from cauce.handlers.results import Failed
from cauce.handlers.tasks import TaskError, TaskRouter

if TYPE_CHECKING:
    from cauce.handlers.data_processor_models import NotifyFailure, ProcessResults

REQUIRED_FIELDS = ("event_id", "event_type", "event_time")
# The tasks' pydantic models, imported at a task's first call: the Firehose role never needs them.
MODELS = "cauce.handlers.data_processor_models"


class JobRunFailed(TaskError):
    """The Glue job run handed to process-results did not end in SUCCEEDED."""


@firehose_transform(service="data-processor")
def transform(event: Any) -> Any:
    if not isinstance(event, dict):
        return Failed(f"expected a JSON object, got {type(event).__name__}")
    missing = [name for name in REQUIRED_FIELDS if event.get(name) in (None, "")]
    if missing:
        return Failed(f"missing required field(s): {', '.join(missing)}")
    return event


tasks = TaskRouter(service="data-processor")


@tasks.operation("process-results", model=f"{MODELS}:ProcessResults")
def process_results(payload: ProcessResults) -> dict[str, Any]:
    stage = tasks.settings.stage
    run = payload.job_run
    if run is None:
        return {"stage": stage, "job_run": None, "status": "NO_JOB_RUN"}
    if run.JobRunState != "SUCCEEDED":
        raise JobRunFailed(f"{run.JobName} run {run.Id} ended {run.JobRunState}: {run.ErrorMessage or 'no error message'}")
    return {"stage": stage, "job_name": run.JobName, "job_run_id": run.Id, "status": run.JobRunState, "execution_seconds": run.ExecutionTime}


@tasks.operation("notify-failure", model=f"{MODELS}:NotifyFailure")
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
