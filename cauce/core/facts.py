"""AWS facts the module's validation rules, the local runners and the cost estimate share: one
table per fact, so that a limit cannot differ from one place to another.

tests/test_facts.py holds these tables equal to infra/variables.tf's validation blocks. The
figures are AWS's documented ones (Glue worker types, Lambda runtimes and quotas, Kinesis and
Firehose limits, Step Functions types).
"""

from __future__ import annotations

from dataclasses import dataclass

# Glue job types (the job's command name).
GLUE_ETL, GLUE_STREAMING, PYTHON_SHELL, GLUE_RAY = "glueetl", "gluestreaming", "pythonshell", "glueray"


@dataclass(frozen=True)
class WorkerType:
    """A Glue worker type: its resources and the job types that accept it."""

    name: str
    vcpus: int
    memory_gib: int
    dpus: float  # billed DPUs a worker (M-DPUs for Z.2X)
    job_types: frozenset[str]


_SPARK = frozenset({GLUE_ETL, GLUE_STREAMING})

# Glue's worker types the module knows (AWS has more: G.12X, G.16X, R.*X, which the module does
# not offer). Python shell jobs take no worker type (max_capacity instead), so none lists them.
WORKER_TYPES: dict[str, WorkerType] = {w.name: w for w in (
    WorkerType("G.025X", 2, 4, 0.25, frozenset({GLUE_STREAMING})),  # low-volume streaming jobs only
    WorkerType("G.1X", 4, 16, 1, _SPARK),
    WorkerType("G.2X", 8, 32, 2, _SPARK),
    WorkerType("G.4X", 16, 64, 4, _SPARK),
    WorkerType("G.8X", 32, 128, 8, _SPARK),
    WorkerType("Z.2X", 8, 64, 2, frozenset({GLUE_RAY})),  # Ray jobs only
)}

# The module's jobs (glue_config.job_config) are Spark ETL jobs (command glueetl, infra/glue.tf):
# the worker types it accepts for them, and so the only ones the local runner runs.
ETL_WORKER_TYPES = tuple(name for name, worker in WORKER_TYPES.items() if GLUE_ETL in worker.job_types)
# The analytics apps run as Glue streaming jobs (infra/analytics.tf): the worker types they take
# (module input analytics_worker_type), G.025X included; G.1X unless set.
STREAMING_WORKER_TYPES = tuple(name for name, worker in WORKER_TYPES.items() if GLUE_STREAMING in worker.job_types)
ANALYTICS_DEFAULT_WORKER_TYPE = "G.1X"

GLUE_VERSIONS = ("2.0", "3.0", "4.0", "5.0")
GLUE_NUMBER_OF_WORKERS = (2, 299)  # the module's range: one driver and at least one executor
GLUE_MAX_RETRIES = (0, 10)
GLUE_TIMEOUT_MINUTES = (1, 10080)
GLUE_DEFAULT_TIMEOUT_MINUTES = 2880
GLUE_CONNECTION_TYPES = ("JDBC", "KAFKA", "MONGODB", "NETWORK", "MARKETPLACE", "CUSTOM")
CRAWLER_UPDATE_BEHAVIORS = ("LOG", "UPDATE_IN_DATABASE")
CRAWLER_DELETE_BEHAVIORS = ("LOG", "DELETE_FROM_DATABASE", "DEPRECATE_IN_DATABASE")
CRAWLER_RECRAWL_BEHAVIORS = ("CRAWL_EVERYTHING", "CRAWL_NEW_FOLDERS_ONLY", "CRAWL_EVENT_MODE")

# Lambda runtime identifiers the module accepts, and those Cauce's handlers and layer run on.
LAMBDA_RUNTIMES = ("python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14",
                   "nodejs18.x", "nodejs20.x", "nodejs22.x", "java11", "java17", "java21", "dotnet8",
                   "ruby3.2", "ruby3.3", "ruby3.4", "provided.al2", "provided.al2023")
CAUCE_PYTHON_RUNTIMES = ("python3.11", "python3.12", "python3.13")
LAMBDA_MEMORY_MB = (128, 10240)
LAMBDA_TIMEOUT_SECONDS = (1, 900)
LAMBDA_TRACING_MODES = ("Active", "PassThrough")
LAMBDA_MAX_LAYERS = 5
MODULE_MAX_USER_LAYERS = LAMBDA_MAX_LAYERS - 1  # the module adds Cauce's layer

STATE_MACHINE_TYPES = ("STANDARD", "EXPRESS")
STATE_MACHINE_LOG_LEVELS = ("ALL", "ERROR", "FATAL", "OFF")

KINESIS_ENCRYPTION_TYPES = ("KMS",)  # the module encrypts every data store; AWS also allows NONE
KINESIS_MIN_SHARDS = 1
KINESIS_RETENTION_HOURS = (24, 8760)
FIREHOSE_DESTINATIONS = ("s3", "extended_s3")
FIREHOSE_COMPRESSION_FORMATS = ("UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY")
FIREHOSE_BUFFER_SIZE_MB = (1, 128)
# A prefix with this namespace (!{partitionKeyFromQuery:...} or !{partitionKeyFromLambda:...}) makes the
# module turn on dynamic partitioning, which Firehose accepts only with a buffer of at least 64 MiB.
FIREHOSE_PARTITION_KEY_NAMESPACE = "!{partitionKeyFrom"
FIREHOSE_DYNAMIC_PARTITIONING_MIN_BUFFER_MB = 64
FIREHOSE_BUFFER_INTERVAL_SECONDS = (0, 900)
FIREHOSE_BACKUP_MODES = ("Disabled", "Enabled")
FIREHOSE_PROCESSOR_TYPES = ("Lambda", "RecordDeAggregation", "AppendDelimiterToRecord", "MetadataExtraction")
FIREHOSE_ERROR_OUTPUT_TYPE = "!{firehose:error-output-type}"
