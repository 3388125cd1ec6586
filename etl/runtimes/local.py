"""The local runtime: local Spark, the local lake and catalog, emulated bookmarks and commits."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from cauce.etl.bookmarks import BookmarkState
from cauce.etl.catalog import LocalCatalog
from cauce.etl.commit import OutputTransaction, data_files, recover
from cauce.etl.connections import JdbcConnectionError, resolve_jdbc_connection
from cauce.core.lake import LocalLake, default_lake
from cauce.etl.quality import CORRUPT_RECORD, INPUT_FILE, conform_to_schema
from cauce.etl.sinks import CatalogSink, S3Sink
from cauce.etl.sources import CatalogSource, JdbcSource, S3Source

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from cauce.etl.arguments import GlueArguments


class SourceError(RuntimeError):
    """A source that cannot be read: missing path, no files and no schema, bad format."""


def observed_value(observation: Any) -> dict[str, Any] | None:
    """An Observation's metrics, or None if no action has evaluated it, at once.

    Observation metrics arrive on Spark's listener bus after the action that computed them, so
    the bus is drained first; then the metrics are read without blocking (pyspark's
    `Observation.get` waits forever for a DataFrame never evaluated: a job may read a source and
    not use it, and a DynamicFrame write on Glue evaluates no Observation of the DataFrame it came from).
    """
    from pyspark.sql import SparkSession

    from cauce.etl.awsglue.environment import drain_listener_bus, observed

    session = SparkSession.getActiveSession() or SparkSession._instantiatedSession
    if session is not None:
        drain_listener_bus(session)
    return observed(observation)


class LocalRuntime:
    name = "local"

    def __init__(self, lake: LocalLake | str | Path, spark: "SparkSession | None" = None, cores: int = 2):
        self.lake = lake if isinstance(lake, LocalLake) else LocalLake(Path(lake))
        self.catalog = LocalCatalog(self.lake)
        self._spark = spark
        self._cores = cores
        self._before_commit: list[Callable[[], None]] = []
        self.bookmark: BookmarkState | None = None
        self.transaction: OutputTransaction | None = None
        self.job_group: str | None = None

    @classmethod
    def from_environment(cls) -> "LocalRuntime":
        """The lake from `CAUCE_LAKE` (default `.cauce/lake` under the current folder)."""
        return cls(LocalLake(default_lake()))

    @property
    def spark(self) -> "SparkSession":
        if self._spark is None:
            from cauce.etl.spark import local_spark_session

            self._spark = local_spark_session(cores=self._cores, shuffle_partitions=self._cores)
        return self._spark

    # -- lifecycle -----------------------------------------------------------------------
    def start(self, glue_args: "GlueArguments", job_arguments: dict[str, str], run_id: str) -> None:
        recover(self.lake.state_dir)
        bookmark_path = self.lake.state_dir / "bookmarks" / f"{glue_args.JOB_NAME}.json"
        self.bookmark = BookmarkState(bookmark_path, glue_args.job_bookmark_option, self.lake,
                                      glue_args.raw.get("job-bookmark-from"), glue_args.raw.get("job-bookmark-to"))
        self.transaction = OutputTransaction(self.lake.state_dir, run_id)
        self._before_commit = []
        self.job_group = run_id
        self.spark.sparkContext.setJobGroup(run_id, f"cauce job run {run_id}", interruptOnCancel=True)

    def commit(self) -> int:
        for finalize in self._before_commit:
            finalize()
        return self.transaction.commit(self.bookmark.path, self.bookmark.pending_document(self.transaction.run_id))

    def abort(self) -> None:
        if self.transaction is not None:
            self.transaction.abort()

    def cancel(self) -> None:
        if self.transaction is not None:
            self.transaction.cancel()
        if self.job_group is not None:
            self.spark.sparkContext.cancelJobGroup(self.job_group)

    def publish_metrics(self, job_name: str, counters: dict[str, float]) -> None:
        """Locally the structured summary log is the metrics sink; nothing is sent to AWS."""

    # -- reads ---------------------------------------------------------------------------
    def read(self, source: Any, ctx: str) -> "DataFrame":
        if isinstance(source, S3Source):
            return self._read_files(source.path, source.format, source.schema, dict(source.options), ctx)
        if isinstance(source, CatalogSource):
            info = self.catalog.resolve(source.database, source.table)
            df = self._read_files(info.location, info.format, info.schema_ddl, info.options, ctx)
            return df.filter(source.push_down_predicate) if source.push_down_predicate else df
        if isinstance(source, JdbcSource):
            return self._read_jdbc(source, ctx)
        raise TypeError(f"read(ctx={ctx!r}): unsupported source {source!r}")

    def _read_files(self, uri: str, format: str, schema: Any, options: dict[str, str], ctx: str) -> "DataFrame":
        from pyspark.sql.types import StringType, StructField, StructType

        base = self.lake.local_path(uri)
        if not base.exists():
            raise SourceError(f"source {ctx!r}: no data at {uri} (local path {base})")
        stamps, local_paths = {}, {}
        for path in data_files(base) if base.is_dir() else [base]:
            stat = path.stat()
            key = self.bookmark.file_key(path)
            stamps[key], local_paths[key] = [stat.st_mtime_ns, stat.st_size], str(path)
        selected = [local_paths[key] for key in self.bookmark.new_files(ctx, stamps)]

        reader = self.spark.read.format(format)
        if format == "csv":
            reader = reader.option("header", "true")
        reader = reader.options(**options)
        declared = schema
        if isinstance(schema, StructType) and format in ("json", "csv"):
            # keep what does not parse, so it can be quarantined with its reason
            declared = StructType(schema.fields + [StructField(CORRUPT_RECORD, StringType())])
            reader = reader.option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", CORRUPT_RECORD)
        if declared is not None and not (isinstance(schema, StructType) and format == "parquet"):
            reader = reader.schema(declared)
        if not selected:  # nothing new since the bookmark, or an empty prefix
            if declared is not None:
                df = self.spark.createDataFrame([], _as_struct(self.spark, declared))
            elif stamps:
                df = reader.option("basePath", str(base)).load(str(base)).limit(0)
            else:
                raise SourceError(f"source {ctx!r}: no files under {uri} and no schema to give an empty result")
        elif len(selected) == len(stamps) and base.is_dir() and not _below_plain_folders(base, selected):
            df = reader.option("basePath", str(base)).load(str(base))
        else:
            df = reader.option("basePath", str(base)).load(selected)
        if isinstance(schema, StructType):
            if format == "parquet" and selected:  # parquet has no corrupt-record mode: cast and mark
                df = conform_to_schema(df, schema)
            df = df.withColumn(INPUT_FILE, self._input_file_uri())
        return df

    def _input_file_uri(self) -> "Any":
        """The file a row came from as Glue reports it, by S3 URI: Spark's `file:` URI of a file
        in the lake names the lake's folder, which quarantine records must not carry."""
        from pyspark.sql import functions as F

        local = F.input_file_name()
        prefix = self.lake.root.as_uri() + "/"
        return F.when(local.startswith(prefix), F.concat(F.lit("s3://"), local.substr(len(prefix) + 1, 1 << 30))).otherwise(local)

    def _read_jdbc(self, source: JdbcSource, ctx: str) -> "DataFrame":
        from pyspark.sql import functions as F

        connection = resolve_jdbc_connection(self.catalog.get_connection(source.connection))
        try:
            df = self.spark.read.format("jdbc").options(**connection.spark_options(source.table)).load()
        except Exception as error:
            raise JdbcConnectionError(
                f"connection {connection.name}: cannot read {source.table} from {connection.url}: {_first_line(error)}"
            ) from None
        if not source.bookmark_keys:
            return df
        keys = source.bookmark_keys
        df = bookmarked_rows(df, keys, self.bookmark, ctx)
        from pyspark.sql import Observation

        observation = Observation(f"bookmark:{ctx}")
        df = df.observe(observation, *[F.max(F.col(k)).alias(k) for k in keys])

        def record_high_water() -> None:
            values = observed_value(observation)
            if values:
                self.bookmark.record_jdbc(ctx, keys, [_plain(values[k]) for k in keys])

        self._before_commit.append(record_high_water)
        return df

    # -- writes --------------------------------------------------------------------------
    def write(self, df: "DataFrame", sink: Any, ctx: str) -> None:
        if isinstance(sink, CatalogSink):
            info = self.catalog.resolve(sink.database, sink.table)
            sink = S3Sink(info.location, info.format, tuple(k for k, _ in info.partition_keys), sink.mode)
        if not isinstance(sink, S3Sink):
            raise TypeError(f"write(ctx={ctx!r}): unsupported sink {sink!r}")
        target = self.lake.local_path(sink.path)
        staging = self.transaction.staging_dir(target, sink.mode)
        writer = df.write.format(sink.format)
        if sink.partition_by:
            writer = writer.partitionBy(*sink.partition_by)
        if sink.format == "csv":
            writer = writer.option("header", "true")
        if sink.compression:
            writer = writer.option("compression", sink.compression)
        writer.save(str(staging))


def _as_struct(spark: "SparkSession", schema: Any) -> Any:
    from pyspark.sql.types import StructType

    return schema if isinstance(schema, StructType) else spark.createDataFrame([], schema).schema


def bookmarked_rows(df: "DataFrame", keys: tuple[str, ...], bookmark: BookmarkState, ctx: str) -> "DataFrame":
    """The rows of a JDBC read the bookmark lets through: after the keys' last maxima and, for a
    job-bookmark-from/-to range, up to their maxima at the range's last run."""
    high = bookmark.jdbc_high_water(ctx)
    if high is not None:
        df = df.filter(_after(keys, high))
    upper = bookmark.jdbc_upper_bound(ctx)
    if upper is not None:
        df = df.filter(~_after(keys, upper)) if upper else df.limit(0)
    return df


def _after(keys: tuple[str, ...], high: list[Any]) -> Any:
    """Rows strictly after `high` in the lexicographic order of `keys` (pushed down to the database)."""
    from pyspark.sql import functions as F

    condition = None
    for index in range(len(keys) - 1, -1, -1):
        term = F.col(keys[index]) > F.lit(high[index])
        for before in range(index):
            term = term & (F.col(keys[before]) == F.lit(high[before]))
        condition = term if condition is None else condition | term
    return condition


def _plain(value: Any) -> Any:
    """JSON-storable bookmark values (timestamps and decimals as strings)."""
    return value if isinstance(value, (int, float, str)) or value is None else str(value)


def _first_line(error: BaseException) -> str:
    """The root cause of a (Java) error in one line: the last `Caused by:`, else the first exception line."""
    text = str(error).strip()
    lines = [line.strip() for line in text.splitlines()]
    causes = [line[len("Caused by: "):] for line in lines if line.startswith("Caused by: ")]
    candidates = causes[-1:] or [line for line in lines if "Exception:" in line or "Error:" in line][:1]
    if candidates:
        message = candidates[0]
        # "java.lang.RuntimeException: message" -> "message"
        head, _, rest = message.partition(": ")
        return (rest if rest and "." in head and " " not in head else message)[:400]
    return lines[0][:400] if lines else type(error).__name__


def _below_plain_folders(base: Path, files: list[str]) -> bool:
    """Whether a file sits in a folder that is no `key=value` partition (Firehose's `2026/11/26/`):
    Spark's directory listing skips those, so such files are read by name, as Glue's recursive S3 read does."""
    return any(not all("=" in part for part in Path(file).relative_to(base).parts[:-1]) for file in files)
