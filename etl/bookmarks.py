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
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any


class BookmarkState:
    """The committed bookmark of one job, plus what the current run has read."""

    def __init__(self, path: Path, option: str):
        self.path = path
        self.option = option
        committed = json.loads(path.read_text()) if path.exists() else {}
        self.committed: dict[str, Any] = committed.get("contexts", {})
        self._pending: dict[str, Any] = copy.deepcopy(self.committed)

    @property
    def reads_incrementally(self) -> bool:
        return self.option in ("job-bookmark-enable", "job-bookmark-pause")

    @property
    def advances(self) -> bool:
        return self.option == "job-bookmark-enable"

    # -- S3 -----------------------------------------------------------------------------
    def new_files(self, ctx: str, files: dict[str, list[int]]) -> list[str]:
        """Of `files` ({path: [mtime_ns, size]}), those not yet delivered to `ctx`; records them."""
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
        return {"version": 1, "run_id": run_id, "contexts": self._pending}
