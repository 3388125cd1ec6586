"""The local Data Catalog: Glue-shaped table and connection definitions kept as JSON files.

Tables use the Glue API's `TableInput` shape (StorageDescriptor, PartitionKeys, Parameters),
so a definition returned by `glue.get_table`, written by the local crawler, or written by
hand reads the same way. It lives in the lake's state directory so that separate commands
(`cauce job run`, the local stack, tests) share it.

Locations are stored as AWS stores them, as S3 URIs, so the catalog still holds after the lake
is moved: a location given as a local path (or `file://` URI) inside the lake is stored as the
URI that maps onto it. A location outside the lake is external data and stays as given.
Definitions written before (with a local path inside the lake, usually absolute) are converted
the same way when read: such a path names its data unambiguously, so nothing needs refusing,
and one that dangles fails the read with the location named.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from cauce.etl.commit import atomic_write_json
from cauce.core.lake import S3_SCHEMES, LakePathError, LocalLake

_FORMATS_BY_HINT = (
    ("parquet", "parquet"),
    ("orc", "orc"),
    ("json", "json"),
    ("csv", "csv"),
    ("lazysimpleserde", "csv"),
    ("opencsvserde", "csv"),
)


PARTITIONS_SUFFIX = ".partitions.json"  # beside the table's own file: `<table>.partitions.json`


class CatalogError(LookupError):
    """A database, table or connection that the catalog does not hold."""


@dataclass(frozen=True)
class TableInfo:
    database: str
    name: str
    location: str
    format: str
    columns: tuple[tuple[str, str], ...]
    partition_keys: tuple[tuple[str, str], ...]
    options: dict[str, str]

    @property
    def schema_ddl(self) -> str:
        """Data columns then partition columns, as a Spark DDL string."""
        return ", ".join(f"`{name}` {type_}" for name, type_ in self.columns + self.partition_keys)


def table_input(
    name: str,
    location: str,
    format: str,
    columns: list[tuple[str, str]],
    partition_keys: list[tuple[str, str]] = (),
    parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A Glue `TableInput` for files at `location` (its classification: json, csv, parquet, orc, avro, ...)."""
    return {
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": format, **(parameters or {})},
        "PartitionKeys": [{"Name": n, "Type": t} for n, t in partition_keys],
        "StorageDescriptor": {
            "Location": location,
            "Columns": [{"Name": n, "Type": t} for n, t in columns],
        },
    }


class LocalCatalog:
    def __init__(self, lake: LocalLake):
        self.lake = lake
        self.root = lake.state_dir / "catalog"

    # -- databases and tables ------------------------------------------------------------
    def create_database(self, name: str) -> None:
        (self.root / "databases" / name).mkdir(parents=True, exist_ok=True)

    def databases(self) -> list[str]:
        folder = self.root / "databases"
        return sorted(p.name for p in folder.iterdir()) if folder.exists() else []

    def _table_path(self, database: str, table: str) -> Path:
        return self.root / "databases" / database / f"{table}.json"

    def put_table(self, database: str, definition: dict[str, Any]) -> None:
        """Create or replace a table from a Glue `TableInput` (or `Table`) dict."""
        if "Name" not in definition or "Location" not in definition.get("StorageDescriptor", {}):
            raise ValueError(f"table definition for {database} needs Name and StorageDescriptor.Location")
        self.create_database(database)
        atomic_write_json(self._table_path(database, definition["Name"]), self._with_lake_location(definition))

    def delete_table(self, database: str, table: str) -> None:
        self._table_path(database, table).unlink(missing_ok=True)
        self._partitions_path(database, table).unlink(missing_ok=True)

    def tables(self, database: str) -> list[str]:
        folder = self.root / "databases" / database
        return sorted(p.stem for p in folder.glob("*.json") if not p.name.endswith(PARTITIONS_SUFFIX)) if folder.exists() else []

    # -- partitions (Glue's BatchCreatePartition / GetPartitions, in the `PartitionInput` shape) -------
    def _partitions_path(self, database: str, table: str) -> Path:
        return self.root / "databases" / database / f"{table}{PARTITIONS_SUFFIX}"

    def put_partitions(self, database: str, table: str, partitions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Add partitions (`{"Values": [...], "StorageDescriptor": {"Location": ...}}`) not yet registered;
        returns those added. A partition is named by its values, as in Glue."""
        self.get_table(database, table)  # a partition belongs to a table that exists
        known = {tuple(p["Values"]): p for p in self.get_partitions(database, table)}
        added = [p for p in partitions if tuple(p["Values"]) not in known]
        if added:
            known.update({tuple(p["Values"]): p for p in added})
            atomic_write_json(self._partitions_path(database, table), sorted(known.values(), key=lambda p: p["Values"]))
        return added

    def get_partitions(self, database: str, table: str) -> list[dict[str, Any]]:
        path = self._partitions_path(database, table)
        return json.loads(path.read_text()) if path.exists() else []

    def get_table(self, database: str, table: str) -> dict[str, Any]:
        path = self._table_path(database, table)
        if not path.exists():
            if database not in self.databases():
                known = ", ".join(self.databases()) or "none"
                raise CatalogError(f"database {database!r} not found in the local catalog {self.root} (databases: {known})")
            known = ", ".join(self.tables(database)) or "none"
            raise CatalogError(f"table {database}.{table} not found in the local catalog (tables in {database}: {known})")
        return self._with_lake_location(json.loads(path.read_text()))

    def _with_lake_location(self, definition: dict[str, Any]) -> dict[str, Any]:
        """`definition` with a local location inside the lake as its S3 URI (see the module's docstring)."""
        location = definition["StorageDescriptor"]["Location"]
        if urlparse(location).scheme in S3_SCHEMES:
            return definition
        try:
            uri = self.lake.s3_uri(self.lake.local_path(location), folder=True)
        except LakePathError:
            return definition
        if uri is None:
            return definition
        converted = copy.deepcopy(definition)
        converted["StorageDescriptor"]["Location"] = uri
        return converted

    def resolve(self, database: str, table: str) -> TableInfo:
        definition = self.get_table(database, table)
        descriptor = definition["StorageDescriptor"]
        return TableInfo(
            database=database,
            name=table,
            location=descriptor["Location"],
            format=_table_format(definition, f"{database}.{table}"),
            columns=tuple((c["Name"], c["Type"]) for c in descriptor.get("Columns", [])),
            partition_keys=tuple((c["Name"], c["Type"]) for c in definition.get("PartitionKeys", [])),
            options=dict(descriptor.get("SerdeInfo", {}).get("Parameters", {})),
        )

    # -- connections ---------------------------------------------------------------------
    def put_connection(self, definition: dict[str, Any]) -> None:
        """Store a connection in the seed's `connection_config` shape (name, connection_properties, ...)."""
        atomic_write_json(self.root / "connections" / f"{definition['name']}.json", definition)

    def get_connection(self, name: str) -> dict[str, Any]:
        path = self.root / "connections" / f"{name}.json"
        if not path.exists():
            folder = self.root / "connections"
            known = ", ".join(sorted(p.stem for p in folder.glob("*.json"))) if folder.exists() else "none"
            raise CatalogError(f"connection {name!r} not found in the local catalog (connections: {known})")
        return json.loads(path.read_text())


def _table_format(definition: dict[str, Any], where: str) -> str:
    classification = definition.get("Parameters", {}).get("classification", "").lower()
    if classification in ("json", "csv", "parquet", "orc"):
        return classification
    if classification:  # a crawler's avro, xml, combined_apache or UNKNOWN
        raise CatalogError(f"table {where} is classified {classification!r}: the local runtime reads json, csv, parquet and orc tables")
    descriptor = definition["StorageDescriptor"]
    hints = " ".join(
        [
            descriptor.get("InputFormat", ""),
            descriptor.get("SerdeInfo", {}).get("SerializationLibrary", ""),
        ]
    ).lower()
    for hint, format_ in _FORMATS_BY_HINT:
        if hint in hints:
            return format_
    raise CatalogError(f"table {where}: cannot tell its format (no classification, InputFormat or SerDe)")
