"""Analytics app definitions: the SQL of a Kinesis Data Analytics (SQL) application and the seed's
fields around it (input schema of RecordColumns, parallelism, property groups).

An app lives in `analytics/apps/NAME/` as `app.sql` plus `app.json` (the seed's
`analytics_config` entry without `code`), or in the stack's `kinesis_config.analytics_config`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cauce.core.stack import Stack

# SQL types of the input schema, and the Spark type each becomes
_SIMPLE_TYPES = {
    "TIMESTAMP": "timestamp", "DATE": "date", "BOOLEAN": "boolean", "INTEGER": "int", "INT": "int", "BIGINT": "bigint",
    "SMALLINT": "smallint", "TINYINT": "tinyint", "DOUBLE": "double", "REAL": "float", "FLOAT": "double", "VARBINARY": "binary",
}
_SIZED = re.compile(r"^(VARCHAR|CHAR|CHARACTER VARYING|DECIMAL|NUMERIC)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)$", re.I)
_MAPPING = re.compile(r"^\$((\.[A-Za-z_][A-Za-z0-9_]*)|(\[\"[^\"]+\"\])|(\[\d+\]))+$")


class AppDefinitionError(ValueError):
    """An app definition or input schema that cannot be used; the message names the field."""


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    mapping: str | None

    @property
    def spark_type(self) -> str:
        upper = self.sql_type.strip().upper()
        if upper in _SIMPLE_TYPES:
            return _SIMPLE_TYPES[upper]
        sized = _SIZED.match(upper)
        kind = sized.group(1).upper()
        if kind in ("DECIMAL", "NUMERIC"):
            return f"decimal({sized.group(2)},{sized.group(3) or 0})"
        return "string"

    @property
    def max_length(self) -> int | None:
        sized = _SIZED.match(self.sql_type.strip())
        return int(sized.group(2)) if sized and sized.group(1).upper().startswith(("VARCHAR", "CHAR")) else None


@dataclass(frozen=True)
class AnalyticsApp:
    name: str
    sql: str
    columns: tuple[Column, ...]
    input_parallelism: int = 1
    output_parallelism: int = 1
    input_schema_version: str = "1.0"
    property_groups: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    source: str = ""
    # reference tables the SQL may join, by in-application table name
    reference_data: Mapping[str, "ReferenceTable"] = field(default_factory=dict)


@dataclass(frozen=True)
class ReferenceTable:
    """An in-application reference table: an S3 object read once when the app starts.

    Declared as KDA declares it (ReferenceDataSource: ReferenceSchema with RecordColumns and a RecordFormat),
    `columns` name and type its columns: CSV fields by position, JSON values by each column's Mapping, every
    line a row (KDA's CSVMappingParameters has no header row). Cauce's older form (`reference_data`, with
    `columns` empty) takes a CSV's column names from its header row and infers the types."""

    path: str  # s3://bucket/key
    format: str = "csv"  # csv | json
    columns: tuple[Column, ...] = ()
    column_delimiter: str = ","
    row_delimiter: str = "\n"
    row_path: str = "$"  # JSON: where the rows are ($: each line's object, or the document's array)


def parse_schema(schema: Any, where: str) -> tuple[Column, ...]:
    """The seed's `input_schema` (a JSON string or object with RecordColumns), validated."""
    if isinstance(schema, str):
        try:
            schema = json.loads(schema)
        except json.JSONDecodeError as error:
            raise AppDefinitionError(f"{where}: input_schema is not valid JSON: {error}") from None
    columns = schema.get("RecordColumns") if isinstance(schema, Mapping) else None
    if not isinstance(columns, list) or not columns:
        raise AppDefinitionError(f"{where}: input_schema needs a non-empty RecordColumns list")
    problems, parsed, seen = [], [], set()
    for index, column in enumerate(columns):
        at = f"{where}.RecordColumns[{index}]"
        name, sql_type, mapping = column.get("Name"), column.get("SqlType"), column.get("Mapping")
        if not isinstance(name, str) or not name:
            problems.append(f"{at}.Name: required")
            continue
        if name.upper() in seen:
            problems.append(f"{at}.Name: {name!r} is already a column")
        seen.add(name.upper())
        if name.upper() in ("ROWTIME", "APPROXIMATE_ARRIVAL_TIME"):
            problems.append(f"{at}.Name: {name!r} is a system column of every stream")
        if not isinstance(sql_type, str) or not (sql_type.strip().upper() in _SIMPLE_TYPES or _SIZED.match(sql_type.strip())):
            problems.append(f"{at}.SqlType: {sql_type!r} is not a supported SQL type "
                            f"({', '.join(sorted(_SIMPLE_TYPES))}, VARCHAR(n), CHAR(n), DECIMAL(p,s))")
        if mapping is not None and not (isinstance(mapping, str) and _MAPPING.match(mapping)):
            problems.append(f"{at}.Mapping: {mapping!r} is not a JSONPath like $.field or $.a.b")
        parsed.append(Column(name, sql_type if isinstance(sql_type, str) else "", mapping))
    if problems:
        raise AppDefinitionError("invalid input schema:\n  " + "\n  ".join(problems))
    return tuple(parsed)


def from_config(key: str, config: Mapping[str, Any], source: str) -> AnalyticsApp:
    """An app from the seed's analytics_config entry (`code` holds the SQL)."""
    sql_config = (config.get("application_configuration") or {}).get("sql_configuration") or {}
    properties = ((config.get("application_configuration") or {}).get("environment_properties") or {}).get("property_groups") or {}
    if not isinstance(config.get("code"), str) or not config["code"].strip():
        raise AppDefinitionError(f"{source}: code (the app's SQL) is missing")
    return AnalyticsApp(
        name=config.get("name", key), sql=config["code"],
        columns=parse_schema(sql_config.get("input_schema"), f"{source}.application_configuration.sql_configuration"),
        input_parallelism=int(config.get("input_parallelism", 1)), output_parallelism=int(config.get("output_parallelism", 1)),
        input_schema_version=str(config.get("input_schema_version", "1.0")), property_groups=properties, source=source,
        reference_data={**_reference_data(config.get("reference_data") or {}, source),
                        **reference_data_sources(config.get("reference_data_sources") or [], f"{source}.reference_data_sources")},
    )


def _reference_data(tables: Mapping[str, Any], source: str) -> dict[str, ReferenceTable]:
    problems = []
    for name, spec in tables.items():
        if not isinstance(spec, Mapping) or not str(spec.get("path", "")).startswith("s3://"):
            problems.append(f"{source}.reference_data[{name!r}].path: an s3:// URI of the table's file(s)")
        elif spec.get("format", "csv") not in ("csv", "json"):
            problems.append(f"{source}.reference_data[{name!r}].format: csv or json, got {spec.get('format')!r}")
    if problems:
        raise AppDefinitionError("invalid reference data:\n  " + "\n  ".join(problems))
    return {name: ReferenceTable(spec["path"], spec.get("format", "csv")) for name, spec in tables.items()}


def reference_data_sources(sources: Any, where: str) -> dict[str, ReferenceTable]:
    """ReferenceDataSource entries as KDA's API writes them (TableName, S3ReferenceDataSource, ReferenceSchema)
    or as the Terraform module's analytics_config does (table_name, s3, schema: aws_kinesis_analytics_application's
    reference_data_sources block), validated; the messages name the field."""
    if not isinstance(sources, list):
        raise AppDefinitionError(f"{where}: a list of reference data sources")
    tables, problems = {}, []
    for index, source in enumerate(sources):
        at = f"{where}[{index}]"
        if not isinstance(source, Mapping):
            problems.append(f"{at}: an object with TableName, S3ReferenceDataSource and ReferenceSchema")
            continue
        source = _from_terraform_shape(source) if "table_name" in source else source
        name, s3, schema = source.get("TableName"), source.get("S3ReferenceDataSource") or {}, source.get("ReferenceSchema") or {}
        if not isinstance(name, str) or not name:
            problems.append(f"{at}.TableName: required")
            continue
        bucket = str(s3.get("BucketARN") or "")
        if not bucket.startswith("arn:") or ":s3:::" not in bucket or not s3.get("FileKey"):
            problems.append(f"{at}.S3ReferenceDataSource: BucketARN (arn:aws:s3:::bucket) and FileKey are required")
            continue
        record_format = schema.get("RecordFormat") or {}
        kind = str(record_format.get("RecordFormatType") or ("JSON" if "JSONMappingParameters" in (record_format.get("MappingParameters") or {}) else "CSV")).upper()
        parameters = record_format.get("MappingParameters") or {}
        if kind not in ("CSV", "JSON"):
            problems.append(f"{at}.ReferenceSchema.RecordFormat.RecordFormatType: CSV or JSON, got {kind!r}")
            continue
        if str(schema.get("RecordEncoding") or "UTF-8").upper() not in ("UTF-8", "UTF8"):
            problems.append(f"{at}.ReferenceSchema.RecordEncoding: only UTF-8 (KDA's only encoding), got {schema.get('RecordEncoding')!r}")
            continue
        try:
            columns = parse_schema({"RecordColumns": schema.get("RecordColumns")}, f"{at}.ReferenceSchema")
        except AppDefinitionError as error:
            problems.append(str(error).replace("invalid input schema:\n  ", ""))
            continue
        csv = parameters.get("CSVMappingParameters") or {}
        json_parameters = parameters.get("JSONMappingParameters") or {}
        tables[name] = ReferenceTable(
            f"s3://{bucket.split(':::', 1)[1]}/{s3['FileKey']}", kind.lower(), columns,
            column_delimiter=csv.get("RecordColumnDelimiter") or ",", row_delimiter=csv.get("RecordRowDelimiter") or "\n",
            row_path=json_parameters.get("RecordRowPath") or "$")
    if problems:
        raise AppDefinitionError("invalid reference data sources:\n  " + "\n  ".join(problems))
    return tables


def _from_terraform_shape(source: Mapping[str, Any]) -> dict[str, Any]:
    """The Terraform block's snake_case attributes as the KDA API's names."""
    s3, schema = source.get("s3") or {}, source.get("schema") or {}
    parameters = (schema.get("record_format") or {}).get("mapping_parameters") or {}
    csv, json_parameters = parameters.get("csv"), parameters.get("json")
    mapping = {}
    if csv:
        mapping["CSVMappingParameters"] = {"RecordColumnDelimiter": csv.get("record_column_delimiter"), "RecordRowDelimiter": csv.get("record_row_delimiter")}
    if json_parameters:
        mapping["JSONMappingParameters"] = {"RecordRowPath": json_parameters.get("record_row_path")}
    return {"TableName": source.get("table_name"),
            "S3ReferenceDataSource": {"BucketARN": s3.get("bucket_arn"), "FileKey": s3.get("file_key"), "ReferenceRoleARN": s3.get("role_arn")},
            "ReferenceSchema": {"RecordEncoding": schema.get("record_encoding"),
                                "RecordFormat": {"RecordFormatType": (schema.get("record_format") or {}).get("record_format_type")
                                                 or ("JSON" if json_parameters and not csv else "CSV"), "MappingParameters": mapping},
                                "RecordColumns": [{"Name": c.get("name"), "SqlType": c.get("sql_type"), "Mapping": c.get("mapping")}
                                                  for c in schema.get("record_columns") or []]}}


def apps_dir() -> Path:
    return Path(str(resources.files("cauce.analytics").joinpath("apps")))


def load_app(reference: str, stack: "Stack | None" = None) -> AnalyticsApp:
    """An app by folder (a path, a name in the project's apps folder or under Cauce's analytics/apps/)
    or by stack key or name."""
    from cauce.core.project import find_project

    project = find_project()
    project_apps = [project.apps / reference] if project is not None else []
    for candidate in (Path(reference), *project_apps, apps_dir() / reference):
        if (candidate / "app.sql").is_file():
            definition_file = candidate / "app.json"
            try:
                config = json.loads(definition_file.read_text()) if definition_file.is_file() else {}
            except json.JSONDecodeError as error:
                raise AppDefinitionError(f"{definition_file}: not valid JSON: {error}") from None
            return from_config(candidate.name, {**config, "code": (candidate / "app.sql").read_text()}, str(definition_file))
    for key, config in (stack.kinesis_config.analytics_config if stack is not None else {}).items():
        if reference in (key, config.name):
            return from_config(key, config.document, f"kinesis_config.analytics_config[{key!r}]")
    folders = ([project.apps] if project is not None and project.apps.is_dir() else []) + [apps_dir()]
    known = sorted({p.name for folder in folders for p in folder.iterdir() if (p / "app.sql").is_file()})
    raise AppDefinitionError(f"no analytics app {reference!r} (apps: {', '.join(known) or 'none'}; or a stack key)")
