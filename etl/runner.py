"""Running a job locally with the meaning Glue gives to a job definition's settings.

- `worker_type` and `number_of_workers` set the run's parallelism: Glue gives each worker
  a number of vCPUs and keeps one worker for the driver; locally that many task slots are
  capped at the machine's cores (the session's master) and set the shuffle partitions.
- `timeout` (minutes): the run is cancelled and reported TIMEOUT; nothing is published.
- `max_retries`: a FAILED run is started again as a new attempt (`..._attempt_N`), from the
  last committed bookmark; as on Glue, a run that times out is not retried.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cauce.core.facts import ETL_WORKER_TYPES, GLUE_DEFAULT_TIMEOUT_MINUTES, GLUE_MAX_RETRIES, WORKER_TYPES
from cauce.etl.arguments import JobArgumentError
from cauce.etl.job import GlueJob, JobRunResult, execute, parse_arguments, rejected

if TYPE_CHECKING:
    from cauce.core.stack import GlueJobConfig
    from cauce.etl.runtimes.base import Runtime



class RunTimedOut(TimeoutError):
    timed_out = True


@dataclass(frozen=True)
class RunPolicy:
    worker_type: str = "G.1X"
    number_of_workers: int = 2
    timeout_minutes: float = GLUE_DEFAULT_TIMEOUT_MINUTES
    max_retries: int = 0

    def __post_init__(self) -> None:
        if self.worker_type not in ETL_WORKER_TYPES:  # what the module accepts for its (Spark ETL) jobs, no more
            raise ValueError(f"worker_type {self.worker_type!r} is not one of {', '.join(ETL_WORKER_TYPES)} (the worker types of a Glue ETL job)")
        if self.number_of_workers < 1:
            raise ValueError(f"number_of_workers must be at least 1, got {self.number_of_workers}")
        if self.timeout_minutes <= 0:
            raise ValueError(f"timeout must be positive minutes, got {self.timeout_minutes}")
        if not GLUE_MAX_RETRIES[0] <= self.max_retries <= GLUE_MAX_RETRIES[1]:
            raise ValueError(f"max_retries must be {GLUE_MAX_RETRIES[0]} to {GLUE_MAX_RETRIES[1]} (Glue's range), got {self.max_retries}")

    @classmethod
    def for_job(cls, definition: "GlueJobConfig | None", **overrides: Any) -> RunPolicy:
        """The policy of a stack's job definition (glue_config.job_config entry), with `overrides`
        (those given as None are ignored); Glue's defaults for a job the stack does not define."""
        values: dict[str, Any] = {}
        if definition is not None:
            values = {"worker_type": definition.worker_type, "number_of_workers": definition.number_of_workers,
                      "timeout_minutes": definition.timeout, "max_retries": definition.max_retries}
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)

    @property
    def glue_task_slots(self) -> int:
        """Executor cores the job would get on Glue (one worker hosts the driver)."""
        return max(1, self.number_of_workers - 1) * WORKER_TYPES[self.worker_type].vcpus

    @property
    def local_cores(self) -> int:
        return max(1, min(os.cpu_count() or 1, self.glue_task_slots))


def run_job(job_cls: type[GlueJob], values: dict[str, str], runtime: "Runtime", policy: RunPolicy = RunPolicy()) -> JobRunResult:
    """Run with the policy's parallelism, timeout and retries; returns the last attempt's result.
    Arguments are checked first, so that a missing or misspelt one is reported before Spark starts."""
    try:
        parse_arguments(job_cls, values)
    except JobArgumentError as error:
        return rejected(job_cls, error, runtime.name)
    runtime.spark.conf.set("spark.sql.shuffle.partitions", str(policy.local_cores))
    attempt = 0
    while True:
        result = _run_with_timeout(job_cls, values, runtime, policy.timeout_minutes * 60.0, attempt)
        if result.status != "FAILED" or result.error_type == "JobArgumentError" or attempt >= policy.max_retries:
            return result
        attempt += 1


def _run_with_timeout(job_cls, values, runtime, timeout_seconds: float, attempt: int) -> JobRunResult:
    outcome: list[JobRunResult] = []
    worker = threading.Thread(target=lambda: outcome.append(execute(job_cls, values, runtime, attempt)), daemon=True)
    worker.start()
    worker.join(timeout_seconds)
    if outcome:
        return outcome[0]
    runtime.cancel()  # stops its Spark jobs and forbids the commit
    worker.join(10)  # a run blocked outside Spark cannot be interrupted; it can no longer commit either
    if outcome and outcome[0].succeeded:  # it committed just before the cancel landed
        return outcome[0]
    result = outcome[0] if outcome else JobRunResult(job_cls.name, "", "TIMEOUT", runtime.name, timeout_seconds)
    result.status = "TIMEOUT"
    result.error = f"RunTimedOut: job {job_cls.name} exceeded its timeout of {timeout_seconds / 60:g} minute(s)"
    result.error_type = "RunTimedOut"
    return result
