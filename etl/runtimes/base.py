"""The interface every runtime adapter implements."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from cauce.etl.arguments import GlueArguments
    from cauce.etl.sinks import Sink
    from cauce.etl.sources import Source


class Runtime(Protocol):
    name: str

    @property
    def spark(self) -> "SparkSession": ...

    def start(self, glue_args: "GlueArguments", job_arguments: dict[str, str], run_id: str) -> None:
        """Begin a run: recover interrupted commits, load bookmarks, open the output transaction."""

    def read(self, source: "Source", ctx: str) -> "DataFrame":
        """Read a source. With a declared schema, JSON/CSV carry `_corrupt_record` and `_cauce_input_file`."""

    def write(self, df: "DataFrame", sink: "Sink", ctx: str) -> None:
        """Write (staged; published only by commit)."""

    def commit(self) -> int | None:
        """Publish every write and advance the bookmark, atomically; the number of files published if known."""

    def abort(self) -> None:
        """Discard everything staged by this run."""

    def cancel(self) -> None:
        """Stop the run's Spark work and forbid a later commit (timeouts)."""

    def publish_metrics(self, job_name: str, counters: dict[str, float]) -> None:
        """Send metrics where this runtime sends them (CloudWatch on Glue with --enable-metrics)."""
