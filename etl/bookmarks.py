"""Job bookmarks emulated locally with AWS Glue's semantics.

Glue keeps, per job and per `transformation_ctx`, what each source has already delivered:
for S3 sources the files (a file modified since is read again), for JDBC sources the last
values of the bookmark keys. `--job-bookmark-option`:
  job-bookmark-enable   read only new input; the state advances when the run commits
  job-bookmark-pause    read only input new since the last commit; the state does not move
  job-bookmark-disable  read everything; the state is neither read nor written (Glue's default)
A failed run never commits, so its input is read again in full by the next run.

The state file is only ever replaced as part of a run's commit record (cauce.etl.commit), so the
bookmark and the published output move together.

On disk (`_cauce/bookmarks/JOB.json`, version 2) files are keyed as Glue keys them, by S3 URI
(`s3://bucket/key`), so the lake can move without every file looking new; a file outside the
lake (a source given as a local path) is keyed by its absolute path. Version 1 keyed every file
by absolute path. It is still read: a path under the lake is converted to its URI, a path
outside it that still exists is kept. A version 1 path that is neither names a file of a lake
that has moved since; it is refused (BookmarkFormatError, naming the file) rather than read as
unseen, since that would silently read everything again and append it twice.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from cauce.core.lake import LocalLake

FORMAT_VERSION = 2


class BookmarkFormatError(RuntimeError):
    """A bookmark file that cannot be read against this lake."""


class BookmarkState:
    """The committed bookmark of one job, plus what the current run has read."""

    def __init__(self, path: Path, option: str, lake: LocalLake):
        self.path = path
        self.option = option
        self.lake = lake
        committed = json.loads(path.read_text()) if path.exists() else {}
        self.committed: dict[str, Any] = committed.get("contexts", {})
        if committed and committed.get("version", 1) < FORMAT_VERSION:
            self.committed = _converted_from_absolute_paths(self.committed, path, lake)
        self._pending: dict[str, Any] = copy.deepcopy(self.committed)

    def file_key(self, path: Path) -> str:
        """How the bookmark names a file: its S3 URI, or its absolute path when outside the lake."""
        return self.lake.s3_uri(path) or str(path)

    @property
    def reads_incrementally(self) -> bool:
        return self.option in ("job-bookmark-enable", "job-bookmark-pause")

    @property
    def advances(self) -> bool:
        return self.option == "job-bookmark-enable"

    # -- S3 -----------------------------------------------------------------------------
    def new_files(self, ctx: str, files: dict[str, list[int]]) -> list[str]:
        """Of `files` ({file_key: [mtime_ns, size]}), those not yet delivered to `ctx`; records them."""
        seen = self.committed.get(ctx, {}).get("files", {}) if self.reads_incrementally else {}
        fresh = sorted(path for path, stamp in files.items() if seen.get(path) != stamp)
        pending = self._pending.setdefault(ctx, {}).setdefault("files", {})
        pending.update({path: files[path] for path in fresh})
        return fresh

    # -- JDBC ---------------------------------------------------------------------------
    def jdbc_high_water(self, ctx: str) -> list[Any] | None:
        if not self.reads_incrementally:
            return None
        return self.committed.get(ctx, {}).get("jdbc_max")

    def record_jdbc(self, ctx: str, keys: tuple[str, ...], max_values: list[Any] | None) -> None:
        if max_values is not None and all(v is not None for v in max_values):
            self._pending.setdefault(ctx, {}).update({"jdbc_keys": list(keys), "jdbc_max": max_values})

    def pending_document(self, run_id: str) -> dict[str, Any] | None:
        """The new state to commit with the run, or None when this option does not advance it."""
        if not self.advances:
            return None
        return {"version": FORMAT_VERSION, "run_id": run_id, "contexts": self._pending}


def _converted_from_absolute_paths(contexts: dict[str, Any], path: Path, lake: LocalLake) -> dict[str, Any]:
    converted = copy.deepcopy(contexts)
    for ctx, state in converted.items():
        files = {}
        for recorded, stamp in state.get("files", {}).items():
            uri = lake.s3_uri(recorded)
            if uri is None and not Path(recorded).exists():
                raise BookmarkFormatError(
                    f"bookmark {path}: written by an earlier Cauce with absolute paths, and {recorded!r} (ctx {ctx!r}) "
                    f"is neither in this lake ({lake.root}) nor on disk: the lake has moved since. Run the job once "
                    "from the lake's old folder to convert the bookmark, or delete the file to read every input again"
                )
            files[uri or recorded] = stamp
        if "files" in state:
            state["files"] = files
    return converted
