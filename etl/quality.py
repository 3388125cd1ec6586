"""Data quality: split rows into kept and quarantined, each quarantined row with its reason.

Two kinds of check:
- a declared schema on a source: rows that do not parse, do not match the types, or hold
  null in a non-nullable field;
- rules (`GlueJob.expect`): named SQL predicates; a row fails a rule when the predicate is
  false or null.

Checks applied one after another to the same rows (a schema check on read, then `expect`
on what the read returned) are folded into one flagged frame with one reason column per
check, so the quarantine is written from a single pass over the input, as a hand-written
job would do it. Each check counts its input and its failures in that same pass with a
Spark `Observation`: `rows in = rows passed + rows quarantined` per check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, Observation
    from pyspark.sql.types import StructType

CORRUPT_RECORD = "_corrupt_record"
INPUT_FILE = "_cauce_input_file"
_REASON_PREFIX = "_cauce_reason_"


@dataclass
class Check:
    name: str
    observation: "Observation"


@dataclass
class _Chain:
    flagged: "DataFrame"
    valid: "DataFrame"
    reasons: list[tuple[str, str]] = field(default_factory=list)  # (reason column, check name)


def schema_violations(declared: "StructType", has_corrupt_column: bool) -> "Column":
    """A reason string per row ("" when the row is valid) for a declared schema."""
    from pyspark.sql import functions as F

    reasons = []
    if has_corrupt_column:
        reasons.append(
            F.when(F.col(CORRUPT_RECORD).isNotNull(), F.lit("malformed record: does not parse or does not match the schema"))
        )
    parsed = F.col(CORRUPT_RECORD).isNull() if has_corrupt_column else F.lit(True)
    for struct_field in declared.fields:
        if not struct_field.nullable:
            missing = parsed & F.col(f"`{struct_field.name}`").isNull()
            reasons.append(F.when(missing, F.lit(f"missing required field {struct_field.name!r}")))
    return F.concat_ws("; ", *reasons) if reasons else F.lit("")


def rule_violations(rules: Mapping[str, "str | Column"]) -> "Column":
    from pyspark.sql import functions as F

    reasons = []
    for name, predicate in rules.items():
        condition = F.expr(predicate) if isinstance(predicate, str) else predicate
        reasons.append(F.when(F.coalesce(condition, F.lit(False)) == F.lit(False), F.lit(f"failed rule {name!r}")))
    return F.concat_ws("; ", *reasons)


class QualityGate:
    """The checks of one run, and the quarantine rows they produce."""

    def __init__(self) -> None:
        self._chains: list[_Chain] = []
        self.checks: list[Check] = []

    def check(self, df: "DataFrame", reason: "Column", name: str) -> "DataFrame":
        """Apply a check; returns the rows that pass it (and every earlier check of the chain)."""
        from pyspark.sql import Observation
        from pyspark.sql import functions as F

        chain = next((c for c in self._chains if c.valid is df), None)
        if chain is None:
            chain = _Chain(flagged=df, valid=df)
            self._chains.append(chain)
        passed_so_far = _all_empty([column for column, _ in chain.reasons])
        column = f"{_REASON_PREFIX}{len(chain.reasons)}"
        observation = Observation(f"check:{name}")
        chain.flagged = chain.flagged.withColumn(column, F.when(passed_so_far, reason).otherwise(F.lit(""))).observe(
            observation,
            F.count(F.when(passed_so_far, 1)).alias("rows_in"),
            F.count(F.when(F.col(column) != "", 1)).alias("rows_failed"),
        )
        chain.reasons.append((column, name))
        columns = [c for c, _ in chain.reasons]
        chain.valid = chain.flagged.filter(_all_empty(columns)).drop(*columns, CORRUPT_RECORD, INPUT_FILE)
        self.checks.append(Check(name, observation))
        return chain.valid

    def quarantine_rows(self, job_name: str, run_id: str) -> "DataFrame | None":
        """Every failing row once, in the quarantine layout, or None when nothing was checked."""
        from pyspark.sql import functions as F

        frames = []
        for chain in self._chains:
            columns = [c for c, _ in chain.reasons]
            failing = chain.flagged.filter(~_all_empty(columns))
            data_columns = [c for c in failing.columns if c not in columns and c not in (CORRUPT_RECORD, INPUT_FILE)]
            record = F.to_json(F.struct(*[F.col(f"`{c}`") for c in data_columns]))
            if CORRUPT_RECORD in failing.columns:
                record = F.coalesce(F.col(CORRUPT_RECORD), record)
            input_file = F.col(INPUT_FILE) if INPUT_FILE in failing.columns else F.lit(None).cast("string")
            frames.append(
                failing.select(
                    F.coalesce(*[F.when(F.col(c) != "", F.lit(n)) for c, n in chain.reasons]).alias("check"),
                    F.concat_ws("; ", *[F.when(F.col(c) != "", F.col(c)) for c in columns]).alias("reason"),
                    input_file.alias("input_file"),
                    record.alias("record"),
                    F.lit(job_name).alias("job_name"),
                    F.lit(run_id).alias("run_id"),
                )
            )
        return reduce(lambda a, b: a.unionByName(b), frames) if frames else None


def _all_empty(columns: list[str]) -> Any:
    from pyspark.sql import functions as F

    condition = F.lit(True)
    for column in columns:
        condition = condition & (F.col(column) == "")
    return condition


def conform_to_schema(df: "DataFrame", schema: Any) -> "DataFrame":
    """Cast columns to the declared schema; a value the cast loses marks the row corrupt.

    For readers without a corrupt-record column (Glue's DynamicFrames, parquet): the row,
    as JSON, lands in `_corrupt_record`, so quarantine reasons match the JSON/CSV reader's.
    """
    from pyspark.sql import functions as F

    present = set(df.columns)
    columns, lost = [], []
    for struct_field in schema.fields:
        name = f"`{struct_field.name}`"
        if struct_field.name not in present:
            columns.append(F.lit(None).cast(struct_field.dataType).alias(struct_field.name))
            continue
        cast = F.col(name).cast(struct_field.dataType)
        columns.append(cast.alias(struct_field.name))
        lost.append(F.col(name).isNotNull() & cast.isNull())
    any_lost = F.lit(False)
    for condition in lost:
        any_lost = any_lost | condition
    raw = F.to_json(F.struct(*[F.col(f"`{c}`") for c in df.columns]))
    return df.select(*columns, F.when(any_lost, raw).alias(CORRUPT_RECORD))
