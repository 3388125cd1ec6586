"""Glue crawlers on the local lake: tables inferred from the files under the crawler's S3
targets, registered in the local catalog that the ETL runtime reads (`CatalogSource`).

As Glue does: one table per target folder, named `<table_prefix><folder>` (lower case, `-` as `_`);
JSON, CSV and parquet recognised by content (Firehose objects have no extension), gzip included;
`key=value` folders become partition keys; `exclusions` are globs relative to the target;
files whose names start with `_` or `.` are skipped. The schema change policy decides what a
changed schema does (UPDATE_IN_DATABASE updates the table, LOG only reports it), and the delete
behaviour what a target with no files left does (DELETE_FROM_DATABASE, DEPRECATE_IN_DATABASE, LOG).
CRAWL_NEW_FOLDERS_ONLY reads only partition folders it has not seen (state kept in the lake, the
folders named by S3 URI; a state file of the earlier format, folders relative to their target,
names no URI, so the next crawl reads everything once, which only re-infers the same tables).
"""

from __future__ import annotations

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
            folders = {self._folder_uri(f.parent) for f in files}
            if new_only and table in self.catalog.tables(database) and folders <= seen:
                continue
            seen |= folders
            result.files_scanned += len(files)
            result.partitions += len(folders - {self._folder_uri(root)})
            definition = self._infer(table, uri, root, files)
            self._register(database, definition, policy.get("update_behavior", "UPDATE_IN_DATABASE"), result)
        if new_only:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            self.state_file.write_text(json.dumps(sorted(seen)))
        return result

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
        classification = _classify(files[0])
        reader = self.spark.read.option("basePath", str(root))
        paths = [str(f) for f in files]
        if classification == "json":
            frame = reader.json(paths)
        elif classification == "csv":
            frame = reader.option("header", True).option("inferSchema", True).csv(paths)
        else:
            frame = reader.parquet(*paths)
        partition_names = _partition_names(root, files)
        columns = [(f.name, f.dataType.simpleString()) for f in frame.schema.fields if f.name not in partition_names and not f.name.startswith("_corrupt")]
        partitions = [(f.name, f.dataType.simpleString()) for f in frame.schema.fields if f.name in partition_names]
        compressed = any(f.suffix == ".gz" for f in files)
        return table_input(table, uri, classification, columns, partitions,
                           {"compressionType": "gzip" if compressed else "none", "UPDATED_BY_CRAWLER": self.name})

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


def _classify(path: Path) -> str:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        head = handle.read(4)
    if head == b"PAR1":
        return "parquet"
    if head.lstrip()[:1] in (b"{", b"["):
        return "json"
    return "csv"


def _partition_names(root: Path, files: list[Path]) -> set[str]:
    names = set()
    for path in files:
        for part in path.relative_to(root).parts[:-1]:
            match = re.fullmatch(r"([^=]+)=.*", part)
            if match:
                names.add(match.group(1))
    return names


def _shape(definition: Mapping[str, Any]) -> tuple:
    descriptor = definition.get("StorageDescriptor", {})
    return (tuple((c["Name"], c["Type"]) for c in descriptor.get("Columns", [])),
            tuple((c["Name"], c["Type"]) for c in definition.get("PartitionKeys", [])))
