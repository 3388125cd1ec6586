"""The user's project: found from the working folder upward, as git finds its repository.

A project is a folder whose pyproject.toml has a `[tool.cauce]` table (`cauce init` writes one):

    [tool.cauce]
    stack = "stack.tfvars.json"   # the Terraform module's input values (JSON tfvars)
    jobs = ["jobs"]               # folders of Glue jobs (GlueJob subclasses or plain Glue scripts)
    source = "."                  # the import root of the project's handlers and jobs
    workflows = "workflows"       # ASL definitions (*.asl.json)
    apps = "apps"                 # SQL analytics apps (one folder each)
    lake = ".cauce/lake"          # the local lake onto which s3:// URIs map

Every path is relative to the project's root, and every key is optional (the values above are
the defaults). `--stack` and $CAUCE_STACK name another stack file; $CAUCE_LAKE another lake.
Outside a project only `cauce demo` runs, on the embedded example stack, and says so.
"""

from __future__ import annotations

import os
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG_FILE = "pyproject.toml"
TABLE = "tool.cauce"
DEFAULTS: dict[str, Any] = {"stack": "stack.tfvars.json", "jobs": ["jobs"], "source": ".", "workflows": "workflows",
                            "apps": "apps", "lake": ".cauce/lake"}


class ProjectError(ValueError):
    """A `[tool.cauce]` table that cannot be read, or a command that needs a project outside one."""


@dataclass(frozen=True)
class Project:
    root: Path
    stack_file: Path
    job_folders: tuple[Path, ...]
    source: Path
    workflows: Path
    apps: Path
    lake: Path

    @property
    def config_file(self) -> Path:
        return self.root / CONFIG_FILE

    def make_importable(self) -> None:
        """Put the project's import root first on sys.path, as Lambda's /var/task and Glue's script folder are."""
        source = str(self.source)
        if source not in sys.path:
            sys.path.insert(0, source)


def find_project(start: Path | None = None) -> Project | None:
    """The project holding `start` (default: the working folder), or None outside any project."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        config = candidate / CONFIG_FILE
        if config.is_file():
            table = _cauce_table(config)
            if table is not None:
                return _project(candidate, table, config)
    return None


def _cauce_table(config: Path) -> dict[str, Any] | None:
    try:
        document = tomllib.loads(config.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ProjectError(f"{config}: cannot be read as TOML: {error}") from None
    table = document.get("tool", {}).get("cauce")
    if table is not None and not isinstance(table, dict):
        raise ProjectError(f"{config}: [{TABLE}] must be a table")
    return table


def _project(root: Path, table: dict[str, Any], config: Path) -> Project:
    unknown = sorted(set(table) - set(DEFAULTS))
    if unknown:
        raise ProjectError(f"{config}: [{TABLE}] has unknown key(s) {', '.join(unknown)} (known: {', '.join(DEFAULTS)})")
    values = {**DEFAULTS, **table}
    for key, value in values.items():
        expected = list if key == "jobs" else str
        if not isinstance(value, expected) or (key == "jobs" and not all(isinstance(v, str) for v in value)):
            raise ProjectError(f"{config}: [{TABLE}] {key} = {value!r}: expected {'a list of paths' if key == 'jobs' else 'a path'}")
    return Project(root=root, stack_file=root / values["stack"], job_folders=tuple(root / j for j in values["jobs"]),
                   source=(root / values["source"]).resolve(), workflows=root / values["workflows"], apps=root / values["apps"],
                   lake=root / values["lake"])


def stack_file(explicit: Path | None, project: Project | None) -> Path | None:
    """The stack file a command uses: --stack, else $CAUCE_STACK, else the project's; None means the embedded example."""
    if explicit is not None:
        return explicit
    if os.environ.get("CAUCE_STACK"):
        return Path(os.environ["CAUCE_STACK"])
    return project.stack_file if project is not None else None
