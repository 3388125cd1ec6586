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
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path
from typing import Any

STAGING_DIR = "_cauce_staging"


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
            record = {"run_id": self.run_id, "moves": [], "deletes": [], "cleanup": [], "bookmark": None}
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
                            record["deletes"] += [str(p) for p in deep]
                record["moves"] += [[str(f), str(target / f.relative_to(staging))] for f in staged]
                record["cleanup"].append(str(staging.parent))
            if bookmark_path is not None and bookmark is not None:
                record["bookmark"] = {"path": str(bookmark_path), "state": bookmark}
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
    record = json.loads(record_path.read_text())
    for path in record["deletes"]:
        Path(path).unlink(missing_ok=True)
    for source, destination in record["moves"]:
        source_path, destination_path = Path(source), Path(destination)
        if source_path.exists():
            destination_path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source_path, destination_path)
    if record["bookmark"]:
        atomic_write_json(Path(record["bookmark"]["path"]), record["bookmark"]["state"])
    for folder in record["cleanup"]:
        shutil.rmtree(folder, ignore_errors=True)
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
