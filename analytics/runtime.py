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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
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
    intermediate: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # streams a pump reads (with `intermediate=True`)


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
    from cauce.analytics.joins import ORDER_COLUMN

    return {name: [c for c in frame.columns if c != ORDER_COLUMN] for name, frame in frames.items()}  # the ORDER BY's rank is hidden


def run(app: AnalyticsApp, records: Iterable[Any], spark: Any, rowtime_column: str | None = None,
        lake: Any = None, intermediate: bool = False) -> AppResult:
    """Run the app over `records` (deterministic mode): its output rows, and the records it refused.

    A record is JSON text (str or bytes, as a stream delivers it) or an object already decoded (a dict).
    Reference tables are read from `lake` (a cauce.core.lake.LocalLake; default: $CAUCE_LAKE or .cauce/lake).
    `intermediate`: also the rows of the streams that other pumps read (`cauce analytics run` shows them).
    """
    program, plans = check(app)
    load_reference_data(app, spark, lake)
    ingested = ingest(spark, app.columns, records, rowtime_column)
    conformed = ingested.frame.cache()  # read by the refusals and by every output: parsed once
    try:
        errors = ingested.errors()
        frames = execute(program, plans, ingested.accepted(app.columns), spark, intermediate=intermediate)
        rows = {name: rows_of(in_rowtime_order(frame)) for name, frame in frames.items()}
    finally:
        conformed.unpersist()
    read = _read_by_pumps(program)
    return AppResult({name: r for name, r in rows.items() if name not in read}, errors, plans,
                     {name: r for name, r in rows.items() if name in read})


def in_rowtime_order(frame: Any) -> Any:
    """A stream's rows in ROWTIME order (rows of one ROWTIME by their columns), or in their pump's ORDER BY if it has
    one: its leading expression is a time bucket (FLOOR(ROWTIME TO SECOND)), and KDA sorts each bucket's rows by the rest."""
    from cauce.analytics.joins import ORDER_COLUMN

    columns = [c for c in frame.columns if c not in ("ROWTIME", ORDER_COLUMN)]
    if ORDER_COLUMN not in frame.columns:
        return frame.orderBy("ROWTIME", *columns)
    return frame.orderBy(ORDER_COLUMN).drop(ORDER_COLUMN)


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
            table_state: dict[str, Any] | None = None, intermediate: bool = False) -> dict[str, Any]:
    """The app's output streams as DataFrames (`intermediate`: and the streams pumps read), computed from the input stream's DataFrame.
    `table_state` holds the table functions' models across calls (a continuous run's micro-batches)."""
    from pyspark.sql import functions as F

    from cauce.analytics.joins import ORDER_COLUMN

    sequenced = any(SEQUENCE_COLUMN in plan for plan in plans.values())  # a sliding RANGE window reads the streams
    if sequenced:
        input_frame = _with_sequence(input_frame, by_arrival=True)
    elif LINE_COLUMN in input_frame.columns:
        input_frame = input_frame.drop(LINE_COLUMN)
    input_frame.createOrReplaceTempView(f"`{INPUT_STREAM}`")
    read_by_pumps = _read_by_pumps(program)
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
    return {name: frame for name, frame in frames.items() if intermediate or name not in read_by_pumps}


def _read_by_pumps(program: Program) -> set[str]:
    """The streams some pump reads: the app's intermediate streams (the others are its outputs)."""
    return {source for pump in program.pumps for source in pump.sources}


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
            frame = reference_frame(name, table, path.read_text(encoding="utf-8"), spark)
        else:
            reader = spark.read.option("header", True).option("inferSchema", True)
            frame = reader.csv(str(path)) if table.format == "csv" else spark.read.json(str(path))
        frame.createOrReplaceTempView(f"`{name}`")


def reference_frame(name: str, table: Any, text: str, spark: Any) -> Any:
    """A reference table by its RecordColumns: CSV fields by position, split at RecordColumnDelimiter and
    RecordRowDelimiter (every line a row, as KDA has no header option), or JSON values by each column's Mapping;
    the values converted as the input stream's are (cauce.analytics.ingest). A row that does not fit is refused
    naming the table, its line and the column."""
    import dataclasses
    import json

    from pyspark.sql import functions as F

    from cauce.analytics.ingest import ingest_table

    columns = table.columns
    if table.format == "csv":
        records = []
        for number, line in enumerate(text.split(table.row_delimiter), start=1):
            if not line.strip("\r\n"):
                continue  # the empty piece after the last row delimiter
            fields = line.rstrip("\r").split(table.column_delimiter)
            if len(fields) != len(columns):
                raise AnalyticsSqlError(f"reference data {name} ({table.path}), line {number}: {len(fields)} field(s), "
                                        f"the schema has {len(columns)} column(s)")
            # an empty field is NULL for a column that is not a string
            records.append((number, {c.name: (None if f == "" and c.spark_type != "string" else f) for c, f in zip(columns, fields)}))
        columns = tuple(dataclasses.replace(c, mapping=None) for c in columns)  # a CSV field is its column's, by position
    else:
        try:
            document = json.loads(text)
            found = [document] if table.row_path == "$" and isinstance(document, dict) else _json_rows(document, table.row_path)
            records = [(index, row) for index, row in enumerate(found, start=1)]
        except json.JSONDecodeError:  # JSON lines: an object a line
            records = [(number, line.encode()) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    ingested = ingest_table(spark, columns, [record for _, record in records])
    conformed = ingested.frame.cache()
    errors = ingested.errors()
    if errors:
        conformed.unpersist()
        first = errors[0]
        raise AnalyticsSqlError(f"reference data {name} ({table.path}), line {records[first['line'] - 1][0]}: {first['reason']}")
    return conformed.select(*[F.col(f"`{c.name}`") for c in columns])


def _json_rows(document: Any, row_path: str) -> list[Any]:
    """The rows a RecordRowPath names: `$` (an array's elements) or `$.a.b` / `$.a[*]` (the array there)."""
    value = document
    for part in _path(row_path.replace("[*]", "")) if row_path not in ("$", "$[*]") else []:
        value = value.get(part) if isinstance(value, dict) else None
    return value if isinstance(value, list) else [value] if isinstance(value, dict) else []


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
