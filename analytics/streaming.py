"""Continuous execution: an app over a stream that never ends, one micro-batch at a time.

Each micro-batch runs the app's translated SQL (the same as the deterministic mode) over the new
records plus the recent ones it still needs, and emits only what is final:
- the watermark is the latest ROWTIME seen; a window is emitted once its end is at or before the
  watermark, and a row-by-row result once its ROWTIME is;
- records younger than the longest window are carried into the next batch, because a window
  still open (tumbling or stagger) or a sliding window ending later can need them.
So the rows emitted over many batches are the rows one deterministic run over all the records
gives, except the windows not yet closed at the end, which wait for later records, or for
`finish` when the stream has ended.

This is what an app's Glue streaming job runs on each Kinesis micro-batch (analytics/glue_main.py).
Each batch is conformed inside Spark as in the deterministic mode (cauce.analytics.ingest); the
carry is kept as the records' JSON texts, conformed again with the next batch (they were accepted
once, so they are never refused nor reported twice). The carried records live in the driver's
memory: a restarted job starts from its checkpoint with an empty carry, so a window open across
the restart is emitted from the records after it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from cauce.analytics.app import AnalyticsApp
from cauce.analytics.dialect import UNIT_MICROS, AnalyticsSqlError
from cauce.analytics.ingest import LINE_COLUMN, REFUSED_COLUMN, ingest
from cauce.analytics.runtime import check, execute, in_rowtime_order, load_reference_data, rows_of


class IncrementalRunner:
    def __init__(self, app: AnalyticsApp, spark: Any, rowtime_column: str | None = None, lake: Any = None) -> None:
        self.app = app
        self.spark = spark
        self.rowtime_column = rowtime_column
        self.program, self.plans = check(app)
        for pump in self.program.pumps:
            if pump.grouped_by_monotonic:  # its key closes when the next key arrives, which no fixed carried span bounds
                raise AnalyticsSqlError(f"pump {pump.name} (line {pump.line}): GROUP BY MONOTONIC(...) without a STEP or FLOOR window "
                                        "runs in the deterministic mode only (cauce analytics run), not continuously")
        load_reference_data(app, spark, lake)
        self.horizon = dt.timedelta(microseconds=_longest_window_micros(app.sql, self.program))
        self.watermark: dt.datetime | None = None
        self.carry: list[bytes] = []  # JSON texts of the accepted records still needed, in arrival order
        self.table_state: dict[str, Any] = {}  # the table functions' models (RANDOM_CUT_FOREST, HOTSPOTS) across batches

    def process(self, records: Iterable[Any]) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
        """Outputs that became final with these records, and the records the schema refused
        (their lines count from 1 in this batch)."""
        from pyspark.sql import functions as F

        ingested = ingest(self.spark, self.app.columns, records, self.rowtime_column, carried=self.carry)
        conformed = ingested.frame.cache()
        try:
            new = F.col(LINE_COLUMN) > 0
            refused = F.col(REFUSED_COLUMN).isNotNull()
            # one pass: the batch's latest ROWTIME and its refusals
            [summary] = conformed.agg(F.max(F.when(new & ~refused, F.col("ROWTIME"))).alias("latest"),
                                      F.collect_list(F.when(refused, F.struct(LINE_COLUMN, REFUSED_COLUMN))).alias("refused")).collect()
            errors = ingested.errors(sorted(tuple(row) for row in summary["refused"]))
            if summary["latest"] is None:
                return {}, errors
            previous = self.watermark
            self.watermark = max(summary["latest"], previous) if previous else summary["latest"]
            outputs = {}
            for name, result in execute(self.program, self.plans, ingested.accepted(self.app.columns), self.spark, self.table_state).items():
                final = result.where(F.col("ROWTIME") <= F.lit(self.watermark))
                if previous is not None:
                    final = final.where(F.col("ROWTIME") > F.lit(previous))
                outputs[name] = rows_of(in_rowtime_order(final))
            kept = conformed.where(~refused & (F.col("ROWTIME") > F.lit(self.watermark - self.horizon)))
            self.carry = [ingested.text(row[0]) for row in kept.orderBy(LINE_COLUMN).select(LINE_COLUMN).collect()]
        finally:
            conformed.unpersist()
        return outputs, errors

    def finish(self) -> dict[str, list[dict[str, Any]]]:
        """The stream has ended: emit what is still open (every row after the watermark), so
        that all the batches together give what one deterministic run over all records gives."""
        if not self.carry:
            return {}
        from pyspark.sql import functions as F

        ingested = ingest(self.spark, self.app.columns, [], self.rowtime_column, carried=self.carry)
        outputs = {}
        for name, result in execute(self.program, self.plans, ingested.accepted(self.app.columns), self.spark, self.table_state).items():
            final = result.where(F.col("ROWTIME") > F.lit(self.watermark))
            outputs[name] = rows_of(in_rowtime_order(final))
        self.carry = []
        return outputs


def _longest_window_micros(sql: str, program: Any) -> int:
    """The longest interval the app's windows span (STEP, FLOOR TO, RANGE, STAGGER, a join's two windows); a minute at least."""
    import re

    longest = 60 * 10**6
    for amount, unit in re.findall(r"INTERVAL\s+'(\d+)'\s+(SECOND|MINUTE|HOUR|DAY)", sql, re.I):
        longest = max(longest, int(amount) * UNIT_MICROS[unit.upper()])
    for unit in re.findall(r"\bTO\s+(SECOND|MINUTE|HOUR|DAY)\b", sql, re.I):
        longest = max(longest, UNIT_MICROS[unit.upper()])
    for pump in program.pumps:  # a TOP_K_ITEMS_TUMBLING window is given in seconds, not as an INTERVAL
        if pump.table_function is not None:
            longest = max(longest, pump.table_function.horizon_micros)
    # a stream join's pair is up to both windows apart, and an outer join's unmatched row needs them both
    return max([longest] + [pump.join_micros for pump in program.pumps])
