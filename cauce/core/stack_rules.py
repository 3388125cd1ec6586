"""The Terraform module's validation rules (infra/variables.tf), applied to a stack definition
before Cauce runs it locally, with the same messages, so that a value `terraform plan` would
refuse is refused here too, and the other way round. Each message ends with the keys at fault.

They read the typed model (cauce.core.stack.Stack), after the values have been converted to the
module's types: a missing or mistyped value is the type check's error, never a rule's.

tests/infra/test_contract.py holds this list and the module's validation blocks to the same
messages, so that one cannot change without the other.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cauce.core.stack import Stack

# (message exactly as infra/variables.tf says it, the entries it applies to, the test of one entry)
Rule = tuple[str, Callable[["Stack"], Iterable[tuple[str, Any]]], Callable[[Any], bool]]


def _entries(where: str, entries: Callable[["Stack"], dict[str, Any]]) -> Callable[["Stack"], Iterable[tuple[str, Any]]]:
    """(location, value) of each entry of one of the stack's maps."""
    return lambda stack: [(f'{where}["{key}"]', value) for key, value in entries(stack).items()]


def _top(name: str) -> Callable[["Stack"], Iterable[tuple[str, Any]]]:
    return lambda stack: [(name, getattr(stack, name))]


JOBS = _entries("glue_config.job_config", lambda s: s.glue_config.job_config)
CRAWLERS = _entries("glue_config.crawler_config", lambda s: s.glue_config.crawler_config)
CONNECTIONS = _entries("glue_config.connection_config", lambda s: s.glue_config.connection_config)
FUNCTIONS = _entries("lambda_config", lambda s: s.lambda_config)
MACHINES = _entries("step_functions_config", lambda s: s.step_functions_config)
STREAMS = _entries("kinesis_config.stream_config", lambda s: s.kinesis_config.stream_config)
FIREHOSES = _entries("kinesis_config.firehose_config", lambda s: s.kinesis_config.firehose_config)
APPS = _entries("kinesis_config.analytics_config", lambda s: s.kinesis_config.analytics_config)
RUNTIMES = {"python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14", "nodejs18.x", "nodejs20.x",
            "nodejs22.x", "java11", "java17", "java21", "dotnet8", "ruby3.2", "ruby3.3", "ruby3.4", "provided.al2", "provided.al2023"}

RULES: list[Rule] = [
    ("project_name: 3-32 lowercase letters, digits or '-', starting and ending with a letter or digit (it prefixes bucket and resource names).",
     _top("project_name"), lambda v: bool(re.fullmatch(r"[a-z0-9][a-z0-9-]{1,30}[a-z0-9]", v))),
    ("environment: 1-16 lowercase letters, digits or '-' (for example dev, staging, prod).",
     _top("environment"), lambda v: bool(re.fullmatch(r"[a-z0-9][a-z0-9-]{0,15}", v))),
    ("glue_config.job_config[*].glue_version: must be one of 2.0, 3.0, 4.0, 5.0 (Cauce's local runtime matches 5.0).",
     JOBS, lambda j: j.glue_version in ("2.0", "3.0", "4.0", "5.0")),
    ("glue_config.job_config[*].worker_type: must be one of G.025X, G.1X, G.2X, G.4X, G.8X, Z.2X.",
     JOBS, lambda j: j.worker_type in ("G.025X", "G.1X", "G.2X", "G.4X", "G.8X", "Z.2X")),
    ("glue_config.job_config[*]: number_of_workers must be 2-299, max_retries 0-10, timeout 1-10080 minutes, max_concurrent_runs at least 1.",
     JOBS, lambda j: 2 <= j.number_of_workers <= 299 and 0 <= j.max_retries <= 10 and 1 <= j.timeout <= 10080 and j.max_concurrent_runs >= 1),
    ("glue_config.job_config[*].script_location: must be an s3://bucket/key URI of a .py or .scala script.",
     JOBS, lambda j: bool(re.search(r"^s3://[a-z0-9.-]{3,63}/.+\.(py|scala)$", j.script_location))),
    ("glue_config.crawler_config[*].schema_change_policy.update_behavior: must be LOG or UPDATE_IN_DATABASE.",
     CRAWLERS, lambda c: c.schema_change_policy.update_behavior in ("LOG", "UPDATE_IN_DATABASE")),
    ("glue_config.crawler_config[*].schema_change_policy.delete_behavior: must be LOG, DELETE_FROM_DATABASE or DEPRECATE_IN_DATABASE.",
     CRAWLERS, lambda c: c.schema_change_policy.delete_behavior in ("LOG", "DELETE_FROM_DATABASE", "DEPRECATE_IN_DATABASE")),
    ("glue_config.crawler_config[*].recrawl_policy.recrawl_behavior: must be CRAWL_EVERYTHING, CRAWL_NEW_FOLDERS_ONLY or CRAWL_EVENT_MODE.",
     CRAWLERS, lambda c: c.recrawl_policy.recrawl_behavior in ("CRAWL_EVERYTHING", "CRAWL_NEW_FOLDERS_ONLY", "CRAWL_EVENT_MODE")),
    ("glue_config.crawler_config[*]: recrawl_behavior CRAWL_NEW_FOLDERS_ONLY needs schema_change_policy update_behavior and delete_behavior LOG (an AWS rule).",
     CRAWLERS, lambda c: c.recrawl_policy.recrawl_behavior != "CRAWL_NEW_FOLDERS_ONLY"
     or (c.schema_change_policy.update_behavior == "LOG" and c.schema_change_policy.delete_behavior == "LOG")),
    ("glue_config.crawler_config[*].s3_target: at least one target, each path an s3:// URI.",
     CRAWLERS, lambda c: bool(c.s3_target) and all(t.path.startswith("s3://") for t in c.s3_target)),
    ("glue_config.connection_config[*].connection_type: must be one of JDBC, KAFKA, MONGODB, NETWORK, MARKETPLACE, CUSTOM.",
     CONNECTIONS, lambda c: c.connection_type in ("JDBC", "KAFKA", "MONGODB", "NETWORK", "MARKETPLACE", "CUSTOM")),
    ("lambda_config[*].runtime: must be a Lambda runtime identifier such as python3.12 (Cauce's handlers and layer need python3.11, python3.12 or python3.13).",
     FUNCTIONS, lambda f: f.runtime in RUNTIMES),
    ("lambda_config[*]: memory_size must be 128-10240 MB and timeout 1-900 seconds.",
     FUNCTIONS, lambda f: 128 <= f.memory_size <= 10240 and 1 <= f.timeout <= 900),
    ("lambda_config[*].tracing_config.mode: must be Active or PassThrough.",
     FUNCTIONS, lambda f: f.tracing_config.mode in ("Active", "PassThrough")),
    ("lambda_config[*].layers: at most 4, because the module adds Cauce's layer and Lambda allows 5.",
     FUNCTIONS, lambda f: len(f.layers) <= 4),
    ("step_functions_config[*].type: must be STANDARD or EXPRESS.",
     MACHINES, lambda m: m.type in ("STANDARD", "EXPRESS")),
    ("step_functions_config[*].logging_configuration.level: must be ALL, ERROR, FATAL or OFF.",
     MACHINES, lambda m: m.logging_configuration.level in ("ALL", "ERROR", "FATAL", "OFF")),
    ("kinesis_config.stream_config[*].encryption_type: must be KMS (the module encrypts every data store it creates; NONE is refused). An empty kms_key_id uses the module's key.",
     STREAMS, lambda s: s.encryption_type == "KMS"),
    ("kinesis_config.stream_config[*]: shard_count must be at least 1 and retention_period 24-8760 hours.",
     STREAMS, lambda s: s.shard_count >= 1 and 24 <= s.retention_period <= 8760),
    ("kinesis_config.firehose_config[*].destination: must be s3 or extended_s3 (both deliver to S3 through extended_s3).",
     FIREHOSES, lambda f: f.destination in ("s3", "extended_s3")),
    ("kinesis_config.firehose_config[*].compression_format: must be UNCOMPRESSED, GZIP, ZIP, Snappy or HADOOP_SNAPPY.",
     FIREHOSES, lambda f: f.compression_format in ("UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY")),
    ("kinesis_config.firehose_config[*]: buffer_size must be 1-128 MB and buffer_interval 0-900 seconds.",
     FIREHOSES, lambda f: 1 <= f.buffer_size <= 128 and 0 <= f.buffer_interval <= 900),
    ("kinesis_config.firehose_config[*].s3_backup_mode: must be Disabled or Enabled.",
     FIREHOSES, lambda f: f.s3_backup_mode in ("Disabled", "Enabled")),
    ("kinesis_config.firehose_config[*].error_output_prefix: must contain !{firehose:error-output-type} when the prefix uses expressions (a Firehose rule).",
     FIREHOSES, lambda f: f.error_output_prefix == "" or "!{firehose:error-output-type}" in f.error_output_prefix),
    ("kinesis_config.firehose_config[*].processing_configuration.processors[*].type: must be Lambda, RecordDeAggregation, AppendDelimiterToRecord or MetadataExtraction.",
     FIREHOSES, lambda f: all(p.type in ("Lambda", "RecordDeAggregation", "AppendDelimiterToRecord", "MetadataExtraction")
                              for p in f.processing_configuration.processors)),
    ("kinesis_config.analytics_config[*]: input_parallelism and output_parallelism must be at least 1.",
     APPS, lambda a: a.input_parallelism >= 1 and a.output_parallelism >= 1),
]


def stack_problems(stack: "Stack") -> list[str]:
    """Every rule the stack breaks: the module's message, then the entries at fault."""
    problems = []
    for message, entries, holds in RULES:
        at_fault = [where for where, value in entries(stack) if not holds(value)]
        if at_fault:
            problems.append(f"{message} (at {', '.join(at_fault)})")
    return problems
