"""Runtime adapters: where a job's reads, writes, bookmarks and commit actually happen.

`select_runtime()` picks one when a job starts: `CAUCE_RUNTIME` (or `--cauce-runtime`)
when set, else AWS Glue when Glue's own arguments say this is a Glue job run
(`--JOB_RUN_ID`), else local. Job code never asks which one it got.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cauce.etl.runtimes.base import Runtime


def select_runtime(values: dict[str, str]) -> "Runtime":
    choice = os.environ.get("CAUCE_RUNTIME") or values.get("cauce-runtime")
    if choice is None:
        choice = "glue" if "JOB_RUN_ID" in values else "local"
    if choice == "glue":
        from cauce.etl.runtimes.glue import GlueRuntime

        return GlueRuntime()
    if choice == "local":
        from cauce.etl.runtimes.local import LocalRuntime

        return LocalRuntime.from_environment()
    raise ValueError(f"CAUCE_RUNTIME={choice!r}: expected glue or local")
