"""Which of a stack's settings only mean something on AWS, and what the local stack does instead.

The local stack takes the same values as the Terraform module. Settings that configure AWS
itself (IAM, networking, KMS, tracing, alarms, capacity) are accepted and listed here, so a user
sees what a local run did not exercise instead of wondering whether it did.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from cauce.core.terraform_types import defaults

if TYPE_CHECKING:
    from cauce.core.stack import Stack

# (path pattern, what locally happens instead); `*` matches one key, the first match wins
RULES: tuple[tuple[str, str], ...] = (
    ("*.role_arn", "IAM roles: local runs act with your own permissions"),
    ("glue_config.crawler_config.*.role", "IAM roles: local runs act with your own permissions"),
    ("analytics_role_arn", "IAM roles: local runs act with your own permissions"),
    ("create_iam_roles", "IAM roles: local runs act with your own permissions"),
    ("*.vpc_config", "VPC networking: local runs use this machine's network"),
    ("glue_config.connection_config.*.physical_connection_requirements", "VPC networking: local runs use this machine's network"),
    ("kms_key_arn", "KMS encryption: the local lake and streams are not encrypted"),
    ("kinesis_config.stream_config.*.encryption_type", "KMS encryption: the local lake and streams are not encrypted"),
    ("kinesis_config.stream_config.*.kms_key_id", "KMS encryption: the local lake and streams are not encrypted"),
    ("*.tracing_config", "X-Ray tracing: there is no daemon locally, so Tracer records nothing"),
    ("*.tracing_configuration", "X-Ray tracing: there is no daemon locally, so Tracer records nothing"),
    ("*.logging_configuration", "CloudWatch Logs: logs go to the terminal"),
    ("log_retention_days", "CloudWatch Logs: logs go to the terminal"),
    ("alarm_email", "CloudWatch alarms: nothing is alarmed locally"),
    ("iterator_age_alarm_ms", "CloudWatch alarms: nothing is alarmed locally"),
    ("glue_config.crawler_config.*.schedule", "schedules: the local stack runs the crawler once per run"),
    ("glue_config.job_config.*.notification_property", "Glue run notifications: a local run reports its own duration"),
    ("glue_config.job_config.*.max_concurrent_runs", "Glue concurrency: one local run at a time"),
    ("glue_config.job_config.*.execution_property", "Glue concurrency: one local run at a time"),
    ("glue_config.job_config.*.glue_version", "Glue versions: local runs use the installed pyspark (3.5, as Glue 5)"),
    ("glue_config.job_config.*.script_location", "artifacts: local runs import the job class, not an uploaded script"),
    ("glue_execution_class", "Glue capacity: local Spark uses this machine's cores"),
    ("glue_auto_scaling", "Glue capacity: local Spark uses this machine's cores"),
    ("kinesis_on_demand", "Kinesis capacity: local streams have no throughput limits"),
    ("kinesis_config.stream_config.*.retention_period",
     "Kinesis retention: locally a record expires once every consumer has read it"),
    ("kinesis_config.stream_config.*.enforce_consumer_deletion", "Kinesis consumers: local streams are deleted with the stack"),
    ("lambda_config.*.runtime", "Lambda runtimes: handlers run in this Python"),
    ("lambda_config.*.memory_size", "Lambda capacity: handlers run in this process (the size is only in the context)"),
    ("lambda_config.*.layers", "artifacts: handlers are imported from this checkout"),
    ("lambda_config.*.dead_letter_config", "Lambda asynchronous invocation: the local stack invokes synchronously"),
    ("lambda_destinations", "Lambda asynchronous invocation: the local stack invokes synchronously"),
    ("lambda_layer_zip", "artifacts: handlers are imported from this checkout"),
    ("lambda_layer_architecture", "artifacts: handlers are imported from this checkout"),
    ("lambda_packages", "artifacts: handlers are imported from this checkout"),
    ("cauce_wheel", "artifacts: handlers are imported from this checkout"),
    ("glue_job_scripts", "artifacts: local runs import the job class, not an uploaded script"),
    ("analytics_runtime_script", "artifacts: local runs import the job class, not an uploaded script"),
    ("artifacts_bucket_name", "artifacts: local runs import the job class, not an uploaded script"),
    ("lake_lifecycle_rules", "S3 lifecycle: the local lake keeps every object"),
    ("*.tags", "tags: there is nothing to tag locally"),
    ("tags", "tags: there is nothing to tag locally"),
)


def not_applicable_locally(stack: "Stack") -> dict[str, list[str]]:
    """The stack's AWS-only settings that are set (not empty, not the module's default), grouped by
    what locally happens instead."""
    unset = defaults(type(stack))
    given = {name: value for name, value in stack.document.items() if name not in unset or value != unset[name]}
    found: dict[str, list[str]] = {}
    for path, value in _paths(given):
        if _empty(value):
            continue
        for pattern, reason in RULES:
            if _matches(path, pattern):
                found.setdefault(reason, []).append(path)
                break
    return found


def _empty(value: Any) -> bool:
    """Unset: null, false, empty, or a mapping of only such values (`dead_letter_config: {target_arn: ""}`)."""
    if isinstance(value, Mapping):
        return all(_empty(child) for child in value.values())
    return value in (None, "", [], False)


def _paths(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every key path of a nested mapping, parents before children, each with its value."""
    if isinstance(value, Mapping):
        for key, child in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            yield path, child
            yield from _paths(child, path)


def _matches(path: str, pattern: str) -> bool:
    parts, pattern_parts = path.split("."), pattern.split(".")
    if pattern_parts[0] == "*" and len(pattern_parts) == 2:  # `*.key`: that key at any depth
        return len(parts) > 1 and fnmatch.fnmatchcase(parts[-1], pattern_parts[1])
    return len(parts) == len(pattern_parts) and all(fnmatch.fnmatchcase(p, q) for p, q in zip(parts, pattern_parts, strict=True))
