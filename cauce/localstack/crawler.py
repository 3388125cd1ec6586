"""Glue crawlers on the local lake: tables inferred from the files under the crawler's S3
targets, registered in the local catalog that the ETL runtime reads (`CatalogSource`).

As Glue does (Developer Guide: "Defining and managing classifiers", "How crawlers determine when
to create partitions", "Scheduling incremental crawls"):
- one table per target folder, named `<table_prefix><folder>` (lower case, `-` as `_`);
- the format recognised by content, as the built-in classifiers do, gzip included (Firehose
  objects have no extension): parquet, ORC and Avro by their magic bytes, JSON, XML, Apache
  combined logs (classification `combined_apache`, the grok fields as strings), and CSV when a
  delimiter (comma, pipe, tab, semicolon, Ctrl-A) splits the first lines into the same two or more
  columns; anything else is classified `UNKNOWN`, with no columns. Avro's schema is read from the
  file's header (Spark here has no Avro reader); XML's columns are not inferred locally;
- `key=value` folders become partition keys, typed `string` as Glue types them, and every
  partition folder is registered as a partition of the table (GetPartitions);
- `exclusions` are globs relative to the target; files whose names start with `_` or `.` are
  skipped;
- the schema change policy decides what a changed schema does (UPDATE_IN_DATABASE updates the
  table, LOG only reports it), and the delete behaviour what a target with no files left does
  (DELETE_FROM_DATABASE, DEPRECATE_IN_DATABASE, LOG);
- CRAWL_NEW_FOLDERS_ONLY reads only the files of partition folders it has not seen, adds them as
  partitions, and merges their columns into the table's (state kept in the lake, the folders named
  by S3 URI; a state file of the earlier format names no URI, so the next crawl reads everything once).
Not done: custom classifiers, and partitions of folders not named `key=value` (`partition_0`).
"""

from __future__ import annotations

import copy
import fnmatch
import gzip
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cauce.etl.catalog import CatalogError, table_input


@dataclass
class CrawlResult:
    crawler: str
    tables_created: list[str] = field(default_factory=list)
    tables_updated: list[str] = field(default_factory=list)
    tables_deleted: list[str] = field(default_factory=list)
    tables_deprecated: list[str] = field(default_factory=list)
    changes_logged: list[str] = field(default_factory=list)
    files_scanned: int = 0
    partitions: int = 0
    empty_targets: list[str] = field(default_factory=list)


class LocalCrawler:
    def __init__(self, config: Mapping[str, Any], lake: Any, catalog: Any, spark: Any) -> None:
        self.config = config
        self.name = config["name"]
        self.lake, self.catalog, self.spark = lake, catalog, spark
        self.state_file = lake.state_dir / "crawlers" / f"{self.name}.json"

    def run(self) -> CrawlResult:
        result = CrawlResult(self.name)
        database = self.config["database_name"]
        self.catalog.create_database(database)
        policy = self.config.get("schema_change_policy") or {}
        new_only = (self.config.get("recrawl_policy") or {}).get("recrawl_behavior") == "CRAWL_NEW_FOLDERS_ONLY"
        seen = set(json.loads(self.state_file.read_text())) if new_only and self.state_file.exists() else set()
        for target in self.config.get("s3_target", []):
            uri = target["path"].rstrip("/") + "/"
            root = self.lake.local_path(uri)
            table = (self.config.get("table_prefix", "") + root.name).lower().replace("-", "_")
            files = self._files(root, target.get("exclusions") or [])
            if not files:
                result.empty_targets.append(uri)
                self._gone(database, table, policy.get("delete_behavior", "LOG"), result)
                continue
            incremental = new_only and table in self.catalog.tables(database)
            if incremental:  # only the files of folders not seen before
                files = [f for f in files if self._folder_uri(f.parent) not in seen]
                if not files:
                    continue
            folders = {self._folder_uri(f.parent) for f in files}
            seen |= folders
            result.files_scanned += len(files)
            definition = self._infer(table, uri, root, files)
            if incremental:
                definition = _merged(self.catalog.get_table(database, table), definition)
            self._register(database, definition, policy.get("update_behavior", "UPDATE_IN_DATABASE"), result)
            result.partitions += self._register_partitions(database, table, root, files)
        if new_only:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            self.state_file.write_text(json.dumps(sorted(seen)))
        return result

    def _register_partitions(self, database: str, table: str, root: Path, files: list[Path]) -> int:
        """Each `key=value/...` folder holding files, as a partition of the table; returns how many were new."""
        if table not in self.catalog.tables(database):  # a LOG policy kept a new table out of the catalog
            return 0
        keys = [k["Name"] for k in self.catalog.get_table(database, table).get("PartitionKeys", [])]
        partitions = {}
        for path in files:
            parts = path.relative_to(root).parts[:-1]
            values = [part.split("=", 1)[1] for part in parts if "=" in part]
            if keys and len(values) == len(keys):
                partitions[tuple(values)] = {"Values": values,
                                             "StorageDescriptor": {"Location": self.lake.s3_uri(path.parent, folder=True)}}
        return len(self.catalog.put_partitions(database, table, list(partitions.values()))) if partitions else 0

    def _folder_uri(self, folder: Path) -> str:
        """How the crawler's state names a folder it has seen: by S3 URI, so the state survives
        moving the lake and one target's `day=1` is not another's."""
        return self.lake.s3_uri(folder, folder=True) or str(folder)

    def _files(self, root: Path, exclusions: list[str]) -> list[Path]:
        if not root.exists():
            return []
        found = []
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            relative = str(path.relative_to(root))
            if any(part.startswith(("_", ".")) for part in path.relative_to(root).parts):
                continue
            if any(fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(path.name, pattern) for pattern in exclusions):
                continue
            found.append(path)
        return found

    def _infer(self, table: str, uri: str, root: Path, files: list[Path]) -> dict[str, Any]:
        classification, delimiter = _classify(files[0])
        partition_names = _partition_names(root, files)
        paths = [str(f) for f in files]
        reader = self.spark.read.option("basePath", str(root))
        if classification == "json":
            columns = _spark_columns(reader.json(paths))
        elif classification == "csv":
            columns = _spark_columns(reader.option("header", True).option("inferSchema", True).option("sep", delimiter).csv(paths))
        elif classification in ("parquet", "orc"):
            columns = _spark_columns(reader.format(classification).load(paths))
        elif classification == "avro":
            columns = _avro_columns(files[0])
        elif classification == "combined_apache":
            columns = [(name, "string") for name in COMBINED_APACHE_FIELDS]
        else:  # xml, UNKNOWN
            columns = []
        columns = [(name, kind) for name, kind in columns if name not in partition_names and not name.startswith("_corrupt")]
        partitions = [(name, "string") for name in partition_names]  # Glue types partition keys `string`
        compressed = any(f.suffix == ".gz" for f in files)
        parameters = {"compressionType": "gzip" if compressed else "none", "UPDATED_BY_CRAWLER": self.name}
        if delimiter:
            parameters["delimiter"] = delimiter
        return table_input(table, uri, classification, columns, partitions, parameters)

    def _register(self, database: str, definition: dict[str, Any], update_behavior: str, result: CrawlResult) -> None:
        name = definition["Name"]
        try:
            existing = self.catalog.get_table(database, name)
        except CatalogError:
            self.catalog.put_table(database, definition)
            result.tables_created.append(name)
            return
        if _shape(existing) == _shape(definition):
            return
        if update_behavior == "UPDATE_IN_DATABASE":
            self.catalog.put_table(database, definition)
            result.tables_updated.append(name)
        else:
            result.changes_logged.append(f"{database}.{name}: schema changed to {_shape(definition)} (update_behavior LOG: not applied)")

    def _gone(self, database: str, table: str, delete_behavior: str, result: CrawlResult) -> None:
        if table not in self.catalog.tables(database):
            return
        if delete_behavior == "DELETE_FROM_DATABASE":
            self.catalog.delete_table(database, table)
            result.tables_deleted.append(table)
        elif delete_behavior == "DEPRECATE_IN_DATABASE":
            definition = self.catalog.get_table(database, table)
            definition.setdefault("Parameters", {})["DEPRECATED_BY_CRAWLER"] = self.name
            self.catalog.put_table(database, definition)
            result.tables_deprecated.append(table)
        else:
            result.changes_logged.append(f"{database}.{table}: its files are gone (delete_behavior LOG: table kept)")


CSV_DELIMITERS = (",", "|", "\t", ";", "\x01")  # the built-in CSV classifier's
# %{COMBINEDAPACHELOG}: a common log line, then the quoted referrer and user agent
COMBINED_APACHE = re.compile(r'^(\S+) (\S+) (\S+) \[([^\]]+)\] "(?:(\S+) (\S+)(?: HTTP/(\S+))?|[^"]*)" (\d{3}) (\d+|-) "([^"]*)" "([^"]*)"')
COMBINED_APACHE_FIELDS = ("clientip", "ident", "auth", "timestamp", "verb", "request", "httpversion", "response", "bytes",
                          "referrer", "agent")


def _classify(path: Path) -> tuple[str, str | None]:
    """The built-in classifiers' answer for one file, and the CSV delimiter when it is CSV."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            head = handle.read(65536)
    except (OSError, EOFError):  # a damaged gzip member: nothing can be told from it
        return "UNKNOWN", None
    if head.startswith(b"PAR1"):
        return "parquet", None
    if head.startswith(b"ORC"):
        return "orc", None
    if head.startswith(b"Obj\x01"):
        return "avro", None
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if text[:1] in ("{", "["):
        return "json", None
    if text[:1] == "<":
        return "xml", None
    lines = [line for line in text.splitlines()[:6] if line.strip()]
    if len(head) == 65536 and len(lines) > 1:
        lines = lines[:-1]  # the last line read may be cut short
    if lines and all(COMBINED_APACHE.match(line) for line in lines):
        return "combined_apache", None
    for delimiter in CSV_DELIMITERS:
        counts = {line.count(delimiter) for line in lines}
        if lines and len(counts) == 1 and counts.pop() >= 1:
            return "csv", delimiter
    return "UNKNOWN", None


def _spark_columns(frame: Any) -> list[tuple[str, str]]:
    return [(f.name, f.dataType.simpleString()) for f in frame.schema.fields]


AVRO_TO_HIVE = {"string": "string", "int": "int", "long": "bigint", "float": "float", "double": "double", "boolean": "boolean",
                "bytes": "binary", "fixed": "binary", "enum": "string", "null": "void"}


def _avro_columns(path: Path) -> list[tuple[str, str]]:
    """The columns of an Avro object container file, from the schema in its header (Avro 1.x spec:
    magic, then a map of metadata in which `avro.schema` is the writer's schema as JSON)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        handle.read(4)
        metadata = _avro_metadata(handle)
    schema = json.loads(metadata.get("avro.schema", b"{}"))
    return [(field["name"], _hive_type(field["type"])) for field in schema.get("fields", [])]


def _avro_metadata(handle: Any) -> dict[str, bytes]:
    def long() -> int:  # zig-zag varint
        shift = result = 0
        while True:
            byte = handle.read(1)[0]
            result |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return (result >> 1) ^ -(result & 1)

    metadata = {}
    while (count := long()) != 0:
        if count < 0:  # a block with its byte size after the count
            count = -count
            long()
        for _ in range(count):
            key = handle.read(long()).decode()
            metadata[key] = handle.read(long())
    return metadata


def _hive_type(avro: Any) -> str:
    if isinstance(avro, list):  # a union: nullable X is X
        kinds = [kind for kind in avro if kind != "null"]
        return _hive_type(kinds[0]) if len(kinds) == 1 else "string"
    if isinstance(avro, str):
        return AVRO_TO_HIVE.get(avro, "string")
    kind = avro.get("logicalType") or avro["type"]
    if kind == "record":
        return "struct<" + ",".join(f"{f['name']}:{_hive_type(f['type'])}" for f in avro["fields"]) + ">"
    if kind == "array":
        return f"array<{_hive_type(avro['items'])}>"
    if kind == "map":
        return f"map<string,{_hive_type(avro['values'])}>"
    if kind == "decimal":
        return f"decimal({avro['precision']},{avro.get('scale', 0)})"
    if kind in ("timestamp-millis", "timestamp-micros"):
        return "timestamp"
    if kind == "date":
        return "date"
    return AVRO_TO_HIVE.get(kind, "string")


def _merged(existing: Mapping[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """An incremental crawl's table: the existing columns, each with its newly seen type, then new ones."""
    seen = {c["Name"]: c for c in new["StorageDescriptor"]["Columns"]}
    columns = [seen.pop(c["Name"], c) for c in existing.get("StorageDescriptor", {}).get("Columns", [])] + list(seen.values())
    merged = copy.deepcopy(new)
    merged["StorageDescriptor"]["Columns"] = columns
    return merged


def _partition_names(root: Path, files: list[Path]) -> list[str]:
    """The `key=` folder names under the target, outermost first."""
    names: list[str] = []
    for path in files:
        for part in path.relative_to(root).parts[:-1]:
            match = re.fullmatch(r"([^=]+)=.*", part)
            if match and match.group(1) not in names:
                names.append(match.group(1))
    return names


def _shape(definition: Mapping[str, Any]) -> tuple:
    descriptor = definition.get("StorageDescriptor", {})
    return (tuple((c["Name"], c["Type"]) for c in descriptor.get("Columns", [])),
            tuple((c["Name"], c["Type"]) for c in definition.get("PartitionKeys", [])))
