"""Glue's type names and choice types on Spark columns.

A DynamicFrame carries a schema per record: where one field holds values of different types in
different records, its type is a *choice* of those types. Locally a choice column is kept as the
one Spark column the reader produced (text for CSV, and for JSON Spark's widened string, which holds a
non-string value as its JSON text), plus the list of types seen; each value's own type is read back
from its text (`value_type`). `toDF()` turns a choice into a struct with one field per type, as Glue does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column
    from pyspark.sql.types import DataType

# Glue (and Hive) type names -> Spark SQL types
_SPARK_TYPES = {
    "string": "string", "varchar": "string", "char": "string",
    "long": "bigint", "bigint": "bigint", "int": "int", "integer": "int", "short": "smallint",
    "smallint": "smallint", "byte": "tinyint", "tinyint": "tinyint",
    "double": "double", "float": "float", "boolean": "boolean", "bool": "boolean",
    "timestamp": "timestamp", "date": "date", "binary": "binary", "null": "string",
}

LONG_TEXT = r"^\s*[-+]?\d{1,18}\s*$"
DOUBLE_TEXT = r"^\s*[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?\s*$"
BOOLEAN_TEXT = r"^(true|false)$"


def spark_type(glue_type: str) -> str:
    """A Glue type name (`long`, `decimal(10,2)`, `array<string>`...) as a Spark SQL type string."""
    name = glue_type.strip().lower()
    if name in _SPARK_TYPES:
        return _SPARK_TYPES[name]
    return name  # decimal(p,s), array<...>, struct<...>, map<...> are spelled the same in Spark


def glue_type_name(data_type: "DataType") -> str:
    """Glue's name for a Spark type (as printSchema shows it)."""
    from pyspark.sql import types as T

    names = {T.LongType: "long", T.IntegerType: "int", T.ShortType: "short", T.ByteType: "byte",
             T.DoubleType: "double", T.FloatType: "float", T.StringType: "string", T.BooleanType: "boolean",
             T.TimestampType: "timestamp", T.DateType: "date", T.BinaryType: "binary", T.NullType: "null"}
    for spark_class, name in names.items():
        if isinstance(data_type, spark_class):
            return name
    if isinstance(data_type, T.DecimalType):
        return f"decimal({data_type.precision},{data_type.scale})"
    if isinstance(data_type, T.ArrayType):
        return "array"
    if isinstance(data_type, T.StructType):
        return "struct"
    if isinstance(data_type, T.MapType):
        return "map"
    return data_type.simpleString()


def value_type(column: "Column", *, json: bool) -> "Column":
    """The type name of each value of a text column: `long`, `double`, `boolean` or `string`
    (for JSON also `struct` and `array`, Spark keeping those as their JSON text); null stays null."""
    from pyspark.sql import functions as F

    text = column.cast("string")
    kinds = F.when(text.rlike(LONG_TEXT), F.lit("long")).when(text.rlike(DOUBLE_TEXT), F.lit("double"))
    if json:
        kinds = kinds.when(text.rlike(BOOLEAN_TEXT), F.lit("boolean")).when(text.startswith("{"), F.lit("struct")) \
            .when(text.startswith("["), F.lit("array"))
    return F.when(column.isNull(), F.lit(None)).otherwise(kinds.otherwise(F.lit("string")))


def merge_types(seen: set[str]) -> list[str]:
    """The types a field takes: numeric kinds widen (long and double are double); anything else
    mixed stays a choice, listed in a fixed order."""
    kinds = set(seen) - {None}
    if {"long", "double"} <= kinds:
        kinds.discard("long")
    order = ["boolean", "long", "double", "string", "struct", "array"]
    return sorted(kinds, key=lambda k: order.index(k) if k in order else len(order))
