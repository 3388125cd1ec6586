"""The seed's whole stack on one machine: events into the Kinesis stream (moto), Firehose delivery
with the data-processor transform into the lake, the SQL analytics apps and the event source
mappings reading the stream, then the crawler and the stack's state machine (in the example,
`etl-workflow`: the Glue job on local Spark, then the data-processor); and a reconciliation of
every event. Every name comes from the stack: a project's own stack runs as the example does.

The stream stages run together, a chunk of events at a time, as they would on AWS: each chunk
is put into the stream, then every consumer reads what is new, and records every consumer has
read expire (cauce.localstack.kinesis). Generated events, stream contents, Firehose buffers and
analytics batches are all bounded, so memory does not grow with the number of events.

A stage that raises, a workflow that fails and a crawler target that holds no files stop the
run there: the report names the stage and the reason, and whatever was accepted stays in the lake.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import resource
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cauce.localstack.analytics import BATCH_RECORDS as ANALYTICS_BATCH

if TYPE_CHECKING:
    from cauce.core.stack import GlueJobConfig, Stack

STAGES = ("kinesis", "firehose", "analytics", "event_sources", "crawler", "workflow")
CHUNK_EVENTS = 5_000  # events put before the consumers read: bounds what the stream holds


class StageFailed(RuntimeError):
    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(f"{stage}: {reason}")
        self.stage, self.reason = stage, reason


@dataclass
class _Timer:
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    current: str | None = None

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.current = name
        started = time.perf_counter()
        interrupted = _InterruptWatch()
        try:
            with interrupted:
                yield
        except StageFailed:
            raise
        except Exception as error:
            if interrupted.seen or isinstance(error.__context__, KeyboardInterrupt):
                raise KeyboardInterrupt from error  # Ctrl-C cancelled Spark's jobs, and the call failed for that
            raise StageFailed(name, f"{type(error).__name__}: {error}") from error
        finally:
            self.seconds[name] += time.perf_counter() - started


class _InterruptWatch:
    """Notes a Ctrl-C during a stage and passes it on to the handler already installed (Spark's
    cancels its jobs), so a failure it causes is reported as the interrupt it is."""

    def __init__(self) -> None:
        self.seen = False
        self._previous: Any = None

    def __enter__(self) -> "_InterruptWatch":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, self._on_interrupt)
        return self

    def _on_interrupt(self, signum: int, frame: Any) -> None:
        self.seen = True
        if callable(self._previous):
            self._previous(signum, frame)
        raise KeyboardInterrupt

    def __exit__(self, *exc_info: Any) -> None:
        if self._previous is not None and signal.getsignal(signal.SIGINT) == self._on_interrupt:
            signal.signal(signal.SIGINT, self._previous)


def run_pipeline(lake_dir: Path, events: int, malformed_share: float, duplicate_share: float, seed: int,
                 stack: "Stack | None" = None, say: Callable[[str], None] = lambda _line: None,
                 progress: Callable[[int, str], None] = lambda _events, _detail: None,
                 functions: Mapping[str, Callable[[Any, Any], Any]] | None = None, jobs: Mapping[str, type] | None = None,
                 chunk_events: int = CHUNK_EVENTS) -> dict[str, Any]:
    """Run the stack over `events` generated events; `progress(events_done, detail)` is called
    after each chunk, `say(line)` once per stage. `functions` and `jobs` override the stack's
    handlers and job classes (LocalStepFunctions' bindings)."""
    from cauce.localstack.demo import new_expectation
    from cauce.localstack.applicability import not_applicable_locally
    from cauce.core.stack import load_stack
    from cauce.core.lake import LocalLake
    from cauce.etl.runtimes.local import LocalRuntime
    from cauce.localstack.bindings import StackBindings
    from cauce.statemachines.local import LocalStepFunctions

    stack = stack if stack is not None else load_stack(None)
    shutil.rmtree(lake_dir, ignore_errors=True)
    lake = LocalLake(lake_dir)
    runtime = LocalRuntime(lake)
    expected = new_expectation()
    timer = _Timer()
    stages: dict[str, dict[str, Any]] = {}
    failure: StageFailed | None = None
    started = time.perf_counter()
    bindings = StackBindings(stack, runtime=runtime, functions=functions, jobs=jobs)
    with LocalStepFunctions(stack, bindings=bindings) as sfn:
        try:
            _stream_stages(stack, sfn, lake, runtime, events, malformed_share, duplicate_share, seed, expected, stages, timer,
                           say, progress, chunk_events)
            _batch_stages(stack, sfn, lake, runtime, stages, timer, say)
        except StageFailed as error:
            failure = error
            say(f"{error.stage:<10} FAILED: {error.reason}")
    total = time.perf_counter() - started
    for name in STAGES:
        if name in stages:
            stages[name]["seconds"] = timer.seconds[name]
    checks = _checks(stages, expected)
    failed_stage, reason = _first_failure(failure, checks)
    return {"events": events, "records_put": stages.get("kinesis", {}).get("records", 0), "expected": expected, "stages": stages,
            "checks": checks, "reconciled": failure is None and all(c["ok"] for c in checks),
            "failed_stage": failed_stage, "failure": reason, "seconds": total,
            "lake": str(lake_dir), "outputs": _outputs(stack, stages, bindings), "not_applicable_locally": not_applicable_locally(stack),
            "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}  # this process; Spark's JVM is apart


def _stream_stages(stack, sfn, lake, runtime, events, malformed_share, duplicate_share, seed, expected, stages, timer, say, progress,
                   chunk_events) -> None:
    import boto3

    from cauce.analytics.app import load_app
    from cauce.core.kinesis import PUT_RECORDS_LIMIT, StreamReader, put_records
    from cauce.localstack.demo import generate_events
    from cauce.localstack.analytics import StreamingApp
    from cauce.localstack.event_source import KinesisEventSourceMapping
    from cauce.localstack.firehose import FirehoseDelivery
    from cauce.localstack.kinesis import create_streams, expire_read_records, held_records
    from cauce.core.aws import REGION

    kinesis_config = stack.kinesis_config
    kinesis = boto3.client("kinesis", region_name=REGION)
    with timer.stage("kinesis"):
        streams = create_streams(kinesis, stack)
        if not streams:
            raise StageFailed("kinesis", "the stack has no kinesis_config.stream_config: nothing to put events into")
    ingest = next(iter(streams.values()))
    readers: dict[str, list[StreamReader]] = {name: [] for name in streams.values()}

    def reader(stream: str) -> StreamReader:
        readers[stream].append(StreamReader(kinesis, stream))
        return readers[stream][-1]

    with timer.stage("firehose"):
        deliveries = []
        sources = stack.firehose_sources
        for key, firehose in kinesis_config.firehose_config.items():
            # a Firehose stream without a Kinesis source takes direct PUTs: locally, the producer's events
            source = streams.get(sources.get(key), ingest)
            delivery = FirehoseDelivery.from_stack(stack, firehose, lake, sfn.handler_for, lake_bucket(stack))
            deliveries.append((delivery, reader(source)))

    with timer.stage("analytics"):
        apps = []
        for key, config in kinesis_config.analytics_config.items():
            source = config.input_stream_arn.rsplit("/", 1)[-1]
            if source not in readers:
                raise StageFailed("analytics", f"app {config.name}: input stream {source} is not in the stack's stream_config")
            app = StreamingApp(load_app(key, stack), kinesis, source, config.output_stream_arn.rsplit("/", 1)[-1],
                               lambda: runtime.spark, batch_records=ANALYTICS_BATCH)
            readers[source].append(app.reader)
            apps.append(app)

    with timer.stage("event_sources"):
        mappings = []
        for key, source in stack.lambda_event_sources.items():
            mapping = KinesisEventSourceMapping.from_stack(stack, source, kinesis, sfn.handler_for, boto3.client("sqs", region_name=REGION),
                                                           region=REGION)
            stream = mapping.stream
            readers[stream].append(mapping.reader)  # from the shard's start: the stream is new, so LATEST skips nothing either
            mappings.append((key, mapping))

    rng = random.Random(seed)
    generated = generate_events(events, malformed_share, duplicate_share, rng, dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc), "ev", expected)
    put = 0
    done = False
    held = {"kinesis": 0, "firehose": 0, "analytics": 0}  # the most each stage held at once: bounded, whatever the event count
    try:
        while not done:
            with timer.stage("kinesis"):
                chunk = [line.encode() for _, line in zip(range(chunk_events), generated, strict=False)]
                done = len(chunk) < chunk_events
                for start in range(0, len(chunk), PUT_RECORDS_LIMIT):
                    entries = [{"Data": data, "PartitionKey": str(put + start + i)} for i, data in enumerate(chunk[start:start + PUT_RECORDS_LIMIT])]
                    put_records(kinesis, ingest, entries)
                put += len(chunk)
                held["kinesis"] = max(held["kinesis"], held_records(ingest, REGION))
            with timer.stage("firehose"):
                for delivery, source in deliveries:
                    for _shard, record in source.read():
                        delivery.put(record["Data"], record["ApproximateArrivalTimestamp"])
                    delivery.tick()
                    if done:
                        delivery.flush()
            with timer.stage("analytics"):
                for app in apps:
                    app.read()
                    if app.due or done:
                        app.run(final=done)
            with timer.stage("event_sources"):
                for _key, mapping in mappings:
                    mapping.drain()
            with timer.stage("kinesis"):
                for stream, consumers in readers.items():
                    if consumers and stream == ingest:
                        expire_read_records(stream, [c.last_sequence for c in consumers], REGION)
                held["firehose"] = max([held["firehose"]] + [d.buffered_bytes for d, _ in deliveries])
                held["analytics"] = max([held["analytics"]] + [a.held for a in apps])
            firehose_counts = [d.stats for d, _ in deliveries]
            progress(expected["valid"] + expected["malformed"], ", ".join(f"{s.delivered:,} delivered, {s.processing_failed:,} failed" for s in firehose_counts))
    finally:  # a stage failed mid-stream, or the stream ended: what was accepted is delivered and reported
        if not done:
            for delivery, source in deliveries:
                for _shard, record in source.read():
                    delivery.put(record["Data"], record["ApproximateArrivalTimestamp"])
                delivery.flush()
        stages["kinesis"] = {"records": put, "stream": ingest, "max_records_held": held["kinesis"]}
        say(f"kinesis    {put:>9,} events put into {ingest}")
        stages["firehose"] = {}
        for delivery, _source in deliveries:
            stats = delivery.stats
            stages["firehose"] = {name: getattr(stats, name) for name in
                                  ("records_in", "delivered", "dropped", "processing_failed", "partitioning_failed", "objects", "invocations",
                                   "invocation_errors", "last_error")}
            stages["firehose"]["max_buffered_bytes"] = held["firehose"]
            say(f"firehose   {stats.delivered:>9,} delivered, {stats.processing_failed:,} to processing-failed, {stats.dropped:,} dropped "
                f"({stats.objects} objects)")
            break  # the seed's stack has one delivery stream; the reconciliation follows the first
        stages["analytics"] = {"apps": {}, "max_records_held": held["analytics"]}
        for app in apps:
            stats = stages["analytics"]["apps"][app.name] = app.stats()
            say(f"analytics  {app.name}: {stats['rows']} window(s) counting {stats['events_counted']:,} events into {stats['output']}, "
                f"{stats['refused']:,} refused")
        if mappings:
            stages["event_sources"] = {"mappings": {}}
            for key, mapping in mappings:
                stats = mapping.stats
                stages["event_sources"]["mappings"][key] = {"records_read": stats.records_read, "succeeded": stats.records_succeeded,
                                                            "to_destination": stats.records_sent_to_destination, "invocations": stats.invocations}
                say(f"consumer   {key}: {stats.records_succeeded:,} processed, {stats.records_sent_to_destination:,} to the on-failure destination")


def _batch_stages(stack, sfn, lake, runtime, stages, timer, say) -> None:
    from cauce.localstack.crawler import LocalCrawler

    with timer.stage("crawler"):
        crawls = [LocalCrawler(c.document, lake, runtime.catalog, runtime.spark).run() for c in stack.glue_config.crawler_config.values()]
        stages["crawler"] = {"tables": [t for c in crawls for t in c.tables_created + c.tables_updated], "files": sum(c.files_scanned for c in crawls),
                             "empty_targets": [t for c in crawls for t in c.empty_targets]}
        say(f"crawler    {stages['crawler']['files']:>9,} files cataloged as {', '.join(stages['crawler']['tables']) or 'nothing'}")
        if stages["crawler"]["empty_targets"]:
            raise StageFailed("crawler", f"no files under {', '.join(stages['crawler']['empty_targets'])}: nothing to catalog, so the workflow "
                                         "was not started (what Firehose delivered is still in the lake)")

    with timer.stage("workflow"):
        name = workflow_name(stack)
        workflow = sfn.run(name, {})
        job = next(iter(sfn.glue_runs.values()), None)
        result = job.result if job is not None else None
        stages["workflow"] = {"name": name, "status": workflow.status, "error": workflow.error, "cause": workflow.cause,
                              "states": [(r.state, r.status) for r in workflow.rows],
                              "rows_read": sum((result.rows_read or {}).values()) if result else 0,
                              "rows_written": sum((result.rows_written or {}).values()) if result else 0,
                              "rows_quarantined": result.rows_quarantined if result else 0,
                              "job_error": job.error if job is not None else None}
        say(f"workflow   {workflow.status}: job read {stages['workflow']['rows_read']:,}, wrote {stages['workflow']['rows_written']:,}, "
            f"quarantined {stages['workflow']['rows_quarantined']:,}")
        if workflow.status != "SUCCEEDED":
            reason = stages["workflow"]["job_error"] or workflow.cause or workflow.error or workflow.status
            raise StageFailed("workflow", f"{name} {workflow.status}: {reason}")


def workflow_name(stack: "Stack") -> str:
    """The state machine the demo runs after the crawler: the stack's first (the example has one, etl-workflow)."""
    machines = stack.step_functions_config
    if not machines:
        raise StageFailed("workflow", "the stack has no step_functions_config: no workflow to run the Glue job")
    return next(iter(machines.values())).name


def _checks(stages: Mapping[str, Any], expected: Mapping[str, int]) -> list[dict[str, Any]]:
    checks: list[tuple[str, str, bool]] = []
    put = stages.get("kinesis", {}).get("records", 0)
    firehose = stages.get("firehose")
    if firehose:
        accounted = firehose["delivered"] + firehose["processing_failed"] + firehose["dropped"] + firehose["partitioning_failed"]
        checks.append(("firehose", "every event put is accounted for by Firehose (delivered + processing-failed + dropped)", put == accounted))
        checks.append(("firehose", "the transform ran without raising"
                       + (f" ({firehose['invocation_errors']} invocation(s) raised: {firehose['last_error']})" if firehose["invocation_errors"] else ""),
                       firehose["invocation_errors"] == 0))
    for name, app in (stages.get("analytics") or {}).get("apps", {}).items():
        checks.append(("analytics", f"analytics {name}: every readable event counted once", app["events_counted"] + app["refused"] == put))
    for key, mapping in (stages.get("event_sources") or {}).get("mappings", {}).items():
        checks.append(("event_sources", f"consumer {key}: every record processed or sent to the on-failure destination",
                       mapping["succeeded"] + mapping["to_destination"] == mapping["records_read"] == put))
    crawler = stages.get("crawler")
    if crawler:
        checks.append(("crawler", "the crawler cataloged the delivered data", bool(crawler["tables"]) and not crawler["empty_targets"]))
    job = stages.get("workflow")
    if job and firehose:
        checks += [
            ("workflow", "the workflow succeeded", job["status"] == "SUCCEEDED"),
            ("workflow", "the ETL job read every delivered record", job["rows_read"] == firehose["delivered"]),
            ("workflow", "read = written + quarantined + re-deliveries removed",
             job["rows_read"] - job["rows_written"] - job["rows_quarantined"] == expected["duplicates"]),
            ("workflow", "curated rows = valid events", job["rows_written"] == expected["valid"]),
            ("workflow", "processing-failed + quarantined = malformed events",
             firehose["processing_failed"] + job["rows_quarantined"] == expected["malformed"]),
        ]
    order = {stage: index for index, stage in enumerate(STAGES)}
    checks.sort(key=lambda c: order[c[0]])
    return [{"stage": stage, "check": check, "ok": ok} for stage, check, ok in checks]


def _first_failure(failure: StageFailed | None, checks: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    """The earliest stage that failed, and why: a later stage's failure is often its consequence."""
    candidates = [(failure.stage, failure.reason)] if failure is not None else []  # first: min keeps it on a tie
    candidates += [(c["stage"], f"check failed: {c['check']}") for c in checks if not c["ok"]]
    if not candidates:
        return None, None
    return min(candidates, key=lambda candidate: STAGES.index(candidate[0]))


def _outputs(stack: "Stack", stages: Mapping[str, Any], bindings: Any = None) -> dict[str, str]:
    """Where each stage's output lies (s3:// URIs map into the lake folder)."""
    bucket = lake_bucket(stack)
    outputs = {}
    for firehose in stack.kinesis_config.firehose_config.values():
        prefix = _static_part(firehose.prefix)
        error_prefix = _static_part(firehose.error_output_prefix or "errors/")
        outputs[f"firehose {firehose.name}"] = f"s3://{bucket}/{prefix}"
        outputs[f"firehose {firehose.name} errors"] = f"s3://{bucket}/{error_prefix}"
    for crawler in stack.glue_config.crawler_config.values():
        outputs[f"crawler {crawler.name}"] = f"catalog database {crawler.database_name}"
    for job in stack.glue_config.job_config.values():
        outputs.update(_job_outputs(job, bindings))
    for name, app in (stages.get("analytics") or {}).get("apps", {}).items():
        outputs[f"analytics {name}"] = f"kinesis stream {app['output']}"
    return outputs


def _job_outputs(job: "GlueJobConfig", bindings: Any) -> dict[str, str]:
    """A job's output paths: its Arguments' `*_path` fields other than sources, as the stack sets or the class defaults them."""
    import dataclasses

    try:
        arguments = bindings.job_class_for(job.name).Arguments
        fields = {f.name: f.default for f in dataclasses.fields(arguments) if f.name.endswith("_path")}
    except Exception:  # noqa: BLE001 - where the outputs are is a courtesy: a job that does not load has none listed
        return {}
    overrides = {k.removeprefix("--"): v for k, v in job.default_arguments.items()}
    return {f"job {job.name} {name.removesuffix('_path')}": overrides.get(name, default)
            for name, default in fields.items() if not name.startswith("source") and isinstance(overrides.get(name, default), str)}


def _static_part(prefix: str) -> str:
    """`raw-data/year=!{timestamp:yyyy}/` -> `raw-data/`: the folder before the first expression."""
    head = prefix.split("!{", 1)[0]
    return head[: head.rfind("/") + 1]


def lake_bucket(stack: "Stack") -> str:
    """The bucket the stack's crawlers read (Firehose's destination locally)."""
    for crawler in stack.glue_config.crawler_config.values():
        for target in crawler.s3_target:
            return target.path.removeprefix("s3://").split("/", 1)[0]
    return "mi-bucket"
