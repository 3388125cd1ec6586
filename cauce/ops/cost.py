"""`cauce cost`: a monthly cost estimate of a stack definition, offline.

Every figure is a quantity derived from the stack and a few stated usage assumptions, times one
row of a dated, region-aware price table shipped in `cauce/prices/` (override with a file of
your own). Each line says which price row and which inputs it comes from, so it can be checked
by hand. Written here because the usual tool (Infracost) needs an online pricing API and a key.

What is left out is said, not hidden: free tiers, data transfer, the Glue Data Catalog (free
for the first million objects and requests), SQS and SNS (cents at these volumes).
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cauce.core.facts import ANALYTICS_DEFAULT_WORKER_TYPE, FIREHOSE_PARTITION_KEY_NAMESPACE, STREAMING_WORKER_TYPES, WORKER_TYPES

if TYPE_CHECKING:
    from cauce.core.stack import Stack

HOURS_PER_MONTH = 730
DAYS_PER_MONTH = 30.4
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
GB = 1024**3
FIREHOSE_RECORD_STEP = 5 * 1024  # Firehose bills each record rounded up to 5 KB
KINESIS_PUT_UNIT = 25 * 1024  # a PUT payload unit
FIREHOSE_LAMBDA_BUFFER = 1024 * 1024  # the Lambda processor's default buffer (BufferSizeInMBs = 1)


class CostError(ValueError):
    """An assumption, price table or region that cannot be used; the message names which."""


@dataclass(frozen=True)
class Assumptions:
    """Usage the stack definition does not say. Each has a default, reported as assumed."""

    events_per_second: float = 10.0  # events written to each stream, on average
    record_bytes: float = 1024  # size of one event
    job_runs_per_day: float = 1.0  # runs of each Glue ETL job
    job_run_minutes: float = 10.0  # duration of one run
    crawler_dpus: float = 2.0  # AWS does not publish a crawler's DPUs
    crawler_run_minutes: float = 10.0
    lambda_duration_ms: float = 50.0  # one invocation (measure it with `cauce invoke` or a benchmark)
    workflow_executions_per_day: float = 1.0  # executions of each state machine
    log_bytes_per_invocation: float = 600  # what a handler logs per invocation (Powertools JSON)
    glue_log_mb_per_run: float = 5.0
    log_retention_days: float = 365  # the module's default
    compression_ratio: float = 0.25  # GZIP on JSON events
    lake_months_kept: float = 1.0  # months of data the lake holds (storage grows with it)

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> Assumptions:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise CostError(f"unknown assumption(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        converted, problems = {}, []
        for name, raw in values.items():
            try:
                number = float(raw)
            except (TypeError, ValueError):
                problems.append(f"{name}={raw!r} is not a number")
                continue
            if number < 0 or math.isnan(number) or math.isinf(number):
                problems.append(f"{name}={raw!r} must be 0 or more")
            converted[name] = number
        if converted.get("record_bytes") == 0:
            problems.append("record_bytes=0: an event has at least one byte")
        if problems:
            raise CostError("invalid assumption(s): " + "; ".join(problems))
        return cls(**converted)

    def explicit(self, given: set[str]) -> dict[str, dict[str, Any]]:
        return {f.name: {"value": getattr(self, f.name), "assumed_default": f.name not in given} for f in dataclasses.fields(self)}


@dataclass(frozen=True)
class PriceTable:
    region: str
    as_of: str
    source: str
    prices: Mapping[str, Mapping[str, Any]]

    def usd(self, key: str) -> float:
        if key not in self.prices:
            raise CostError(f"the price table for {self.region} has no row {key!r}")
        return float(self.prices[key]["usd"])


def price_table(region: str, override: Path | None = None) -> PriceTable:
    """The shipped table for `region`, with rows from `override` (same format) replacing its rows."""
    shipped = {p.name.removesuffix(".json") for p in resources.files("cauce.ops.prices").iterdir() if p.name.endswith(".json")}
    if region not in shipped and override is None:
        raise CostError(f"no price table for region {region!r} (shipped: {', '.join(sorted(shipped))}); pass --prices FILE with its rates")
    if region in shipped:
        table = json.loads(resources.files("cauce.ops.prices").joinpath(f"{region}.json").read_text())
    else:  # a region Cauce ships no table for: the override is the whole table
        table = {"region": region, "as_of": "(from --prices)", "source": "", "prices": {}}
    if override is not None:
        try:
            extra = json.loads(Path(override).read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise CostError(f"--prices {override}: {error}") from None
        if not isinstance(extra, Mapping) or not isinstance(extra.get("prices", {}), Mapping):
            raise CostError(f"--prices {override}: expected an object with a \"prices\" object of rows, as the shipped tables are")
        bad = [k for k, v in extra.get("prices", {}).items() if not isinstance(v, Mapping) or not isinstance(v.get("usd"), (int, float))]
        if bad:
            raise CostError(f"--prices {override}: rows without a numeric usd: {', '.join(bad)}")
        table["prices"] = {**table["prices"], **extra.get("prices", {})}
        table["source"] += f"; rows overridden from {override}"
    return PriceTable(table["region"], table["as_of"], table["source"], table["prices"])


@dataclass
class CostLine:
    component: str
    resource: str
    item: str
    quantity: float
    unit: str
    price_key: str
    unit_usd: float
    inputs: list[str] = field(default_factory=list)

    @property
    def monthly_usd(self) -> float:
        return self.quantity * self.unit_usd

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "monthly_usd": round(self.monthly_usd, 4)}


@dataclass
class Estimate:
    region: str
    prices_as_of: str
    price_source: str
    lines: list[CostLine]
    assumptions: dict[str, dict[str, Any]]
    not_priced: list[str]

    @property
    def total_usd(self) -> float:
        return sum(line.monthly_usd for line in self.lines)

    def by_component(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for line in self.lines:
            totals[line.component] = totals.get(line.component, 0.0) + line.monthly_usd
        return totals

    def as_dict(self) -> dict[str, Any]:
        return {"region": self.region, "prices_as_of": self.prices_as_of, "price_source": self.price_source,
                "total_monthly_usd": round(self.total_usd, 2), "by_component": {k: round(v, 2) for k, v in self.by_component().items()},
                "lines": [line.as_dict() for line in self.lines], "assumptions": self.assumptions, "not_priced": self.not_priced}


def runs_per_day(schedule: str) -> float | None:
    """Runs a day of an AWS schedule expression (`cron(...)` or `rate(...)`); None if it cannot say."""
    rate = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", schedule.strip())
    if rate:
        every = int(rate.group(1))
        per_day = {"minute": 1440, "hour": 24, "day": 1}[rate.group(2).rstrip("s")]
        return per_day / every if every else None
    cron = re.fullmatch(r"cron\((.+)\)", schedule.strip())
    if not cron:
        return None
    fields = cron.group(1).split()
    if len(fields) != 6:
        return None
    minutes, hours, day_of_month, _month, day_of_week, _year = fields

    def count(field_text: str, span: int) -> float | None:
        if field_text in ("*", "?"):
            return span
        if re.fullmatch(r"\*/\d+|0/\d+", field_text):
            return span / int(field_text.split("/")[1])
        if re.fullmatch(r"\d+(,\d+)*", field_text):
            return len(field_text.split(","))
        return None

    per_hour, hours_a_day = count(minutes, 60), count(hours, 24)
    if per_hour is None or hours_a_day is None:
        return None
    days = 1.0
    if day_of_week not in ("*", "?"):
        days = 5 / 7 if day_of_week.upper() in ("MON-FRI", "2-6") else len(day_of_week.split(",")) / 7
    elif day_of_month not in ("*", "?"):
        days = len(day_of_month.split(",")) / DAYS_PER_MONTH
    return per_hour * hours_a_day * days


def estimate(stack: "Stack", assumptions: Assumptions, prices: PriceTable, given: set[str] | None = None) -> Estimate:
    from cauce.statemachines.definition import DefinitionError, load_definition

    a, p = assumptions, prices
    lines: list[CostLine] = []
    not_priced = ["free tiers", "data transfer", "Glue Data Catalog (first million objects and requests free)", "SQS and SNS requests"]

    def add(component, resource, item, quantity, unit, price_key, inputs):
        lines.append(CostLine(component, resource, item, quantity, unit, price_key, p.usd(price_key), inputs))

    glue = stack.glue_config
    for key, job in glue.job_config.items():
        dpus = WORKER_TYPES[job.worker_type].dpus * job.number_of_workers
        hours = a.job_runs_per_day * DAYS_PER_MONTH * max(a.job_run_minutes, 1) / 60
        flex = stack.glue_execution_class.get(key) == "FLEX"
        add("Glue jobs", job.name, f"{dpus:g} DPU x {hours:.1f} h" + (" (Flex)" if flex else ""), dpus * hours, "DPU-hour",
            "glue.flex_dpu_hour" if flex else "glue.dpu_hour",
            [f"glue_config.job_config[{key}].worker_type, number_of_workers", f"glue_execution_class[{key}]", "job_runs_per_day", "job_run_minutes"])
    for key, crawler in glue.crawler_config.items():
        per_day = runs_per_day(crawler.schedule) or 1.0
        hours = per_day * DAYS_PER_MONTH * max(a.crawler_run_minutes, 10) / 60
        add("Glue crawlers", crawler.name, f"{per_day:g} run(s)/day x {max(a.crawler_run_minutes, 10):g} min", hours * a.crawler_dpus,
            "DPU-hour", "glue.crawler_dpu_hour", [f"glue_config.crawler_config[{key}].schedule", "crawler_dpus", "crawler_run_minutes"])

    kinesis = stack.kinesis_config
    records_per_month = a.events_per_second * SECONDS_PER_MONTH
    for key, stream in kinesis.stream_config.items():
        shards = stream.shard_count
        add("Kinesis streams", stream.name, f"{shards} shard(s)", shards * HOURS_PER_MONTH, "shard-hour", "kinesis.shard_hour",
            [f"kinesis_config.stream_config[{key}].shard_count"])
        units = records_per_month * math.ceil(a.record_bytes / KINESIS_PUT_UNIT)
        add("Kinesis streams", stream.name, "PUT payload units", units / 1e6, "1M units", "kinesis.put_units_million",
            ["events_per_second", "record_bytes"])
        if stream.retention_period > 24:
            add("Kinesis streams", stream.name, f"retention {stream.retention_period} h", shards * HOURS_PER_MONTH, "shard-hour",
                "kinesis.extended_retention_shard_hour", [f"kinesis_config.stream_config[{key}].retention_period"])

    lake_gb_stored = 0.0
    s3_puts = 0.0
    functions = stack.lambda_config
    invocations: dict[str, float] = {}
    for key, firehose in kinesis.firehose_config.items():
        billed_record = math.ceil(a.record_bytes / FIREHOSE_RECORD_STEP) * FIREHOSE_RECORD_STEP
        add("Firehose", firehose.name, f"ingest ({billed_record // 1024} KB billed a record)", records_per_month * billed_record / GB,
            "GB", "firehose.ingest_gb", ["events_per_second", "record_bytes"])
        raw_gb = records_per_month * a.record_bytes / GB
        stored_gb = raw_gb * (a.compression_ratio if firehose.compression_format != "UNCOMPRESSED" else 1.0)
        buffer_bytes = firehose.buffer_size * 1024 * 1024
        objects = max(stored_gb * GB / buffer_bytes, SECONDS_PER_MONTH / max(firehose.buffer_interval, 1))
        if FIREHOSE_PARTITION_KEY_NAMESPACE in firehose.prefix:
            add("Firehose", firehose.name, "dynamic partitioning", raw_gb, "GB", "firehose.dynamic_partitioning_gb", [f"kinesis_config.firehose_config[{key}].prefix"])
            add("Firehose", firehose.name, "dynamic partitioning objects", objects / 1000, "1,000 objects",
                "firehose.dynamic_partitioning_objects_thousand", [f"kinesis_config.firehose_config[{key}].buffer_size, buffer_interval"])
        copies = 2 if firehose.s3_backup_mode == "Enabled" else 1
        lake_gb_stored += stored_gb * copies * max(a.lake_months_kept, 1)
        s3_puts += objects * copies
        processing = firehose.processing_configuration
        if processing.enabled:
            for processor in processing.processors:
                for parameter in processor.parameters:
                    match = re.search(r":function:([^:]+)", parameter.parameter_value)
                    if parameter.parameter_name == "LambdaArn" and match:
                        calls = records_per_month * a.record_bytes / FIREHOSE_LAMBDA_BUFFER
                        invocations[match.group(1)] = invocations.get(match.group(1), 0.0) + calls

    for key, app in kinesis.analytics_config.items():
        workers, worker_type = analytics_workers(stack, key)
        dpus = workers * WORKER_TYPES[worker_type].dpus
        add("SQL analytics (Glue streaming)", app.name, f"{workers} {worker_type} workers, always on", dpus * HOURS_PER_MONTH, "DPU-hour",
            "glue.dpu_hour", [f"kinesis_config.analytics_config[{key}].input_parallelism, output_parallelism", f"analytics_worker_type[{key}]"])
    for name in analytics_output_streams(stack):
        add("Kinesis streams", name, "1 shard(s) (analytics output, created by the module)", HOURS_PER_MONTH, "shard-hour", "kinesis.shard_hour",
            ["kinesis_config.analytics_config[*].output_stream_arn"])

    for key, machine in stack.step_functions_config.items():
        executions = a.workflow_executions_per_day * DAYS_PER_MONTH
        try:
            document = load_definition(key, stack).document
        except DefinitionError:
            document = {"States": {}}
        states = _states(document)
        for state in states:
            target = (state.get("Parameters") or {}).get("FunctionName")
            if isinstance(target, str):
                name = target.split(":")[-1] if target.startswith("arn:") else target
                invocations[name] = invocations.get(name, 0.0) + executions
        if machine.type == "EXPRESS":
            add("Step Functions", machine.name, "requests", executions / 1e6, "1M requests", "states.express_requests_million", ["workflow_executions_per_day"])
        else:
            add("Step Functions", machine.name, f"{len(states)} transitions an execution (all states)", executions * len(states) / 1000,
                "1,000 transitions", "states.standard_transitions_thousand", ["workflow_executions_per_day", f"step_functions_config[{key}].definition"])

    log_gb = 0.0
    for key, function in functions.items():
        calls = invocations.get(function.function_name, 0.0)
        gb_seconds = calls * a.lambda_duration_ms / 1000 * function.memory_size / 1024
        add("Lambda", function.function_name, "requests", calls / 1e6, "1M requests", "lambda.requests_million",
            ["Firehose processors and workflow tasks naming it", "events_per_second", "record_bytes", "workflow_executions_per_day"])
        add("Lambda", function.function_name, f"{function.memory_size} MB x {a.lambda_duration_ms:g} ms (x86_64)", gb_seconds,
            "GB-second", "lambda.gb_second_x86_64", [f"lambda_config[{key}].memory_size", "lambda_duration_ms"])
        log_gb += calls * a.log_bytes_per_invocation / GB
    log_gb += sum(a.job_runs_per_day * DAYS_PER_MONTH * a.glue_log_mb_per_run / 1024 for _ in glue.job_config)

    if lake_gb_stored:
        add("S3", "data lake", "Standard storage", lake_gb_stored, "GB-month", "s3.standard_gb_month",
            ["events_per_second", "record_bytes", "compression_ratio", "lake_months_kept", "firehose s3_backup_mode"])
        add("S3", "data lake", "objects delivered", s3_puts / 1000, "1,000 PUTs", "s3.put_thousand", ["firehose buffer_size, buffer_interval"])
    if log_gb:
        add("CloudWatch", "log groups", "ingestion", log_gb, "GB", "logs.ingest_gb", ["log_bytes_per_invocation", "glue_log_mb_per_run"])
        add("CloudWatch", "log groups", f"storage, kept {a.log_retention_days:g} days", log_gb * min(a.log_retention_days / 30.4, 12), "GB-month",
            "logs.storage_gb_month", ["log_retention_days"])
    alarms = (len(kinesis.stream_config) + len(analytics_output_streams(stack)) + 2 * len(kinesis.firehose_config) + 2 * len(functions)
              + len(stack.step_functions_config))
    if alarms:
        add("CloudWatch", "alarms", f"{alarms} alarms the module creates", alarms, "alarm-month", "cloudwatch.alarm_month", ["the stack's streams, Firehose streams, functions, state machines"])
    add("KMS", "stack key", "one customer managed key", 1, "key-month", "kms.key_month", ["kms_key_arn unset: the module creates one"])
    return Estimate(prices.region, prices.as_of, prices.source, lines, assumptions.explicit(given or set()), not_priced)


def analytics_workers(stack: "Stack", key: str) -> tuple[int, str]:
    """Workers and worker type of analytics app `key`'s Glue streaming job, as infra/analytics.tf sizes it."""
    app = stack.kinesis_config.analytics_config[key]
    worker_type = stack.analytics_worker_type.get(key, ANALYTICS_DEFAULT_WORKER_TYPE)
    if worker_type not in STREAMING_WORKER_TYPES:
        raise CostError(f"analytics_worker_type[{key}] = {worker_type!r}: must be one of {', '.join(STREAMING_WORKER_TYPES)}")
    return max(2, app.input_parallelism + app.output_parallelism), worker_type


def analytics_output_streams(stack: "Stack") -> list[str]:
    """The analytics apps' output streams that stream_config does not define, which the module creates
    (infra/kinesis.tf: one shard each), by name."""
    kinesis = stack.kinesis_config
    defined = {s.name for s in kinesis.stream_config.values()} | set(kinesis.stream_config)
    names = [re.fullmatch(r"arn:[^:]+:kinesis:[^:]*:[^:]*:stream/([^/]+)", app.output_stream_arn) for app in kinesis.analytics_config.values()]
    return list(dict.fromkeys(m.group(1) for m in names if m and m.group(1) not in defined))


def _states(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Every state, including those inside Parallel branches and Map iterations."""
    found = []
    for state in (document.get("States") or {}).values():
        found.append(state)
        for branch in state.get("Branches") or []:
            found += _states(branch)
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            found += _states(processor)
    return found
