"""Fault injection, each followed by a reconciliation of counts: a job killed (SIGKILL) while Spark
writes its part files and at each commit point, then rerun; a transform that raises or times out; a PostgreSQL connection that goes
away during a JDBC read. (The Kinesis consumer's poison record and the failing workflow are in
tests/localstack/test_pipeline.py and tests/statemachines, also marked `reliability`.)"""

from __future__ import annotations

import base64
import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cauce.etl.commit import data_files
from cauce.core.lake import LocalLake
from cauce.etl.testing import put_json_lines, read_output

pytestmark = pytest.mark.reliability

HERE = Path(__file__).parent


def curated_ids(spark, lake: LocalLake) -> list[int]:
    folder = lake.local_path("s3://lake/curated/")
    return sorted(r.id for r in read_output(spark, lake, "s3://lake/curated/").collect()) if folder.exists() and data_files(folder) else []


@pytest.mark.parametrize("point", ["writing", "staged", "publishing"])
def test_a_job_killed_mid_write_then_rerun_publishes_every_row_once_and_keeps_its_bookmark(tmp_path, spark, point):
    from crash_jobs import CurateEvents
    from cauce.etl.runner import RunPolicy, run_job
    from cauce.etl.runtimes.local import LocalRuntime

    lake = LocalLake(tmp_path / "lake")
    put_json_lines(lake, "s3://lake/events/part-1.json", [{"id": i} for i in range(0, 500)])
    put_json_lines(lake, "s3://lake/events/part-2.json", [{"id": i} for i in range(500, 1000)])

    killed = subprocess.run([sys.executable, str(HERE / "crash_jobs.py"), str(lake.root), point], capture_output=True, text=True,
                            cwd=HERE.parents[1], timeout=600)
    assert killed.returncode == -9, killed.stderr[-2000:]  # really killed, at the chosen point
    if point == "writing":  # what the killed write left: files in staging, nothing published
        assert list(lake.local_path("s3://lake/curated/").rglob("_cauce_staging/**/*"))
        assert curated_ids(spark, lake) == []

    runtime = LocalRuntime(lake, spark=spark)
    arguments = {"JOB_NAME": CurateEvents.name, "job-bookmark-option": "job-bookmark-enable"}
    rerun = run_job(CurateEvents, dict(arguments), runtime, RunPolicy())
    assert rerun.succeeded, rerun.error
    # killed before its commit point (while Spark wrote, or with everything staged) the run published
    # nothing and the rerun reads everything;
    # killed after it, the rerun first completes that commit (bookmark included) and finds nothing new
    assert rerun.rows_read == ({"events": 0} if point == "publishing" else {"events": 1000})
    assert curated_ids(spark, lake) == list(range(1000))  # no loss, no duplicates
    assert not list(lake.local_path("s3://lake/curated/").rglob("_cauce_staging/*/*"))  # no staging left behind

    put_json_lines(lake, "s3://lake/events/part-3.json", [{"id": 1000}])
    after = run_job(CurateEvents, dict(arguments), runtime, RunPolicy())
    assert after.rows_read == {"events": 1} and curated_ids(spark, lake) == list(range(1001))  # the bookmark is consistent


def test_a_transform_that_times_out_on_some_batches_is_retried_then_its_records_go_to_processing_failed(tmp_path):
    from cauce.localstack.firehose import FirehoseDelivery
    from cauce.handlers.data_processor import handler

    now = [1_800_000_000.0]
    calls = []

    def slow_on_batch_two(event, context):
        calls.append(len(event["records"]))
        if len(calls) in (2, 3, 4, 5):  # the second batch: the first attempt and Firehose's 3 retries
            now[0] += 301  # longer than the function's 300 s timeout
        return handler(event, context)

    config = {"name": "s3-data-delivery", "buffer_size": 64, "buffer_interval": 900, "compression_format": "GZIP", "prefix": "raw/",
              "error_output_prefix": "errors/!{firehose:error-output-type}/", "processing_configuration": {"enabled": True, "processors": [
                  {"type": "Lambda", "parameters": [{"parameter_name": "BufferSizeInMBs", "parameter_value": "0.001"}]}]}}
    lake = LocalLake(tmp_path / "lake")
    delivery = FirehoseDelivery(config, lake, transform=slow_on_batch_two, clock=lambda: now[0], transform_timeout_seconds=300)
    records = [json.dumps({"event_id": f"e{i}", "event_type": "view", "event_time": "2026-11-26T10:00:00"}).encode() for i in range(40)]

    delivery.put_records(records)
    delivery.flush()

    stats = delivery.stats
    assert stats.invocation_errors == 4 and "Task timed out after 300.00 seconds" in stats.last_error
    assert stats.reconciles() and stats.delivered + stats.processing_failed == 40 and stats.processing_failed == calls[1]
    failed = [json.loads(line) for path in lake.local_path("s3://mi-bucket/errors/processing-failed/").rglob("*.gz")
              for line in gzip.decompress(path.read_bytes()).splitlines()]
    assert len(failed) == stats.processing_failed and {f["errorCode"] for f in failed} == {"Lambda.FunctionError"}
    assert sorted(base64.b64decode(f["rawData"]) for f in failed) == sorted(records[calls[0]:calls[0] + calls[1]])  # raw data kept


@pytest.mark.postgres
def test_a_database_connection_lost_during_a_jdbc_read_fails_the_run_clearly_with_no_output(postgres, run_glue_job, local_runtime, cauce_lake):
    from dataclasses import dataclass

    from cauce.etl import GlueJob, JdbcSource, S3Sink

    with postgres.connect() as db:
        # the server ends this very connection part-way through the rows (as a restart or a failover would)
        db.execute("CREATE OR REPLACE VIEW doomed AS SELECT n AS id FROM generate_series(1, 200000) AS n "
                   "WHERE CASE WHEN n = 150000 THEN pg_terminate_backend(pg_backend_pid()) ELSE true END")

    @dataclass(frozen=True)
    class Args:
        target_path: str = "s3://lake/doomed/"

    class ExportDoomed(GlueJob):
        name = "export-doomed"
        Arguments = Args

        def extract(self):
            return self.read(JdbcSource("pg", "public.doomed"), ctx="rows")

        def load(self, rows):
            self.write(rows, S3Sink(self.args.target_path), ctx="rows_out")

    local_runtime.catalog.put_connection({"name": "pg", "connection_type": "JDBC", "connection_properties": {
        "JDBC_CONNECTION_URL": postgres.jdbc_url, "USERNAME": "cauce", "PASSWORD": "not-needed-with-trust"}})

    result = run_glue_job(ExportDoomed)

    assert result.status == "FAILED" and result.error_type == "JdbcConnectionError", result.error
    assert "connection pg: reading public.doomed: the database failed part-way: " in result.error
    assert "terminating connection due to administrator command" in result.error  # the database's own reason
    assert not cauce_lake.local_path("s3://lake/doomed/").exists() or not data_files(cauce_lake.local_path("s3://lake/doomed/"))
