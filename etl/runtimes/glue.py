"""The AWS Glue runtime: GlueContext, Job.init/commit, DynamicFrames where Glue needs them.

Reads go through DynamicFrames with the job's `transformation_ctx` (Glue's job bookmarks track
sources); everything after is a Spark DataFrame. Writes to S3 are Spark DataFrame writes, so the
run's counts (Spark Observations, evaluated only by DataFrame actions) are known; a catalog table
is written through Glue's catalog sink, which registers the partitions it writes. Outside AWS Glue
this module runs on Cauce's local awsglue (cauce.etl.awsglue), as the test suite does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cauce.etl.quality import CORRUPT_RECORD, INPUT_FILE, conform_to_schema
from cauce.etl.sinks import CatalogSink, S3Sink
from cauce.etl.sources import CatalogSource, JdbcSource, S3Source

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

    from cauce.etl.arguments import GlueArguments


class SchemaChoiceError(TypeError):
    """A field whose values have several types (a Glue choice) that the declared schema cannot resolve."""


class DataCatalog:
    """The AWS Glue Data Catalog through boto3: the table definitions the runtime needs."""

    def __init__(self, client: Any = None):
        self._client = client

    def get_table(self, database: str, table: str) -> dict[str, Any]:
        if self._client is None:
            import boto3

            self._client = boto3.client("glue")
        return self._client.get_table(DatabaseName=database, Name=table)["Table"]


class GlueRuntime:
    name = "glue"

    def __init__(self, glue_context: Any = None, catalog: Any = None):
        """`catalog`: where table definitions come from (`get_table(database, table)` -> a Glue Table);
        the Data Catalog by default."""
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
        self.catalog = catalog if catalog is not None else DataCatalog()
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
            return frame.toDF() if source.schema is None else _conformed(frame, source.schema, ctx)
        if isinstance(source, CatalogSource):
            # push_down_predicate is from_catalog's own parameter (GlueContext class, create_dynamic_frame_from_catalog)
            return create.from_catalog(
                database=source.database, table_name=source.table, transformation_ctx=ctx,
                push_down_predicate=source.push_down_predicate or "",
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
        if isinstance(sink, CatalogSink):
            self._write_catalog(df, sink, ctx)
            return
        if not isinstance(sink, S3Sink):
            raise TypeError(f"write(ctx={ctx!r}): unsupported sink {sink!r}")
        # A Spark write, not a DynamicFrame one: a DynamicFrame's write is not an action on this DataFrame,
        # so the run's counts (Observations on it and on the reads before it) would never be evaluated.
        # Overwrite replaces only the partitions this run writes (Spark's dynamic partition overwrite).
        writer = df.write.mode(sink.mode).format(sink.format)
        if sink.mode == "overwrite":
            writer = writer.option("partitionOverwriteMode", "dynamic")
        if sink.partition_by:
            writer = writer.partitionBy(*sink.partition_by)
        if sink.format == "csv":
            writer = writer.option("header", "true")
        if sink.compression:
            writer = writer.option("compression", sink.compression)
        writer.save(sink.path)

    def _write_catalog(self, df: "DataFrame", sink: CatalogSink, ctx: str) -> None:
        """Glue's catalog sink with enableUpdateCatalog and the table's partitionKeys, so the partitions written
        are added to the table; updateBehavior LOG keeps the table's schema as the catalog has it
        ("Updating the schema, and adding new partitions in the Data Catalog using AWS Glue ETL jobs").
        The rows written are not counted: this write is not an action on the DataFrame (reported unknown)."""
        from awsglue.dynamicframe import DynamicFrame

        if sink.mode == "overwrite":
            raise ValueError(f"write(ctx={ctx!r}): overwrite of catalog table {sink.database}.{sink.table} is not supported on Glue; use S3Sink")
        table = self.catalog.get_table(sink.database, sink.table)
        keys = [key["Name"] for key in table.get("PartitionKeys") or []]
        options: dict[str, Any] = {"enableUpdateCatalog": True, "updateBehavior": "LOG"}
        if keys:
            options["partitionKeys"] = keys
        self.glue_context.write_dynamic_frame.from_catalog(
            frame=DynamicFrame.fromDF(df, self.glue_context, ctx), database=sink.database, table_name=sink.table,
            transformation_ctx=ctx, additional_options=options,
        )


def _conformed(frame: Any, schema: "StructType", ctx: str) -> "DataFrame":
    """The frame's records in the declared schema, with what does not fit marked for the quarantine:
    - a field whose values have several types (a choice, which toDF() would make a struct) is resolved
      with resolveChoice `cast:string`, then cast to the declared type like every other field, so a value
      the declared type cannot hold marks its record rather than becoming null unseen;
    - error records (input that does not parse), which toDF() leaves out, come back from
      errorsAsDynamicFrame() as rows whose `_corrupt_record` is the record's text.
    Each row carries the file it came from."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import ArrayType, MapType, StructType
    from pyspark.sql.utils import AnalysisException

    atomic = [f.name for f in schema.fields if not isinstance(f.dataType, (StructType, ArrayType, MapType))]
    if atomic:
        frame = frame.resolveChoice(specs=[(_path(name), "cast:string") for name in atomic])
    try:
        good = conform_to_schema(frame.toDF(), schema)
    except AnalysisException as error:
        complex_fields = ", ".join(f"{f.name} {f.dataType.simpleString()}" for f in schema.fields if f.name not in atomic)
        raise SchemaChoiceError(
            f"source {ctx!r}: a field's values do not cast to the declared schema (declared {complex_fields or 'atomic types'}); "
            f"a struct, array or map field whose values have several types cannot be resolved by a cast: {error}"
        ) from None
    here = F.input_file_name()
    good = good.withColumn(INPUT_FILE, F.when(here != "", here))
    errors = frame.errorsAsDynamicFrame().toDF()
    record = F.col("record").cast("string") if "record" in errors.columns else F.to_json(F.struct(*[F.col(f"`{c}`") for c in errors.columns]))
    bad = errors.select(*[F.lit(None).cast(f.dataType).alias(f.name) for f in schema.fields], record.alias(CORRUPT_RECORD),
                        F.when(here != "", here).alias(INPUT_FILE))
    return good.unionByName(bad)


def _path(name: str) -> str:
    return f"`{name}`" if "." in name else name
