"""Cauce's Glue runtime (`GlueRuntime`) run for real on the local awsglue (cauce.etl.awsglue).

The GlueContext, Job and DynamicFrame the runtime calls are the local implementation's, on the shared
local SparkSession and the test's lake (the `glue_context` fixture), so the Glue code path executes end
to end: DynamicFrame reads with a transformation_ctx, bookmarks through Job.init/commit, error records,
choice types, the catalog sink. The local awsglue follows Glue's documented behaviour where it matters
here: a DataFrame made a DynamicFrame with `fromDF` is converted to records (the DataFrame's own plan,
and its Observations, do not run in the frame's writes), malformed input becomes error records that
`toDF()` leaves out, a field of mixed types is a choice.

No recording doubles remain: GlueRuntime reads a catalog table's partition keys through an injected
catalog (on Glue, the Data Catalog through boto3), given here as the local catalog the local awsglue
itself uses. CloudWatch (`--enable-metrics`) is moto's.
"""

import json
from dataclasses import dataclass

import pytest
from pyspark.sql.types import DoubleType, StringType, StructField, StructType

from cauce.etl import CatalogSink, CatalogSource, GlueJob, S3Sink, S3Source
from cauce.etl.catalog import table_input
from cauce.etl.job import execute
from cauce.etl.runtimes.glue import GlueRuntime

SCHEMA = StructType([StructField("id", StringType(), nullable=False), StructField("amount", DoubleType())])
DATED = StructType(SCHEMA.fields + [StructField("dt", StringType())])


@pytest.fixture
def glue(glue_context, cauce_lake):
    environment = glue_context._environment
    environment.mount("raw", "out", "q", "warehouse")  # the job's buckets exist, as they do on AWS
    return GlueRuntime(glue_context, catalog=environment.catalog)


def put(lake, uri: str, lines: list[str]) -> None:
    path = lake.local_path(uri)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def quarantined(spark, lake) -> list[dict]:
    return [row.asDict() for row in spark.read.json(str(lake.local_path("s3://q/"))).orderBy("record").collect()]


@dataclass(frozen=True)
class Args:
    quarantine_path: str = "s3://q/"


class Curate(GlueJob):
    name = "curate"
    Arguments = Args

    def run(self):
        rows = self.read(S3Source("s3://raw/in/", format="json", schema=SCHEMA), ctx="raw")
        self.write(rows, S3Sink("s3://out/", partition_by=("id",)), ctx="curated")


def run(job, runtime, run_id: str, **values):
    return execute(job, {"JOB_NAME": job.name, "JOB_RUN_ID": run_id, **values}, runtime)


def test_glue_runtime_reads_through_dynamic_frames_counts_quarantines_and_bookmarks(glue, spark, cauce_lake):
    put(cauce_lake, "s3://raw/in/part-1.json", ['{"id": "a", "amount": 1.5}', '{"id": "b", "amount": "lots"}', '{"amount": 2}'])
    result = run(Curate, glue, "jr_1", **{"job-bookmark-option": "job-bookmark-enable"})
    assert result.succeeded, result.error
    # Counts come from the written DataFrames' own actions: right, and without waiting on Observations
    # that a DynamicFrame write never evaluates (defect 1)
    assert (result.rows_read, result.rows_written, result.rows_quarantined) == ({"raw": 3}, {"curated": 1}, 2)
    out = spark.read.parquet(str(cauce_lake.local_path("s3://out/")))
    assert [(r.id, r.amount) for r in out.collect()] == [("a", 1.5)]
    assert (cauce_lake.local_path("s3://out/") / "id=a").is_dir()
    reasons = {r["reason"] for r in quarantined(spark, cauce_lake)}
    assert reasons == {"malformed record: does not parse or does not match the schema", "missing required field 'id'"}

    # job bookmarks (https://docs.aws.amazon.com/glue/latest/dg/monitor-continuations.html): nothing new, nothing read
    again = run(Curate, glue, "jr_2", **{"job-bookmark-option": "job-bookmark-enable"})
    assert again.succeeded, again.error
    assert again.rows_read == {"raw": 0} and again.rows_written == {"curated": 0}


def test_a_malformed_json_line_reaches_the_quarantine_and_the_reconciliation(glue, spark, cauce_lake):
    # Glue makes input that does not parse an error record, which toDF() leaves out; errorsAsDynamicFrame
    # returns it (https://docs.aws.amazon.com/glue/latest/dg/aws-glue-api-crawler-pyspark-extensions-dynamic-frame.html)
    put(cauce_lake, "s3://raw/in/part-1.json", ['{"id": "a", "amount": 1.5}', '{"id": "b", "amount": 2', '{"id": "c", "amount": 3}'])
    result = run(Curate, glue, "jr_1")
    assert result.succeeded, result.error
    assert (result.rows_read, result.rows_written, result.rows_quarantined) == ({"raw": 3}, {"curated": 2}, 1)
    [bad] = quarantined(spark, cauce_lake)
    assert bad["record"] == '{"id": "b", "amount": 2' and bad["check"] == "schema:raw"
    assert bad["reason"] == "malformed record: does not parse or does not match the schema"


def test_a_mixed_type_field_is_resolved_as_the_declared_schema_says(glue, spark, cauce_lake):
    # amount holds numbers and strings: a choice type (DynamicFrame.resolveChoice, same page). The declared
    # double decides: "2.5" casts, "lots" does not and is quarantined, as the local runtime's reader does.
    put(cauce_lake, "s3://raw/in/part-1.json", ['{"id": "a", "amount": 1.5}', '{"id": "b", "amount": "2.5"}', '{"id": "c", "amount": "lots"}'])
    result = run(Curate, glue, "jr_1")
    assert result.succeeded, result.error
    assert (result.rows_written, result.rows_quarantined) == ({"curated": 2}, 1)
    out = spark.read.parquet(str(cauce_lake.local_path("s3://out/")))
    assert out.schema["amount"].dataType == DoubleType()
    assert sorted((r.id, r.amount) for r in out.collect()) == [("a", 1.5), ("b", 2.5)]
    [bad] = quarantined(spark, cauce_lake)
    assert json.loads(bad["record"])["amount"] == "lots"


class Publish(GlueJob):
    name = "publish"
    Arguments = Args

    def run(self):
        rows = self.read(S3Source("s3://raw/in/", format="json", schema=DATED), ctx="raw")
        self.write(rows, CatalogSink("lake", "events"), ctx="events")


class Partition(GlueJob):
    name = "partition"

    def run(self):
        rows = self.read(CatalogSource("lake", "events", push_down_predicate="dt = '2026-01-02'"), ctx="events")
        self.write(rows, S3Sink("s3://out/"), ctx="out")


def events_table(catalog):
    catalog.put_table("lake", table_input("events", "s3://warehouse/events/", "parquet",
                                          [("id", "string"), ("amount", "double")], [("dt", "string")]))


def test_catalog_sink_registers_the_partitions_it_writes(glue, spark, cauce_lake):
    # enableUpdateCatalog and partitionKeys in additional_options, updateBehavior LOG so the table's schema stays
    # (https://docs.aws.amazon.com/glue/latest/dg/update-from-job.html)
    catalog = glue.glue_context._environment.catalog
    events_table(catalog)
    put(cauce_lake, "s3://raw/in/part-1.json", ['{"id": "a", "amount": 1, "dt": "2026-01-01"}', '{"id": "b", "amount": 2, "dt": "2026-01-02"}'])
    result = run(Publish, glue, "jr_1")
    assert result.succeeded, result.error
    assert [p["Values"] for p in catalog.get_partitions("lake", "events")] == [["2026-01-01"], ["2026-01-02"]]
    assert (cauce_lake.local_path("s3://warehouse/events/") / "dt=2026-01-02").is_dir()
    assert [c["Name"] for c in catalog.get_table("lake", "events")["StorageDescriptor"]["Columns"]] == ["id", "amount"]
    # a DynamicFrame write evaluates none of the DataFrame's Observations: the count is unknown, and says so;
    # the read is still counted, by the schema check that the quarantine's write evaluated
    assert result.rows_written == {"events": None} and result.rows_read == {"raw": 2}


def test_push_down_predicate_is_from_catalogs_own_parameter(glue, spark, cauce_lake):
    # create_dynamic_frame.from_catalog(..., push_down_predicate=...), not inside additional_options
    # (https://docs.aws.amazon.com/glue/latest/dg/aws-glue-api-crawler-pyspark-extensions-glue-context.html)
    events_table(glue.glue_context._environment.catalog)
    for day, ids in (("2026-01-01", "ab"), ("2026-01-02", "c")):
        spark.createDataFrame([(i, 1.0) for i in ids], "id string, amount double").write.parquet(
            str(cauce_lake.local_path(f"s3://warehouse/events/dt={day}/")))
    result = run(Partition, glue, "jr_1")
    assert result.succeeded, result.error
    assert result.rows_read == {"events": 1} and result.rows_written == {"out": 1}


def test_glue_runtime_outside_glue_says_so():
    with pytest.raises(RuntimeError, match="set CAUCE_RUNTIME=local"):
        GlueRuntime()


def test_an_observation_no_action_evaluated_reads_as_unknown_at_once(spark):
    import time

    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    from cauce.etl.runtimes.local import observed_value

    observation = Observation("never")
    spark.range(3).observe(observation, F.count(F.lit(1)).alias("rows"))
    started = time.perf_counter()
    assert observed_value(observation) is None
    assert time.perf_counter() - started < 1


def test_enable_metrics_publishes_the_run_counters_to_cloudwatch(glue, cauce_lake, aws):
    import boto3

    put(cauce_lake, "s3://raw/in/part-1.json", ['{"id": "a", "amount": 1.5}'])
    result = run(Curate, glue, "jr_2", **{"enable-metrics": "true"})
    assert result.succeeded, result.error
    metrics = boto3.client("cloudwatch").list_metrics(Namespace="Cauce/Glue")["Metrics"]
    assert {m["MetricName"] for m in metrics} == {"rows_read", "rows_written", "rows_quarantined", "duration_seconds"}


class Nested(GlueJob):
    name = "nested"
    Arguments = Args

    def run(self):
        schema = StructType([StructField("id", StringType()), StructField("meta", StructType([StructField("a", DoubleType())]))])
        self.write(self.read(S3Source("s3://raw/in/", format="json", schema=schema), ctx="raw"), S3Sink("s3://out/"), ctx="out")


def test_a_struct_field_of_several_types_is_refused_by_name(glue, cauce_lake):
    put(cauce_lake, "s3://raw/in/part-1.json", ['{"id": "a", "meta": {"a": 1}}', '{"id": "b", "meta": "text"}'])
    result = run(Nested, glue, "jr_1")
    assert result.status == "FAILED" and result.error_type == "SchemaChoiceError"
    assert "source 'raw'" in result.error and "meta struct<a:double>" in result.error
