"""Typed job arguments, resolved from the command line exactly as AWS Glue passes them.

A job declares its arguments as a dataclass; each field is one `--name value` argument
(`--source_path` or `--source-path`). Fields without a default are required. Values are
converted to the field's type: str, int, float, bool ("true"/"false", or a bare flag),
date, datetime, list[str] (comma-separated), dict (JSON), Enum, and Optional of these.

Why our own parser rather than `awsglue.utils.getResolvedOptions`: that one stops at the
first missing option through argparse's `SystemExit`, knows no types or defaults, and
rejects nothing it does not know about; a job author wants every problem named at once.
Glue's reserved arguments (`--JOB_NAME`, `--TempDir`, `--job-bookmark-option`, ...) are
parsed into `GlueArguments` and never clash with the job's own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import enum
import json
import types
import typing
from collections.abc import Mapping
from typing import Any

BOOKMARK_OPTIONS = ("job-bookmark-enable", "job-bookmark-disable", "job-bookmark-pause")

# Arguments AWS Glue itself sets or reads; tolerated and never reported as unknown.
GLUE_RESERVED = frozenset(
    {
        "JOB_NAME", "JOB_ID", "JOB_RUN_ID", "TempDir", "job-bookmark-option", "job-bookmark-from",
        "job-bookmark-to", "job-language", "enable-metrics", "enable-observability-metrics",
        "enable-continuous-cloudwatch-log", "enable-continuous-log-filter", "continuous-log-logGroup",
        "continuous-log-logStreamPrefix", "continuous-log-conversionPattern", "enable-spark-ui",
        "spark-event-logs-path", "enable-glue-datacatalog", "extra-py-files", "extra-jars",
        "extra-files", "additional-python-modules", "python-modules-installer-option",
        "user-jars-first", "enable-auto-scaling", "conf", "datalake-formats", "enable-job-insights",
        "executor-cores", "enable-s3-parquet-optimized-committer", "encryption-type",
        "scriptLocation", "class", "redshift-tmp-dir", "RedshiftTempDir", "security_configuration",
        "enable-rename-algorithm-v2", "debug", "mode", "write-shuffle-files-to-s3",
        "write-shuffle-spills-to-s3", "customer-driver-env-vars", "customer-executor-env-vars",
        "disable-proxy-v2", "enable-lakeformation-fine-grained-access", "glue-version",
        "WORKER_TYPE", "NUM_WORKERS", "cauce-runtime",
    }
)


class JobArgumentError(ValueError):
    """One or more job arguments are missing or malformed; `problems` lists each one."""

    def __init__(self, job_name: str, problems: list[str]):
        self.job_name = job_name
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"job {job_name}: {len(problems)} argument problem(s):\n{lines}")


@dataclasses.dataclass(frozen=True)
class NoArguments:
    """For jobs that take no arguments of their own."""


@dataclasses.dataclass(frozen=True)
class GlueArguments:
    """Glue's own arguments, as Glue passes them (or as the local runner fills them in)."""

    JOB_NAME: str
    JOB_RUN_ID: str | None = None
    TempDir: str | None = None
    job_bookmark_option: str = "job-bookmark-disable"  # Glue's default
    enable_metrics: bool = False
    raw: dict[str, str] = dataclasses.field(default_factory=dict)


def split_argv(argv: list[str]) -> dict[str, str]:
    """`--key value`, `--key=value` and bare `--flag` (value "") into a dict; last one wins."""
    values: dict[str, str] = {}
    index = 0
    while index < len(argv):
        token = argv[index]
        if not token.startswith("--") or token == "--":
            index += 1  # Glue passes the script path and stray words; they are not arguments
            continue
        key, eq, value = token[2:].partition("=")
        if not eq:
            has_value = index + 1 < len(argv) and not argv[index + 1].startswith("--")
            value = argv[index + 1] if has_value else ""
            index += 1 if has_value else 0
        values[key] = value
        index += 1
    return values


def run_arguments(default_arguments: Mapping[str, Any] | None, given: Mapping[str, Any] | list[str], job_name: str,
                  run_id: str | None = None) -> dict[str, str]:
    """The arguments a run sees, as Glue assembles them: the job definition's default_arguments,
    overridden by the run's own (`--key value` tokens, or a mapping whose keys may start with --),
    with JOB_NAME (and JOB_RUN_ID) set when not given."""
    values = split_argv(_tokens(default_arguments or {}))
    values.update(split_argv(list(given) if isinstance(given, list) else _tokens(given)))
    values.setdefault("JOB_NAME", job_name)
    if run_id is not None:
        values.setdefault("JOB_RUN_ID", run_id)
    return values


def _tokens(arguments: Mapping[str, Any]) -> list[str]:
    return [token for key, value in arguments.items() for token in (key if str(key).startswith("--") else f"--{key}", str(value))]


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("", "true", "1", "yes", "y", "on"):
        return True
    if lowered in ("false", "0", "no", "n", "off"):
        return False
    raise ValueError("expected true or false")


def _convert(text: str, annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        inner = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if text == "" and len(inner) < len(typing.get_args(annotation)):
            return None
        return _convert(text, inner[0])
    if origin is typing.Literal:
        choices = typing.get_args(annotation)
        if text not in choices:
            raise ValueError(f"expected one of {', '.join(map(str, choices))}")
        return text
    if origin is list:
        (item_type,) = typing.get_args(annotation) or (str,)
        return [_convert(part.strip(), item_type) for part in text.split(",") if part.strip()]
    if annotation is list:
        return [part.strip() for part in text.split(",") if part.strip()]
    if origin is dict or annotation is dict:
        value = json.loads(text)
        if not isinstance(value, dict):
            raise ValueError("expected a JSON object")
        return value
    if annotation is bool:
        return _parse_bool(text)
    if annotation is int:
        return int(text)
    if annotation is float:
        return float(text)
    if annotation is dt.datetime:
        return dt.datetime.fromisoformat(text)
    if annotation is dt.date:
        return dt.date.fromisoformat(text)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        try:
            return annotation(text)
        except ValueError:
            raise ValueError(f"expected one of {', '.join(str(m.value) for m in annotation)}") from None
    return text


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


def parse_glue_arguments(values: dict[str, str], default_job_name: str) -> GlueArguments:
    option = values.get("job-bookmark-option", "job-bookmark-disable")
    if option not in BOOKMARK_OPTIONS:
        raise JobArgumentError(
            values.get("JOB_NAME") or default_job_name,
            [f"--job-bookmark-option: {option!r} is not one of {', '.join(BOOKMARK_OPTIONS)}"],
        )
    return GlueArguments(
        JOB_NAME=values.get("JOB_NAME") or default_job_name,
        JOB_RUN_ID=values.get("JOB_RUN_ID"),
        TempDir=values.get("TempDir"),
        job_bookmark_option=option,
        enable_metrics="enable-metrics" in values and _parse_bool(values["enable-metrics"]),
        raw={k: v for k, v in values.items() if k in GLUE_RESERVED},
    )


def parse_job_arguments(spec: type, values: dict[str, str], job_name: str, accept_unknown: bool = False) -> tuple[Any, list[str]]:
    """Build an instance of the dataclass `spec` from `values`.

    An argument neither declared nor reserved by Glue is a problem (with a "did you mean" hint),
    since a misspelt `--sourcepath` would otherwise run on a default; with `accept_unknown` it is
    a warning instead. Returns the instance and the warnings. Raises JobArgumentError naming every
    missing, malformed or unknown argument.
    """
    if not dataclasses.is_dataclass(spec):
        raise TypeError(f"{spec!r}: job arguments must be declared as a dataclass")
    hints = typing.get_type_hints(spec)
    fields = {field.name: field for field in dataclasses.fields(spec)}
    normalized = {key.replace("-", "_"): (key, value) for key, value in values.items()}
    problems: list[str] = []
    kwargs: dict[str, Any] = {}
    for name, field in fields.items():
        annotation = hints[name]
        if name not in normalized:
            no_default = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
            if no_default:
                problems.append(f"--{name}: missing (required, {_type_name(annotation)})")
            continue
        given_as, text = normalized[name]
        try:
            kwargs[name] = _convert(text, annotation)
        except (ValueError, json.JSONDecodeError) as error:
            problems.append(f"--{given_as}: {text!r} is not a valid {_type_name(annotation)} ({error})")
    warnings = []
    reserved = {key.replace("-", "_") for key in GLUE_RESERVED}
    for key in values:
        normal = key.replace("-", "_")
        if normal in fields or normal in reserved:
            continue
        close = difflib.get_close_matches(normal, fields, n=1)
        hint = f" (did you mean --{close[0]}?)" if close else ""
        if accept_unknown:
            warnings.append(f"--{key}: not an argument of job {job_name}, ignored{hint}")
        else:
            problems.append(f"--{key}: not an argument of job {job_name}{hint}")
    if problems:
        raise JobArgumentError(job_name, problems)
    return spec(**kwargs), warnings
