"""The AWS Glue runtime: GlueContext, Job.init/commit, DynamicFrames only at the edges.

Reads and writes that Glue bookmarks must track go through DynamicFrames with the job's
`transformation_ctx`; everything in between is a Spark DataFrame. This module is imported
only on Glue: the Glue JARs it needs do not exist outside it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cauce.etl.quality import INPUT_FILE, conform_to_schema
from cauce.etl.sinks import CatalogSink, S3Sink
from cauce.etl.sources import CatalogSource, JdbcSource, S3Source

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from cauce.etl.arguments import GlueArguments

_GLUE_FORMATS = {"parquet": "glueparquet", "json": "json", "csv": "csv"}


class GlueRuntime:
    name = "glue"

    def __init__(self, glue_context: Any = None):
        if glue_context is None:
            try:
                from awsglue.context import GlueContext
                from pyspark.context import SparkContext

                glue_context = GlueContext(SparkContext.getOrCreate())
            except Exception as error:
                raise RuntimeError(
                    "the Glue runtime needs AWS Glue (GlueContext is unavailable here); "
                    "to run locally set CAUCE_RUNTIME=local or use `cauce job run`"
                ) from error
        self.glue_context = glue_context
        self.job: Any = None
        self.glue_args: "GlueArguments | None" = None

    @property
    def spark(self) -> "SparkSession":
        return self.glue_context.spark_session

    def start(self, glue_args: "GlueArguments", job_arguments: dict[str, str], run_id: str) -> None:
        from awsglue.job import Job

        self.glue_args = glue_args
        self.job = Job(self.glue_context)
        self.job.init(glue_args.JOB_NAME, {**job_arguments, **glue_args.raw, "JOB_NAME": glue_args.JOB_NAME})

    def commit(self) -> None:
        self.job.commit()  # Glue advances its bookmarks here

    def abort(self) -> None:
        """Glue discards a failed run's bookmark progress itself; writes are committed per sink."""

    def cancel(self) -> None:
        """Glue enforces the job timeout itself."""

    def publish_metrics(self, job_name: str, counters: dict[str, float]) -> None:
        if self.glue_args is not None and self.glue_args.enable_metrics:
            import boto3

            from cauce.etl.metrics import publish_cloudwatch

            publish_cloudwatch(boto3.client("cloudwatch"), job_name, counters)

    def read(self, source: Any, ctx: str) -> "DataFrame":
        from pyspark.sql import functions as F

        create = self.glue_context.create_dynamic_frame
        if isinstance(source, S3Source):
            format_options = {"withHeader": True} if source.format == "csv" else {}
            frame = create.from_options(
                connection_type="s3",
                connection_options={"paths": [source.path], "recurse": True},
                format=source.format,
                format_options=format_options,
                transformation_ctx=ctx,
            )
            df = frame.toDF()
            if source.schema is not None:
                df = conform_to_schema(df, source.schema).withColumn(INPUT_FILE, F.input_file_name())
            return df
        if isinstance(source, CatalogSource):
            options = {"push_down_predicate": source.push_down_predicate} if source.push_down_predicate else {}
            return create.from_catalog(
                database=source.database, table_name=source.table, transformation_ctx=ctx, additional_options=options
            ).toDF()
        if isinstance(source, JdbcSource):
            conf = self.glue_context.extract_jdbc_conf(source.connection)
            options = {
                "useConnectionProperties": "true",
                "connectionName": source.connection,
                "dbtable": source.table,
                "url": conf["fullUrl"] if "fullUrl" in conf else conf["url"],
            }
            if source.bookmark_keys:
                options.update({"jobBookmarkKeys": list(source.bookmark_keys), "jobBookmarkKeysSortOrder": "asc"})
            engine = options["url"].split(":")[1]
            return create.from_options(connection_type=engine, connection_options=options, transformation_ctx=ctx).toDF()
        raise TypeError(f"read(ctx={ctx!r}): unsupported source {source!r}")

    def write(self, df: "DataFrame", sink: Any, ctx: str) -> None:
        from awsglue.dynamicframe import DynamicFrame

        if isinstance(sink, CatalogSink):
            if sink.mode == "overwrite":
                raise ValueError(f"write(ctx={ctx!r}): overwrite of catalog table {sink.database}.{sink.table} is not supported on Glue; use S3Sink")
            frame = DynamicFrame.fromDF(df, self.glue_context, ctx)
            self.glue_context.write_dynamic_frame.from_catalog(
                frame=frame, database=sink.database, table_name=sink.table, transformation_ctx=ctx
            )
            return
        if not isinstance(sink, S3Sink):
            raise TypeError(f"write(ctx={ctx!r}): unsupported sink {sink!r}")
        if sink.mode == "overwrite":
            # DynamicFrame writers only append; Spark's dynamic partition overwrite replaces what this run writes
            writer = df.write.mode("overwrite").option("partitionOverwriteMode", "dynamic").format(sink.format)
            if sink.partition_by:
                writer = writer.partitionBy(*sink.partition_by)
            if sink.compression:
                writer = writer.option("compression", sink.compression)
            writer.save(sink.path)
            return
        options: dict[str, Any] = {"path": sink.path}
        if sink.partition_by:
            options["partitionKeys"] = list(sink.partition_by)
        if sink.compression:
            options["compression"] = sink.compression
        self.glue_context.write_dynamic_frame.from_options(
            frame=DynamicFrame.fromDF(df, self.glue_context, ctx),
            connection_type="s3",
            connection_options=options,
            format=_GLUE_FORMATS[sink.format],
            transformation_ctx=ctx,
        )
