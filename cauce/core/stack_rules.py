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

from cauce.core import facts as aws

if TYPE_CHECKING:
    from cauce.core.stack import Stack

# (message exactly as infra/variables.tf says it, the entries it applies to, the test of one entry)
Rule = tuple[str, Callable[["Stack"], Iterable[tuple[str, Any]]], Callable[[Any], bool]]


def _entries(where: str, entries: Callable[["Stack"], dict[str, Any]]) -> Callable[["Stack"], Iterable[tuple[str, Any]]]:
    """(location, value) of each entry of one of the stack's maps."""
    return lambda stack: [(f'{where}["{key}"]', value) for key, value in entries(stack).items()]


def _within(value: float, bounds: tuple[float, float]) -> bool:
    return bounds[0] <= value <= bounds[1]


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

RULES: list[Rule] = [
    ("project_name: 3-32 lowercase letters, digits or '-', starting and ending with a letter or digit (it prefixes bucket and resource names).",
     _top("project_name"), lambda v: bool(re.fullmatch(r"[a-z0-9][a-z0-9-]{1,30}[a-z0-9]", v))),
    ("environment: 1-16 lowercase letters, digits or '-' (for example dev, staging, prod).",
     _top("environment"), lambda v: bool(re.fullmatch(r"[a-z0-9][a-z0-9-]{0,15}", v))),
    ("glue_config.job_config[*].glue_version: must be one of 2.0, 3.0, 4.0, 5.0 (Cauce's local runtime matches 5.0).",
     JOBS, lambda j: j.glue_version in aws.GLUE_VERSIONS),
    ("glue_config.job_config[*].worker_type: must be one of G.1X, G.2X, G.4X, G.8X (the module's jobs are Spark ETL jobs: G.025X is for streaming jobs, Z.2X for Ray jobs).",
     JOBS, lambda j: j.worker_type in aws.ETL_WORKER_TYPES),
    ("glue_config.job_config[*]: number_of_workers must be 2-299, max_retries 0-10, timeout 1-10080 minutes, max_concurrent_runs at least 1.",
     JOBS, lambda j: _within(j.number_of_workers, aws.GLUE_NUMBER_OF_WORKERS) and _within(j.max_retries, aws.GLUE_MAX_RETRIES)
     and _within(j.timeout, aws.GLUE_TIMEOUT_MINUTES) and j.max_concurrent_runs >= 1),
    ("glue_config.job_config[*].script_location: must be an s3://bucket/key URI of a .py or .scala script.",
     JOBS, lambda j: bool(re.search(r"^s3://[a-z0-9.-]{3,63}/.+\.(py|scala)$", j.script_location))),
    ("glue_config.crawler_config[*].schema_change_policy.update_behavior: must be LOG or UPDATE_IN_DATABASE.",
     CRAWLERS, lambda c: c.schema_change_policy.update_behavior in aws.CRAWLER_UPDATE_BEHAVIORS),
    ("glue_config.crawler_config[*].schema_change_policy.delete_behavior: must be LOG, DELETE_FROM_DATABASE or DEPRECATE_IN_DATABASE.",
     CRAWLERS, lambda c: c.schema_change_policy.delete_behavior in aws.CRAWLER_DELETE_BEHAVIORS),
    ("glue_config.crawler_config[*].recrawl_policy.recrawl_behavior: must be CRAWL_EVERYTHING, CRAWL_NEW_FOLDERS_ONLY or CRAWL_EVENT_MODE.",
     CRAWLERS, lambda c: c.recrawl_policy.recrawl_behavior in aws.CRAWLER_RECRAWL_BEHAVIORS),
    ("glue_config.crawler_config[*]: recrawl_behavior CRAWL_NEW_FOLDERS_ONLY needs schema_change_policy update_behavior and delete_behavior LOG (an AWS rule).",
     CRAWLERS, lambda c: c.recrawl_policy.recrawl_behavior != "CRAWL_NEW_FOLDERS_ONLY"
     or (c.schema_change_policy.update_behavior == "LOG" and c.schema_change_policy.delete_behavior == "LOG")),
    ("glue_config.crawler_config[*].s3_target: at least one target, each path an s3:// URI.",
     CRAWLERS, lambda c: bool(c.s3_target) and all(t.path.startswith("s3://") for t in c.s3_target)),
    ("glue_config.connection_config[*].connection_type: must be one of JDBC, KAFKA, MONGODB, NETWORK, MARKETPLACE, CUSTOM.",
     CONNECTIONS, lambda c: c.connection_type in aws.GLUE_CONNECTION_TYPES),
    ("lambda_config[*].runtime: must be a Lambda runtime identifier such as python3.12 (Cauce's handlers and layer need python3.11, python3.12 or python3.13).",
     FUNCTIONS, lambda f: f.runtime in aws.LAMBDA_RUNTIMES),
    ("lambda_config[*]: memory_size must be 128-10240 MB and timeout 1-900 seconds.",
     FUNCTIONS, lambda f: _within(f.memory_size, aws.LAMBDA_MEMORY_MB) and _within(f.timeout, aws.LAMBDA_TIMEOUT_SECONDS)),
    ("lambda_config[*].tracing_config.mode: must be Active or PassThrough.",
     FUNCTIONS, lambda f: f.tracing_config.mode in aws.LAMBDA_TRACING_MODES),
    ("lambda_config[*].layers: at most 4, because the module adds Cauce's layer and Lambda allows 5.",
     FUNCTIONS, lambda f: len(f.layers) <= aws.MODULE_MAX_USER_LAYERS),
    ("step_functions_config[*].type: must be STANDARD or EXPRESS.",
     MACHINES, lambda m: m.type in aws.STATE_MACHINE_TYPES),
    ("step_functions_config[*].logging_configuration.level: must be ALL, ERROR, FATAL or OFF.",
     MACHINES, lambda m: m.logging_configuration.level in aws.STATE_MACHINE_LOG_LEVELS),
    ("kinesis_config.stream_config[*].encryption_type: must be KMS (the module encrypts every data store it creates; NONE is refused). An empty kms_key_id uses the module's key.",
     STREAMS, lambda s: s.encryption_type in aws.KINESIS_ENCRYPTION_TYPES),
    ("kinesis_config.stream_config[*]: shard_count must be at least 1 and retention_period 24-8760 hours.",
     STREAMS, lambda s: s.shard_count >= aws.KINESIS_MIN_SHARDS and _within(s.retention_period, aws.KINESIS_RETENTION_HOURS)),
    ("kinesis_config.firehose_config[*].destination: must be s3 or extended_s3 (both deliver to S3 through extended_s3).",
     FIREHOSES, lambda f: f.destination in aws.FIREHOSE_DESTINATIONS),
    ("kinesis_config.firehose_config[*].compression_format: must be UNCOMPRESSED, GZIP, ZIP, Snappy or HADOOP_SNAPPY.",
     FIREHOSES, lambda f: f.compression_format in aws.FIREHOSE_COMPRESSION_FORMATS),
    ("kinesis_config.firehose_config[*]: buffer_size must be 1-128 MB and buffer_interval 0-900 seconds.",
     FIREHOSES, lambda f: _within(f.buffer_size, aws.FIREHOSE_BUFFER_SIZE_MB) and _within(f.buffer_interval, aws.FIREHOSE_BUFFER_INTERVAL_SECONDS)),
    ("kinesis_config.firehose_config[*].buffer_size: must be at least 64 MB when the prefix uses !{partitionKeyFrom...}: the module then turns on "
     "dynamic partitioning, which Firehose allows only with a buffer of 64 MiB or more",
     FIREHOSES, lambda f: aws.FIREHOSE_PARTITION_KEY_NAMESPACE not in f.prefix or f.buffer_size >= aws.FIREHOSE_DYNAMIC_PARTITIONING_MIN_BUFFER_MB),
    ("kinesis_config.firehose_config[*].s3_backup_mode: must be Disabled or Enabled.",
     FIREHOSES, lambda f: f.s3_backup_mode in aws.FIREHOSE_BACKUP_MODES),
    ("kinesis_config.firehose_config[*].error_output_prefix: must contain !{firehose:error-output-type} when the prefix uses expressions (a Firehose rule).",
     FIREHOSES, lambda f: f.error_output_prefix == "" or aws.FIREHOSE_ERROR_OUTPUT_TYPE in f.error_output_prefix),
    ("kinesis_config.firehose_config[*].processing_configuration.processors[*].type: must be Lambda, RecordDeAggregation, AppendDelimiterToRecord or MetadataExtraction.",
     FIREHOSES, lambda f: all(p.type in aws.FIREHOSE_PROCESSOR_TYPES for p in f.processing_configuration.processors)),
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
