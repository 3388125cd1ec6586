"""Where a job reads from. Each source is a small frozen description; the runtime reads it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Mapping

if TYPE_CHECKING:
    from pyspark.sql.types import StructType

FileFormat = Literal["json", "csv", "parquet"]


@dataclass(frozen=True)
class S3Source:
    """Files under an S3 prefix: JSON lines, CSV (header row) or parquet; `.gz` files included.

    With a `schema`, rows that do not parse or do not match it (including nulls in
    non-nullable fields) are quarantined with the reason instead of failing the job.
    `key=value` folders become partition columns.
    """

    path: str
    format: FileFormat = "json"
    schema: "StructType | None" = None
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CatalogSource:
    """A Data Catalog table: its location, format, columns and partition keys come from the catalog."""

    database: str
    table: str
    push_down_predicate: str | None = None  # a SQL predicate on partition columns


@dataclass(frozen=True)
class JdbcSource:
    """A table behind a Glue JDBC connection (the stack's `connection_config`).

    `bookmark_keys` are the monotonically increasing columns Glue's job bookmarks track
    for JDBC sources; with bookmarks enabled a rerun reads only rows beyond the last values.
    """

    connection: str
    table: str
    bookmark_keys: tuple[str, ...] = ()


Source = S3Source | CatalogSource | JdbcSource
