"""The stack definition: the Terraform module's input values as a JSON tfvars file.

The same file is what `terraform apply` deploys and what Cauce runs locally. Without one,
the embedded default (the seed's usage example, `cauce/defaults/stack.tfvars.json`) is used.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from cauce.core.stack_rules import stack_problems


class StackError(ValueError):
    """A stack definition that cannot be read or lacks what was asked for."""


def load_stack(path: str | Path | None = None) -> dict[str, Any]:
    if path is None:
        text = resources.files("cauce.core.defaults").joinpath("stack.tfvars.json").read_text()
        where = "embedded default stack"
    else:
        where = str(path)
        try:
            text = Path(path).read_text()
        except OSError as error:
            raise StackError(f"cannot read stack definition {where}: {error.strerror}") from None
    stack = parse_json_object(text, where, StackError, "a JSON object of Terraform variables")
    problems = stack_problems(stack)
    if problems:
        raise StackError(f"{where}: {len(problems)} invalid value(s), refused as `terraform plan` refuses them:\n  " + "\n  ".join(problems))
    return stack


def parse_json_object(text: str, where: str, error: type[Exception], expected: str) -> dict[str, Any]:
    """A JSON object from `text`, or `error` naming `where`, the line and the column."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as problem:
        raise error(f"{where}: not valid JSON at line {problem.lineno} column {problem.colno}: {problem.msg}") from None
    if not isinstance(document, dict):
        raise error(f"{where}: expected {expected}, got {type(document).__name__}")
    return document


def glue_jobs(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The stack's Glue job definitions by job name (`job_config.*.name`)."""
    return {job["name"]: job for job in stack.get("glue_config", {}).get("job_config", {}).values()}


def glue_connections(stack: dict[str, Any]) -> list[dict[str, Any]]:
    return list(stack.get("glue_config", {}).get("connection_config", {}).values())
