"""The input stream of an app, conformed inside Spark: JSON records -> the input schema's columns
(RecordColumns' `$.path` mappings and SQL types) -> ROWTIME -> the records refused, with the reason.

The records go to the JVM as they are (JSON text; records already decoded, as tests and the
Kinesis reader give them, are serialised back to JSON lines first), and Spark's JSON reader parses
them once against a schema built from the mappings (`spark.read.json` on an RDD of the texts, as a
hand-written PySpark job reads them). Each column's value and each refusal is then a Spark
expression, so no record passes through Python. A refused record is never dropped: it is reported
with its 1-based line and the reason.

A record's line is its place in the RDD: the texts are cut into one slice per partition, and a
row's line is its slice's start plus its index in the partition (the low bits of
`monotonically_increasing_id`). That holds because the JSON reader gives exactly one row per text
that starts with `{` (parsed, or flagged corrupt); a text that does not (an array gives one row per
element, a blank none) is sent as a lone `{`, which is one corrupt row, and its reason is worked
out from the record itself. (A pandas/Arrow frame of the texts would carry the line as a column,
but Spark builds it as a local relation on the driver, where the whole parse then runs in one
thread: 3x slower on two cores.)

Values follow KDA's "Mapping JSON Data Types to SQL Data Types" (Kinesis Data Analytics SQL
Developer Guide, sch-mapping.html#sch-mapping-datatypes):
- null is NULL whatever the type; a path that is not in the record is NULL too;
- numbers convert directly to numeric types; one that does not fit (123.4 into INT, 3e9 into
  INTEGER) is refused; `true`/`false` are 1/0; a string is converted if it reads as a number;
- BOOLEAN: `true`/`false`; a number is false when 0, else true; a string is true when it is
  "true" (any case), else false;
- CHAR/VARCHAR(n): the string, or the text of a number, boolean, array or object, truncated to
  n characters with no error (CHAR(n) is padded to n, its fixed length);
- DATE/TIMESTAMP: a string in a date format ("1992-02-14", "1992-02-14 18:35:44.0", ISO 8601);
  a number or boolean is refused; TIMESTAMPs are kept to the millisecond, as KDA holds them;
- BINARY/VARBINARY: a binary literal string (X'3F67A23A'); `true`/`false` a byte 1/0;
- an array or object converts only to CHAR/VARCHAR (its source text).

Spark's own typed reading of a JSON number or boolean is exact for the numeric and BOOLEAN
columns, so those are read typed (as fast as the hand-written job); a record where such a read
failed (a string in a DOUBLE column, say) is flagged by Spark as corrupt, and only for those
records is the value worked out again from the text by KDA's rules above.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from cauce.analytics.app import Column
from cauce.analytics.dialect import AnalyticsSqlError
from cauce.core.kinesis import ARRIVAL_FIELD

LINE_COLUMN = "__cauce_line"  # 1-based place of the record in the input (carried records: 0 and below)
REFUSED_COLUMN = "__cauce_refused"
_CORRUPT = "__cauce_corrupt"  # Spark's columnNameOfCorruptRecord: the text of a record whose typed read failed, or that is no JSON object
_NOT_AN_OBJECT = "{"  # sent in place of a text that does not start with "{": one corrupt row, as the reader gives for it
_SLICE_RECORDS = 50_000  # records per slice at most: a slice goes to its Python worker as one pickled list
_INDEX_BITS = 33  # monotonically_increasing_id: the partition id above these bits, the row's index in its partition below
_RECORD_LEVEL = "\x00record"  # a refusal of the whole record: its message is worked out in Python (json's own words)
_TYPED = {"double", "float", "int", "bigint", "smallint", "tinyint", "boolean"}  # read by Spark's typed JSON reader
_INTEGER_RANGES = {"tinyint": (-2**7, 2**7 - 1), "smallint": (-2**15, 2**15 - 1), "int": (-2**31, 2**31 - 1),
                   "bigint": (-2**63, 2**63 - 1)}


@dataclass(frozen=True)
class Ingested:
    """The conformed input: `frame` holds every record (line, the app's columns, ROWTIME,
    APPROXIMATE_ARRIVAL_TIME and the reason it was refused, NULL if not); `records` the inputs by
    line, `texts` the JSON texts of the carried records and then of the inputs."""

    frame: Any
    records: Sequence[Any]
    texts: Sequence[bytes]
    carried: int

    def text(self, line: int) -> bytes:
        return self.texts[line + self.carried - 1]

    def accepted(self, columns: tuple[Column, ...]) -> Any:
        """The input stream's rows (with their line, for the arrival order of rows of one ROWTIME)."""
        from pyspark.sql import functions as F

        names = [F.col(f"`{c.name}`") for c in columns]
        return self.frame.where(F.col(REFUSED_COLUMN).isNull()).select(*names, "ROWTIME", "APPROXIMATE_ARRIVAL_TIME", LINE_COLUMN)

    def errors(self, rows: Iterable[Any] | None = None) -> list[dict[str, Any]]:
        """The refused records, in input order: {"line": 1-based, "record": as given, "reason": ...}."""
        from pyspark.sql import functions as F

        if rows is None:
            rows = self.frame.where(F.col(REFUSED_COLUMN).isNotNull()).select(LINE_COLUMN, REFUSED_COLUMN).orderBy(LINE_COLUMN).collect()
        errors = []
        for line, reason in rows:
            record = self.records[line - 1]
            if reason == _RECORD_LEVEL:
                reason = _record_reason(_json_text(record))
            errors.append({"line": line, "record": record, "reason": reason})
        return errors


def ingest(spark: Any, columns: tuple[Column, ...], records: Iterable[Any], rowtime_column: str | None = None,
           carried: Sequence[bytes] = ()) -> Ingested:
    """Conform `records` (JSON text as str or bytes, or decoded objects) onto the input schema.

    `carried` are JSON texts of records accepted before (a micro-batch's carry): they come first,
    with lines 0 and below, so that they keep their arrival order and are never reported again."""
    names = [c.name for c in columns]
    if rowtime_column is not None and rowtime_column not in names:  # a setting's mistake, not a record's: refuse the run
        raise AnalyticsSqlError(f"rowtime column {rowtime_column!r} is not a column of the input schema ({', '.join(names)})")
    records = records if isinstance(records, list) else list(records)
    texts = [*carried, *map(_json_text, records)]
    return Ingested(_conformed(spark, columns, texts, len(carried), rowtime_column), records, texts, len(carried))


def _json_text(record: Any) -> bytes:
    if isinstance(record, bytes):
        return record
    if isinstance(record, str):
        return record.encode()
    import orjson

    # decoded records (tests, CSV rows, the Kinesis reader): back to JSON, the form a stream delivers
    return orjson.dumps(record, default=str, option=orjson.OPT_NON_STR_KEYS)


def _readable(texts: list[bytes]) -> Iterator[str]:
    """The texts as the JSON reader takes them (in the Python workers, beside the reader's own encoding);
    one that would not be exactly one row is sent as a lone brace."""
    for text in texts:
        try:
            decoded = text.decode()
        except UnicodeDecodeError:  # refused whole: its reason is worked out from the record
            yield _NOT_AN_OBJECT
            continue
        yield decoded if decoded[:1] == "{" or decoded.lstrip()[:1] == "{" else _NOT_AN_OBJECT


def _read(spark: Any, texts: list[bytes], carried: int, schema: Any) -> Any:
    """Spark's JSON reader over the texts against `schema` (PERMISSIVE: a misfit is flagged, with its
    text, in the corrupt-record column), with each row's line worked out from where it was read."""
    from pyspark.sql import functions as F

    # at least one slice per core, and none so large that its one pickled list strains the driver's heap
    slices = max(1, min(max(spark.sparkContext.defaultParallelism, -(-len(texts) // _SLICE_RECORDS)), len(texts)))
    starts = [len(texts) * i // slices for i in range(slices + 1)]
    chunks = [texts[starts[i]:starts[i + 1]] for i in range(slices)]
    rdd = spark.sparkContext.parallelize(chunks, slices).flatMap(_readable)
    frame = spark.read.schema(schema).options(mode="PERMISSIVE", columnNameOfCorruptRecord=_CORRUPT).json(rdd)
    index = F.monotonically_increasing_id()
    start = F.element_at(F.array(*[F.lit(start + 1 - carried) for start in starts[:-1]]), F.shiftright(index, _INDEX_BITS).cast("int") + 1)
    return frame.select((start + index.bitwiseAND(F.lit((1 << _INDEX_BITS) - 1))).alias(LINE_COLUMN), "*")


class _Tree:
    """The parse schema: the mappings' paths as nested fields (an array's elements as one type), each
    leaf read as one type. A path that clashes with another (a leaf also a parent, an array also an
    object, a leaf read as two types) is read with get_json_object instead."""

    ELEMENT = object()  # the key of an array's elements: every index reads the same type

    def __init__(self) -> None:
        self.fields: dict[Any, Any] = {}  # name (or ELEMENT) -> _Tree or a leaf's type name

    def add(self, path: list[Any], leaf: str) -> bool:
        node = self
        for depth, part in enumerate(path):
            key = self.ELEMENT if isinstance(part, int) else part
            if node.fields and (key is self.ELEMENT) != node.is_array():
                return False
            existing = node.fields.get(key)
            if depth == len(path) - 1:
                if existing is None:
                    node.fields[key] = leaf
                return existing is None or existing == leaf
            if existing is None:
                existing = node.fields[key] = _Tree()
            if not isinstance(existing, _Tree):
                return False
            node = existing
        return True

    def is_array(self) -> bool:
        return self.ELEMENT in self.fields

    def spark_type(self, leaf_type: Any = None) -> Any:
        """The Spark type; `leaf_type(name)` maps each leaf's type name (default: as added)."""
        from pyspark.sql import types as T

        def convert(node: Any) -> Any:
            if not isinstance(node, _Tree):
                return T._parse_datatype_string(leaf_type(node) if leaf_type else node)
            if node.is_array():
                return T.ArrayType(convert(node.fields[self.ELEMENT]))
            return T.StructType([T.StructField(key, convert(child)) for key, child in node.fields.items()])

        return convert(self)


def ingest_table(spark: Any, columns: tuple[Column, ...], records: Iterable[Any]) -> Ingested:
    """Conform the rows of a reference table (JSON objects, or dicts) onto its RecordColumns, by the
    same rules as the input stream's records; a table has no arrival times, so no ROWTIME."""
    records = records if isinstance(records, list) else list(records)
    texts = list(map(_json_text, records))
    schema, conformed, _timed, _stream, table = _projections(spark.sparkContext, columns, None)
    frame = _read(spark, texts, 0, schema).select(*conformed).select(*table)
    return Ingested(frame, records, texts, 0)


def _conformed(spark: Any, columns: tuple[Column, ...], texts: list[bytes], carried: int, rowtime_column: str | None) -> Any:
    schema, conformed, timed, stream, _table = _projections(spark.sparkContext, columns, rowtime_column)
    return _read(spark, texts, carried, schema).select(*conformed).select(*timed).select(*stream)


@functools.lru_cache(maxsize=64)
def _projections(context: Any, columns: tuple[Column, ...], rowtime_column: str | None) -> tuple[Any, ...]:
    """The parse schema, then the projections that conform a parsed frame (the values and their
    refusals; ROWTIME; the input stream's columns; or, after the first, a reference table's): built once per input
    schema (and SparkContext), as a micro-batch run conforms every batch alike and each of the
    several hundred expressions is a call into the JVM."""
    from pyspark.sql import Column as SparkColumn
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    paths = [_path(c.mapping) if c.mapping else [c.name] for c in columns]
    leaves = [c.spark_type if c.spark_type in _TYPED else "string" for c in columns]
    raw = _raw_keys([*paths, [ARRIVAL_FIELD]], [*leaves, "string"])
    tree = _Tree()
    for path, leaf in zip(paths, leaves):
        if path[0] not in raw:
            tree.add(path, leaf)
    for path in [*([key] for key in raw), [ARRIVAL_FIELD]]:
        tree.add(path, "string")
    schema = T.StructType([*tree.spark_type().fields, T.StructField(_CORRUPT, T.StringType())])
    text = F.col(_CORRUPT)  # a flagged record's text; NULL for the others, which need none
    flagged = text.isNotNull()
    # only a flagged record is read again: every leaf as text, and every typed leaf probed for what the JSON held there
    strings = F.when(flagged, F.from_json(text, tree.spark_type(lambda _: "string")))
    probes = F.when(flagged, F.from_json(text, tree.spark_type(lambda leaf: "double" if leaf == "boolean" else "boolean")))

    def at(root: SparkColumn | None, path: list[Any]) -> SparkColumn:
        """The field at `path` in a struct, or (root None) in the parsed record's columns."""
        if root is None:
            root, path = F.col("`" + str(path[0]).replace("`", "``") + "`"), path[1:]
        for part in path:
            root = root.getItem(part) if isinstance(part, int) else root.getField(str(part))
        return root

    def leaf_text(path: list[Any]) -> SparkColumn:
        """The text at a path under a key read whole as its JSON text (see _raw_keys)."""
        return at(None, path[:1]) if len(path) == 1 else F.get_json_object(at(None, path[:1]), _json_path(path[1:]))

    values, reasons = [], []
    for column, path in zip(columns, paths):
        if path[0] in raw:
            source = leaf_text(path)
            value, bad = _from_text(column, source, None)
        elif column.spark_type in _TYPED:
            typed, source = at(None, path), at(strings, path)
            again, bad_again = _from_text(column, source, at(probes, path))
            failed = flagged & typed.isNull()
            value, bad = F.when(failed, again).otherwise(typed), failed & bad_again
        else:
            source = at(None, path)
            value, bad = _from_text(column, source, None)
        values.append(value.alias(column.name))
        reasons.append(F.when(bad, _coercion_message(column, source)))
    arrival_text = leaf_text([ARRIVAL_FIELD]) if ARRIVAL_FIELD in raw else at(None, [ARRIVAL_FIELD])
    whole_record = flagged & (~F.ltrim(text).startswith("{") | F.get_json_object(text, "$").isNull())
    # the text is not kept: a refused record's text is the input's, in Python, by its line
    conformed = [F.col(LINE_COLUMN), whole_record.alias("__cauce_whole_record"), *values, *_aliased(reasons),
                 arrival_text.alias("__cauce_arrival_text")]
    arrival, bad_arrival = _arrival(F.col("__cauce_arrival_text"))
    if rowtime_column is not None:
        rowtime = next(c for c in columns if c.name == rowtime_column)
        from_column = F.col(f"`{rowtime.name}`")
        if rowtime.spark_type != "timestamp":
            from_column = _arrival(from_column.cast("string"))[0]
        arrival = F.when(F.col("__cauce_arrival_text").isNull(), from_column).otherwise(arrival)
    names = [F.col(f"`{c.name}`") for c in columns]
    # ROWTIME worked out once, in a projection of its own, then read by the refusal and both time columns
    timed = [F.col(LINE_COLUMN), F.col("__cauce_whole_record"), *names, *[F.col(f"__cauce_reason_{i}") for i in range(len(reasons))],
             F.col("__cauce_arrival_text"), arrival.alias("__cauce_arrival"), bad_arrival.alias("__cauce_bad_arrival")]
    # a record's own refusals (not JSON, a value that does not convert), first; a stream's record also needs an arrival time
    own = [F.when(F.col("__cauce_whole_record"), F.lit(_RECORD_LEVEL)), *[F.col(f"__cauce_reason_{i}") for i in range(len(reasons))]]
    refused = F.coalesce(
        *own,
        F.when(F.col("__cauce_bad_arrival"), F.concat(F.lit(f"{ARRIVAL_FIELD}: '"), F.col("__cauce_arrival_text"),
                                                      F.lit("' is not a timestamp (ISO 8601 or epoch seconds/milliseconds)"))),
        F.when(F.col("__cauce_arrival").isNull(), F.lit(f"no arrival time: give the record an {ARRIVAL_FIELD} or run with a rowtime column")),
    )
    result = [F.col(LINE_COLUMN), *names, F.col("__cauce_arrival").alias("ROWTIME"), F.col("__cauce_arrival").alias("APPROXIMATE_ARRIVAL_TIME"),
              refused.alias(REFUSED_COLUMN)]
    table = [F.col(LINE_COLUMN), *names, F.coalesce(*own).alias(REFUSED_COLUMN)]
    return schema, conformed, timed, result, table


def _raw_keys(paths: list[list[Any]], leaves: list[str]) -> set[Any]:
    """The record's top-level keys to read whole, as their JSON text: those under which two paths
    clash (a leaf that is also a parent, an array also an object, a leaf read as two types), which
    one parse schema cannot hold. Their columns are then taken from that text with get_json_object."""
    tree, raw = _Tree(), set()
    for path, leaf in zip(paths, leaves):
        if not tree.add(path, leaf):
            raw.add(path[0])
    return raw


def _aliased(reasons: list[Any]) -> list[Any]:
    return [reason.alias(f"__cauce_reason_{i}") for i, reason in enumerate(reasons)]


def _from_text(column: Column, text: Any, probe: Any) -> tuple[Any, Any]:
    """(value, refused) of a column from the text Spark read at its path (a string's value, else the
    JSON text of the number, boolean, array or object), by KDA's rules. `probe` (typed columns only)
    is the same leaf read as BOOLEAN (numeric columns) or DOUBLE (BOOLEAN columns): non-NULL when the
    JSON held a boolean, or a number, there."""
    from pyspark.sql import functions as F

    kind = column.spark_type
    present = text.isNotNull()
    container = text.startswith("[") | text.startswith("{")
    if kind == "boolean":
        probe = probe if probe is not None else text.cast("double")
        value = (F.when(probe.isNotNull(), probe != 0).when(container, F.lit(None).cast("boolean"))
                 .otherwise(F.lower(text) == "true"))
        return value, present & container & probe.isNull()
    if kind in ("double", "float") or kind in _INTEGER_RANGES or kind.startswith("decimal"):
        as_boolean = probe.isNotNull() if probe is not None else text.isin("true", "false")
        boolean_value = F.when(probe if probe is not None else text == "true", 1).otherwise(0)
        if kind in ("double", "float"):
            number = _try_cast(text, kind)
        elif kind in _INTEGER_RANGES:
            low, high = _INTEGER_RANGES[kind]
            exact = _try_cast(text, "decimal(38,10)")
            number = F.when((exact == F.floor(exact)) & exact.between(low, high), exact.cast(kind))
        else:  # DECIMAL(p,s): refused when the value does not fit, or would be rounded
            exact, fitted = _try_cast(text, "decimal(38,18)"), _try_cast(text, kind)
            number = F.when(exact == fitted, fitted)
        value = F.when(as_boolean, boolean_value.cast(kind)).otherwise(number)
        return value, present & value.isNull()
    if kind in ("timestamp", "date"):
        looks_like_a_date = (F.substring(text, 5, 1) == "-") & (F.substring(text, 8, 1) == "-")  # a number never does
        converted = _try_cast(text, kind)
        value = F.when(looks_like_a_date, F.date_trunc("MILLISECOND", converted) if kind == "timestamp" else converted)
        return value, present & value.isNull()
    if kind == "binary":
        literal = text.rlike("^[xX]'([0-9a-fA-F]{2})*'$")
        value = (F.when(literal, F.unhex(text.substr(F.lit(3), F.length(text) - 3)))
                 .when(text == "true", F.unhex(F.lit("01"))).when(text == "false", F.unhex(F.lit("00"))))
        return value, present & value.isNull()
    length = column.max_length
    if length is None:
        return text, F.lit(False)
    fixed = column.sql_type.strip().upper().startswith("CHAR") and not column.sql_type.strip().upper().startswith("CHARACTER VARYING")
    # KDA truncates a longer string to the column's length, with no error; CHAR(n) is of length n
    return (F.rpad(text, length, " ") if fixed else F.substring(text, 1, length)), F.lit(False)


def _try_cast(text: Any, spark_type: str) -> Any:
    """NULL where the text does not convert: Spark's cast outside ANSI mode (Cauce's sessions, and Glue 5.0's default)."""
    return text.cast(spark_type)


def _arrival(text: Any) -> tuple[Any, Any]:
    """ROWTIME from an arrival time: ISO 8601, or epoch seconds (or milliseconds, above 1e11), to the millisecond."""
    from pyspark.sql import functions as F

    looks_like_a_date = (F.substring(text, 5, 1) == "-") & (F.substring(text, 8, 1) == "-")
    epoch = F.when(~looks_like_a_date, _try_cast(text, "double"))  # a cast that fails costs an exception: only where needed
    from_epoch = F.when(epoch > 1e11, F.timestamp_millis(F.floor(epoch))).otherwise(F.timestamp_micros(F.floor(epoch * 1_000_000)))
    value = F.date_trunc("MILLISECOND", F.when(looks_like_a_date, _try_cast(text, "timestamp")).otherwise(from_epoch))
    return value, text.isNotNull() & value.isNull()


def _coercion_message(column: Column, text: Any) -> Any:
    from pyspark.sql import functions as F

    kind = column.spark_type.split("(")[0]
    article = "an" if kind[0] in "aeiou" else "a"
    return F.concat(F.lit(f"column {column.name} ({column.sql_type}): '"), F.coalesce(text, F.lit("?")), F.lit(f"' is not {article} {kind}"))


def _record_reason(text: bytes) -> str:
    """Why a whole record was refused, in json's words: not UTF-8 or not JSON (where), or not an object."""
    try:
        value = json.loads(text.decode())
    except UnicodeDecodeError as error:
        return f"not valid UTF-8: byte {error.start + 1} ({text[error.start:error.start + 1]!r})"
    except json.JSONDecodeError as error:
        return f"not valid JSON: {error.msg} (column {error.colno})"
    kinds = {str: "a string", list: "an array", bool: "a boolean", int: "a number", float: "a number", type(None): "null"}
    if not isinstance(value, dict):
        return f"expected a JSON object, got {kinds.get(type(value), type(value).__name__)}"
    return "not valid JSON: Spark's JSON reader refused it"


def _path(mapping: str) -> list[Any]:
    import re

    return [int(part) if part.isdigit() else part for part in re.findall(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[\"([^\"]+)\"\]|\[(\d+)\]", mapping)
            for part in [next(p for p in part if p)]]


def _json_path(path: list[Any]) -> str:
    """The path as get_json_object writes it."""
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f"['{part}']" for part in path)

