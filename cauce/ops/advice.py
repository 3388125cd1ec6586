"""`cauce cost --advise`: tuning advice from the stack definition and the usage assumptions.

Each rule is grounded in a documented AWS limit or price, names the inputs it reads, and says
the monthly saving (priced with the same table as the estimate) or the risk. A saving that rounds
to less than a cent is not advice: it is left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from cauce.core.facts import WORKER_TYPES
from cauce.ops.cost import (
    DAYS_PER_MONTH, FIREHOSE_RECORD_STEP, GB, HOURS_PER_MONTH, SECONDS_PER_MONTH, Assumptions, Estimate, PriceTable,
    analytics_workers, estimate,
)

if TYPE_CHECKING:
    from cauce.core.stack import Stack

SHARD_BYTES_PER_SECOND = 1024 * 1024  # a shard takes 1 MB/s of writes...
SHARD_RECORDS_PER_SECOND = 1000  # ...or 1,000 records/s
FIREHOSE_PROCESSOR_MAX_MB = 3  # the Lambda processor's BufferSizeInMBs: 0.2 to 3
LAMBDA_PAYLOAD_MB = 6
LOW_VOLUME_STREAMING_WORKER = "G.025X"  # Glue: "for low volume streaming jobs", a quarter DPU (2 vCPU, 4 GB)


@dataclass
class Advice:
    rule: str
    kind: str  # "saving" or "risk"
    resource: str
    message: str
    reads: list[str] = field(default_factory=list)
    monthly_saving_usd: float | None = None

    def as_dict(self) -> dict[str, Any]:
        document = asdict(self)
        if self.monthly_saving_usd is not None:
            document["monthly_saving_usd"] = round(self.monthly_saving_usd, 2)
        return document


Rule = Callable[["Stack", Assumptions, PriceTable, Estimate], list[Advice]]


def kinesis_shards(stack, a, p, result) -> list[Advice]:
    advice = []
    for key, stream in stack.kinesis_config.stream_config.items():
        needed = max(1, math.ceil(max(a.events_per_second * a.record_bytes / SHARD_BYTES_PER_SECOND, a.events_per_second / SHARD_RECORDS_PER_SECOND)))
        shards = stream.shard_count
        reads = [f"kinesis_config.stream_config[{key}].shard_count", "events_per_second", "record_bytes"]
        if shards < needed:
            advice.append(Advice("kinesis-shards", "risk", stream.name,
                                 f"{a.events_per_second:g} events/s of {a.record_bytes:g} B need {needed} shard(s) (1 MB/s or 1,000 records/s each); "
                                 f"{shards} will throttle writes (WriteProvisionedThroughputExceeded)", reads))
        elif shards > needed:
            saving = (shards - needed) * HOURS_PER_MONTH * p.usd("kinesis.shard_hour")
            advice.append(Advice("kinesis-shards", "saving", stream.name,
                                 f"{shards} shards for a load that fits in {needed}: drop {shards - needed} (keep headroom for peaks, or use on-demand mode)",
                                 reads, saving))
    return advice


def firehose_small_records(stack, a, p, result) -> list[Advice]:
    if a.record_bytes >= FIREHOSE_RECORD_STEP:
        return []
    advice = []
    for firehose in stack.kinesis_config.firehose_config.values():
        records = a.events_per_second * SECONDS_PER_MONTH
        billed_gb = records * FIREHOSE_RECORD_STEP / GB
        actual_gb = records * a.record_bytes / GB
        saving = (billed_gb - actual_gb) * p.usd("firehose.ingest_gb")
        advice.append(Advice("firehose-record-size", "saving", firehose.name,
                             f"each {a.record_bytes:g} B record is billed as 5 KB: batching events into records of about 5 KB "
                             f"(newline-delimited) cuts ingestion from {billed_gb:,.1f} to {actual_gb:,.1f} billed GB",
                             ["record_bytes", "events_per_second"], saving))
    return advice


def firehose_buffers(stack, a, p, result) -> list[Advice]:
    advice = []
    for key, firehose in stack.kinesis_config.firehose_config.items():
        reads = [f"kinesis_config.firehose_config[{key}].buffer_size", f"kinesis_config.firehose_config[{key}].buffer_interval", "events_per_second", "record_bytes"]
        rate = a.events_per_second * a.record_bytes * (a.compression_ratio if firehose.compression_format != "UNCOMPRESSED" else 1)
        buffer_bytes = firehose.buffer_size * 1024 * 1024
        seconds_to_fill = buffer_bytes / rate if rate else math.inf
        interval = firehose.buffer_interval
        if interval < 900 and seconds_to_fill > interval:
            objects_now = SECONDS_PER_MONTH / max(interval, 1)
            objects_then = SECONDS_PER_MONTH / min(900, seconds_to_fill)
            saving = (objects_now - objects_then) / 1000 * p.usd("s3.put_thousand")
            advice.append(Advice("firehose-buffer", "saving", firehose.name,
                                 f"the {firehose.buffer_size} MB buffer takes {seconds_to_fill:,.0f} s to fill, so every object is cut by the "
                                 f"{interval} s interval ({objects_now:,.0f} small objects a month); a longer interval (up to 900 s) writes fewer, "
                                 "larger objects, which the ETL job also reads faster", reads, saving))
        for processor in firehose.processing_configuration.processors:
            for parameter in processor.parameters:
                if parameter.parameter_name == "BufferSizeInMBs" and float(parameter.parameter_value) > FIREHOSE_PROCESSOR_MAX_MB:
                    advice.append(Advice("firehose-transform-buffer", "risk", firehose.name,
                                         f"the Lambda processor's BufferSizeInMBs is {parameter.parameter_value}: Firehose allows 0.2-3, and a "
                                         f"transform's response must stay under Lambda's {LAMBDA_PAYLOAD_MB} MB", reads))
    return advice


def firehose_compression(stack, a, p, result) -> list[Advice]:
    advice = []
    for key, firehose in stack.kinesis_config.firehose_config.items():
        if firehose.compression_format == "UNCOMPRESSED":
            stored = a.events_per_second * SECONDS_PER_MONTH * a.record_bytes / GB * max(a.lake_months_kept, 1)
            saving = stored * (1 - a.compression_ratio) * p.usd("s3.standard_gb_month")
            advice.append(Advice("firehose-compression", "saving", firehose.name,
                                 f"delivered uncompressed: GZIP (read by Glue and Athena as is) stores about {a.compression_ratio:.0%} of the bytes",
                                 [f"kinesis_config.firehose_config[{key}].compression_format", "compression_ratio"], saving))
    return advice


def glue_flex(stack, a, p, result) -> list[Advice]:
    advice = []
    for key, job in stack.glue_config.job_config.items():
        if job.glue_version in ("3.0", "4.0", "5.0") and stack.glue_execution_class.get(key) != "FLEX":
            dpu_hours = WORKER_TYPES[job.worker_type].dpus * job.number_of_workers * a.job_runs_per_day * DAYS_PER_MONTH * max(a.job_run_minutes, 1) / 60
            saving = dpu_hours * (p.usd("glue.dpu_hour") - p.usd("glue.flex_dpu_hour"))
            advice.append(Advice("glue-flex", "saving", job.name,
                                 "a scheduled or workflow-driven job can run with the Flex execution class (spare capacity, start may wait): "
                                 "module input glue_execution_class", [f"glue_config.job_config[{key}].glue_version", "job_runs_per_day", "job_run_minutes"], saving))
        if job.number_of_workers > 2 and job.glue_version in ("3.0", "4.0", "5.0"):
            advice.append(Advice("glue-auto-scaling", "saving", job.name,
                                 f"{job.number_of_workers} workers are billed for the whole run; auto scaling releases idle ones: module input glue_auto_scaling",
                                 [f"glue_config.job_config[{key}].number_of_workers"]))
    return advice


def analytics_workers_rule(stack, a, p, result) -> list[Advice]:
    """The SQL apps run as Glue streaming jobs around the clock (usually most of the estimate): on a
    stream within one shard's write capacity, G.025X workers (a quarter DPU each) do the same work."""
    advice = []
    total = result.total_usd
    within_a_shard = a.events_per_second * a.record_bytes <= SHARD_BYTES_PER_SECOND and a.events_per_second <= SHARD_RECORDS_PER_SECOND
    for key, app in stack.kinesis_config.analytics_config.items():
        workers, worker_type = analytics_workers(stack, key)
        dpus = WORKER_TYPES[worker_type].dpus
        if not within_a_shard or worker_type == LOW_VOLUME_STREAMING_WORKER:
            continue
        now = workers * dpus * HOURS_PER_MONTH * p.usd("glue.dpu_hour")
        saving = workers * (dpus - WORKER_TYPES[LOW_VOLUME_STREAMING_WORKER].dpus) * HOURS_PER_MONTH * p.usd("glue.dpu_hour")
        share = f", {now / total:.0%} of this estimate" if total else ""
        advice.append(Advice("analytics-workers", "saving", app.name,
                             f"the SQL app runs {workers} {worker_type} workers around the clock (${now:,.2f}/month{share}); at "
                             f"{a.events_per_second:g} events/s of {a.record_bytes:g} B, within one shard's 1 MB/s, Glue's G.025X workers "
                             "(a quarter DPU: 2 vCPU, 4 GB, for low-volume streaming jobs) can run it: module input "
                             f'analytics_worker_type = {{ "{key}" = "G.025X" }}, then watch the job\'s memory and batch times',
                             [f"kinesis_config.analytics_config[{key}].input_parallelism, output_parallelism", f"analytics_worker_type[{key}]",
                              "events_per_second", "record_bytes"], saving))
    return advice


def lambda_graviton(stack, a, p, result) -> list[Advice]:
    lines = [line for line in result.lines if line.component == "Lambda" and line.unit == "GB-second"]  # the estimate's counts
    advice = []
    for line in lines:
        saving = line.quantity * (p.usd("lambda.gb_second_x86_64") - p.usd("lambda.gb_second_arm64"))
        advice.append(Advice("lambda-arm64", "saving", line.resource,
                             "Python handlers run unchanged on arm64 (Graviton), 20% cheaper per GB-second: build the layer with "
                             "`cauce layer build --arch arm64` and set the module input lambda_layer_architecture",
                             ["lambda_duration_ms", "memory_size"], saving))
    return advice


def lambda_sizing(stack, a, p, result) -> list[Advice]:
    advice = []
    for key, function in stack.lambda_config.items():
        reads = [f"lambda_config[{key}].timeout", f"lambda_config[{key}].memory_size", "lambda_duration_ms"]
        if a.lambda_duration_ms and function.timeout * 1000 > 20 * a.lambda_duration_ms:
            advice.append(Advice("lambda-timeout", "risk", function.function_name,
                                 f"timeout {function.timeout} s against a measured {a.lambda_duration_ms:g} ms: a stuck invocation is billed "
                                 f"up to {function.timeout} s; a timeout near 10x the measured duration fails fast", reads))
        if function.memory_size >= 1024 and a.lambda_duration_ms < 100:
            advice.append(Advice("lambda-memory", "saving", function.function_name,
                                 f"{function.memory_size} MB for {a.lambda_duration_ms:g} ms invocations: measure at half the memory "
                                 "(`cauce invoke` or AWS Lambda Power Tuning) before paying for it", reads))
    return advice


def log_retention(stack, a, p, result) -> list[Advice]:
    if a.log_retention_days <= 90:
        return []
    return [Advice("log-retention", "saving", "log groups",
                   f"logs are kept {a.log_retention_days:g} days; debugging rarely looks back past 30-90, and audit copies belong in S3 "
                   "(module input log_retention_days)", ["log_retention_days"])]


def kinesis_retention(stack, a, p, result) -> list[Advice]:
    advice = []
    for key, stream in stack.kinesis_config.stream_config.items():
        if stream.retention_period > 24:
            saving = stream.shard_count * HOURS_PER_MONTH * p.usd("kinesis.extended_retention_shard_hour")
            advice.append(Advice("kinesis-retention", "saving", stream.name,
                                 f"retention {stream.retention_period} h is billed per shard-hour beyond 24 h; Firehose keeps the data in S3 anyway",
                                 [f"kinesis_config.stream_config[{key}].retention_period"], saving))
    return advice


RULES: list[Rule] = [analytics_workers_rule, kinesis_shards, kinesis_retention, firehose_small_records, firehose_buffers,
                     firehose_compression, glue_flex, lambda_graviton, lambda_sizing, log_retention]


def saves_nothing(item: Advice) -> bool:
    """A priced saving that rounds to $0.00 a month: not worth the change, so not shown."""
    return item.kind == "saving" and item.monthly_saving_usd is not None and round(item.monthly_saving_usd, 2) <= 0


def advise(stack: "Stack", assumptions: Assumptions, prices: PriceTable, result: Estimate | None = None) -> list[Advice]:
    """Every rule's advice, largest priced saving first; `result` is the stack's estimate, when the caller has it already."""
    result = result or estimate(stack, assumptions, prices)
    found = [item for rule in RULES for item in rule(stack, assumptions, prices, result) if not saves_nothing(item)]
    return sorted(found, key=lambda item: -(item.monthly_saving_usd or 0))
