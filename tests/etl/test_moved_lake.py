"""State kept relative to the lake: bookmarks, catalog and commit records still hold after the
lake's folder is moved (or checked out elsewhere), and the previous format (absolute paths)
is converted when it lies in the lake, refused with the file named when it cannot."""

import json
import shutil
from dataclasses import dataclass

import pytest
from pyspark.sql.types import LongType, StringType, StructField, StructType

from cauce.core.lake import LocalLake
from cauce.etl import CatalogSource, GlueJob, RunPolicy, S3Sink, S3Source, table_input
from cauce.etl.commit import CommitRecordError, data_files, recover
from cauce.etl.runner import run_job
from cauce.etl.runtimes.local import LocalRuntime
from cauce.etl.testing import assert_job_succeeded, put_json_lines, read_output

SCHEMA = StructType([StructField("id", LongType(), nullable=False), StructField("name", StringType())])
SOURCE = "s3://lake/in/"
TARGET = "s3://lake/out/"
QUARANTINE = "s3://lake/quarantine/"
BOOKMARKS = {"JOB_NAME": "copy-job", "job-bookmark-option": "job-bookmark-enable"}


@dataclass(frozen=True)
class CopyArgs:
    quarantine_path: str = QUARANTINE


class CopyJob(GlueJob):
    name = "copy-job"
    Arguments = CopyArgs

    def extract(self):
        return self.read(S3Source(SOURCE, format="json", schema=SCHEMA), ctx="rows")

    def transform(self, rows):
        return self.expect(rows, {"id is positive": "id > 0"})

    def load(self, rows):
        self.write(rows, S3Sink(TARGET), ctx="out")


def run(job_cls, lake, spark, values=BOOKMARKS):
    return run_job(job_cls, dict(values), LocalRuntime(lake, spark=spark), RunPolicy())


def ids(spark, lake, uri=TARGET):
    if not lake.local_path(uri).exists() or not data_files(lake.local_path(uri)):
        return []
    return sorted(r.id for r in read_output(spark, lake, uri).collect())


def moved(lake, tmp_path):
    """The lake's folder moved elsewhere, as `mv` or a CI checkout in another folder does."""
    destination = tmp_path / "elsewhere" / "lake"
    destination.parent.mkdir()
    shutil.move(str(lake.root), str(destination))
    return LocalLake(destination)


def test_a_rerun_from_the_moved_lake_reads_nothing_new_and_writes_nothing_twice(cauce_lake, spark, tmp_path):
    put_json_lines(cauce_lake, SOURCE + "a.json", [{"id": 1}, {"id": 2}])
    assert_job_succeeded(run(CopyJob, cauce_lake, spark))

    lake = moved(cauce_lake, tmp_path)
    rerun = run(CopyJob, lake, spark)
    assert_job_succeeded(rerun)
    assert rerun.rows_read == {"rows": 0} and ids(spark, lake) == [1, 2]

    put_json_lines(lake, SOURCE + "b.json", [{"id": 3}])
    assert run(CopyJob, lake, spark).rows_read == {"rows": 1}
    assert ids(spark, lake) == [1, 2, 3]


def test_no_state_or_quarantine_record_names_the_lakes_folder(cauce_lake, spark, local_runtime):
    local_runtime.catalog.put_table("raw_data", table_input(
        "events", str(cauce_lake.local_path("s3://lake/tables/events/")), "json", [("id", "bigint")]))
    put_json_lines(cauce_lake, SOURCE + "a.json", [{"id": 1}, {"id": -1}, "not json"])
    result = run(CopyJob, cauce_lake, spark)
    assert_job_succeeded(result)
    assert result.rows_quarantined == 2

    naming_the_folder = [str(p.relative_to(cauce_lake.root)) for p in cauce_lake.root.rglob("*")
                         if p.is_file() and str(cauce_lake.root).encode() in p.read_bytes()]
    assert naming_the_folder == []
    quarantined = read_output(spark, cauce_lake, QUARANTINE, "json").collect()
    assert {r.input_file for r in quarantined} == {SOURCE + "a.json"}  # as Glue names it


def test_catalog_locations_and_partitions_resolve_after_the_move(cauce_lake, spark, local_runtime, tmp_path):
    local_path = str(cauce_lake.local_path("s3://lake/tables/events/"))  # as a test or script may give it
    local_runtime.catalog.put_table("raw_data", table_input(
        "events", local_path, "json", [("id", "bigint"), ("name", "string")], [("dt", "string")]))
    put_json_lines(cauce_lake, "s3://lake/tables/events/dt=2026-11-01/x.json", [{"id": 1, "name": "a"}])
    put_json_lines(cauce_lake, "s3://lake/tables/events/dt=2026-11-02/x.json", [{"id": 2, "name": "b"}])

    lake = moved(cauce_lake, tmp_path)
    runtime = LocalRuntime(lake, spark=spark)
    assert runtime.catalog.resolve("raw_data", "events").location == "s3://lake/tables/events/"
    seen = {}

    class FromCatalog(GlueJob):
        def run(self):
            df = self.read(CatalogSource("raw_data", "events", push_down_predicate="dt = '2026-11-02'"), ctx="events")
            seen["rows"] = [tuple(r) for r in df.collect()]

    assert_job_succeeded(run_job(FromCatalog, {}, runtime, RunPolicy()))
    assert seen["rows"] == [(2, "b", "2026-11-02")]


@pytest.mark.reliability
def test_a_commit_left_by_a_crash_is_rolled_forward_after_the_move(cauce_lake, spark, tmp_path, monkeypatch):
    """Killed between writing the commit record and applying it, then the lake moved: the next
    run completes the commit in the lake's new folder, bookmark included."""
    import cauce.etl.commit
    from cauce.etl.job import execute

    put_json_lines(cauce_lake, SOURCE + "a.json", [{"id": 1}, {"id": 2}])

    def die(record_path):
        raise KeyboardInterrupt("process killed")

    monkeypatch.setattr(cauce.etl.commit, "apply_record", die)
    with pytest.raises(KeyboardInterrupt):
        execute(CopyJob, BOOKMARKS, LocalRuntime(cauce_lake, spark=spark))
    monkeypatch.undo()
    assert ids(spark, cauce_lake) == []

    lake = moved(cauce_lake, tmp_path)
    assert recover(lake.state_dir) != []  # what the next run does first
    assert ids(spark, lake) == [1, 2]
    assert list(lake.local_path(TARGET + "_cauce_staging/").rglob("*")) == []  # the staged run is cleaned up
    rerun = run(CopyJob, lake, spark)
    assert rerun.rows_read == {"rows": 0} and ids(spark, lake) == [1, 2]


# -- state written by the previous format (absolute paths) -----------------------------------
def write_json(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))


def version_1_bookmark(lake, uri):
    stat = lake.local_path(uri).stat()
    return {"version": 1, "run_id": "jr_old", "contexts": {"rows": {"files": {
        str(lake.local_path(uri)): [stat.st_mtime_ns, stat.st_size]}}}}


def test_a_version_1_bookmark_in_this_lake_is_converted_on_read(cauce_lake, spark):
    put_json_lines(cauce_lake, SOURCE + "a.json", [{"id": 1}])
    bookmark = cauce_lake.state_dir / "bookmarks" / "copy-job.json"
    write_json(bookmark, version_1_bookmark(cauce_lake, SOURCE + "a.json"))

    assert run(CopyJob, cauce_lake, spark).rows_read == {"rows": 0}
    assert list(json.loads(bookmark.read_text())["contexts"]["rows"]["files"]) == [SOURCE + "a.json"]


def test_a_version_1_bookmark_of_a_moved_lake_is_refused_with_the_file_named(cauce_lake, spark, tmp_path):
    put_json_lines(cauce_lake, SOURCE + "a.json", [{"id": 1}])
    write_json(cauce_lake.state_dir / "bookmarks" / "copy-job.json", version_1_bookmark(cauce_lake, SOURCE + "a.json"))
    lake = moved(cauce_lake, tmp_path)

    result = run(CopyJob, lake, spark)
    assert result.status == "FAILED" and result.error_type == "BookmarkFormatError"
    assert str(lake.state_dir / "bookmarks" / "copy-job.json") in result.error
    assert ids(spark, lake) == []  # nothing read again, nothing appended twice


def version_1_commit_record(lake):
    """A record as the previous format wrote it: one staged file to publish, and the bookmark."""
    staged = lake.put_object(TARGET + "_cauce_staging/jr_old/0/part-0.json", '{"id": 1}\n')
    return {"run_id": "jr_old", "deletes": [], "cleanup": [str(staged.parent.parent)],
            "moves": [[str(staged), str(lake.local_path(TARGET + "part-0.json"))]],
            "bookmark": {"path": str(lake.state_dir / "bookmarks" / "copy-job.json"), "state": {"version": 1, "contexts": {}}}}


def test_a_version_1_commit_record_in_this_lake_is_rolled_forward(cauce_lake):
    write_json(cauce_lake.state_dir / "commits" / "jr_old.json", version_1_commit_record(cauce_lake))

    assert recover(cauce_lake.state_dir) == ["jr_old"]
    assert cauce_lake.local_path(TARGET + "part-0.json").read_text() == '{"id": 1}\n'
    assert (cauce_lake.state_dir / "bookmarks" / "copy-job.json").exists()
    assert not cauce_lake.local_path(TARGET + "_cauce_staging/jr_old").exists()


def test_a_version_1_commit_record_of_a_moved_lake_is_refused_with_the_file_named(cauce_lake, tmp_path):
    write_json(cauce_lake.state_dir / "commits" / "jr_old.json", version_1_commit_record(cauce_lake))
    lake = moved(cauce_lake, tmp_path)

    with pytest.raises(CommitRecordError, match="commit record .*jr_old.json: written by an earlier Cauce"):
        recover(lake.state_dir)
    assert (lake.state_dir / "commits" / "jr_old.json").exists()  # kept, so the run's output is not lost
    assert lake.local_path(TARGET + "_cauce_staging/jr_old/0/part-0.json").exists()


def test_a_version_1_catalog_location_in_this_lake_is_converted_on_read(cauce_lake):
    definition = table_input("events", str(cauce_lake.local_path("s3://lake/tables/events/")), "json", [("id", "bigint")])
    write_json(cauce_lake.state_dir / "catalog" / "databases" / "raw_data" / "events.json", definition)

    runtime = LocalRuntime(cauce_lake)
    assert runtime.catalog.resolve("raw_data", "events").location == "s3://lake/tables/events/"


def test_a_catalog_location_outside_the_lake_stays_as_given(cauce_lake, tmp_path):
    external = tmp_path / "external" / "events"
    runtime = LocalRuntime(cauce_lake)
    runtime.catalog.put_table("raw_data", table_input("events", str(external), "json", [("id", "bigint")]))
    assert runtime.catalog.resolve("raw_data", "events").location == str(external)
