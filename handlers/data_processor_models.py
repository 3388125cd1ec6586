"""The payloads of data-processor's workflow tasks (cauce.handlers.data_processor), as pydantic
models: a module of their own, imported at a task's first call, so that the same function's
Firehose role does not pay for pydantic at cold start."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


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
