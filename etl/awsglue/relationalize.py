"""Relationalize, as Glue documents it: structs flattened into dotted field names, each array pivoted
out into its own table (`<parent>_<path>`) with `id` (the value left in the parent's field), `index`
(the position in the array) and the element's fields under `<path>.val`.

The ids are drawn once and the frame is written to the staging path and read back before the
tables are split (Glue stages pivoted tables the same way), so parent and child tables agree on
them however often each is computed.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

_ROW_ID = "_cauce_row_id"


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def relationalize(df: "DataFrame", root: str, staging: Path) -> dict[str, "DataFrame"]:
    tables: dict[str, DataFrame] = {}
    _split(df, root, staging, tables, keys=[])
    return tables


def _flatten(df: "DataFrame", keys: list[str]) -> tuple["DataFrame", list[str]]:
    """Structs to dotted columns; returns the frame and its array columns."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import ArrayType, StructType

    columns, arrays = [], []

    def walk(data_type: StructType, prefix: list[str]) -> None:
        for field in data_type.fields:
            path = prefix + [field.name]
            name = ".".join(path)
            reference = ".".join(_q(p) for p in path)
            if isinstance(field.dataType, StructType):
                walk(field.dataType, path)
                continue
            columns.append(F.col(reference).alias(name))
            if isinstance(field.dataType, ArrayType):
                arrays.append(name)

    walk(df.schema, [])
    return df.select(*columns), arrays


def _split(df: "DataFrame", name: str, staging: Path, tables: dict[str, "DataFrame"], keys: list[str]) -> None:
    from pyspark.sql import functions as F
    from pyspark.sql.types import StructType

    flat, arrays = _flatten(df, keys)
    if not arrays:
        tables[name] = flat
        return
    spark = flat.sparkSession
    folder = staging / f"{name}-{uuid.uuid4().hex[:8]}"
    # one id per row per array column, drawn once and staged so that every table sees the same ids
    with_ids = flat.withColumn(_ROW_ID, F.monotonically_increasing_id() + F.lit(1))
    with_ids.write.mode("overwrite").parquet(str(folder))
    staged = spark.read.parquet(str(folder))
    parent_columns = [F.when(F.col(_q(c)).isNotNull(), F.col(_ROW_ID)).alias(c) if c in arrays else F.col(_q(c)) for c in flat.columns]
    tables[name] = staged.select(*parent_columns)
    for array in arrays:
        element_type = flat.schema[array].dataType.elementType
        exploded = staged.select(F.col(_ROW_ID).alias("id"), F.posexplode(F.col(_q(array))).alias("index", "val"))
        if isinstance(element_type, StructType):
            child = exploded.select("id", "index", *[F.col(f"val.{_q(f.name)}").alias(f"{array}.val.{f.name}") for f in element_type.fields])
        else:
            child = exploded.select("id", "index", F.col("val").alias(f"{array}.val"))
        _split(child, f"{name}_{array}", staging, tables, keys=["id", "index"])
