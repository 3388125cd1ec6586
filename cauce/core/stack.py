"""The stack definition: the Terraform module's input values as a JSON tfvars file.

The same file is what `terraform apply` deploys and what Cauce runs locally. Without one,
the embedded default (the seed's usage example, `cauce/defaults/stack.tfvars.json`) is used.

It is read once into `Stack`, a typed model whose classes mirror each variable's type in
infra/variables.tf (tests/infra/test_stack_types.py holds the two equal), converted with
Terraform's rules (cauce.core.terraform_types), then checked against the module's validation
rules (cauce.core.stack_rules). Code reads it by attribute: `stack.glue_config.job_config["x"].worker_type`;
`stack.document` is the converted JSON document, for template placeholders and subprocesses.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from cauce.core.terraform_types import Problems, convert_object, to_document


class StackError(ValueError):
    """A stack definition that cannot be read or lacks what was asked for."""


class TerraformObject:
    """A value of one of the module's object types."""

    @property
    def document(self) -> dict[str, Any]:
        """The object as a JSON document (every attribute, defaults filled in)."""
        return to_document(self)


# Every class below is frozen (the stack is read once and shared) and keyword-only (so that required
# attributes may follow optional ones, as in a Terraform object type).

# --- glue_config ---------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class NotificationProperty(TerraformObject):
    notify_delay_after: float


@dataclass(frozen=True, kw_only=True)
class ExecutionProperty(TerraformObject):
    max_concurrent_runs: float


@dataclass(frozen=True, kw_only=True)
class GlueJobConfig(TerraformObject):
    name: str
    description: str
    role_arn: str
    glue_version: str
    worker_type: str
    number_of_workers: float
    max_retries: float
    timeout: float
    script_location: str
    default_arguments: dict[str, str]
    connections: tuple[str, ...]
    max_concurrent_runs: float
    notification_property: NotificationProperty
    execution_property: ExecutionProperty


@dataclass(frozen=True, kw_only=True)
class S3Target(TerraformObject):
    path: str
    exclusions: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class SchemaChangePolicy(TerraformObject):
    update_behavior: str
    delete_behavior: str


@dataclass(frozen=True, kw_only=True)
class RecrawlPolicy(TerraformObject):
    recrawl_behavior: str


@dataclass(frozen=True, kw_only=True)
class CrawlerConfig(TerraformObject):
    name: str
    role: str
    database_name: str
    schedule: str
    table_prefix: str
    s3_target: tuple[S3Target, ...]
    schema_change_policy: SchemaChangePolicy
    recrawl_policy: RecrawlPolicy


@dataclass(frozen=True, kw_only=True)
class PhysicalConnectionRequirements(TerraformObject):
    availability_zone: str
    security_group_id_list: tuple[str, ...]
    subnet_id: str


@dataclass(frozen=True, kw_only=True)
class ConnectionConfig(TerraformObject):
    name: str
    connection_type: str
    connection_properties: dict[str, str]
    physical_connection_requirements: PhysicalConnectionRequirements


@dataclass(frozen=True, kw_only=True)
class GlueConfig(TerraformObject):
    job_config: dict[str, GlueJobConfig]
    crawler_config: dict[str, CrawlerConfig]
    connection_config: dict[str, ConnectionConfig]


# --- lambda_config -------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class VpcConfig(TerraformObject):
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class DeadLetterConfig(TerraformObject):
    target_arn: str


@dataclass(frozen=True, kw_only=True)
class TracingConfig(TerraformObject):
    mode: str


@dataclass(frozen=True, kw_only=True)
class LambdaConfig(TerraformObject):
    function_name: str
    description: str
    handler: str
    runtime: str
    memory_size: float
    timeout: float
    role_arn: str
    environment: dict[str, str]
    vpc_config: VpcConfig
    dead_letter_config: DeadLetterConfig
    tracing_config: TracingConfig
    layers: tuple[str, ...]
    tags: dict[str, str]


# --- step_functions_config -----------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class LoggingConfiguration(TerraformObject):
    level: str
    include_execution_data: bool
    destination: str


@dataclass(frozen=True, kw_only=True)
class TracingConfiguration(TerraformObject):
    enabled: bool


@dataclass(frozen=True, kw_only=True)
class StateMachineConfig(TerraformObject):
    name: str
    role_arn: str
    definition: str
    type: str
    logging_configuration: LoggingConfiguration
    tracing_configuration: TracingConfiguration
    tags: dict[str, str]


# --- kinesis_config ------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class StreamConfig(TerraformObject):
    name: str
    shard_count: float
    retention_period: float
    encryption_type: str
    kms_key_id: str
    enforce_consumer_deletion: bool
    tags: dict[str, str]


@dataclass(frozen=True, kw_only=True)
class ProcessorParameter(TerraformObject):
    parameter_name: str
    parameter_value: str


@dataclass(frozen=True, kw_only=True)
class Processor(TerraformObject):
    type: str
    parameters: tuple[ProcessorParameter, ...]


@dataclass(frozen=True, kw_only=True)
class ProcessingConfiguration(TerraformObject):
    enabled: bool
    processors: tuple[Processor, ...]


@dataclass(frozen=True, kw_only=True)
class FirehoseConfig(TerraformObject):
    name: str
    destination: str
    buffer_size: float
    buffer_interval: float
    compression_format: str
    prefix: str
    error_output_prefix: str
    s3_backup_mode: str
    processing_configuration: ProcessingConfiguration


@dataclass(frozen=True, kw_only=True)
class SqlConfiguration(TerraformObject):
    input_schema: str


@dataclass(frozen=True, kw_only=True)
class EnvironmentProperties(TerraformObject):
    property_groups: dict[str, dict[str, str]]


@dataclass(frozen=True, kw_only=True)
class ApplicationConfiguration(TerraformObject):
    sql_configuration: SqlConfiguration
    environment_properties: EnvironmentProperties


# reference_data_sources: aws_kinesis_analytics_application's reference_data_sources block, the KDA API's
# ReferenceDataSource (table, S3 object, ReferenceSchema with RecordColumns and RecordFormat)

@dataclass(frozen=True, kw_only=True)
class ReferenceS3Source(TerraformObject):
    bucket_arn: str
    file_key: str
    role_arn: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReferenceRecordColumn(TerraformObject):
    name: str
    sql_type: str
    mapping: str | None = None


@dataclass(frozen=True, kw_only=True)
class CsvMappingParameters(TerraformObject):
    record_column_delimiter: str
    record_row_delimiter: str


@dataclass(frozen=True, kw_only=True)
class JsonMappingParameters(TerraformObject):
    record_row_path: str


@dataclass(frozen=True, kw_only=True)
class ReferenceMappingParameters(TerraformObject):
    csv: CsvMappingParameters | None = None
    json: JsonMappingParameters | None = None


@dataclass(frozen=True, kw_only=True)
class ReferenceRecordFormat(TerraformObject):
    mapping_parameters: ReferenceMappingParameters
    record_format_type: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReferenceSchema(TerraformObject):
    record_columns: tuple[ReferenceRecordColumn, ...]
    record_format: ReferenceRecordFormat
    record_encoding: str = "UTF-8"


@dataclass(frozen=True, kw_only=True)
class ReferenceDataSource(TerraformObject):
    table_name: str
    s3: ReferenceS3Source
    schema: ReferenceSchema


@dataclass(frozen=True, kw_only=True)
class AnalyticsConfig(TerraformObject):
    name: str
    input_stream_arn: str
    output_stream_arn: str
    code: str
    input_parallelism: float
    output_parallelism: float
    input_schema_version: str
    application_configuration: ApplicationConfiguration
    reference_data_sources: tuple[ReferenceDataSource, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class KinesisConfig(TerraformObject):
    stream_config: dict[str, StreamConfig]
    firehose_config: dict[str, FirehoseConfig]
    analytics_config: dict[str, AnalyticsConfig]


# --- the module's newer, optional inputs ---------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class LambdaEventSource(TerraformObject):
    function_key: str
    stream_key: str
    batch_size: float = 100
    starting_position: str = "LATEST"
    maximum_retry_attempts: float = 3
    maximum_record_age_in_seconds: float = 86400
    bisect_batch_on_function_error: bool = True
    parallelization_factor: float = 1
    maximum_batching_window: float = 1
    on_failure_destination_arn: str | None = None
    use_enhanced_fan_out: bool = False


@dataclass(frozen=True, kw_only=True)
class LambdaDestination(TerraformObject):
    on_success_arn: str | None = None
    on_failure_arn: str | None = None
    maximum_retry_attempts: float = 2
    maximum_event_age_in_seconds: float = 21600


@dataclass(frozen=True, kw_only=True)
class LakeLifecycleRule(TerraformObject):
    prefix: str
    transition_to_ia_days: float | None = None
    expiration_days: float | None = None
    noncurrent_version_days: float = 30


@dataclass(frozen=True, kw_only=True)
class Stack(TerraformObject):
    """The module's input variables, in variables.tf's order; those with a default are optional."""

    project_name: str
    environment: str
    glue_config: GlueConfig
    lambda_config: dict[str, LambdaConfig]
    step_functions_config: dict[str, StateMachineConfig]
    kinesis_config: KinesisConfig
    tags: dict[str, str] = field(default_factory=dict)
    create_iam_roles: bool = False
    kms_key_arn: str | None = None
    data_lake_bucket_name: str | None = None
    artifacts_bucket_name: str | None = None
    cauce_wheel: str | None = None
    glue_job_scripts: dict[str, str] = field(default_factory=dict)
    lambda_layer_zip: str | None = None
    lambda_layer_architecture: str = "x86_64"
    lambda_packages: dict[str, str] = field(default_factory=dict)
    lambda_event_sources: dict[str, LambdaEventSource] = field(default_factory=dict)
    lambda_destinations: dict[str, LambdaDestination] = field(default_factory=dict)
    firehose_sources: dict[str, str] = field(default_factory=dict)
    state_machine_definitions_dir: str | None = None
    analytics_runtime_script: str | None = None
    analytics_role_arn: str | None = None
    glue_execution_class: dict[str, str] = field(default_factory=dict)
    glue_auto_scaling: frozenset[str] = frozenset()
    kinesis_on_demand: frozenset[str] = frozenset()
    lake_lifecycle_rules: tuple[LakeLifecycleRule, ...] = ()
    log_retention_days: float = 365
    alarm_email: str | None = None
    iterator_age_alarm_ms: float = 60000
    analytics_worker_type: dict[str, str] = field(default_factory=dict)
    # not a variable: what Terraform would drop or ignore (usually a typo), for commands to mention
    warnings: tuple[str, ...] = field(default=(), compare=False, repr=False, metadata={"terraform": False})

    @cached_property
    def document(self) -> dict[str, Any]:
        """The converted values as a JSON document: every variable, defaults filled in."""
        return to_document(self)

    def glue_jobs(self) -> dict[str, GlueJobConfig]:
        """The Glue job definitions by job name (`job_config.*.name`)."""
        return {job.name: job for job in self.glue_config.job_config.values()}


def parse_stack(values: Mapping[str, Any], where: str = "stack definition") -> Stack:
    """A Stack from the module's input values (a parsed tfvars document), converted as Terraform
    converts them and checked against the module's validation rules; StackError lists every problem."""
    from cauce.core.stack_rules import stack_problems

    problems = Problems()
    stack = convert_object(values, Stack, "", problems, extra="not a variable of the module; Terraform ignores it (with a warning)")
    if problems.errors:
        raise StackError(f"{where}: {len(problems.errors)} value(s) not of the module's variable types, refused as `terraform plan` refuses them:\n  "
                         + "\n  ".join(problems.errors))
    stack = dataclasses.replace(stack, warnings=tuple(problems.warnings))
    invalid = stack_problems(stack)
    if invalid:
        raise StackError(f"{where}: {len(invalid)} invalid value(s), refused as `terraform plan` refuses them:\n  " + "\n  ".join(invalid))
    return stack


def load_stack(path: str | Path | None = None) -> Stack:
    if path is None:
        text = resources.files("cauce.core.defaults").joinpath("stack.tfvars.json").read_text()
        where = "embedded default stack"
    else:
        where = str(path)
        try:
            text = Path(path).read_text()
        except OSError as error:
            raise StackError(f"cannot read stack definition {where}: {error.strerror}") from None
    return parse_stack(parse_json_object(text, where, StackError, "a JSON object of Terraform variables"), where)


def parse_json_object(text: str, where: str, error: type[Exception], expected: str) -> dict[str, Any]:
    """A JSON object from `text`, or `error` naming `where`, the line and the column."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as problem:
        raise error(f"{where}: not valid JSON at line {problem.lineno} column {problem.colno}: {problem.msg}") from None
    if not isinstance(document, dict):
        raise error(f"{where}: expected {expected}, got {type(document).__name__}")
    return document
