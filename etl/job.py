"""`GlueJob`: the base class of every ETL job.

    @dataclass(frozen=True)
    class Arguments:
        source_path: str
        target_path: str

    class CurateEvents(GlueJob):
        name = "curate-events"
        Arguments = Arguments

        def extract(self):
            return self.read(S3Source(self.args.source_path, schema=EVENTS), ctx="events")

        def transform(self, events):
            return self.expect(events, {"amount is not negative": "amount >= 0"})

        def load(self, curated):
            self.write(curated, S3Sink(self.args.target_path), ctx="curated")

    if __name__ == "__main__":
        CurateEvents.main()

The same file runs on AWS Glue (as the job's script) and locally (`cauce job run`, tests):
the runtime adapter, chosen at start, does the reading, writing, bookmarking and commit.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Mapping

from cauce.core.redaction import redact_text
from cauce.etl.arguments import GlueArguments, JobArgumentError, NoArguments, parse_glue_arguments, parse_job_arguments, split_argv
from cauce.etl.metrics import job_logger, log_event
from cauce.etl.quality import Check, QualityGate, rule_violations, schema_violations
from cauce.etl.sinks import S3Sink
from cauce.etl.sources import JdbcSource, S3Source

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

    from cauce.etl.runtimes.base import Runtime


class ReconciliationError(RuntimeError):
    """Counts that must agree did not: rows would have been lost."""


class QuarantineNotConfigured(RuntimeError):
    """Rows failed a check but the job declares no `quarantine_path` argument."""


@dataclass
class JobRunResult:
    """What one run did. `status` is SUCCEEDED, FAILED or TIMEOUT (as Glue reports runs)."""

    job_name: str
    run_id: str
    status: str
    runtime: str
    duration_seconds: float
    rows_read: dict[str, int | None] = field(default_factory=dict)
    rows_written: dict[str, int | None] = field(default_factory=dict)  # None: not known (see _collect_counts)
    rows_quarantined: int = 0
    checks: list[dict[str, Any]] = field(default_factory=list)
    files_published: int | None = None
    error: str | None = None
    error_type: str | None = None
    attempt: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"

    def counters(self) -> dict[str, float]:
        return {
            "rows_read": sum(v or 0 for v in self.rows_read.values()),
            "rows_written": sum(v or 0 for v in self.rows_written.values()),
            "rows_quarantined": self.rows_quarantined,
            "duration_seconds": self.duration_seconds,
        }

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


class GlueJob:
    """Subclass, set `name` and `Arguments`, and override `extract`/`transform`/`load` (or `run`)."""

    name: ClassVar[str] = ""
    Arguments: ClassVar[type] = NoArguments
    description: ClassVar[str] = ""
    # True: arguments the job does not declare are logged and ignored, not refused (for jobs
    # whose callers pass extra arguments of their own)
    accept_unknown_arguments: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("name"):
            cls.name = _kebab(cls.__name__)

    def __init__(self, runtime: "Runtime", args: Any, glue: GlueArguments, run_id: str):
        self.runtime = runtime
        self.args = args
        self.glue = glue
        self.run_id = run_id
        self.logger = job_logger(glue.JOB_NAME)
        self._quality = QualityGate()
        self._read_observations: dict[str, Any] = {}
        self._jdbc_sources: list[JdbcSource] = []  # named when a database fails part-way through a read
        self._write_observations: dict[str, Any] = {}

    # -- what job code uses --------------------------------------------------------------
    @property
    def spark(self) -> "SparkSession":
        return self.runtime.spark

    def read(self, source: Any, *, ctx: str) -> "DataFrame":
        """Read a source. `ctx` is Glue's transformation_ctx: the bookmark key of this read."""
        from pyspark.sql import Observation
        from pyspark.sql import functions as F

        df = self.runtime.read(source, ctx)
        if isinstance(source, JdbcSource):
            self._jdbc_sources.append(source)
        schema = getattr(source, "schema", None)
        if isinstance(source, S3Source) and schema is not None:
            reason = schema_violations(schema, "_corrupt_record" in df.columns)
            valid = self._quality.check(df, reason, f"schema:{ctx}")
            self._read_observations[ctx] = self._quality.checks[-1]
            return valid
        observation = Observation(f"read:{ctx}")
        self._read_observations[ctx] = observation
        return df.observe(observation, F.count(F.lit(1)).alias("rows"))

    def expect(self, df: "DataFrame", rules: Mapping[str, "str | Column"], *, name: str = "rules") -> "DataFrame":
        """Keep rows that pass every rule; quarantine the others with the names of the rules they fail.

        Called on exactly what `read` (or a previous `expect`) returned, the check shares
        that pass over the input rather than adding one.
        """
        return self._quality.check(df, rule_violations(rules), name)

    def write(self, df: "DataFrame", sink: Any, *, ctx: str) -> None:
        """Write to a sink; the output becomes visible only when the whole run commits."""
        from pyspark.sql import Observation
        from pyspark.sql import functions as F

        if ctx in self._write_observations:
            raise ValueError(f"write ctx {ctx!r} used twice in job {self.glue.JOB_NAME}; each write needs its own ctx")
        observation = Observation(f"write:{ctx}")
        self._write_observations[ctx] = observation
        self.runtime.write(df.observe(observation, F.count(F.lit(1)).alias("rows")), sink, ctx)

    # -- the lifecycle, overridden by jobs -----------------------------------------------
    def extract(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__}: override extract/transform/load, or run")

    def transform(self, data: Any) -> Any:
        return data

    def load(self, data: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__}: override load, or run")

    def run(self) -> None:
        self.load(self.transform(self.extract()))

    # -- entry point on Glue and for `python job.py` -------------------------------------
    @classmethod
    def main(cls, argv: list[str] | None = None) -> None:
        """Resolve arguments, pick the runtime, run, commit; exit non-zero on failure."""
        from cauce.etl.runtimes import select_runtime

        values = split_argv(sys.argv[1:] if argv is None else argv)
        try:
            runtime = select_runtime(values)
        except (RuntimeError, ValueError) as error:
            print(f"error: {error}", file=sys.stderr)
            raise SystemExit(2) from None
        result = execute(cls, values, runtime)
        if result.error_type == "JobArgumentError":
            raise SystemExit(2)
        if not result.succeeded:
            if runtime.name == "glue":  # let Glue record the run as FAILED with the message
                raise RuntimeError(result.error)
            raise SystemExit(1)


def parse_arguments(job_cls: type[GlueJob], values: dict[str, str]) -> tuple[GlueArguments, Any, list[str]]:
    """Glue's own arguments, the job's, and the warnings; raises JobArgumentError naming every problem."""
    glue = parse_glue_arguments(values, job_cls.name)
    args, warnings = parse_job_arguments(job_cls.Arguments, values, glue.JOB_NAME, job_cls.accept_unknown_arguments)
    return glue, args, warnings


def rejected(job_cls: type[GlueJob], error: JobArgumentError, runtime_name: str, seconds: float = 0.0) -> JobRunResult:
    """The FAILED run of a job whose arguments were refused (logged with every problem)."""
    log_event(job_logger(job_cls.name), "job arguments rejected", logging.ERROR, job=job_cls.name, problems=error.problems)
    return JobRunResult(job_cls.name, "", "FAILED", runtime_name, seconds, error=str(error), error_type="JobArgumentError")


def execute(job_cls: type[GlueJob], values: dict[str, str], runtime: "Runtime", attempt: int = 0) -> JobRunResult:
    """One attempt of one run: parse, start, run, quarantine, reconcile, commit (or abort)."""
    started = time.perf_counter()
    logger = job_logger(values.get("JOB_NAME") or job_cls.name)
    try:
        glue, args, warnings = parse_arguments(job_cls, values)
        base_id = glue.JOB_RUN_ID or f"jr_local_{uuid.uuid4().hex[:20]}"
        run_id = f"{base_id}_attempt_{attempt}" if attempt else base_id
    except JobArgumentError as error:
        return rejected(job_cls, error, runtime.name, time.perf_counter() - started)
    for warning in warnings:
        log_event(logger, warning, logging.WARNING, job=glue.JOB_NAME)
    result = JobRunResult(glue.JOB_NAME, run_id, "RUNNING", runtime.name, 0.0, attempt=attempt, warnings=warnings)
    job = None
    try:
        runtime.start(glue, {k: v for k, v in values.items()}, run_id)
        log_event(logger, "job run started", job=glue.JOB_NAME, run_id=run_id, runtime=runtime.name,
                  bookmark=glue.job_bookmark_option, attempt=attempt)
        job = job_cls(runtime, args, glue, run_id)
        job.run()
        _write_quarantine(job)
        _collect_counts(job, result)
        result.files_published = runtime.commit()
        result.status = "SUCCEEDED"
    except BaseException as error:  # a failed run publishes nothing, whatever went wrong
        runtime.abort()
        result.status = "TIMEOUT" if getattr(error, "timed_out", False) else "FAILED"
        error_type, message = _classify(error, job)
        result.error = redact_text(f"{error_type}: {message}")  # a driver error may quote a password
        result.error_type = error_type
        if isinstance(error, KeyboardInterrupt):
            raise
    finally:
        result.duration_seconds = round(time.perf_counter() - started, 3)
    level = logging.INFO if result.succeeded else logging.ERROR
    log_event(logger, "job run finished", level, **{k: v for k, v in result.as_dict().items() if k != "warnings"})
    if result.succeeded:
        runtime.publish_metrics(glue.JOB_NAME, result.counters())
    return result


def _write_quarantine(job: GlueJob) -> None:
    rows = job._quality.quarantine_rows(job.glue.JOB_NAME, job.run_id)
    if rows is None:
        return
    path = getattr(job.args, "quarantine_path", None)
    if path is None:
        # without a destination, any failing row must fail the run rather than vanish
        failing = rows.limit(1).collect()
        if failing:
            raise QuarantineNotConfigured(
                f"job {job.glue.JOB_NAME}: a row failed check {failing[0]['check']!r} ({failing[0]['reason']}) "
                "and the job declares no quarantine_path argument"
            )
        return
    job.write(rows, S3Sink(path, format="json"), ctx="_quarantine")


def _collect_counts(job: GlueJob, result: JobRunResult) -> None:
    from cauce.etl.runtimes.local import observed_value

    failed_total = 0
    for check in job._quality.checks:
        values = observed_value(check.observation)
        if values is None:
            result.checks.append({"check": check.name, "rows_in": None, "rows_passed": None, "rows_quarantined": None})
            continue
        rows_in, failed = int(values["rows_in"]), int(values["rows_failed"] or 0)
        failed_total += failed
        result.checks.append({"check": check.name, "rows_in": rows_in, "rows_passed": rows_in - failed, "rows_quarantined": failed})
    for ctx, observed in job._read_observations.items():
        values = observed_value(observed.observation if isinstance(observed, Check) else observed)
        result.rows_read[ctx] = None if values is None else int(values.get("rows_in", values.get("rows", 0)))
    for ctx, observation in job._write_observations.items():
        # a write no DataFrame action evaluated (Glue's catalog sink writes a DynamicFrame) is not known: None
        values = observed_value(observation)
        count = int(values["rows"]) if values else None
        if ctx == "_quarantine":
            result.rows_quarantined = count or 0
        else:
            result.rows_written[ctx] = count
    if result.rows_quarantined != failed_total:
        raise ReconciliationError(
            f"job {job.glue.JOB_NAME}: checks failed {failed_total} row(s) but {result.rows_quarantined} reached the quarantine"
        )


def _classify(error: BaseException, job: GlueJob | None) -> tuple[str, str]:
    """(error type, message). Spark reads lazily, so a database that fails part-way through a JDBC
    read surfaces later, as a Java error in whatever action ran: it is named as the JDBC read it is."""
    message = _describe(error)
    jdbc_sources = job._jdbc_sources if job is not None else []
    if jdbc_sources and type(error).__module__.startswith(("py4j", "pyspark")) and _JDBC_FAILURE.search(str(error)):
        reads = ", ".join(f"connection {s.connection}: reading {s.table}" for s in jdbc_sources)
        return "JdbcConnectionError", f"{reads}: the database failed part-way: {message}"
    return type(error).__name__, message


_JDBC_FAILURE = re.compile(r"java\.sql\.\w*Exception|org\.postgresql|PSQLException|SQLException|jdbc", re.I)


def _describe(error: BaseException) -> str:
    from cauce.etl.runtimes.local import _first_line

    module = type(error).__module__
    if module.startswith(("py4j", "pyspark")):
        return _first_line(error)
    return str(error)
