"""Plain AWS Glue scripts (written against awsglue, no GlueJob subclass), run locally unmodified.

A file is a Glue script when it imports awsglue and defines no GlueJob subclass; that is read
from its syntax tree, so listing jobs never executes one. Running one:
- the local awsglue (cauce.etl.awsglue) is put in place of `awsglue` for the run only;
- `sys.argv` is the script's name and the run's `--key value` arguments (the stack's
  default_arguments overridden by the command line's, as on Glue), plus JOB_RUN_ID;
- `SparkContext()` and `SparkContext.getOrCreate()` both give the shared local session's
  context (a script makes its own on Glue; locally a second one cannot exist);
- every bucket the script or its arguments name, and every bucket folder already in the lake,
  is mounted, so plain `spark.read`/`df.write` on `s3://` reach the lake too;
- the result is a JobRunResult like a GlueJob's: status, rows read and written per
  transformation_ctx (where an action evaluated them), error records, duration.
"""

from __future__ import annotations

import ast
import re
import runpy
import sys
import time
import traceback
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cauce.core.redaction import redact_text
from cauce.etl.job import JobRunResult

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from cauce.core.lake import LocalLake

_S3_URI = re.compile(r"^s3[an]?://([a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(/|$)")


def _tree(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_text(), filename=str(path))
    except (SyntaxError, UnicodeDecodeError, OSError):
        return None


def is_glue_script(path: Path) -> bool:
    """Imports awsglue (or awsgluedq/awsglueml) and defines no GlueJob subclass, read without running it."""
    tree = _tree(Path(path))
    if tree is None:
        return False
    uses_awsglue = defines_job = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            uses_awsglue |= any(alias.name.split(".")[0] in ("awsglue", "awsgluedq", "awsglueml") for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            uses_awsglue |= node.module.split(".")[0] in ("awsglue", "awsgluedq", "awsglueml")
        elif isinstance(node, ast.ClassDef):
            defines_job |= any((isinstance(b, ast.Name) and b.id == "GlueJob") or (isinstance(b, ast.Attribute) and b.attr == "GlueJob")
                               for b in node.bases)
    return uses_awsglue and not defines_job


def script_description(path: Path) -> str:
    tree = _tree(Path(path))
    return (ast.get_docstring(tree) or "").split("\n")[0] if tree is not None else ""


def buckets_named(path: Path, values: dict[str, str]) -> set[str]:
    """Buckets in the script's string constants and in the run's argument values."""
    found = set()
    tree = _tree(Path(path))
    texts = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)] if tree else []
    for text in texts + list(values.values()):
        match = _S3_URI.match(str(text))
        if match:
            found.add(match.group(1))
    return found


class _SharedContext:
    """Stands in for pyspark's SparkContext class during a run: constructing one gives the active context."""

    def __init__(self, real: type):
        self.real = real

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.real.getOrCreate()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def __instancecheck__(self, instance: Any) -> bool:
        return isinstance(instance, self.real)


def run_glue_script(path: Path | str, values: dict[str, str], lake: "LocalLake | Path | str", spark: "SparkSession | None" = None,
                    max_retries: int = 0) -> JobRunResult:
    """Run the script; a FAILED run is retried up to `max_retries` times (a new attempt each time)."""
    attempt = 0
    while True:
        result = _run_once(Path(path), values, lake, spark, attempt)
        if result.succeeded or attempt >= max_retries:
            return result
        attempt += 1


def _run_once(path: Path, values: dict[str, str], lake: Any, spark: Any, attempt: int) -> JobRunResult:
    import pyspark
    import pyspark.context

    from cauce.etl.awsglue import installed
    from cauce.etl.awsglue.environment import LocalGlueEnvironment, drain_listener_bus, observed, set_environment

    started = time.perf_counter()
    job_name = values.get("JOB_NAME") or path.stem
    base_id = values.get("JOB_RUN_ID") or f"jr_local_{uuid.uuid4().hex[:20]}"
    run_id = f"{base_id}_attempt_{attempt}" if attempt else base_id
    arguments = {**values, "JOB_NAME": job_name, "JOB_RUN_ID": run_id}
    environment = LocalGlueEnvironment(lake, spark)
    environment.run_id = run_id
    environment.mount_lake_buckets()
    environment.mount(*buckets_named(path, arguments))
    result = JobRunResult(job_name, run_id, "RUNNING", "local", 0.0, attempt=attempt)
    previous = set_environment(environment)
    saved_argv = sys.argv
    real = pyspark.context.SparkContext
    shared = _SharedContext(real)
    environment.spark  # the tuned session first, so that the script's SparkContext() is its context
    sys.argv = [str(path)] + [token for key, value in arguments.items() for token in (f"--{key}", str(value))]
    pyspark.SparkContext = pyspark.context.SparkContext = shared  # type: ignore[misc]
    try:
        with installed():
            runpy.run_path(str(path), run_name="__main__")
        result.status = "SUCCEEDED"
    except SystemExit as exit_:
        if exit_.code in (0, None):
            result.status = "SUCCEEDED"
        else:
            result.status, result.error_type, result.error = "FAILED", "SystemExit", f"SystemExit: {exit_.code}"
    except Exception as error:  # the run fails with the script's own error, named as Glue logs it
        result.status = "FAILED"
        result.error_type = type(error).__name__
        frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == str(path)]
        where = f" (line {frames[-1].lineno} of {path.name})" if frames else ""
        result.error = redact_text(f"{type(error).__name__}: {_first_line(error)}{where}")
    finally:
        pyspark.SparkContext = pyspark.context.SparkContext = real  # type: ignore[misc]
        sys.argv = saved_argv
        set_environment(previous)
        result.duration_seconds = round(time.perf_counter() - started, 3)
    drain_listener_bus(environment.spark)
    for ctx, observation in environment.counts.reads.items():
        metrics = {"rows": observation} if isinstance(observation, int) else observed(observation)
        result.rows_read[ctx] = None if metrics is None else int(metrics["rows"])
        if metrics and metrics.get("errors"):
            result.warnings.append(f"{ctx}: {metrics['errors']} error record(s) (input that does not parse); "
                                   "they are not in the data: errorsCount() counts them, errorsAsDynamicFrame() has them")
    for ctx, observation in environment.counts.writes.items():
        metrics = observed(observation)
        if metrics is not None:
            result.rows_written[ctx] = int(metrics["rows"])
    return result


def _first_line(error: BaseException) -> str:
    from cauce.etl.runtimes.local import _first_line as java_first_line

    if type(error).__module__.startswith(("py4j", "pyspark")):
        return java_first_line(error)
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
