"""Kinesis streams as an app's input and output: the app runs over what a stream holds, and its
output rows are put into another (record I/O is cauce.core.kinesis)."""

from __future__ import annotations

from typing import Any

from cauce.analytics.app import AnalyticsApp
from cauce.analytics.runtime import AppResult, run
from cauce.core.kinesis import read_stream, write_stream


def run_on_streams(app: AnalyticsApp, spark: Any, client: Any, input_stream: str, output_stream: str | None = None,
                   output: str = "DESTINATION_SQL_STREAM") -> AppResult:
    """Run the app over what `input_stream` holds; write the `output` stream's rows to `output_stream`."""
    records, unreadable = read_stream(client, input_stream)
    result = run(app, records, spark)
    result.errors[:0] = unreadable
    if output_stream is not None:
        write_stream(client, output_stream, result.outputs.get(output, []))
    return result
