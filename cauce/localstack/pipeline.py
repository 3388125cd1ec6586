"""The seed's whole stack on one machine: events into the Kinesis stream (moto), Firehose delivery
with the data-processor transform into the lake, the crawler, the `etl-workflow` state machine
(the Glue job on local Spark, then the data-processor), and the SQL analytics app over the stream;
then a reconciliation of every event.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

PUT_RECORDS_LIMIT = 500


def run_pipeline(lake_dir: Path, events: int, malformed_share: float, duplicate_share: float, seed: int,
                 stack: Mapping[str, Any] | None = None, say: Callable[[str], None] = lambda _line: None) -> dict[str, Any]:
    import boto3

    from analytics.app import load_app
    from analytics.streams import run_on_streams, shard_records, stream_shards
    from cauce.demo import generate_events
    from cauce.localstack.crawler import LocalCrawler
    from cauce.localstack.firehose import FirehoseDelivery
    from cauce.stack import load_stack
    from etl.lake import LocalLake
    from etl.runtimes.local import LocalRuntime
    from statemachines.local import REGION, LocalStepFunctions

    stack = stack or load_stack(None)
    shutil.rmtree(lake_dir, ignore_errors=True)
    lake = LocalLake(lake_dir)
    runtime = LocalRuntime(lake)
    rng = random.Random(seed)
    lines, expected = generate_events(events, malformed_share, duplicate_share, rng, dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc), "ev")
    kinesis_config = stack.get("kinesis_config") or {}
    stages: dict[str, dict[str, Any]] = {}
    with LocalStepFunctions(stack, runtime=runtime) as sfn:
        kinesis = boto3.client("kinesis", region_name=REGION)
        streams = [s["name"] for s in (kinesis_config.get("stream_config") or {}).values()]
        for stream in (kinesis_config.get("stream_config") or {}).values():
            kinesis.create_stream(StreamName=stream["name"], ShardCount=stream.get("shard_count", 1))
        ingest = streams[0]

        started = time.perf_counter()
        for start in range(0, len(lines), PUT_RECORDS_LIMIT):
            batch = lines[start:start + PUT_RECORDS_LIMIT]
            kinesis.put_records(StreamName=ingest, Records=[{"Data": line.encode(), "PartitionKey": str(start + i)} for i, line in enumerate(batch)])
        stages["kinesis"] = {"records": len(lines), "stream": ingest, "seconds": time.perf_counter() - started}
        say(f"kinesis    {len(lines):>8,} events put into {ingest}")

        started = time.perf_counter()
        deliveries = []
        for firehose in (kinesis_config.get("firehose_config") or {}).values():
            transform = None
            for processor in (firehose.get("processing_configuration") or {}).get("processors", []):
                for parameter in processor.get("parameters", []):
                    if parameter.get("parameter_name") == "LambdaArn":
                        transform = sfn.handler_for(parameter["parameter_value"].rsplit(":", 1)[-1])
            delivery = FirehoseDelivery(firehose, lake, transform=transform, bucket=_lake_bucket(stack))
            for shard_id in stream_shards(kinesis, ingest):
                for record in shard_records(kinesis, ingest, shard_id):
                    delivery.put(record["Data"], record["ApproximateArrivalTimestamp"])
            delivery.flush()
            deliveries.append(delivery)
            stats = delivery.stats
            say(f"firehose   {stats.delivered:>8,} delivered, {stats.processing_failed:,} to processing-failed, {stats.dropped:,} dropped "
                f"({stats.objects} objects)")
        stages["firehose"] = {name: getattr(deliveries[0].stats, name) for name in
                              ("records_in", "delivered", "dropped", "processing_failed", "partitioning_failed", "objects", "invocations")}
        stages["firehose"]["seconds"] = time.perf_counter() - started

        started = time.perf_counter()
        crawls = [LocalCrawler(c, lake, runtime.catalog, runtime.spark).run() for c in ((stack.get("glue_config") or {}).get("crawler_config") or {}).values()]
        stages["crawler"] = {"tables": [t for c in crawls for t in c.tables_created + c.tables_updated], "files": sum(c.files_scanned for c in crawls),
                             "empty_targets": [t for c in crawls for t in c.empty_targets], "seconds": time.perf_counter() - started}
        say(f"crawler    {stages['crawler']['files']:>8,} files cataloged as {', '.join(stages['crawler']['tables']) or 'nothing'}")

        started = time.perf_counter()
        workflow = sfn.run("etl-workflow", {})
        job = next(iter(sfn.glue_runs.values()), None)
        result = job.result if job is not None else None
        stages["workflow"] = {"status": workflow.status, "error": workflow.error, "cause": workflow.cause,
                              "states": [(r.state, r.status) for r in workflow.rows], "seconds": time.perf_counter() - started,
                              "rows_read": sum((result.rows_read or {}).values()) if result else 0,
                              "rows_written": sum((result.rows_written or {}).values()) if result else 0,
                              "rows_quarantined": result.rows_quarantined if result else 0}
        say(f"workflow   {workflow.status}: job read {stages['workflow']['rows_read']:,}, wrote {stages['workflow']['rows_written']:,}, "
            f"quarantined {stages['workflow']['rows_quarantined']:,}")

        started = time.perf_counter()
        stages["analytics"] = {}
        for key, config in (kinesis_config.get("analytics_config") or {}).items():
            output = config["output_stream_arn"].rsplit("/", 1)[-1]
            if output not in streams:
                kinesis.create_stream(StreamName=output, ShardCount=1)
            app_result = run_on_streams(load_app(key, stack), runtime.spark, kinesis, config["input_stream_arn"].rsplit("/", 1)[-1], output)
            rows = sum(len(r) for r in app_result.outputs.values())
            counted = sum(row.get("events", 0) for r in app_result.outputs.values() for row in r)
            stages["analytics"][config["name"]] = {"output_rows": rows, "events_counted": counted, "refused": len(app_result.errors),
                                                   "output_stream": output}
            say(f"analytics  {config['name']}: {rows} window(s) counting {counted:,} events into {output}, {len(app_result.errors):,} refused")
        stages["analytics_seconds"] = time.perf_counter() - started

    firehose = stages["firehose"]
    job = stages["workflow"]
    checks = [
        ("every event put is accounted for by Firehose (delivered + processing-failed + dropped)",
         len(lines) == firehose["delivered"] + firehose["processing_failed"] + firehose["dropped"] + firehose["partitioning_failed"]),
        ("the ETL job read every delivered record", job["rows_read"] == firehose["delivered"]),
        ("read = written + quarantined + re-deliveries removed",
         job["rows_read"] - job["rows_written"] - job["rows_quarantined"] == expected["duplicates"]),
        ("curated rows = valid events", job["rows_written"] == expected["valid"]),
        ("processing-failed + quarantined = malformed events", firehose["processing_failed"] + job["rows_quarantined"] == expected["malformed"]),
        ("the workflow succeeded", job["status"] == "SUCCEEDED"),
        ("the crawler cataloged the delivered data", bool(stages["crawler"]["tables"])),
    ] + [(f"analytics {name}: every readable event counted once", app["events_counted"] + app["refused"] == len(lines))
         for name, app in stages["analytics"].items()]
    return {"events": events, "records_put": len(lines), "expected": expected, "stages": stages,
            "checks": [{"check": c, "ok": ok} for c, ok in checks], "reconciled": all(ok for _, ok in checks), "lake": str(lake_dir)}


def _lake_bucket(stack: Mapping[str, Any]) -> str:
    """The bucket the stack's crawlers read (Firehose's destination locally)."""
    for crawler in ((stack.get("glue_config") or {}).get("crawler_config") or {}).values():
        for target in crawler.get("s3_target", []):
            return target["path"].removeprefix("s3://").split("/", 1)[0]
    return "mi-bucket"
