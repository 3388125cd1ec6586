"""A job for the crash tests, and a script entry point that runs it in a process which kills
itself with SIGKILL at a chosen point of the commit (no cleanup, no `finally`, as `kill -9`)."""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql.types import LongType, StructField, StructType

from cauce.etl import GlueJob, S3Sink, S3Source

SOURCE = "s3://lake/events/"
TARGET = "s3://lake/curated/"
SCHEMA = StructType([StructField("id", LongType(), nullable=False)])


@dataclass(frozen=True)
class NoArgs:
    pass


class CurateEvents(GlueJob):
    name = "curate-events"
    Arguments = NoArgs

    def extract(self):
        return self.read(S3Source(SOURCE, format="json", schema=SCHEMA), ctx="events")

    def load(self, events):
        self.write(events.repartition(4), S3Sink(TARGET), ctx="curated")  # several files to publish


def run_and_die(lake: str, point: str) -> None:
    """Run CurateEvents with bookmarks and SIGKILL this process at `point`: `writing` (while Spark
    writes the part files: a task kills the driver when it reaches row 700, after other tasks wrote
    theirs), `staged` (outputs written to staging, before the commit record) or `publishing` (after
    the commit record, with the second output file moved into place)."""
    import cauce.etl.commit
    from cauce.etl.runner import RunPolicy, run_job
    from cauce.etl.runtimes.local import LocalRuntime

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    if point == "writing":
        from pyspark.sql import functions as F

        driver = os.getpid()

        def kill_the_driver_at_700(value: int) -> int:  # runs in a Spark task, mid-write
            if value == 700:
                os.kill(driver, signal.SIGKILL)
            return value

        killer = F.udf(kill_the_driver_at_700, LongType())
        load = CurateEvents.load
        CurateEvents.load = lambda self, events: load(self, events.withColumn("id", killer("id")))
    elif point == "staged":
        cauce.etl.commit.OutputTransaction.commit = lambda *_args, **_kwargs: die()
    else:
        real_replace, moved = os.replace, []

        def replace(source, destination):
            real_replace(source, destination)
            if "_cauce_staging" in str(source):
                moved.append(destination)
                if len(moved) == 2:
                    die()

        cauce.etl.commit.os.replace = replace
    run_job(CurateEvents, {"JOB_NAME": CurateEvents.name, "job-bookmark-option": "job-bookmark-enable"}, LocalRuntime(Path(lake), cores=1),
            RunPolicy())
    sys.exit("the job finished: the kill point was never reached")


if __name__ == "__main__":
    run_and_die(sys.argv[1], sys.argv[2])
