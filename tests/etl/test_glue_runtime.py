"""The Glue runtime's use of Glue's API, checked against recording doubles of GlueContext,
Job and DynamicFrame (the Glue JARs exist only on AWS Glue, so the real ones cannot run here).
The DataFrames inside are real Spark ones, so the schema conformance on Glue is exercised for real."""

import sys
import types
from dataclasses import dataclass

import pytest
from pyspark.sql.types import DoubleType, StringType, StructField, StructType

from cauce.etl import GlueJob, S3Sink, S3Source
from cauce.etl.job import execute
from cauce.etl.runtimes.glue import GlueRuntime

SCHEMA = StructType([StructField("id", StringType(), nullable=False), StructField("amount", DoubleType())])


class Recorder:
    def __init__(self):
        self.calls = []


class FakeFrame:
    def __init__(self, df):
        self.df = df

    def toDF(self):
        return self.df


@pytest.fixture
def glue(spark, monkeypatch):
    recorder = Recorder()
    raw = spark.createDataFrame([("a", "1.5"), ("b", "lots"), (None, "2")], "id string, amount string")

    class Reader:
        def from_options(self, **kwargs):
            recorder.calls.append(("read.from_options", kwargs))
            return FakeFrame(raw)

    class Writer:
        def from_options(self, **kwargs):
            recorder.calls.append(("write.from_options", {**kwargs, "rows": kwargs["frame"].df.count()}))

    class Context:
        spark_session = spark
        create_dynamic_frame = Reader()
        write_dynamic_frame = Writer()

    class Job:
        def __init__(self, context):
            recorder.calls.append(("Job", context))

        def init(self, name, arguments):
            recorder.calls.append(("Job.init", name, arguments))

        def commit(self):
            recorder.calls.append(("Job.commit",))

    class DynamicFrame:
        @staticmethod
        def fromDF(df, context, ctx):
            recorder.calls.append(("DynamicFrame.fromDF", ctx))
            return FakeFrame(df)

    monkeypatch.setitem(sys.modules, "awsglue.job", types.SimpleNamespace(Job=Job))
    monkeypatch.setitem(sys.modules, "awsglue.dynamicframe", types.SimpleNamespace(DynamicFrame=DynamicFrame))
    return GlueRuntime(Context()), recorder


@dataclass(frozen=True)
class Args:
    quarantine_path: str = "s3://q/"


class Curate(GlueJob):
    name = "curate"
    Arguments = Args

    def run(self):
        rows = self.read(S3Source("s3://raw/in/", format="json", schema=SCHEMA), ctx="raw")
        self.write(rows, S3Sink("s3://out/", partition_by=("id",)), ctx="curated")


def test_glue_runtime_uses_dynamic_frames_at_the_edges_with_transformation_ctx(glue):
    runtime, recorder = glue
    values = {"JOB_NAME": "curate", "JOB_RUN_ID": "jr_1", "job-bookmark-option": "job-bookmark-enable"}
    result = execute(Curate, values, runtime)
    assert result.succeeded, result.error
    names = [call[0] for call in recorder.calls]
    assert names == ["Job", "Job.init", "read.from_options", "DynamicFrame.fromDF", "write.from_options",
                     "DynamicFrame.fromDF", "write.from_options", "Job.commit"]
    init = recorder.calls[1]
    assert init[1] == "curate" and init[2]["job-bookmark-option"] == "job-bookmark-enable"
    read = recorder.calls[2][1]
    assert read["transformation_ctx"] == "raw" and read["connection_options"]["paths"] == ["s3://raw/in/"]
    curated, quarantine = recorder.calls[4][1], recorder.calls[6][1]
    assert curated["connection_options"] == {"path": "s3://out/", "partitionKeys": ["id"]}
    assert (curated["format"], curated["rows"]) == ("glueparquet", 1)
    # 'lots' cannot be a double and id is required: both rows quarantined, with the local runtime's reasons
    assert (quarantine["connection_options"]["path"], quarantine["rows"]) == ("s3://q/", 2)
    assert result.rows_quarantined == 2 and result.rows_read == {"raw": 3}


def test_glue_runtime_outside_glue_says_so():
    with pytest.raises(RuntimeError, match="set CAUCE_RUNTIME=local"):
        GlueRuntime()


def test_enable_metrics_publishes_the_run_counters_to_cloudwatch(glue, aws):
    import boto3

    runtime, _ = glue
    result = execute(Curate, {"JOB_NAME": "curate", "JOB_RUN_ID": "jr_2", "enable-metrics": "true"}, runtime)
    assert result.succeeded, result.error
    metrics = boto3.client("cloudwatch").list_metrics(Namespace="Cauce/Glue")["Metrics"]
    assert {m["MetricName"] for m in metrics} == {"rows_read", "rows_written", "rows_quarantined", "duration_seconds"}
