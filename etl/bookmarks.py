"""Job bookmarks emulated locally with AWS Glue's semantics.

Glue keeps, per job and per `transformation_ctx`, what each source has already delivered:
for S3 sources the files (a file modified since is read again), for JDBC sources the last
values of the bookmark keys. `--job-bookmark-option`:
  job-bookmark-enable   read only new input; the state advances when the run commits
  job-bookmark-pause    read only input new since the last commit; the state does not move
  job-bookmark-disable  read everything; the state is neither read nor written (Glue's default)
A failed run never commits, so its input is read again in full by the next run.

job-bookmark-pause's sub-options `job-bookmark-from <run A>` and `job-bookmark-to <run B>` name a
range of committed runs: the input delivered up to and including run A is ignored, the input
delivered after it up to and including run B is read, anything later is left out; the state does
not move. Either may be left out: from the first run, up to the last commit. For that each
committed run is listed (`runs`), each file records the run that delivered it (`delivered_by`) and
each JDBC source the maxima of its keys at each run (`jdbc_by_run`); a file delivered before Cauce
kept these counts as delivered by the first run listed.

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


class BookmarkRangeError(ValueError):
    """job-bookmark-from/-to that name no committed run, or given without job-bookmark-pause."""


class BookmarkState:
    """The committed bookmark of one job, plus what the current run has read."""

    def __init__(self, path: Path, option: str, lake: LocalLake, from_run: str | None = None, to_run: str | None = None):
        self.path = path
        self.option = option
        self.lake = lake
        committed = json.loads(path.read_text()) if path.exists() else {}
        self.committed: dict[str, Any] = committed.get("contexts", {})
        if committed and committed.get("version", 1) < FORMAT_VERSION:
            self.committed = _converted_from_absolute_paths(self.committed, path, lake)
        self.runs: list[str] = list(committed.get("runs") or ([committed["run_id"]] if committed.get("run_id") else []))
        self._pending: dict[str, Any] = copy.deepcopy(self.committed)
        self._delivered: dict[str, set[str]] = {}  # ctx -> file keys this run delivered
        self._jdbc_marked: set[str] = set()
        self.range = self._range(from_run, to_run)

    def _range(self, from_run: str | None, to_run: str | None) -> tuple[int, int] | None:
        """(after, up to) as positions in `runs`, or None without job-bookmark-from/-to."""
        if not from_run and not to_run:
            return None
        if self.option != "job-bookmark-pause":
            raise BookmarkRangeError(f"--job-bookmark-from/--job-bookmark-to are sub-options of job-bookmark-pause; "
                                     f"this run has --job-bookmark-option {self.option}")
        positions = {run: index for index, run in enumerate(self.runs)}
        for flag, run in (("--job-bookmark-from", from_run), ("--job-bookmark-to", to_run)):
            if run and run not in positions:
                known = ", ".join(self.runs[-5:]) or "none"
                raise BookmarkRangeError(f"{flag} {run}: no committed run of this job has that id "
                                         f"(bookmark {self.path}; the last committed runs: {known})")
        after = positions[from_run] if from_run else -1
        up_to = positions[to_run] if to_run else len(self.runs) - 1
        if up_to < after:
            raise BookmarkRangeError(f"--job-bookmark-to {to_run} was committed before --job-bookmark-from {from_run}")
        return after, up_to

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
        if self.range is not None:
            return self._files_in_range(ctx, files)
        seen = self.committed.get(ctx, {}).get("files", {}) if self.reads_incrementally else {}
        fresh = sorted(path for path, stamp in files.items() if seen.get(path) != stamp)
        pending = self._pending.setdefault(ctx, {}).setdefault("files", {})
        pending.update({path: files[path] for path in fresh})
        self._delivered.setdefault(ctx, set()).update(fresh)
        return fresh

    def _files_in_range(self, ctx: str, files: dict[str, list[int]]) -> list[str]:
        after, up_to = self.range or (-1, -1)
        positions = {run: index for index, run in enumerate(self.runs)}
        delivered_by = self.committed.get(ctx, {}).get("delivered_by", {})
        recorded = self.committed.get(ctx, {}).get("files", {})
        return sorted(key for key in files if key in recorded and after < positions.get(delivered_by.get(key), 0) <= up_to)

    # -- JDBC ---------------------------------------------------------------------------
    def jdbc_high_water(self, ctx: str) -> list[Any] | None:
        """The keys' maxima already read: rows after them are new (with a range, those of job-bookmark-from)."""
        if not self.reads_incrementally:
            return None
        if self.range is not None:
            return self._jdbc_at(ctx, self.range[0])
        return self.committed.get(ctx, {}).get("jdbc_max")

    def jdbc_upper_bound(self, ctx: str) -> list[Any] | None:
        """With a range, the keys' maxima at job-bookmark-to: rows after them are left out. None: no bound."""
        if self.range is None:
            return None
        return self._jdbc_at(ctx, self.range[1]) or []  # [] : nothing was read up to that run, so nothing is in range

    def _jdbc_at(self, ctx: str, position: int) -> list[Any] | None:
        by_run = self.committed.get(ctx, {}).get("jdbc_by_run", {})
        marks = [by_run[run] for run in self.runs[:position + 1] if run in by_run]
        return marks[-1] if marks else None

    def record_jdbc(self, ctx: str, keys: tuple[str, ...], max_values: list[Any] | None) -> None:
        if max_values is not None and all(v is not None for v in max_values):
            self._pending.setdefault(ctx, {}).update({"jdbc_keys": list(keys), "jdbc_max": max_values})
            self._jdbc_marked.add(ctx)

    def pending_document(self, run_id: str) -> dict[str, Any] | None:
        """The new state to commit with the run, or None when this option does not advance it."""
        if not self.advances:
            return None
        contexts = copy.deepcopy(self._pending)
        for ctx, keys in self._delivered.items():
            contexts.setdefault(ctx, {}).setdefault("delivered_by", {}).update({key: run_id for key in keys})
        for ctx in self._jdbc_marked:
            contexts[ctx].setdefault("jdbc_by_run", {})[run_id] = contexts[ctx]["jdbc_max"]
        runs = self.runs + ([run_id] if run_id not in self.runs else [])
        return {"version": FORMAT_VERSION, "run_id": run_id, "runs": runs, "contexts": contexts}


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
