"""awsglue.context.GlueContext on plain PySpark, written from the Glue developer guide.

S3 reads and writes land in the local lake; `from_catalog` reads the local catalog (cauce.etl.catalog);
JDBC goes through Spark's JDBC source with Cauce's connections (the stack's `connection_config`).
Glue's format options and defaults:
- csv: `withHeader` (default false: columns are col0, col1... and a header line stays data),
  `separator` (,), `quoteChar` (", -1 disables quoting), `escaper` (none), `multiLine`, `skipFirst`;
  values are typed by content (long, double, string), a column of mixed kinds is a choice;
- json: `jsonPath` (`$.records[*]` reads the elements of that array), `multiline`; a line that does not
  parse is an error record; a field of mixed types is a choice;
- parquet, glueparquet and orc as Spark reads and writes them.
Reads with a `transformation_ctx` are bookmarked per file once `Job.init` has run with
`--job-bookmark-option job-bookmark-enable`; writes append, as Glue's sinks do.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import json
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator
from urllib.parse import urlparse

from cauce.etl.awsglue.dynamicframe import (
    ERROR_COLUMN, DynamicFrame, DynamicFrameReader, DynamicFrameWriter, _col, quote,
)
from cauce.etl.awsglue.environment import LocalGlueEnvironment, current_environment
from cauce.etl.awsglue.gluetypes import merge_types, value_type
from cauce.etl.awsglue.refused import check_connection_type, check_format, refuse

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

JDBC_TYPES = ("postgresql", "mysql", "sqlserver", "oracle", "redshift")
_FILE_FORMATS = {"json": "json", "csv": "csv", "parquet": "parquet", "glueparquet": "parquet", "orc": "orc"}


class GlueContext:
    """`GlueContext(SparkContext.getOrCreate())`: the local lake, catalog and bookmarks of the
    current environment (cauce.etl.awsglue.environment)."""

    def __init__(self, sparkContext: Any = None, environment: LocalGlueEnvironment | None = None, **options: Any):  # noqa: N803
        from pyspark.sql import SparkSession

        self._environment = environment or current_environment()
        if sparkContext is not None and getattr(self._environment, "_spark", None) is None:
            self._environment._spark = SparkSession(sparkContext) if SparkSession.getActiveSession() is None else SparkSession.getActiveSession()
        self.spark_session = self._environment.spark
        self._sc = self.spark_session.sparkContext
        self.create_dynamic_frame = DynamicFrameReader(self)
        self.write_dynamic_frame = DynamicFrameWriter(self)
        self.create_data_frame = DataFrameReader(self)
        self.write_data_frame = DataFrameWriterAdapter(self)

    # SQLContext's entry point, which GlueContext inherits on Glue
    def sql(self, query: str) -> "DataFrame":
        return self.spark_session.sql(query)

    def get_logger(self) -> logging.Logger:
        logger = logging.getLogger("awsglue")
        if not hasattr(logger, "warn"):
            logger.warn = logger.warning  # type: ignore[attr-defined]  (Glue's log4j logger spells it warn)
        return logger

    # -- reads ----------------------------------------------------------------------------------
    def create_dynamic_frame_from_options(self, connection_type: str, connection_options: dict | None = None, format: str | None = None,  # noqa: A002
                                          format_options: dict | None = None, transformation_ctx: str = "",
                                          push_down_predicate: str = "", **kwargs: Any) -> DynamicFrame:
        connection_options = dict(connection_options or {})
        check_connection_type(connection_type)
        if connection_type == "s3":
            check_format(format)
            paths = connection_options.get("paths") or connection_options.get("path") or []
            frame = self._read_files([paths] if isinstance(paths, str) else list(paths), format or "json", dict(format_options or {}),
                                     connection_options, transformation_ctx)
            return _filtered(frame, push_down_predicate)
        if connection_type in JDBC_TYPES:
            return self._read_jdbc(connection_type, connection_options, transformation_ctx)
        raise refuse(f"connection_type={connection_type!r}", "not a connection type Cauce knows")

    def create_dynamic_frame_from_catalog(self, database: str | None = None, table_name: str | None = None, redshift_tmp_dir: str = "",
                                          transformation_ctx: str = "", push_down_predicate: str = "", additional_options: dict | None = None,
                                          catalog_id: str | None = None, **kwargs: Any) -> DynamicFrame:
        additional_options = dict(additional_options or {})
        name_space = kwargs.pop("name_space", None)
        database = database or name_space
        definition = self._environment.catalog.get_table(database, table_name)
        classification = definition.get("Parameters", {}).get("classification", "").lower()
        check_connection_type(classification)  # a table a DynamoDB or Kafka crawler made, say
        check_format(classification)
        info = self._environment.catalog.resolve(database, table_name)
        parameters = {**definition.get("Parameters", {}), **info.options}
        # push_down_predicate is from_catalog's own parameter; additional_options has catalogPartitionPredicate
        # (server-side partition filtering), and a push_down_predicate key there is not one Glue reads
        predicate = push_down_predicate or additional_options.get("catalogPartitionPredicate", "")
        format_options: dict[str, Any] = {}
        if info.format == "csv":
            format_options = {
                "separator": parameters.get("field.delim") or parameters.get("separatorChar") or ",",
                "quoteChar": parameters.get("quoteChar", '"'),
                "withHeader": int(parameters.get("skip.header.line.count", "0") or 0) > 0,
                "_columns": [name for name, _ in info.columns],
            }
            if parameters.get("escapeChar"):
                format_options["escaper"] = parameters["escapeChar"]
        elif info.format == "json":
            format_options = {"multiline": parameters.get("multiline", "false")}
        frame = self._read_files([info.location], info.format, format_options, {"recurse": True}, transformation_ctx,
                                 partition_filter=predicate, partition_keys=info.partition_keys)
        return _filtered(frame, predicate)

    def create_dynamic_frame_from_rdd(self, data: Any, name: str, schema: Any = None, sample_ratio: float | None = None,
                                      transformation_ctx: str = "") -> DynamicFrame:
        return DynamicFrame(self.spark_session.createDataFrame(data, schema, sample_ratio), self, name)

    def _read_files(self, uris: list[str], format: str, format_options: dict[str, Any], connection_options: dict[str, Any], ctx: str,  # noqa: A002
                    partition_filter: str = "", partition_keys: tuple = ()) -> DynamicFrame:
        from pyspark.sql import Observation
        from pyspark.sql import functions as F

        environment = self._environment
        spark = self.spark_session
        if format not in _FILE_FORMATS:
            check_format(format)
            raise ValueError(f"format {format!r} is not one Glue reads from S3 (json, csv, parquet, glueparquet, orc)")
        exclusions = connection_options.get("exclusions") or []
        if isinstance(exclusions, str):
            exclusions = json.loads(exclusions)
        recurse = str(connection_options.get("recurse", "false")).lower() == "true" or partition_keys
        files: dict[str, tuple[Path, str]] = {}  # s3 uri -> (local path, base)
        for uri in uris:
            base = environment.local_path(uri)
            if not base.exists():
                continue
            for path in _data_files(base, recurse):
                relative = path.relative_to(base).as_posix() if base.is_dir() else ""
                key = uri.rstrip("/") + ("/" + relative if relative else "")
                if any(fnmatch.fnmatch(key, pattern) or fnmatch.fnmatch(relative, pattern) for pattern in exclusions):
                    continue
                files[key] = (path, str(base) if base.is_dir() else "")
        if partition_filter and partition_keys:
            files = _prune_partitions(spark, files, partition_keys, partition_filter)
        stamps = {key: [path.stat().st_mtime_ns, path.stat().st_size] for key, (path, _) in files.items()}
        if environment.bookmark is not None and ctx:
            selected = environment.bookmark.new_files(ctx, stamps)
        else:
            selected = sorted(stamps)
        spark_format = _FILE_FORMATS[format]
        if not selected:  # nothing new since the bookmark, or an empty prefix
            if ctx:
                environment.counts.reads[ctx] = 0
            empty = spark.createDataFrame([], _empty_schema(format_options, partition_keys))
            return DynamicFrame(empty, self, ctx)
        local = [str(files[key][0]) for key in selected]
        bases = {files[key][1] for key in selected}
        reader = spark.read.format(spark_format)
        if len(bases) == 1 and "" not in bases:
            reader = reader.option("basePath", bases.pop())
        typing: Any = {}
        json_text = False
        if spark_format == "json":
            multiline = str(format_options.get("multiline", format_options.get("multiLine", "false"))).lower() == "true"
            raw = (reader.option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", ERROR_COLUMN)
                   .option("multiLine", multiline).load(local))
            json_path = format_options.get("jsonPath")
            if json_path:
                raw = _apply_json_path(raw, json_path)
            typing = _json_typing(spark, local, raw, multiline) if not json_path else {}
            json_text = True
        elif spark_format == "csv":
            raw, data_columns = _read_csv(spark, reader, local, format_options)
            typing = _csv_typing(raw, data_columns)
        else:
            raw = reader.load(local)
        has_errors = ERROR_COLUMN in raw.columns
        data_columns = [c for c in raw.columns if c != ERROR_COLUMN]
        if has_errors and not data_columns:  # nothing parsed: every record is an error record
            errors = spark.read.text(local).select(F.col("value").alias("record"), F.lit("malformed record: does not parse").alias("errorMessage"),
                                                   F.lit(ctx).alias("transformation_ctx"))
            return DynamicFrame(_no_columns(spark), self, ctx, stage_errors=errors)
        metrics = [F.count(F.lit(1)).alias("rows")]
        if has_errors:
            # Spark refuses a query on raw JSON/CSV that reads only the corrupt-record column (a bare count
            # of the good records would be one); a metric on a data column keeps that column in every scan
            # Every data column, too: Spark's CSV parser judges a record malformed (a token too many) only
            # when it parses all the columns, so a pruned scan would let such a record pass as good.
            metrics += [F.count(F.col(ERROR_COLUMN)).alias("errors"), F.max(F.hash(*[_col(c) for c in data_columns])).alias("_cauce_ref")]
        observation = Observation(f"awsglue:read:{ctx or id(raw)}")
        observed = raw.observe(observation, *metrics)
        if ctx:
            environment.counts.reads[ctx] = observation
        stage_errors = None
        if has_errors:
            good = observed.filter(F.col(ERROR_COLUMN).isNull()).drop(ERROR_COLUMN)
            stage_errors = _errors_of(raw, ctx)
        else:
            good = observed
        return DynamicFrame(good, self, ctx, typing=typing, stage_errors=stage_errors, json_text=json_text)

    def _read_jdbc(self, connection_type: str, options: dict[str, Any], ctx: str) -> DynamicFrame:
        from pyspark.sql import Observation
        from pyspark.sql import functions as F

        spark_options = self._jdbc_options(options)
        df = self.spark_session.read.format("jdbc").options(**spark_options).load()
        keys = options.get("jobBookmarkKeys") or []
        bookmark = self._environment.bookmark
        if keys and bookmark is not None and ctx:
            from cauce.etl.runtimes.local import _plain, bookmarked_rows

            df = bookmarked_rows(df, tuple(keys), bookmark, ctx)
            mark = Observation(f"awsglue:bookmark:{ctx}")
            df = df.observe(mark, *[F.max(F.col(k)).alias(k) for k in keys])
            self._environment.pending_marks.append((ctx, tuple(keys), mark, _plain))
        observation = Observation(f"awsglue:read:{ctx or id(df)}")
        df = df.observe(observation, F.count(F.lit(1)).alias("rows"))
        if ctx:
            self._environment.counts.reads[ctx] = observation
        return DynamicFrame(df, self, ctx)

    def _jdbc_options(self, options: dict[str, Any]) -> dict[str, str]:
        if options.get("useConnectionProperties") or options.get("connectionName"):
            connection = self._connection(options["connectionName"])
            values = {"url": connection.url, "user": connection.user, "password": connection.password, "driver": connection.driver}
        else:
            from cauce.etl.connections import JdbcConnection

            values = {"url": options["url"], "user": options.get("user", ""), "password": options.get("password", "")}
            values["driver"] = JdbcConnection("from_options", options["url"], values["user"], values["password"]).driver
        if "query" in options:
            values["query"] = options["query"]
        else:
            values["dbtable"] = options["dbtable"]
        return {k: str(v) for k, v in values.items() if v is not None}

    def _connection(self, name: str) -> Any:
        from cauce.etl.connections import resolve_jdbc_connection

        return resolve_jdbc_connection(self._environment.catalog.get_connection(name))

    def extract_jdbc_conf(self, connection_name: str, catalog_id: str | None = None) -> dict[str, str]:
        connection = self._connection(connection_name)
        vendor = connection.url.split(":")[1]
        return {"url": connection.url, "fullUrl": connection.url, "user": connection.user, "password": connection.password, "vendor": vendor}

    # -- writes ---------------------------------------------------------------------------------
    def write_dynamic_frame_from_options(self, frame: DynamicFrame, connection_type: str = "s3", connection_options: dict | None = None,
                                         format: str | None = None, format_options: dict | None = None,  # noqa: A002
                                         transformation_ctx: str = "", **kwargs: Any) -> DynamicFrame:
        connection_options = dict(connection_options or {})
        check_connection_type(connection_type)
        if connection_type == "s3":
            check_format(format)
            self._write_files(frame, connection_options["path"], format or "json", dict(format_options or {}),
                              list(connection_options.get("partitionKeys") or []),
                              connection_options.get("compression"), transformation_ctx)
            return frame
        if connection_type in JDBC_TYPES:
            self._write_jdbc(frame, self._jdbc_options(connection_options), transformation_ctx)
            return frame
        raise refuse(f"connection_type={connection_type!r}", "not a connection type Cauce knows")

    write_from_options = write_dynamic_frame_from_options

    def write_dynamic_frame_from_catalog(self, frame: DynamicFrame, database: str | None = None, table_name: str | None = None,
                                         redshift_tmp_dir: str = "", transformation_ctx: str = "", additional_options: dict | None = None,
                                         catalog_id: str | None = None, **kwargs: Any) -> DynamicFrame:
        additional_options = dict(additional_options or {})
        database = database or kwargs.pop("name_space", None)
        info = self._environment.catalog.resolve(database, table_name)
        keys = list(additional_options.get("partitionKeys") or [k for k, _ in info.partition_keys])
        options = {"separator": info.options.get("field.delim", ",")} if info.format == "csv" else {}
        if info.format == "csv":
            options["writeHeader"] = False  # catalog CSV tables are positional
        written = self._write_files(frame, info.location, info.format, options, keys, additional_options.get("compression"), transformation_ctx)
        if _enabled(additional_options.get("enableUpdateCatalog")):
            self._update_catalog(database, table_name, frame, info.location, info.format, keys, written,
                                 additional_options.get("updateBehavior", "UPDATE_IN_DATABASE"))
        return frame

    def _update_catalog(self, database: str, table_name: str, frame: DynamicFrame, location: str, format: str,  # noqa: A002
                        keys: list[str], written: list[Path], behavior: str) -> None:
        """`enableUpdateCatalog` (https://docs.aws.amazon.com/glue/latest/dg/update-from-job.html): the partitions
        this write created are added to the table; with updateBehavior UPDATE_IN_DATABASE (the default) the
        table's columns become the frame's, with LOG the table's schema is left as it is."""
        from urllib.parse import unquote

        from cauce.etl.catalog import CatalogError, table_input

        catalog = self._environment.catalog
        try:
            catalog.get_table(database, table_name)
            exists = True
        except CatalogError:
            exists = False
        if not exists or str(behavior).upper() == "UPDATE_IN_DATABASE":
            schema = frame.toDF().schema
            columns = [(f.name, f.dataType.simpleString()) for f in schema.fields if f.name not in keys]
            partitions = [(k, schema[k].dataType.simpleString()) for k in keys if k in schema.names]
            definition = table_input(table_name, location, "parquet" if format == "glueparquet" else format, columns, partitions)
            if exists:
                old = catalog.get_table(database, table_name)
                definition["Parameters"] = {**old.get("Parameters", {}), **definition["Parameters"]}
                definition["StorageDescriptor"] = {**old["StorageDescriptor"], "Columns": definition["StorageDescriptor"]["Columns"]}
            catalog.put_table(database, definition)
        if not keys or not written:
            return
        base = self._environment.local_path(location)
        found: dict[tuple, str] = {}
        for path in written:
            folders = path.relative_to(base).parts[:-1]
            parts = dict(p.split("=", 1) for p in folders if "=" in p)
            if all(k in parts for k in keys):
                values = tuple(unquote(parts[k]) for k in keys)
                found[values] = location.rstrip("/") + "/" + "/".join(f"{k}={parts[k]}" for k in keys) + "/"
        catalog.put_partitions(database, table_name, [{"Values": list(v), "StorageDescriptor": {"Location": where}}
                                                      for v, where in sorted(found.items())])

    def write_dynamic_frame_from_jdbc_conf(self, frame: DynamicFrame, catalog_connection: str, connection_options: dict | None = None,
                                           redshift_tmp_dir: str = "", transformation_ctx: str = "", catalog_id: str | None = None) -> DynamicFrame:
        connection_options = dict(connection_options or {})
        connection = self._connection(catalog_connection)
        url = connection.url
        if connection_options.get("database"):
            parsed = urlparse(url[len("jdbc:"):])
            url = f"jdbc:{parsed.scheme}://{parsed.netloc}/{connection_options['database']}"
        options = {"url": url, "user": connection.user, "password": connection.password, "driver": connection.driver,
                   "dbtable": connection_options["dbtable"]}
        self._write_jdbc(frame, options, transformation_ctx)
        return frame

    def _write_jdbc(self, frame: DynamicFrame, options: dict[str, str], ctx: str) -> None:
        from cauce.etl.connections import JdbcConnectionError
        from cauce.etl.runtimes.local import _first_line

        df = self._count_write(frame.toDF(), ctx)
        try:
            df.write.format("jdbc").options(**options).mode("append").save()
        except Exception as error:  # the database named, not a bare Java stack
            raise JdbcConnectionError(f"cannot write {options.get('dbtable')} to {options['url']}: {_first_line(error)}") from None

    def _count_write(self, df: "DataFrame", ctx: str) -> "DataFrame":
        from pyspark.sql import Observation
        from pyspark.sql import functions as F

        observation = Observation(f"awsglue:write:{ctx or id(df)}")
        key = ctx or f"write_{len(self._environment.counts.writes) + 1}"
        self._environment.counts.writes[key] = observation
        return df.observe(observation, F.count(F.lit(1)).alias("rows"))

    def _write_files(self, frame: DynamicFrame, uri: str, format: str, format_options: dict[str, Any], partition_keys: list[str],  # noqa: A002
                     compression: str | None, ctx: str) -> list[Path]:
        """Write the frame's records under `uri`; returns the data files this write created."""
        from cauce.etl.commit import data_files

        if format not in _FILE_FORMATS:
            raise ValueError(f"format {format!r} is not one Glue writes to S3 (json, csv, parquet, glueparquet, orc)")
        df = frame.toDF()
        if not df.columns:  # an empty frame read from nothing new: Glue writes nothing
            return []
        df = self._count_write(df, ctx)
        target = self._environment.local_path(uri)
        before = set(data_files(target)) if target.is_dir() else set()
        writer = df.write.mode("append").format(_FILE_FORMATS[format])
        if partition_keys:
            writer = writer.partitionBy(*partition_keys)
        compression = compression or format_options.get("compression")
        if compression:
            writer = writer.option("compression", compression)
        if format == "csv":
            writer = writer.option("header", str(format_options.get("writeHeader", True)).lower())
            writer = writer.option("sep", format_options.get("separator", ","))
            if "quoteChar" in format_options:
                writer = writer.option("quote", format_options["quoteChar"])
        writer.save(str(target))
        return sorted(set(data_files(target)) - before)

    def getSink(self, connection_type: str = "s3", format: str | None = None, transformation_ctx: str = "", **options: Any) -> "DataSink":  # noqa: N802, A002
        check_connection_type(connection_type)
        return DataSink(self, connection_type, options, transformation_ctx, format)

    def getSource(self, connection_type: str, format: str | None = None, transformation_ctx: str = "", **options: Any) -> "DataSource":  # noqa: N802, A002
        check_connection_type(connection_type)
        return DataSource(self, connection_type, options, transformation_ctx, format)

    # -- housekeeping ---------------------------------------------------------------------------
    def purge_s3_path(self, s3_path: str, options: dict | None = None, transformation_ctx: str = "") -> None:
        """Delete the files under `s3_path` older than `retentionPeriod` hours (Glue's default 168)."""
        options = options or {}
        hours = float(options.get("retentionPeriod", 168))
        cutoff = time.time() - hours * 3600
        base = self._environment.local_path(s3_path)
        if not base.exists():
            return
        for path in sorted(p for p in (base.rglob("*") if base.is_dir() else [base]) if p.is_file()):
            if hours <= 0 or path.stat().st_mtime < cutoff:
                path.unlink()

    def purge_table(self, database: str, table_name: str, options: dict | None = None, transformation_ctx: str = "", catalog_id: str | None = None) -> None:
        self.purge_s3_path(self._environment.catalog.resolve(database, table_name).location, options, transformation_ctx)

    def forEachBatch(self, *args: Any, **kwargs: Any) -> None:  # noqa: N802
        raise refuse("GlueContext.forEachBatch (streaming)", "streaming jobs read Kinesis or Kafka through Glue")


class DataSink:
    """`glueContext.getSink(...)`, then setFormat, setCatalogInfo, writeFrame. With
    `enableUpdateCatalog`, the table is created or updated in the local catalog with the frame's
    columns and the partition keys, and every partition written is then visible to from_catalog."""

    def __init__(self, context: GlueContext, connection_type: str, options: dict[str, Any], ctx: str, format: str | None):  # noqa: A002
        self._context = context
        self._connection_type = connection_type
        self._options = options
        self._ctx = ctx
        self._format = format or "json"
        self._format_options: dict[str, Any] = {}
        self._catalog: tuple[str, str] | None = None

    def setFormat(self, format: str, **options: Any) -> None:  # noqa: N802, A002
        self._format = format
        self._format_options = options

    def setCatalogInfo(self, catalogDatabase: str, catalogTableName: str, catalogId: str | None = None) -> None:  # noqa: N802, N803
        self._catalog = (catalogDatabase, catalogTableName)

    def writeFrame(self, dynamic_frame: DynamicFrame, info: str = "") -> DynamicFrame:  # noqa: N802
        keys = list(self._options.get("partitionKeys") or [])
        path = self._options.get("path")
        if path is None and self._catalog is not None:
            path = self._context._environment.catalog.resolve(*self._catalog).location
        if self._connection_type != "s3":
            self._context.write_dynamic_frame_from_options(
                dynamic_frame, self._connection_type, {**self._options, "path": path}, self._format, self._format_options, self._ctx)
            return dynamic_frame
        check_format(self._format)
        written = self._context._write_files(dynamic_frame, path, self._format, dict(self._format_options), keys,
                                             self._options.get("compression"), self._ctx)
        if self._catalog is not None and _enabled(self._options.get("enableUpdateCatalog")):
            self._context._update_catalog(*self._catalog, dynamic_frame, path, self._format, keys, written,
                                          self._options.get("updateBehavior", "UPDATE_IN_DATABASE"))
        return dynamic_frame

    write = writeFrame


class DataSource:
    def __init__(self, context: GlueContext, connection_type: str, options: dict[str, Any], ctx: str, format: str | None):  # noqa: A002
        self._context, self._connection_type, self._options, self._ctx = context, connection_type, options, ctx
        self._format, self._format_options = format, {}

    def setFormat(self, format: str, **options: Any) -> None:  # noqa: N802, A002
        self._format, self._format_options = format, options

    def getFrame(self, **kwargs: Any) -> DynamicFrame:  # noqa: N802
        return self._context.create_dynamic_frame_from_options(self._connection_type, self._options, self._format, self._format_options, self._ctx)


class DataFrameReader:
    """`glueContext.create_data_frame`: the DynamicFrame readers' data as a Spark DataFrame."""

    def __init__(self, context: GlueContext):
        self._context = context

    def from_catalog(self, database: str | None = None, table_name: str | None = None, transformation_ctx: str = "",
                     additional_options: dict | None = None, **kwargs: Any) -> "DataFrame":
        return self._context.create_dynamic_frame_from_catalog(database, table_name, transformation_ctx=transformation_ctx,
                                                               additional_options=additional_options, **kwargs).toDF()

    def from_options(self, connection_type: str, connection_options: dict | None = None, format: str | None = None,  # noqa: A002
                     format_options: dict | None = None, transformation_ctx: str = "", **kwargs: Any) -> "DataFrame":
        return self._context.create_dynamic_frame_from_options(connection_type, connection_options, format, format_options,
                                                               transformation_ctx, **kwargs).toDF()


class DataFrameWriterAdapter:
    """`glueContext.write_data_frame.from_catalog(frame=DataFrame, ...)`."""

    def __init__(self, context: GlueContext):
        self._context = context

    def from_catalog(self, frame: "DataFrame", database: str | None = None, table_name: str | None = None, **kwargs: Any) -> None:
        self._context.write_dynamic_frame_from_catalog(DynamicFrame.fromDF(frame, self._context, ""), database, table_name, **kwargs)


# -- helpers ------------------------------------------------------------------------------------
def frame_from_json_lines(context: GlueContext, lines: Any, name: str, errors: tuple, ctx: str) -> DynamicFrame:
    """Records as {"ok": record} / {"error", "record"} JSON lines -> a frame with its stage's errors."""
    from pyspark.sql import functions as F

    spark = context.spark_session
    text = spark.createDataFrame(lines.map(lambda line: (line,)), "value string")
    tagged = text.select(F.col("value"), F.get_json_object("value", "$.error").alias("error"))
    ok = tagged.filter(F.col("error").isNull()).select(F.get_json_object("value", "$.ok").alias("value"))
    schema = spark.read.json(ok.rdd.map(lambda row: row.value)).schema
    data = ok.select(F.from_json("value", schema).alias("r")).select("r.*") if schema.fields else spark.createDataFrame([], schema)
    failed = tagged.filter(F.col("error").isNotNull()).select(
        F.get_json_object("value", "$.record").alias("record"), F.col("error").alias("errorMessage"), F.lit(ctx).alias("transformation_ctx"))
    return DynamicFrame(data, context, name, errors=errors, stage_errors=failed)


def _enabled(value: Any) -> bool:
    return str(value).lower() == "true"


def _filtered(frame: DynamicFrame, predicate: str) -> DynamicFrame:
    if not predicate or not frame._df.columns:
        return frame
    return frame._derive(frame._df.filter(predicate))


def _data_files(base: Path, recurse: bool) -> list[Path]:
    from cauce.etl.commit import data_files, is_hidden

    if base.is_file():
        return [base]
    if recurse or any(p.is_dir() and "=" in p.name for p in base.iterdir()):
        return sorted(data_files(base))
    return sorted(p for p in base.iterdir() if p.is_file() and not is_hidden(p.name))


def _prune_partitions(spark: Any, files: dict[str, tuple[Path, str]], partition_keys: tuple, predicate: str) -> dict[str, tuple[Path, str]]:
    """Only the files whose partition values (key=value folders) meet the push-down predicate."""
    from pyspark.sql import functions as F

    names = [k for k, _ in partition_keys]
    values = {}
    for key, (path, base) in files.items():
        parts = dict(p.split("=", 1) for p in Path(path).relative_to(base).parts[:-1] if "=" in p) if base else {}
        values[key] = tuple(parts.get(n) for n in names)
    distinct = sorted(set(values.values()), key=str)
    if not distinct:
        return files
    table = spark.createDataFrame(distinct, ", ".join(f"{quote(n)} string" for n in names))
    table = table.select(*[F.col(quote(n)).cast(t).alias(n) for n, t in partition_keys])
    kept = {tuple(None if v is None else str(v) for v in row) for row in table.filter(predicate).collect()}
    return {key: entry for key, entry in files.items() if tuple(values[key]) in kept}


def _empty_schema(format_options: dict[str, Any], partition_keys: tuple) -> str:
    columns = [(c, "string") for c in format_options.get("_columns", [])] + list(partition_keys)
    if not columns:
        from pyspark.sql.types import StructType

        return StructType([])
    return ", ".join(f"{quote(n)} {t}" for n, t in columns)


def _no_columns(spark: Any) -> "DataFrame":
    from pyspark.sql.types import StructType

    return spark.createDataFrame([], StructType([]))


def _errors_of(raw: "DataFrame", ctx: str) -> "DataFrame":
    """The error records of a read (every data column kept in the scan, as above, by a metric on them)."""
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    data = [_col(c) for c in raw.columns if c != ERROR_COLUMN]
    # max, not count: Spark folds the count of a never-null value into count(1), which reads no column
    kept = raw.observe(Observation(f"awsglue:errors:{ctx or id(raw)}"), F.max(F.hash(*data)).alias("_cauce_ref"))
    return kept.filter(F.col(ERROR_COLUMN).isNotNull()).select(
        F.col(ERROR_COLUMN).alias("record"), F.lit("malformed record: does not parse").alias("errorMessage"),
        F.lit(ctx).alias("transformation_ctx"))


def _apply_json_path(raw: "DataFrame", json_path: str) -> "DataFrame":
    """`$.a.b[*]`: the elements of that array become the records; `$[*]` is the top-level array."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StructType

    path = json_path.strip()
    if not path.startswith("$"):
        raise ValueError(f"jsonPath {json_path!r} must start with $")
    steps = [s for s in path[1:].replace("[*]", ".[*]").split(".") if s]
    if not steps or steps == ["[*]"]:
        return raw  # Spark already reads a top-level array's elements as records
    column = None
    exploded = raw
    for step in steps:
        if step == "[*]":
            exploded = exploded.select(F.explode(column).alias("_cauce_element"))
            column = F.col("_cauce_element")
        else:
            column = _col(step) if column is None else column.getField(step)
    result = exploded.select(column.alias("_cauce_element")) if steps[-1] != "[*]" else exploded
    element_type = result.schema["_cauce_element"].dataType
    return result.select("_cauce_element.*") if isinstance(element_type, StructType) else result.withColumnRenamed("_cauce_element", "value")


def _json_typing(spark: Any, files: list[str], raw: "DataFrame", multiline: bool) -> Any:
    """Types by content for the fields Spark widened to string: a field holding strings in some
    records and numbers, booleans, objects or arrays in others is a choice. Found, only when an
    operation asks for types, from the token after the field's name in each record's text."""
    from pyspark.sql.types import StringType

    candidates = [f.name for f in raw.schema.fields if isinstance(f.dataType, StringType) and f.name != ERROR_COLUMN]
    nested = _nested_string_paths(raw.schema)

    def detect() -> dict[str, list[str]]:
        from pyspark.sql import functions as F

        found = _nested_typing(spark, files, nested, multiline) if nested else {}
        if not candidates:
            return found
        reader = spark.read.option("wholetext", True) if multiline else spark.read
        text = reader.text(files)
        aggregates = []
        for index, name in enumerate(candidates):
            pattern = '"' + _regex_escape(name) + r'"\s*:\s*("|\{|\[|true|false|null|[-+0-9.eE]+)'
            token = F.regexp_extract(F.col("value"), pattern, 1)
            kind = (F.when(token == "", F.lit(None)).when(token == '"', F.lit("string")).when(token == "{", F.lit("struct"))
                    .when(token == "[", F.lit("array")).when(token.isin("true", "false"), F.lit("boolean"))
                    .when(token == "null", F.lit(None)).otherwise(value_type(token, json=False)))
            aggregates.append(F.collect_set(kind).alias(f"c{index}"))
        row = text.agg(*aggregates).collect()[0]
        for index, name in enumerate(candidates):
            kinds = merge_types(set(row[f"c{index}"]))
            if len(kinds) > 1:
                found[name] = kinds
        return found

    return detect


def _nested_string_paths(schema: Any) -> list[str]:
    """The string fields inside structs (`a.b`) and arrays (`xs[]`, `xs[].p`): where Spark widened
    values of several JSON types to string, so where a nested choice may be."""
    from pyspark.sql.types import ArrayType, StringType, StructType

    paths: list[str] = []

    def walk(data_type: Any, path: str, nested: bool) -> None:
        if isinstance(data_type, StructType):
            for child in data_type.fields:
                walk(child.dataType, f"{path}.{child.name}" if path else child.name, bool(path))
        elif isinstance(data_type, ArrayType):
            walk(data_type.elementType, f"{path}[]", True)
        elif isinstance(data_type, StringType) and nested:
            paths.append(path)

    walk(StructType([f for f in schema.fields if f.name != ERROR_COLUMN]), "", False)
    return paths


def _json_kind(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    return {int: "long", float: "double", str: "string", dict: "struct", list: "array"}.get(type(value))


def _values_at(value: Any, steps: list[str]) -> Iterator[Any]:
    if not steps:
        yield value
    elif steps[0] == "[]":
        for element in value if isinstance(value, list) else []:
            yield from _values_at(element, steps[1:])
    elif isinstance(value, dict) and steps[0] in value:
        yield from _values_at(value[steps[0]], steps[1:])


def _nested_typing(spark: Any, files: list[str], paths: list[str], multiline: bool) -> dict[str, list[str]]:
    """The JSON types each nested string path takes, from the records' own JSON (a pass in Python,
    made only when types are asked for and the data has such fields); a path of several is a choice.
    A record that does not parse is an error record already, and skipped here."""
    from cauce.etl.awsglue.dynamicframe import path_steps

    steps = {path: [path_steps(path)[0], *path_steps(path)[1]] for path in paths}

    def kinds(lines: Iterable[str]) -> Iterator[set[tuple[str, str]]]:
        seen: set[tuple[str, str]] = set()
        for line in lines:
            try:
                document = json.loads(line)
            except ValueError:
                continue
            for record in document if isinstance(document, list) else [document]:
                for path, path_steps_ in steps.items():
                    seen.update((path, kind) for kind in map(_json_kind, _values_at(record, path_steps_)) if kind)
        yield seen

    reader = spark.read.option("wholetext", True) if multiline else spark.read
    seen = reader.text(files).rdd.map(lambda row: row.value).mapPartitions(kinds).fold(set(), lambda a, b: a | b)
    found = {}
    for path in paths:
        types = merge_types({kind for p, kind in seen if p == path})
        if len(types) > 1:
            found[path] = types
    return found


def _regex_escape(text: str) -> str:
    import re

    return re.sub(r"([\\.^$|?*+()\[\]{}])", r"\\\1", text)


def _read_csv(spark: Any, reader: Any, files: list[str], options: dict[str, Any]) -> tuple["DataFrame", list[str]]:
    separator = options.get("separator", ",")
    quote_char = options.get("quoteChar", '"')
    with_header = str(options.get("withHeader", False)).lower() == "true"
    columns = options.get("_columns")
    if columns is None:
        first = _first_record(files[0], separator, quote_char)
        columns = [c.strip() for c in first] if with_header else [f"col{i}" for i in range(len(first))]
    schema = ", ".join(f"{quote(c)} string" for c in columns) + f", {ERROR_COLUMN} string"
    reader = (reader.option("sep", separator).option("header", with_header).option("mode", "PERMISSIVE")
              .option("columnNameOfCorruptRecord", ERROR_COLUMN).option("multiLine", str(options.get("multiLine", False)).lower()))
    reader = reader.option("quote", "\u0000" if str(quote_char) == "-1" else quote_char)
    if options.get("escaper"):
        reader = reader.option("escape", options["escaper"])
    df = reader.schema(schema).load(files)
    if str(options.get("skipFirst", False)).lower() == "true" and not with_header:
        df = df.rdd.zipWithIndex().filter(lambda pair: pair[1] > 0).map(lambda pair: pair[0]).toDF(df.schema)
    return df, columns


def _first_record(path: str, separator: str, quote_char: str) -> list[str]:
    opener = __import__("gzip").open if path.endswith(".gz") else open
    with opener(path, "rt", newline="") as handle:
        line = handle.readline()
    reader = csv.reader(io.StringIO(line), delimiter=separator, quotechar=quote_char if str(quote_char) != "-1" else None,
                        quoting=csv.QUOTE_NONE if str(quote_char) == "-1" else csv.QUOTE_MINIMAL)
    return next(reader, [])


def _csv_typing(raw: "DataFrame", columns: list[str]) -> Any:
    """Each CSV column typed by its values (long, double or string; mixed kinds make a choice)."""

    def detect() -> dict[str, list[str]]:
        from pyspark.sql import functions as F

        usable = [c for c in columns if c in raw.columns]
        if not usable:
            return {}
        others = [F.collect_set(value_type(F.when(_col(c) != "", _col(c)), json=False)).alias(f"c{i}") for i, c in enumerate(usable)]
        row = raw.filter(F.col(ERROR_COLUMN).isNull()).agg(*others).collect()[0]
        return {c: (merge_types(set(row[f"c{i}"])) or ["string"]) for i, c in enumerate(usable)}

    return detect
