"""Bookmarks, atomic writes, crash recovery, retries and timeouts, with small purpose-built jobs."""

from dataclasses import dataclass

import pytest
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StringType, StructField, StructType

from cauce.etl import CatalogSource, GlueJob, RunPolicy, S3Sink, S3Source, table_input
from cauce.etl.commit import data_files, recover
from cauce.etl.testing import assert_job_succeeded, put_json_lines, read_output

SCHEMA = StructType([StructField("id", LongType(), nullable=False), StructField("name", StringType())])
SOURCE = "s3://lake/in/"
TARGET = "s3://lake/out/"


@dataclass(frozen=True)
class CopyArgs:
    fail_after_first_write: bool = False
    mode: str = "append"


class CopyJob(GlueJob):
    """Copies rows to two sinks; can be told to fail between the writes."""

    name = "copy-job"
    Arguments = CopyArgs

    def extract(self):
        return self.read(S3Source(SOURCE, format="json", schema=SCHEMA), ctx="rows")

    def load(self, rows):
        self.write(rows, S3Sink(TARGET, mode=self.args.mode), ctx="out")
        if self.args.fail_after_first_write:
            raise RuntimeError("boom after the first write")
        self.write(rows.withColumn("copy", F.lit(2)), S3Sink("s3://lake/out2/"), ctx="out2")


def ids(spark, lake, uri):
    if not lake.local_path(uri).exists() or not data_files(lake.local_path(uri)):
        return []
    return sorted(r.id for r in read_output(spark, lake, uri).collect())


def test_bookmark_enable_reads_only_new_files(run_glue_job, cauce_lake, spark):
    put_json_lines(cauce_lake, SOURCE + "a.json", [{"id": 1}, {"id": 2}])
    first = run_glue_job(CopyJob, "--job-bookmark-option", "job-bookmark-enable")
    put_json_lines(cauce_lake, SOURCE + "b.json", [{"id": 3}])
    second = run_glue_job(CopyJob, "--job-bookmark-option", "job-bookmark-enable")
    third = run_glue_job(CopyJob, "--job-bookmark-option", "job-bookmark-enable")
    assert (first.rows_read, second.rows_read, third.rows_read) == ({"rows": 2}, {"rows": 1}, {"rows": 0})
    assert ids(spark, cauce_lake, TARGET) == [1, 2, 3]


def test_a_modified_file_is_read_again(run_glue_job, cauce_lake):
    put_json_lines(cauce_lake, SOURCE + "a.json", [{"id": 1}])
    run_glue_job(CopyJob, "--job-bookmark-option", "job-bookmark-enable")
    put_json_lines(cauce_lake, SOURCE + "a.json", [{"id": 1}, {"id": 2}])
    again = run_glue_job(CopyJob, "--job-bookmark-option", "job-bookmark-enable")
    assert again.rows_read == {"rows": 2}


def test_bookmark_pause_reads_new_input_without_advancing(run_glue_job, cauce_lake):
    put_json_lines(cauce_lake, SOURCE + "a.json", [{"id": 1}])
    run_glue_job(CopyJob, "--job-bookmark-option", "job-bookmark-enable")
    put_json_lines(cauce_lake, SOURCE + "b.json", [{"id": 2}])
    paused = [run_glue_job(CopyJob, "--job-bookmark-option", "job-bookmark-pause").rows_read for _ in range(2)]
    assert paused == [{"rows": 1}, {"rows": 1}]


def test_bookmark_disable_reads_everything_and_keeps_no_state(run_glue_job, cauce_lake):
    put_json_lines(cauce_lake, SOURCE + "a.json", [{"id": 1}, {"id": 2}])
    run_glue_job(CopyJob)  # Glue's default: job-bookmark-disable
    assert not (cauce_lake.state_dir / "bookmarks" / "copy-job.json").exists()
    run_glue_job(CopyJob, "--job-bookmark-option", "job-bookmark-enable")
    assert run_glue_job(CopyJob).rows_read == {"rows": 2}


@pytest.mark.reliability
def test_failed_run_publishes_nothing_and_is_reread_in_full(run_glue_job, cauce_lake, spark):
    put_json_lines(cauce_lake, SOURCE + "a.json", [{"id": 1}, {"id": 2}])
    failed = run_glue_job(CopyJob, "--job-bookmark-option", "job-bookmark-enable", "--fail_after_first_write", "true")
    assert failed.status == "FAILED" and "boom after the first write" in failed.error
    assert ids(spark, cauce_lake, TARGET) == []  # the first write was staged, never published
    assert list(cauce_lake.local_path(TARGET).rglob("*.parquet")) == []
    retried = run_glue_job(CopyJob, "--job-bookmark-option", "job-bookmark-enable")
    assert_job_succeeded(retried)
    assert retried.rows_read == {"rows": 2}
    assert ids(spark, cauce_lake, TARGET) == [1, 2] and ids(spark, cauce_lake, "s3://lake/out2/") == [1, 2]


@pytest.mark.reliability
def test_crash_after_the_commit_point_is_completed_by_the_next_run(run_glue_job, local_runtime, cauce_lake, spark, monkeypatch):
    """Killed between writing the commit record and applying it: the next run rolls it forward."""
    import cauce.etl.commit
    from cauce.etl.job import execute

    put_json_lines(cauce_lake, SOURCE + "a.json", [{"id": 1}, {"id": 2}])

    def die(record_path):
        raise KeyboardInterrupt("process killed")

    monkeypatch.setattr(cauce.etl.commit, "apply_record", die)
    with pytest.raises(KeyboardInterrupt):
        execute(CopyJob, {"job-bookmark-option": "job-bookmark-enable"}, local_runtime)
    assert ids(spark, cauce_lake, TARGET) == []
    monkeypatch.undo()
    assert recover(cauce_lake.state_dir) != []  # what the next run does first
    assert ids(spark, cauce_lake, TARGET) == [1, 2]
    rerun = run_glue_job(CopyJob, "--job-bookmark-option", "job-bookmark-enable")
    assert rerun.rows_read == {"rows": 0}  # the bookmark moved with the output: no duplicates
    assert ids(spark, cauce_lake, TARGET) == [1, 2]


def test_overwrite_replaces_previous_output(run_glue_job, cauce_lake, spark):
    put_json_lines(cauce_lake, SOURCE + "a.json", [{"id": 1}])
    run_glue_job(CopyJob)
    put_json_lines(cauce_lake, SOURCE + "a.json", [{"id": 7}])
    assert_job_succeeded(run_glue_job(CopyJob, "--mode", "overwrite"))
    assert ids(spark, cauce_lake, TARGET) == [7]


def test_failed_runs_are_retried_as_new_attempts(run_glue_job, cauce_lake):
    attempts = []

    class Flaky(GlueJob):
        name = "flaky"

        def run(self):
            attempts.append(self.run_id)
            if len(attempts) < 3:
                raise ConnectionError("transient")

    result = run_glue_job(Flaky, "--JOB_RUN_ID", "jr_1", policy=RunPolicy(max_retries=3))
    assert result.status == "SUCCEEDED" and result.attempt == 2
    assert attempts == ["jr_1", "jr_1_attempt_1", "jr_1_attempt_2"]


def test_retries_stop_at_max_retries(run_glue_job):
    calls = []

    class AlwaysFails(GlueJob):
        def run(self):
            calls.append(1)
            raise ValueError("bad data")

    result = run_glue_job(AlwaysFails, policy=RunPolicy(max_retries=2))
    assert (result.status, len(calls), result.error) == ("FAILED", 3, "ValueError: bad data")


def test_timeout_cancels_the_run_and_publishes_nothing(run_glue_job, cauce_lake):
    calls = []

    class Slow(GlueJob):
        name = "slow"

        def run(self):
            calls.append(1)
            self.write(self.spark.range(3), S3Sink(TARGET), ctx="out")
            # a Spark job far longer than the timeout; cancelling the run's job group stops it
            self.spark.range(0, 10**13, 1, 2).selectExpr("sum(id)").collect()

    result = run_glue_job(Slow, policy=RunPolicy(timeout_minutes=1 / 60, max_retries=2))
    assert result.status == "TIMEOUT" and "exceeded its timeout of 0.0166667 minute(s)" in result.error
    assert len(calls) == 1  # as on Glue, a timed-out run is not retried
    assert not cauce_lake.local_path(TARGET).exists() or data_files(cauce_lake.local_path(TARGET)) == []


def test_missing_required_argument_fails_before_running(run_glue_job):
    @dataclass(frozen=True)
    class Needs:
        target_path: str

    class NeedsArgs(GlueJob):
        Arguments = Needs

        def run(self):
            raise AssertionError("must not run")

    result = run_glue_job(NeedsArgs)
    assert result.status == "FAILED" and result.error_type == "JobArgumentError"
    assert "--target_path: missing (required, str)" in result.error


def test_catalog_table_source_reads_partitions(run_glue_job, cauce_lake, local_runtime):
    local_runtime.catalog.put_table("raw_data", table_input(
        "raw_events", "s3://lake/tables/events/", "json", [("id", "bigint"), ("name", "string")], [("dt", "string")]))
    put_json_lines(cauce_lake, "s3://lake/tables/events/dt=2026-11-01/x.json", [{"id": 1, "name": "a"}])
    put_json_lines(cauce_lake, "s3://lake/tables/events/dt=2026-11-02/x.json", [{"id": 2, "name": "b"}])
    seen = {}

    class FromCatalog(GlueJob):
        def run(self):
            df = self.read(CatalogSource("raw_data", "raw_events", push_down_predicate="dt = '2026-11-02'"), ctx="events")
            seen["rows"] = [tuple(r) for r in df.collect()]

    assert_job_succeeded(run_glue_job(FromCatalog))
    assert seen["rows"] == [(2, "b", "2026-11-02")]


def test_unknown_catalog_table_is_named(run_glue_job, local_runtime):
    local_runtime.catalog.create_database("raw_data")

    class Reads(GlueJob):
        def run(self):
            self.read(CatalogSource("raw_data", "nope"), ctx="x")

    result = run_glue_job(Reads)
    assert result.status == "FAILED"
    assert "table raw_data.nope not found in the local catalog (tables in raw_data: none)" in result.error


def test_missing_source_path_is_named(run_glue_job):
    class Reads(GlueJob):
        def run(self):
            self.read(S3Source("s3://lake/typo/"), ctx="x")

    result = run_glue_job(Reads)
    assert result.status == "FAILED" and "source 'x': no data at s3://lake/typo/" in result.error


def test_unreadable_parquet_fails_with_the_file_named(run_glue_job, cauce_lake, spark):
    cauce_lake.put_object("s3://lake/pq/part-0.parquet", b"this is not parquet")

    class Reads(GlueJob):
        def run(self):
            self.write(self.read(S3Source("s3://lake/pq/", format="parquet"), ctx="x"), S3Sink(TARGET), ctx="out")

    result = run_glue_job(Reads)
    assert result.status == "FAILED" and "part-0.parquet" in result.error
    assert not cauce_lake.local_path(TARGET).exists() or list(cauce_lake.local_path(TARGET).rglob("*.parquet")) == []


def test_failing_rows_without_quarantine_path_fail_the_run(run_glue_job, cauce_lake):
    put_json_lines(cauce_lake, SOURCE + "a.json", [{"id": 1}, "garbage"])
    result = run_glue_job(CopyJob)
    assert result.status == "FAILED" and result.error_type == "QuarantineNotConfigured"
    assert "declares no quarantine_path" in result.error


def test_csv_gzip_source(run_glue_job, cauce_lake):
    cauce_lake.put_object("s3://lake/csv/a.csv.gz", "id,name\n1,x\n2,y\n")
    seen = {}

    class ReadsCsv(GlueJob):
        def run(self):
            seen["rows"] = sorted(tuple(r) for r in self.read(S3Source("s3://lake/csv/", format="csv"), ctx="c").collect())

    assert_job_succeeded(run_glue_job(ReadsCsv))
    assert seen["rows"] == [("1", "x"), ("2", "y")]


def test_worker_settings_map_to_local_parallelism():
    assert RunPolicy("G.1X", 2).glue_task_slots == 4
    assert RunPolicy("G.2X", 10).glue_task_slots == 72
    assert RunPolicy("G.2X", 10).local_cores <= 72
    with pytest.raises(ValueError, match="worker_type 'G.3X'"):
        RunPolicy("G.3X", 2)
    with pytest.raises(ValueError, match="max_retries must be 0 to 10"):
        RunPolicy(max_retries=11)



def test_parquet_rows_that_do_not_fit_the_schema_are_quarantined(run_glue_job, cauce_lake, spark):
    spark.createDataFrame([("1", "a"), ("two", "b"), (None, "c")], "id string, name string").write.parquet(
        str(cauce_lake.local_path("s3://lake/pq-in/")))

    @dataclass(frozen=True)
    class QArgs:
        quarantine_path: str = "s3://lake/q/"

    class ReadsParquet(GlueJob):
        Arguments = QArgs

        def run(self):
            rows = self.read(S3Source("s3://lake/pq-in/", format="parquet", schema=SCHEMA), ctx="pq")
            self.write(rows, S3Sink(TARGET), ctx="out")

    result = run_glue_job(ReadsParquet)
    assert_job_succeeded(result)
    assert (result.rows_written, result.rows_quarantined) == ({"out": 1}, 2)
    reasons = sorted(r.reason for r in read_output(spark, cauce_lake, "s3://lake/q/", "json").collect())
    assert reasons == ["malformed record: does not parse or does not match the schema", "missing required field 'id'"]
