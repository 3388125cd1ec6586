"""What the commands share, declared once: options, the project and stack they run on, the extras
they need, and how they print.

    @job.command("run")
    @needs_extra("local")
    @with_stack
    @json_option
    def run(stack, as_json): ...
"""

from __future__ import annotations

import functools
import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

# extra -> modules whose absence means the extra is not installed
EXTRAS = {"local": ("pyspark", "moto", "pandas"), "lambda": ("aws_lambda_powertools",), "analytics": ("sqlglot",)}

json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (machine-readable).")
lake_option = click.option(
    "--lake", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Local lake folder onto which s3:// URIs map (default: $CAUCE_LAKE, else the project's, else .cauce/lake).",
)
state_option = click.option(
    "--state", "state_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="The local stack's state folder: lake, catalog, bookmarks, server log (default: .cauce/stack in the project).",
)
stack_option = click.option(
    "--stack", "stack_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Stack definition (the Terraform module's JSON tfvars). Default: $CAUCE_STACK, else the project's (found from "
         "the working folder upward).",
)


def emit(as_json: bool, document: Any, text: str) -> None:
    click.echo(json.dumps(document, indent=2, default=str) if as_json else text)


def fail(message: str, code: int = 1) -> None:
    """Print `message` as an error and exit with `code` (no traceback)."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def needs_extra(*extras: str) -> Callable:
    """Refuse to run, naming the extra and how to install it, when one of `extras` is not installed (exit 2)."""

    def decorate(command: Callable) -> Callable:
        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> Any:
            for extra in extras:
                missing = [m for m in EXTRAS[extra] if importlib.util.find_spec(m) is None]
                if missing:
                    name = click.get_current_context().command_path
                    fail(f"{name} needs the '{extra}' extra ({', '.join(missing)} not installed): pip install 'cauce[{extra}]'", 2)
            return command(*args, **kwargs)

        return run

    return decorate


def with_project(command: Callable) -> Callable:
    """Pass `project`: the user's project found from the working folder upward (None outside one),
    its source folder importable."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        return command(*args, project=current_project(), **kwargs)

    return run


def current_project():
    from cauce.core.project import ProjectError, find_project

    try:
        project = find_project()
    except ProjectError as error:
        fail(str(error), 2)
    if project is not None:
        project.make_importable()
    return project


def with_stack(command: Callable | None = None, *, example_outside_project: bool = False, optional: bool = False) -> Callable:
    """Add --stack and pass `stack` (the parsed stack definition) and `project`.

    The stack is --stack, else $CAUCE_STACK, else the project's stack file. Outside a project a
    command refuses to guess, unless `example_outside_project` (cauce demo), which says it runs
    the embedded example stack, or `optional` (`cauce job run script.py`), which passes None.
    """

    def decorate(command: Callable) -> Callable:
        @stack_option
        @functools.wraps(command)
        def run(*args: Any, stack_file: Path | None, **kwargs: Any) -> Any:
            from cauce.core.project import stack_file as chosen_stack_file
            from cauce.core.stack import StackError, load_stack

            project = current_project()
            path = chosen_stack_file(stack_file, project)
            if path is None and optional and project is None:
                return command(*args, stack=None, stack_file=None, project=None, **kwargs)
            if path is None and not example_outside_project:
                fail("no Cauce project here (no pyproject.toml with a [tool.cauce] table in this folder or above): "
                     "run `cauce init`, or give --stack FILE", 2)
            if path is None:
                click.echo("no Cauce project here: running the embedded example stack (cauce init makes a project)", err=True)
            try:
                stack = load_stack(path)
            except StackError as error:
                fail(str(error), 2)
            for warning in stack.warnings:  # what Terraform drops or ignores: usually a typo
                click.echo(f"{path or 'stack'}: {warning}", err=True)
            return command(*args, stack=stack, stack_file=path, project=project, **kwargs)

        return run

    return decorate(command) if command is not None else decorate


def lake_folder(lake: Path | None, project: Any) -> Path:
    """--lake, else $CAUCE_LAKE, else the project's lake, else .cauce/lake here."""
    from cauce.core.lake import default_lake

    if lake is not None:
        return lake
    import os

    if os.environ.get("CAUCE_LAKE") or project is None:
        return default_lake()
    return project.lake


def state_folder(state_dir: Path | None, project: Any) -> Path:
    if state_dir is not None:
        return state_dir
    return (project.root if project is not None else Path.cwd()) / ".cauce" / "stack"
