"""Helpers for testing jobs: put input into the lake, read output back, assert with precise messages.

DataFrame equality itself is pyspark's own `assertDataFrameEqual` (re-exported here).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Iterable

from pyspark.testing import assertDataFrameEqual, assertSchemaEqual

from cauce.core.lake import LocalLake

__all__ = [
    "assertDataFrameEqual", "assertSchemaEqual", "put_json_lines", "read_output",
    "assert_job_succeeded", "assert_reconciled",
]

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from cauce.etl.job import JobRunResult




def put_json_lines(lake: LocalLake, uri: str, records: Iterable[dict[str, Any] | str]) -> None:
    """Records as JSON lines; a str is written as it is (to plant malformed lines)."""
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    lake.put_object(uri, "\n".join(lines) + "\n")


def read_output(spark: "SparkSession", lake: LocalLake, uri: str, format: str = "parquet") -> "DataFrame":
    return spark.read.format(format).load(str(lake.local_path(uri)))


def assert_job_succeeded(result: "JobRunResult") -> None:
    if not result.succeeded:
        raise AssertionError(f"job {result.job_name} run {result.run_id} ended {result.status}: {result.error}")


def assert_reconciled(result: "JobRunResult") -> None:
    """Every check's rows in = rows passed + rows quarantined, and the quarantine holds them all."""
    problems = []
    for check in result.checks:
        if check["rows_in"] is None:
            problems.append(f"check {check['check']}: never evaluated")
        elif check["rows_in"] != check["rows_passed"] + check["rows_quarantined"]:
            problems.append(f"check {check['check']}: {check}")
    quarantined = sum(c["rows_quarantined"] or 0 for c in result.checks)
    if quarantined != result.rows_quarantined:
        problems.append(f"checks quarantined {quarantined} row(s), the quarantine received {result.rows_quarantined}")
    if problems:
        raise AssertionError("counts do not reconcile:\n  " + "\n  ".join(problems))
