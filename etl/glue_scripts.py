"""Plain AWS Glue scripts (written against awsglue, no GlueJob subclass), run locally unmodified.

A file is a Glue script when it imports awsglue and defines no GlueJob subclass; that is read
from its syntax tree, so listing jobs never executes one. Running one:
- the local awsglue (cauce.etl.awsglue) is put in place of `awsglue` for the run only;
- `sys.argv` is the script's name and the run's `--key value` arguments (the stack's
  default_arguments overridden by the command line's, as on Glue), plus JOB_RUN_ID;
- the script's folder and `--extra-py-files` (in the lake, or local) are importable, first;
- `SparkContext()` and `SparkContext.getOrCreate()` both give the shared local session's
  context (a script makes its own on Glue; locally a second one cannot exist);
- every bucket the script or its arguments name, and every bucket folder already in the lake,
  is mounted, so plain `spark.read`/`df.write` on `s3://` reach the lake too;
- the result is a JobRunResult like a GlueJob's: status, rows read and written per
  transformation_ctx (where an action evaluated them), error records, duration;
- the job's policy applies as to a GlueJob (cauce.etl.runner.RunPolicy): its workers set the
  shuffle partitions, a FAILED run is retried, and past its timeout the run ends TIMEOUT: the
  script runs in a thread of its own with its Spark jobs in a job group, so the group is cancelled
  and the thread interrupted (an exception raised between two of its instructions);
- sys.argv, `awsglue`, SparkContext and the current environment belong to the process, so one
  script runs at a time (a lock; runs from other threads wait), and everything swapped in is
  swapped back however the run ends, its setup included.
"""

from __future__ import annotations

import ast
import re
import runpy
import sys
import threading
import time
import traceback
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from cauce.core.redaction import redact_text
from cauce.etl.job import JobRunResult

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from cauce.core.lake import LocalLake
    from cauce.etl.runner import RunPolicy

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


def importable_folders(path: Path, values: dict[str, str], lake: Any) -> list[str]:
    """What the run imports from, first: the script's folder (as `python script.py` has it), then
    each of `--extra-py-files` (Glue's comma-separated .py files and .zip archives, s3:// in the lake
    or local): a .py file's folder, an archive itself."""
    found = [str(Path(path).resolve().parent)]
    for entry in filter(None, (part.strip() for part in values.get("extra-py-files", "").split(","))):
        local = Path(lake.local_path(entry)) if "://" in entry else Path(entry)
        found.append(str(local if local.suffix == ".zip" else local.parent))
    return list(dict.fromkeys(found))


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


class _Deadline(BaseException):
    """Raised in the script's thread when the run's Timeout has passed (BaseException, so that a
    script's own `except Exception` does not swallow it)."""


# sys.argv, the `awsglue` names in sys.modules, pyspark's SparkContext and the current environment
# are the process's: one plain script at a time has them (a Glue script owns its driver on Glue too).
# Runs from other threads (the local stack's Map iterations, say) wait here for their turn.
_RUN_LOCK = threading.RLock()
_GRACE_SECONDS = 60.0  # after the deadline, how long a cancelled script gets to unwind


def _wait(done: threading.Event, seconds: float) -> bool:
    return done.wait(seconds)


def run_glue_script(path: Path | str, values: dict[str, str], lake: "LocalLake | Path | str", spark: "SparkSession | None" = None,
                    max_retries: int | None = None, *, policy: "RunPolicy | None" = None,
                    wait: Callable[[threading.Event, float], bool] | None = None) -> JobRunResult:
    """Run the script with the job's policy (cauce.etl.runner.RunPolicy: its workers set the run's
    parallelism, past its timeout the run ends TIMEOUT); a FAILED run is retried up to the policy's
    max_retries (or `max_retries`) times, a new attempt each time, and a TIMEOUT is not retried, as on
    Glue. `wait(done, seconds)` waits for the script to end within its timeout (tests give their own,
    or replace `_wait`), True if it ended."""
    from cauce.etl.runner import RunPolicy

    policy = policy or RunPolicy()
    wait = wait or _wait
    retries = policy.max_retries if max_retries is None else max_retries
    attempt = 0
    while True:
        result = _run_once(Path(path), values, lake, spark, attempt, policy, wait)
        if result.status != "FAILED" or attempt >= retries:
            return result
        attempt += 1


def _run_once(path: Path, values: dict[str, str], lake: Any, spark: Any, attempt: int, policy: "RunPolicy",
              wait: Callable[[threading.Event, float], bool]) -> JobRunResult:
    import pyspark
    import pyspark.context

    from cauce.etl.awsglue import installed
    from cauce.etl.awsglue.environment import LocalGlueEnvironment, drain_listener_bus, observed, set_environment

    job_name = values.get("JOB_NAME") or path.stem
    base_id = values.get("JOB_RUN_ID") or f"jr_local_{uuid.uuid4().hex[:20]}"
    run_id = f"{base_id}_attempt_{attempt}" if attempt else base_id
    arguments = {**values, "JOB_NAME": job_name, "JOB_RUN_ID": run_id}
    result = JobRunResult(job_name, run_id, "RUNNING", "local", 0.0, attempt=attempt)
    environment = LocalGlueEnvironment(lake, spark)
    environment.run_id = run_id
    with _RUN_LOCK:
        started = time.perf_counter()
        real = pyspark.context.SparkContext
        saved_argv, saved_path, no_environment = sys.argv, list(sys.path), object()
        previous: Any = no_environment
        shuffle_partitions = None
        set_up = False
        try:
            previous = set_environment(environment)
            session = environment.spark  # the tuned session first, so that the script's SparkContext() is its context
            shuffle_partitions = session.conf.get("spark.sql.shuffle.partitions")
            session.conf.set("spark.sql.shuffle.partitions", str(policy.local_cores))  # as run_job does for a GlueJob
            environment.mount_lake_buckets()
            environment.mount(*buckets_named(path, arguments))
            sys.argv = [str(path)] + [token for key, value in arguments.items() for token in (f"--{key}", str(value))]
            sys.path[:0] = importable_folders(path, arguments, environment.lake)
            pyspark.SparkContext = pyspark.context.SparkContext = _SharedContext(real)  # type: ignore[misc]
            set_up = True
            with installed():
                error = _run_within_timeout(path, session, run_id, policy.timeout_minutes * 60.0, wait)
            _record_outcome(result, error, path, job_name, policy)
        except Exception as error:
            if set_up:
                raise
            # the run's setup failed (a lake folder that cannot be created, say): a FAILED run, named
            result.status, result.error_type = "FAILED", type(error).__name__
            result.error = redact_text(f"{type(error).__name__}: {_first_line(error)} (setting up the run of {path.name})")
        finally:
            pyspark.SparkContext = pyspark.context.SparkContext = real  # type: ignore[misc]
            sys.argv = saved_argv
            sys.path[:] = saved_path
            if shuffle_partitions is not None:
                environment.spark.conf.set("spark.sql.shuffle.partitions", shuffle_partitions)
            if previous is not no_environment:
                set_environment(previous)
            result.duration_seconds = round(time.perf_counter() - started, 3)
    if not set_up:
        return result
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


def _record_outcome(result: JobRunResult, error: BaseException | None, path: Path, job_name: str, policy: "RunPolicy") -> None:
    if error is None or (isinstance(error, SystemExit) and error.code in (0, None)):
        result.status = "SUCCEEDED"
    elif isinstance(error, _Deadline):
        result.status, result.error_type = "TIMEOUT", "RunTimedOut"
        result.error = f"RunTimedOut: job {job_name} exceeded its timeout of {policy.timeout_minutes:g} minute(s)"
    elif isinstance(error, SystemExit):
        result.status, result.error_type, result.error = "FAILED", "SystemExit", f"SystemExit: {error.code}"
    else:  # the run fails with the script's own error, named as Glue logs it
        result.status = "FAILED"
        result.error_type = type(error).__name__
        frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == str(path)]
        where = f" (line {frames[-1].lineno} of {path.name})" if frames else ""
        result.error = redact_text(f"{type(error).__name__}: {_first_line(error)}{where}")


def _run_within_timeout(path: Path, spark: Any, run_id: str, timeout_seconds: float,
                        wait: Callable[[threading.Event, float], bool]) -> BaseException | None:
    """The script in a thread of its own, its Spark jobs in a job group; what it raised, or None.
    Past the timeout the group's Spark jobs are cancelled and _Deadline is raised in that thread
    (between two of its Python instructions), so neither a Spark job nor a Python loop outlives it."""
    import ctypes

    done = threading.Event()
    guard = threading.Lock()
    state: dict[str, Any] = {"running": False, "cancelled": False, "error": None}

    def script() -> None:
        error: BaseException | None = None
        try:
            try:
                with guard:
                    if state["cancelled"]:
                        raise _Deadline()
                    state["running"] = True
                spark.sparkContext.setJobGroup(run_id, f"cauce job run {run_id}", interruptOnCancel=True)
                runpy.run_path(str(path), run_name="__main__")
            except BaseException as raised:  # noqa: B036  (the script's SystemExit and the deadline included)
                error = raised
            with guard:
                state["running"] = False
        except _Deadline as late:  # delivered after the script had ended: it still ran past its timeout
            error = error or late
        finally:
            state["error"] = error
            done.set()

    worker = threading.Thread(target=script, name=f"glue-script-{run_id}", daemon=True)
    worker.start()
    if wait(done, timeout_seconds):
        return state["error"]
    with guard:
        state["cancelled"] = True
        if state["running"]:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(worker.ident), ctypes.py_object(_Deadline))
    spark.sparkContext.cancelJobGroup(run_id)
    done.wait(_GRACE_SECONDS)  # a script blocked outside Python and Spark cannot be interrupted; it is reported anyway
    error = state["error"]
    finished_in_time = done.is_set() and (error is None or (isinstance(error, SystemExit) and error.code in (0, None)))
    return error if finished_in_time else _Deadline()  # it may have ended just before the cancel landed


def _first_line(error: BaseException) -> str:
    from cauce.etl.runtimes.local import _first_line as java_first_line

    if type(error).__module__.startswith(("py4j", "pyspark")):
        return java_first_line(error)
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
