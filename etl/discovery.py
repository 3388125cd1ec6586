"""Finding job classes: by file path, or by name among the known job folders.

Known folders: the project's `jobs` (its `[tool.cauce]` table), then each folder in
`CAUCE_JOBS_PATH` (colon-separated). Outside a project: Cauce's example jobs.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from cauce.core.project import Project, find_project
from cauce.etl.job import GlueJob


class JobNotFound(LookupError):
    """No job matches the given path or name."""


def _load_module(path: Path):
    module_name = f"cauce_user_job_{path.stem}_{abs(hash(str(path.resolve())))}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise JobNotFound(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # the user's file: say where it fails, not Cauce's frames
        del sys.modules[module_name]
        raise JobNotFound(f"cannot load job file {path}: {_where(error, path)}") from None
    return module


def _where(error: Exception, path: Path) -> str:
    if isinstance(error, SyntaxError):
        return f"{type(error).__name__} at line {error.lineno}: {error.msg}"
    import traceback

    frames = [f for f in traceback.extract_tb(error.__traceback__) if Path(f.filename) == path.resolve() or f.filename == str(path)]
    line = f" at line {frames[-1].lineno}" if frames else ""
    return f"{type(error).__name__}{line}: {error}"


def jobs_in_file(path: Path) -> list[type[GlueJob]]:
    """GlueJob subclasses defined (not merely imported) in a Python file."""
    module = _load_module(path)
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, GlueJob) and value is not GlueJob and value.__module__ == module.__name__
    ]


def job_folders(project: Project | None = None) -> list[Path]:
    """The project's job folders (found from the working folder when not given), then $CAUCE_JOBS_PATH;
    outside any project, Cauce's example jobs instead of the project's."""
    project = project or find_project()
    folders = list(project.job_folders) if project is not None else [Path(__file__).resolve().parent / "jobs"]
    folders += [Path(p) for p in os.environ.get("CAUCE_JOBS_PATH", "").split(":") if p]
    return folders


def discover(project: Project | None = None) -> dict[str, tuple[type[GlueJob], Path]]:
    from cauce.etl.glue_scripts import is_glue_script

    found: dict[str, tuple[type[GlueJob], Path]] = {}
    for folder in job_folders(project):
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith("_") or is_glue_script(path):  # plain Glue scripts: glue_scripts(), never imported
                continue
            for job in jobs_in_file(path):
                found.setdefault(job.name, (job, path))
    return found


def glue_scripts(project: Project | None = None) -> dict[str, Path]:
    """Plain Glue scripts (awsglue, no GlueJob subclass) in the job folders, by file stem; read, not run."""
    from cauce.etl.glue_scripts import is_glue_script

    found: dict[str, Path] = {}
    for folder in job_folders(project):
        for path in sorted(folder.glob("*.py")):
            if not path.name.startswith("_") and is_glue_script(path):
                found.setdefault(path.stem, path)
    return found


def resolve_job(path_or_name: str, project: Project | None = None) -> tuple[type[GlueJob], Path]:
    path = Path(path_or_name)
    if path.is_dir():
        raise JobNotFound(f"{path} is a folder: give a job file (.py) or a job name")
    if path.suffix == ".py":
        if not path.exists():
            raise JobNotFound(f"job file {path} does not exist")
        jobs = jobs_in_file(path)
        if len(jobs) != 1:
            names = ", ".join(j.__name__ for j in jobs) or "none"
            raise JobNotFound(f"{path} must define exactly one GlueJob subclass (found: {names})")
        return jobs[0], path
    known = discover(project)
    if path_or_name not in known:
        raise JobNotFound(f"no job named {path_or_name!r} (known: {', '.join(sorted(known)) or 'none'})")
    return known[path_or_name]
