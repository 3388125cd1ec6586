"""Where a job writes. Writes are staged and published only when the run commits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

WriteMode = Literal["append", "overwrite"]


@dataclass(frozen=True)
class S3Sink:
    """Files under an S3 prefix, optionally partitioned into `key=value` folders.

    `mode="overwrite"` replaces only the partitions this run writes (Spark's dynamic
    partition overwrite); an unpartitioned overwrite replaces the whole prefix.
    """

    path: str
    format: Literal["parquet", "json", "csv"] = "parquet"
    partition_by: tuple[str, ...] = ()
    mode: WriteMode = "append"
    compression: str | None = None  # parquet: snappy (default); json/csv: gzip or none


@dataclass(frozen=True)
class CatalogSink:
    """A Data Catalog table: written to its location and format; new partitions are registered."""

    database: str
    table: str
    mode: WriteMode = "append"


Sink = S3Sink | CatalogSink
