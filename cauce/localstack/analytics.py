"""A SQL analytics app running over its input stream, as its Glue streaming job runs it on AWS:
records are read as they arrive and run in micro-batches (analytics.streaming.IncrementalRunner),
each batch's final rows go to the output stream, and `run(final=True)` also emits the windows
still open when the stream ends. Used by `cauce demo` and by `cauce up`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

BATCH_RECORDS = 50_000  # records per micro-batch: one Spark job each


class StreamingApp:
    def __init__(self, app: Any, kinesis: Any, input_stream: str, output_stream: str, spark: Callable[[], Any],
                 batch_records: int = BATCH_RECORDS, checked: bool = False) -> None:
        """`checked`: the app's SQL was checked already (`cauce up` checks it before the server starts,
        so that the server does not hold the SQL translator until the first batch)."""
        from cauce.core.kinesis import StreamReader

        if not checked:
            from cauce.analytics.runtime import check

            check(app)  # refuse bad SQL now, before any record is read
        self.app = app
        self.name = app.name
        self.kinesis = kinesis
        self.output_stream = output_stream
        self.reader = StreamReader(kinesis, input_stream)
        self.batch_records = batch_records
        self._spark = spark  # started on the first batch: a stack nobody sends to needs no JVM
        self.runner: Any = None
        self.pending: list[dict[str, Any]] = []
        self.rows_out = 0
        self.events_counted = 0
        self.refused = 0

    def read(self) -> None:
        """Take what arrived on the input stream since the last read."""
        from cauce.core.kinesis import decode_records

        rows, unreadable = decode_records(self.reader.read())
        self.pending += rows
        self.refused += len(unreadable)

    @property
    def due(self) -> bool:
        return len(self.pending) >= self.batch_records

    @property
    def held(self) -> int:
        """Records held in memory: waiting for a batch, or carried for windows still open."""
        return len(self.pending) + (len(self.runner.carry) if self.runner is not None else 0)

    def run(self, final: bool = False) -> None:
        """Run the pending records as one micro-batch (and, when `final`, emit the open windows)."""
        from cauce.analytics.streaming import IncrementalRunner
        from cauce.core.kinesis import write_stream

        if not self.pending and (self.runner is None or not final):
            return
        if self.runner is None:
            self.runner = IncrementalRunner(self.app, self._spark())
        batch, self.pending = self.pending, []
        outputs, errors = self.runner.process(batch)
        self.refused += len(errors)
        if final:
            for name, rows in self.runner.finish().items():
                outputs[name] = outputs.get(name, []) + rows
        rows = outputs.get("DESTINATION_SQL_STREAM", [])
        write_stream(self.kinesis, self.output_stream, rows)
        self.rows_out += len(rows)
        self.events_counted += sum(row.get("events", 0) or 0 for row in rows)

    def stats(self) -> dict[str, Any]:
        in_open_windows = len(self.runner.carry) if self.runner is not None else 0  # read, in a window not closed yet
        return {"rows": self.rows_out, "events_counted": self.events_counted, "refused": self.refused, "output": self.output_stream,
                "in_open_windows": in_open_windows}
