"""Data quality: split rows into valid and quarantined, each quarantined row with its reason.

Two kinds of check, both computed in the same pass as the data itself:
- a declared schema on a source: rows that do not parse, do not match the types, or hold
  null in a non-nullable field;
- rules (`GlueJob.expect`): named SQL predicates; a row fails a rule when the predicate is
  false or null.
Each check observes its input count and its failures with one Spark `Observation`, so
`rows in = rows passed + rows quarantined` holds per check without scanning twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, Observation
    from pyspark.sql.types import StructType

REASON = "_cauce_reason"
CORRUPT_RECORD = "_corrupt_record"
INPUT_FILE = "_cauce_input_file"
QUARANTINE_COLUMNS = ("check", "reason", "input_file", "record", "job_name", "run_id")


@dataclass
class Check:
    name: str
    observation: "Observation"

    def counts(self) -> tuple[int, int]:
        """(rows in, rows quarantined) once an action has evaluated the check."""
        values = self.observation.get
        return int(values["rows_in"]), int(values["rows_failed"] or 0)


def schema_violations(declared: "StructType", has_corrupt_column: bool) -> "Column":
    """A reason string per row ("" when the row is valid) for a declared schema."""
    from pyspark.sql import functions as F

    reasons = []
    if has_corrupt_column:
        reasons.append(
            F.when(F.col(CORRUPT_RECORD).isNotNull(), F.lit("malformed record: does not parse or does not match the schema"))
        )
    parsed = F.col(CORRUPT_RECORD).isNull() if has_corrupt_column else F.lit(True)
    for field in declared.fields:
        if not field.nullable:
            missing = parsed & F.col(f"`{field.name}`").isNull()
            reasons.append(F.when(missing, F.lit(f"missing required field {field.name!r}")))
    return F.concat_ws("; ", *reasons) if reasons else F.lit("")


def rule_violations(rules: Mapping[str, "str | Column"]) -> "Column":
    from pyspark.sql import functions as F

    reasons = []
    for name, predicate in rules.items():
        condition = F.expr(predicate) if isinstance(predicate, str) else predicate
        reasons.append(F.when(F.coalesce(condition, F.lit(False)) == F.lit(False), F.lit(f"failed rule {name!r}")))
    return F.concat_ws("; ", *reasons)


def split(df: "DataFrame", reason: "Column", check_name: str) -> tuple["DataFrame", "DataFrame", Check]:
    """(valid rows, invalid rows with REASON, the check's counters)."""
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    observation = Observation(f"check:{check_name}")
    flagged = df.withColumn(REASON, reason).observe(
        observation,
        F.count(F.lit(1)).alias("rows_in"),
        F.sum(F.when(F.col(REASON) != "", 1).otherwise(0)).alias("rows_failed"),
    )
    valid = flagged.filter(F.col(REASON) == "").drop(REASON)
    invalid = flagged.filter(F.col(REASON) != "")
    return valid, invalid, Check(check_name, observation)


def quarantine_rows(invalid: "DataFrame", check_name: str, job_name: str, run_id: str) -> "DataFrame":
    """Invalid rows in the quarantine layout: what failed, why, where from, and the record itself."""
    from pyspark.sql import functions as F

    data_columns = [c for c in invalid.columns if c not in (REASON, CORRUPT_RECORD, INPUT_FILE)]
    record = F.to_json(F.struct(*[F.col(f"`{c}`") for c in data_columns]))
    if CORRUPT_RECORD in invalid.columns:
        record = F.coalesce(F.col(CORRUPT_RECORD), record)
    input_file = F.col(INPUT_FILE) if INPUT_FILE in invalid.columns else F.lit(None).cast("string")
    return invalid.select(
        F.lit(check_name).alias("check"),
        F.col(REASON).alias("reason"),
        input_file.alias("input_file"),
        record.alias("record"),
        F.lit(job_name).alias("job_name"),
        F.lit(run_id).alias("run_id"),
    )
