"""Atomic publication of a run's output, and the bookmark with it.

Writes go to a staging folder inside each target (`_cauce_staging/RUN_ID`; Spark and Hive
skip names starting with `_`, so readers never see it). At commit, one record naming every
file move, every file an overwrite replaces, and the new bookmark is written atomically
(write then rename). Only then is it applied. A process killed after the record is written
is completed by the next run (roll-forward); one killed before leaves only staging folders,
which the next run removes. So a run either publishes all of its output and advances its
bookmark, or publishes nothing.

Why our own: Spark's file committers make one write atomic, not a job's several writes
plus its bookmark; Glue does that on AWS with its own committer and `Job.commit()`.

The record (`_cauce/commits/RUN_ID.json`, version 2) names every path relative to the lake's
root (absolute only for a target outside the lake), and is applied against the root the lake
has when it is applied: a record left by a crash is rolled forward after the lake is moved.
The root is that of the record's own location (records live in `ROOT/_cauce/commits`), so
rolling forward needs nothing but the record. A version 1 record (absolute paths, no
`version`) is still applied when it was written in the lake's current folder (its paths, or
its bookmark's, lie under the root); otherwise it is refused (CommitRecordError, naming the
file): its staged files would not be found, every move would pass as done, and the record
would be deleted, losing the run's output without a word.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path
from typing import Any

from cauce.core.lake import LocalLake

STAGING_DIR = "_cauce_staging"
RECORD_VERSION = 2


class CommitRecordError(RuntimeError):
    """A commit record that cannot be applied to this lake."""


class RunCancelled(RuntimeError):
    """The run was cancelled (timeout) before it committed; nothing was published."""


def is_hidden(name: str) -> bool:
    return name.startswith(("_", "."))


def data_files(folder: Path) -> list[Path]:
    """Files under `folder` that readers see (no `_`/`.` names at any level)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not is_hidden(d)]
        found += [Path(dirpath) / f for f in filenames if not is_hidden(f)]
    return found


def atomic_write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "w") as handle:
        json.dump(value, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


class OutputTransaction:
    def __init__(self, state_dir: Path, run_id: str):
        self.records_dir = state_dir / "commits"
        self.lake = _lake_of_state_dir(state_dir)
        self.run_id = run_id
        self._outputs: list[tuple[Path, Path, str]] = []  # (staging, target, mode)
        self._lock = threading.Lock()
        self._cancelled = False
        self._done = False

    def staging_dir(self, target: Path, mode: str) -> Path:
        """A fresh staging folder for one write into `target`; clears stale ones first."""
        self._remove_stale_staging(target)
        staging = target / STAGING_DIR / self.run_id / str(len(self._outputs))
        if staging.exists():
            shutil.rmtree(staging)
        self._outputs.append((staging, target, mode))
        return staging

    def _remove_stale_staging(self, target: Path) -> None:
        root = target / STAGING_DIR
        if not root.exists():
            return
        pending = {p.stem for p in self.records_dir.glob("*.json")} if self.records_dir.exists() else set()
        for run_dir in root.iterdir():
            if run_dir.name != self.run_id and run_dir.name not in pending:
                shutil.rmtree(run_dir, ignore_errors=True)

    def commit(self, bookmark_path: Path | None, bookmark: dict[str, Any] | None) -> int:
        """Publish every staged output and the bookmark; returns the number of files published."""
        with self._lock:
            if self._cancelled:
                raise RunCancelled(f"run {self.run_id} was cancelled; nothing published")
            at = self.lake.lake_relative
            record = {"version": RECORD_VERSION, "run_id": self.run_id, "moves": [], "deletes": [], "cleanup": [], "bookmark": None}
            for staging, target, mode in self._outputs:
                # Spark writes an empty JSON/CSV file for an empty result; publishing it adds nothing
                staged = [f for f in data_files(staging) if f.stat().st_size > 0] if staging.exists() else []
                if mode == "overwrite":
                    # dynamic partition overwrite: replace the folders this run wrote into
                    folders = {f.parent.relative_to(staging) for f in staged} or {Path(".")}
                    for folder in folders:
                        existing = target / folder
                        if existing.exists():
                            shallow = [p for p in existing.iterdir() if p.is_file() and not is_hidden(p.name)]
                            deep = data_files(existing) if folder == Path(".") else shallow
                            record["deletes"] += [at(p) for p in deep]
                record["moves"] += [[at(f), at(target / f.relative_to(staging))] for f in staged]
                record["cleanup"].append(at(staging.parent))
            if bookmark_path is not None and bookmark is not None:
                record["bookmark"] = {"path": at(bookmark_path), "state": bookmark}
            record_path = self.records_dir / f"{self.run_id}.json"
            atomic_write_json(record_path, record)  # the commit point
            self._done = True
        apply_record(record_path)
        return len(record["moves"])

    def cancel(self) -> None:
        """Forbid a later commit (the run timed out) and remove what was staged."""
        with self._lock:
            self._cancelled = True
            done = self._done
        if not done:
            self.abort()

    def abort(self) -> None:
        with self._lock:
            if self._done:
                return
        for staging, _target, _mode in self._outputs:
            shutil.rmtree(staging.parent, ignore_errors=True)


def apply_record(record_path: Path) -> None:
    """Apply a commit record; idempotent, so an interrupted apply can simply run again."""
    lake = _lake_of_state_dir(record_path.parent.parent)
    record = json.loads(record_path.read_text())
    if record.get("version", 1) < RECORD_VERSION:
        _check_legacy_record(record, record_path, lake)
    at = lake.resolve_lake_relative
    for path in record["deletes"]:
        at(path).unlink(missing_ok=True)
    for source, destination in record["moves"]:
        source_path, destination_path = at(source), at(destination)
        if source_path.exists():
            destination_path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source_path, destination_path)
    if record["bookmark"]:
        atomic_write_json(at(record["bookmark"]["path"]), record["bookmark"]["state"])
    for folder in record["cleanup"]:
        shutil.rmtree(at(folder), ignore_errors=True)
    record_path.unlink()


def recover(state_dir: Path) -> list[str]:
    """Complete the commits of runs that were interrupted after their commit point."""
    records_dir = state_dir / "commits"
    if not records_dir.exists():
        return []
    completed = []
    for record_path in sorted(records_dir.glob("*.json")):
        apply_record(record_path)
        completed.append(record_path.stem)
    return completed


def _lake_of_state_dir(state_dir: Path) -> LocalLake:
    return LocalLake(Path(state_dir).parent)  # the state folder is always ROOT/_cauce


def _check_legacy_record(record: dict[str, Any], record_path: Path, lake: LocalLake) -> None:
    """Refuse a version 1 record written in a folder the lake is no longer in (see the module's docstring)."""
    paths = [*record["deletes"], *(p for move in record["moves"] for p in move), *record["cleanup"]]
    # the bookmark is always in the lake's own state, so it tells where the lake was; a target may not be
    evidence = [record["bookmark"]["path"]] if record["bookmark"] else paths
    elsewhere = [p for p in evidence if not Path(p).is_relative_to(lake.root)]
    if elsewhere:
        raise CommitRecordError(
            f"commit record {record_path}: written by an earlier Cauce with absolute paths, in a lake that was not at "
            f"{lake.root} (it names {elsewhere[0]}). Move the lake back and run any job once to complete this commit, "
            "or delete the record to drop that run's output"
        )
