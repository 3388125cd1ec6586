"""Running an analytics app on Spark: input records become the in-application input stream
(`SOURCE_SQL_STREAM_001`, with ROWTIME and APPROXIMATE_ARRIVAL_TIME), each pump's translated
SELECT feeds its stream, and the streams no pump reads are the app's outputs.

This is the deterministic mode used by tests and `cauce analytics run`: the input is finite, every
window closes at the end of the input, and ROWTIME is each record's arrival time, taken from
its `_arrival_time` field or from a column of the schema (`rowtime_column`). Records that do not
fit the input schema go to the errors with their line and the reason; the app runs on. The
records are conformed inside Spark (cauce.analytics.ingest).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cauce.analytics.app import AnalyticsApp, Column
from cauce.analytics.dialect import SEQUENCE_COLUMN, AnalyticsSqlError, Program, parse, translate_select
from cauce.analytics.ingest import LINE_COLUMN, _path, ingest

INPUT_STREAM = "SOURCE_SQL_STREAM_001"


@dataclass
class AppResult:
    outputs: dict[str, list[dict[str, Any]]]  # stream name -> rows, in ROWTIME order
    errors: list[dict[str, Any]]  # input records that did not fit the schema: {"line": 1-based, "record", "reason"}
    plans: dict[str, str]  # pump name -> the Spark SQL it became


def check(app: AnalyticsApp) -> tuple[Program, dict[str, str]]:
    """Parse and translate without running; raises AnalyticsSqlError naming line and column."""
    program = parse(app.sql)
    plans = {pump.name: translate_select(pump, frozenset(app.reference_data))[0] for pump in program.pumps}
    known = {INPUT_STREAM, *program.streams}
    for pump in program.pumps:
        unknown = [s for s in pump.sources if s not in known]
        if unknown:
            raise AnalyticsSqlError(f"pump {pump.name} (line {pump.line}) reads {', '.join(unknown)}: not the input stream nor a declared stream")
    return program, plans


def analyze(app: AnalyticsApp, spark: Any, lake: Any = None) -> dict[str, list[str]]:
    """Translate, then let Spark's analyzer resolve every pump against the input schema, with no data:
    a column missing from the schema, or a function Spark lacks, is reported by pump. Output columns by stream."""
    program, plans = check(app)
    load_reference_data(app, spark, lake)
    frames = execute(program, plans, spark.createDataFrame([], input_schema(app.columns)), spark)
    return {name: frame.columns for name, frame in frames.items()}


def run(app: AnalyticsApp, records: Iterable[Any], spark: Any, rowtime_column: str | None = None,
        lake: Any = None) -> AppResult:
    """Run the app over `records` (deterministic mode): its output rows, and the records it refused.

    A record is JSON text (str or bytes, as a stream delivers it) or an object already decoded (a dict).
    Reference tables are read from `lake` (a cauce.core.lake.LocalLake; default: $CAUCE_LAKE or .cauce/lake).
    """
    program, plans = check(app)
    load_reference_data(app, spark, lake)
    ingested = ingest(spark, app.columns, records, rowtime_column)
    conformed = ingested.frame.cache()  # read by the refusals and by every output: parsed once
    try:
        errors = ingested.errors()
        frames = execute(program, plans, ingested.accepted(app.columns), spark)
        outputs = {name: rows_of(in_rowtime_order(frame)) for name, frame in frames.items()}
    finally:
        conformed.unpersist()
    return AppResult(outputs, errors, plans)


def in_rowtime_order(frame: Any) -> Any:
    """A stream's rows in ROWTIME order; rows of one ROWTIME in their pump's ORDER BY, if it has one, else by their columns."""
    from cauce.analytics.joins import ORDER_COLUMN

    columns = [c for c in frame.columns if c not in ("ROWTIME", ORDER_COLUMN)]
    if ORDER_COLUMN not in frame.columns:
        return frame.orderBy("ROWTIME", *columns)
    return frame.orderBy("ROWTIME", ORDER_COLUMN, *columns).drop(ORDER_COLUMN)


def rows_of(frame: Any) -> list[dict[str, Any]]:
    """The frame's rows as dicts, REAL values as the float32 KDA holds (27.9, not 27.899999618530273)."""
    reals = [f.name for f in frame.schema.fields if f.dataType.typeName() == "float"]
    rows = [row.asDict() for row in frame.collect()]
    for row in rows:
        for name in reals:
            if row[name] is not None:
                row[name] = _real(row[name])
    return rows


def _real(value: float) -> float:
    """The shortest decimal that is the same float32 as `value`, as a Python float."""
    import struct

    single = struct.unpack("f", struct.pack("f", value))[0]
    for digits in range(1, 10):
        text = f"{single:.{digits}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == single:
            return float(text)
    return single


def execute(program: Program, plans: Mapping[str, str], input_frame: Any, spark: Any,
            table_state: dict[str, Any] | None = None) -> dict[str, Any]:
    """The app's output streams as DataFrames, computed from the input stream's DataFrame.
    `table_state` holds the table functions' models across calls (a continuous run's micro-batches)."""
    from pyspark.sql import functions as F

    from cauce.analytics.joins import ORDER_COLUMN

    sequenced = any(SEQUENCE_COLUMN in plan for plan in plans.values())  # a sliding RANGE window reads the streams
    if sequenced:
        input_frame = _with_sequence(input_frame, by_arrival=True)
    elif LINE_COLUMN in input_frame.columns:
        input_frame = input_frame.drop(LINE_COLUMN)
    input_frame.createOrReplaceTempView(f"`{INPUT_STREAM}`")
    read_by_pumps = {source for pump in program.pumps for source in pump.sources}
    frames: dict[str, Any] = {}
    for pump in _in_dependency_order(program):
        try:
            if pump.stagger is not None:
                _stagger_windows(pump.stagger, spark).createOrReplaceTempView(pump.stagger.view)
            if pump.table_function is not None:
                from cauce.analytics.table_functions import register

                register(pump, spark, {} if table_state is None else table_state)
            result = spark.sql(plans[pump.name])
            columns = result.columns
            # by position: two output columns may share a name (t.a.COLUMN1, t.b.COLUMN1), and SELECT * takes the
            # hidden columns too; the last column is the output ROWTIME
            last = len(columns) - 1
            visible = [f"__cauce_out_{i}" for i, c in enumerate(columns) if not c.startswith("__cauce_")
                       and not (pump.selects_star and c == "ROWTIME" and i != last)]  # a star's ROWTIME is not a column
            result = result.toDF(*[f"__cauce_out_{i}" for i in range(len(result.columns))])
        except Exception as error:  # Spark's AnalysisException: unknown column and the like
            raise AnalyticsSqlError(f"pump {pump.name} (line {pump.line}): {_first_line(error)}") from None
        stream = program.streams[pump.target]
        if len(visible) - 1 != len(stream.columns):
            raise AnalyticsSqlError(f"pump {pump.name} (line {pump.line}) selects {len(visible) - 1} column(s) into "
                                    f"{pump.target}, which has {len(stream.columns)}")
        # the pump's ORDER BY rank, when it has one, goes along to order the output rows
        # (the last: a `SELECT *` of an ordered stream brings that stream's rank along too)
        rank = [F.col(f"__cauce_out_{i}").alias(ORDER_COLUMN) for i, c in enumerate(columns) if c == ORDER_COLUMN][-1:]
        shaped = result.select(*[_shape(F.col(visible[i]), _spark_type(sql_type)).alias(name)
                                 for i, (name, sql_type) in enumerate(stream.columns)], _shape(F.col(visible[-1]), "timestamp").alias("ROWTIME"), *rank)
        frames[pump.target] = frames[pump.target].unionByName(shaped, allowMissingColumns=True) if pump.target in frames else shaped
        (_with_sequence(frames[pump.target]) if sequenced else frames[pump.target]).createOrReplaceTempView(f"`{pump.target}`")
    return {name: frame for name, frame in frames.items() if name not in read_by_pumps}


def _shape(column: Any, spark_type: str) -> Any:
    """A pump's output column as its stream's type; TIMESTAMPs hold milliseconds, as in KDA."""
    from pyspark.sql import functions as F

    cast = column.cast(spark_type)
    return F.date_trunc("MILLISECOND", cast) if spark_type == "timestamp" else cast


def _with_sequence(frame: Any, by_arrival: bool = False) -> Any:
    """The frame with each row's place among the rows of the same ROWTIME: in arrival order for the
    input stream (the records' lines), else in the order the stream's rows are listed (by their columns)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    columns = [F.col(f"`{c}`") for c in frame.columns if c != "ROWTIME"]
    if by_arrival:
        if LINE_COLUMN not in frame.columns:  # a frame with no lines (analyze's empty one): ids increase in its order
            frame = frame.withColumn(LINE_COLUMN, F.monotonically_increasing_id())
        columns = [F.col(LINE_COLUMN)]
    place = F.row_number().over(Window.partitionBy("ROWTIME").orderBy(*columns)) - 1
    return frame.withColumn(SEQUENCE_COLUMN, place).drop(LINE_COLUMN)


def _stagger_windows(stagger: Any, spark: Any) -> Any:
    """The stagger pump's rows, each with the open and close of its window (per partition, in ROWTIME order)."""
    import pandas as pd

    rows = spark.sql(stagger.view_sql)
    length = pd.Timedelta(microseconds=stagger.micros)

    def windows(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.sort_values("ROWTIME", kind="stable")
        opens, current = [], None
        for rowtime in frame["ROWTIME"]:
            if current is None or rowtime >= current + length:
                current = rowtime
            opens.append(current)
        frame["__cauce_window_open"] = opens
        frame["__cauce_window_close"] = frame["__cauce_window_open"] + length
        return frame

    schema = f"{rows.schema.simpleString()[7:-1]},__cauce_window_open:timestamp,__cauce_window_close:timestamp"
    return rows.groupBy(*stagger.keys).applyInPandas(windows, schema)


def load_reference_data(app: AnalyticsApp, spark: Any, lake: Any = None) -> None:
    """Each reference table as a view the SQL can join (CSV with a header row, or JSON lines)."""
    if not app.reference_data:
        return
    from cauce.core.lake import LocalLake, default_lake

    lake = lake or LocalLake(default_lake())
    for name, table in app.reference_data.items():
        path = lake.local_path(table.path)
        if not path.exists():
            raise AnalyticsSqlError(f"reference data {name}: nothing at {table.path} (local path {path})")
        if table.columns:  # declared as KDA declares it: the schema's columns and types
            rows = reference_rows(name, table, path.read_text(encoding="utf-8"))
            frame = spark.createDataFrame(rows, schema=", ".join(f"`{c.name}` {c.spark_type}" for c in table.columns))
        else:
            reader = spark.read.option("header", True).option("inferSchema", True)
            frame = reader.csv(str(path)) if table.format == "csv" else spark.read.json(str(path))
        frame.createOrReplaceTempView(f"`{name}`")


def reference_rows(name: str, table: Any, text: str) -> list[tuple]:
    """A reference table's rows by its RecordColumns: CSV fields by position, split at RecordColumnDelimiter and
    RecordRowDelimiter (every line a row, as KDA has no header option), or JSON values by each column's Mapping.
    A row that does not fit is refused naming the table, its line and the column."""
    import json

    readers = [(column, _path(column.mapping) if column.mapping else [column.name], column.spark_type, column.max_length)
               for column in table.columns]
    if table.format == "csv":
        lines = [line for line in text.split(table.row_delimiter)]
        records = []
        for number, line in enumerate(lines, start=1):
            if not line.strip("\r\n"):
                continue  # the empty piece after the last row delimiter
            fields = line.rstrip("\r").split(table.column_delimiter)
            if len(fields) != len(table.columns):
                raise AnalyticsSqlError(f"reference data {name} ({table.path}), line {number}: {len(fields)} field(s), "
                                        f"the schema has {len(table.columns)} column(s)")
            # an empty field is NULL for a column that is not a string
            records.append((number, {c.name: (None if f == "" and c.spark_type != "string" else f) for c, f in zip(table.columns, fields)}))
        readers = [(column, [column.name], spark_type, length) for column, _, spark_type, length in readers]
    else:
        try:
            document = json.loads(text)
            found = [document] if table.row_path == "$" and isinstance(document, dict) else _json_rows(document, table.row_path)
            records = [(index, row) for index, row in enumerate(found, start=1)]
        except json.JSONDecodeError:  # JSON lines: an object a line
            records = []
            for number, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    try:
                        records.append((number, json.loads(line)))
                    except json.JSONDecodeError as error:
                        raise AnalyticsSqlError(f"reference data {name} ({table.path}), line {number}: not valid JSON: {error.msg}") from None
    rows = []
    for number, record in records:
        try:
            rows.append(tuple(_value(record, *reader) for reader in readers))
        except ValueError as error:
            raise AnalyticsSqlError(f"reference data {name} ({table.path}), line {number}: {error}") from None
    return rows


def _json_rows(document: Any, row_path: str) -> list[Any]:
    """The rows a RecordRowPath names: `$` (an array's elements) or `$.a.b` / `$.a[*]` (the array there)."""
    value = document
    for part in _path(row_path.replace("[*]", "")) if row_path not in ("$", "$[*]") else []:
        value = value.get(part) if isinstance(value, dict) else None
    return value if isinstance(value, list) else [value] if isinstance(value, dict) else []


_INTEGER_TYPES = ("int", "bigint", "smallint", "tinyint")


def _value(record: Mapping[str, Any], column: Column, path: list[Any], spark_type: str, max_length: int | None) -> Any:
    # `type(...) is dict` first: decoded JSON is dicts, and an isinstance check against Mapping (an ABC) costs a microsecond
    if type(record) is not dict and not isinstance(record, Mapping):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    value: Any = record
    for part in path:
        value = value.get(part) if type(value) is dict or isinstance(value, Mapping) else (value[part] if isinstance(value, list) and isinstance(part, int) and part < len(value) else None)
    if value is None:
        return None
    kind = type(value)
    if (kind is float and spark_type == "double") or (kind is int and spark_type in _INTEGER_TYPES):
        return value  # already what the column holds: the common case, without the general checks
    try:
        if spark_type == "timestamp":
            return _timestamp(value, column.name)
        if spark_type in _INTEGER_TYPES:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if spark_type in ("double", "float") or spark_type.startswith("decimal"):
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if spark_type == "boolean":
            if not isinstance(value, bool):
                raise ValueError
            return value
    except (TypeError, ValueError):
        raise ValueError(f"column {column.name} ({column.sql_type}): {value!r} is not a {spark_type}") from None
    text = value if isinstance(value, str) else str(value)
    if max_length is not None and len(text) > max_length:
        raise ValueError(f"column {column.name} ({column.sql_type}): {len(text)} characters, over {max_length}")
    return text


def _timestamp(value: Any, name: str) -> dt.datetime:
    """A TIMESTAMP as KDA holds it: UTC, to the millisecond."""
    parsed = _parse_timestamp(value, name)
    return parsed.replace(microsecond=parsed.microsecond // 1000 * 1000)


def _parse_timestamp(value: Any, name: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value / 1000 if value > 1e11 else value, tz=dt.timezone.utc).replace(tzinfo=None)
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{name}: {value!r} is not a timestamp (ISO 8601 or epoch seconds/milliseconds)") from None
    return parsed.astimezone(dt.timezone.utc).replace(tzinfo=None) if parsed.tzinfo else parsed


def input_schema(columns: tuple[Column, ...]) -> str:
    """The input stream's Spark schema: the app's columns, then ROWTIME and APPROXIMATE_ARRIVAL_TIME."""
    fields = [f"`{c.name}` {c.spark_type}" for c in columns]
    return ", ".join([*fields, "ROWTIME timestamp", "APPROXIMATE_ARRIVAL_TIME timestamp"])


def _spark_type(sql_type: str) -> str:
    return Column("x", sql_type, None).spark_type


def _in_dependency_order(program: Program) -> list:
    """Pumps ordered so that every stream is complete before a pump reads it."""
    ordered, done, pending = [], {INPUT_STREAM}, list(program.pumps)
    while pending:
        ready = [p for p in pending if all(s in done or s == p.target for s in p.sources)
                 and all(q.target != s for s in p.sources for q in pending if q is not p)]
        if not ready:
            names = ", ".join(p.name for p in pending)
            raise AnalyticsSqlError(f"pumps {names} read each other's streams in a cycle")
        for pump in ready:
            ordered.append(pump)
            pending.remove(pump)
        done |= {p.target for p in ready if all(q.target != p.target for q in pending)}
    return ordered


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
