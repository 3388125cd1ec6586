"""awsglue.job.Job: init and commit, with job bookmarks emulated locally (cauce.etl.bookmarks).

`Job.init(name, args)` reads the bookmark option from the arguments (`--job-bookmark-option`, Glue's
default job-bookmark-disable) and the job's committed state; reads with a `transformation_ctx` then
see only files not yet delivered to that ctx. `Job.commit()` stores what this run read, so the next
run (with job-bookmark-enable) reads nothing it already read. With job-bookmark-pause,
`--job-bookmark-from`/`--job-bookmark-to` read again what a range of committed runs delivered
(cauce.etl.bookmarks). A run that fails before `commit()`
leaves the state as it was, so its input is read again.
"""

from __future__ import annotations

import sys
import uuid
from typing import Any

from cauce.etl.awsglue.environment import LocalGlueEnvironment


class Job:
    def __init__(self, glue_context: Any):
        self._context = glue_context
        self._environment: LocalGlueEnvironment = glue_context._environment
        self._initialized = False

    @staticmethod
    def continuation_options() -> list[str]:
        return ["--continuation-option", "continuation-enabled", "continuation-readonly", "continuation-ignore"]

    @staticmethod
    def job_bookmark_options() -> list[str]:
        return ["--job-bookmark-option", "job-bookmark-enable", "job-bookmark-pause", "job-bookmark-disable"]

    @staticmethod
    def job_bookmark_range_options() -> list[str]:
        return ["--job-bookmark-from", "--job-bookmark-to"]

    def init(self, job_name: str, args: dict[str, str] | None = None) -> None:
        from cauce.etl.bookmarks import BookmarkState

        args = dict(args or {})
        option = args.get("job-bookmark-option") or _argv_value("--job-bookmark-option") or "job-bookmark-disable"
        environment = self._environment
        environment.job_name = job_name
        environment.run_id = args.get("JOB_RUN_ID") or _argv_value("--JOB_RUN_ID") or environment.run_id or f"jr_local_{uuid.uuid4().hex[:20]}"
        path = environment.lake.state_dir / "bookmarks" / f"{job_name}.json"
        # job-bookmark-pause's sub-options: a range of committed runs to read again (BookmarkRangeError if unknown)
        from_run = args.get("job-bookmark-from") or _argv_value("--job-bookmark-from")
        to_run = args.get("job-bookmark-to") or _argv_value("--job-bookmark-to")
        environment.bookmark = BookmarkState(path, option, environment.lake, from_run, to_run)
        self._initialized = True

    def isInitialized(self) -> bool:  # noqa: N802
        return self._initialized

    def commit(self) -> None:
        from cauce.etl.commit import atomic_write_json
        from cauce.etl.awsglue.environment import drain_listener_bus, observed

        environment = self._environment
        bookmark = environment.bookmark
        if bookmark is None:
            return
        if environment.pending_marks:
            drain_listener_bus(environment.spark)
        for ctx, keys, mark, to_plain in environment.pending_marks:
            values = observed(mark)
            if values:
                bookmark.record_jdbc(ctx, keys, [to_plain(values[k]) for k in keys])
        document = bookmark.pending_document(environment.run_id or "")
        if document is not None:
            atomic_write_json(bookmark.path, document)
            bookmark.committed, bookmark.runs = document["contexts"], document["runs"]


def _argv_value(flag: str) -> str | None:
    argv = sys.argv
    for index, token in enumerate(argv):
        if token == flag and index + 1 < len(argv):
            return argv[index + 1]
        if token.startswith(flag + "="):
            return token.split("=", 1)[1]
    return None
