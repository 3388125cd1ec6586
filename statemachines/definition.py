"""State machine definitions: ASL JSON files with `${...}` placeholders, filled from the stack.

A definition in the stack's `step_functions_config` is either inline ASL JSON (the seed's
`jsonencode(...)`) or the name of an ASL template: a path, or a file in
`statemachines/definitions/`. Templates use Terraform's `templatefile` syntax, `${name}`
(`$${` for a literal `${`), and the Terraform module fills them with the same variables as
`template_variables` does here:

    glue_job_<key>          the `name` of glue_config.job_config[<key>]
    glue_crawler_<key>      the `name` of glue_config.crawler_config[<key>]
    lambda_function_<key>   the `function_name` of lambda_config[<key>]
    project_name, environment

where <key> is the map key with `-` written `_` (the seed's `etl-job` is `glue_job_etl_job`).
Any other `${name}` (a public workflow's own placeholders) is filled from `variables` given to
`load_definition` (`cauce sfn validate/run --var NAME=VALUE --vars FILE`), which win over the stack's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cauce.core.stack import StateMachineConfig, Stack

_PLACEHOLDER = re.compile(r"(?<!\$)\$\{([^}]*)\}")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class DefinitionError(ValueError):
    """A definition that cannot be read, filled or parsed; the message names where."""


@dataclass(frozen=True)
class StateMachineDefinition:
    name: str
    type: str  # STANDARD or EXPRESS
    document: dict[str, Any]
    source: str  # where it came from, for messages

    @property
    def text(self) -> str:
        return json.dumps(self.document)


def template_variables(stack: "Stack") -> dict[str, str]:
    """The placeholder values the stack defines (see the module docstring)."""
    variables = {"project_name": stack.project_name, "environment": stack.environment}
    for key, job in stack.glue_config.job_config.items():
        variables[f"glue_job_{_key(key)}"] = job.name
    for key, crawler in stack.glue_config.crawler_config.items():
        variables[f"glue_crawler_{_key(key)}"] = crawler.name
    for key, function in stack.lambda_config.items():
        variables[f"lambda_function_{_key(key)}"] = function.function_name
    return variables


def fill_placeholders(text: str, variables: Mapping[str, str], source: str) -> str:
    """Replace `${name}` as Terraform's templatefile does; every missing name is reported with its line."""
    missing = []
    for match in _PLACEHOLDER.finditer(text):
        name = match.group(1).strip()
        if not _IDENTIFIER.match(name):
            line = text.count("\n", 0, match.start()) + 1
            missing.append(f"line {line}: ${{{match.group(1)}}} is not a variable name (templatefile expressions are not supported)")
        elif name not in variables:
            line = text.count("\n", 0, match.start()) + 1
            known = ", ".join(sorted(variables)) or "none"
            missing.append(f"line {line}: ${{{name}}} has no value (the stack defines: {known})")
    if missing:
        raise DefinitionError(f"{source}: unfilled placeholders:\n  " + "\n  ".join(missing))
    filled = _PLACEHOLDER.sub(lambda m: json.dumps(variables[m.group(1).strip()])[1:-1], text)
    return filled.replace("$${", "${")


def parse_json(text: str, source: str) -> dict[str, Any]:
    from cauce.core.stack import parse_json_object

    return parse_json_object(text, source, DefinitionError, "an ASL definition (a JSON object)")


def definitions_dir() -> Path:
    return Path(str(resources.files("cauce.statemachines").joinpath("definitions")))


def template_path(reference: str) -> Path | None:
    """The file a definition reference names, if it names one: a path, a file in the project's
    workflows folder, or a packaged template (by file name, or name without `.asl.json`)."""
    from cauce.core.project import find_project

    project = find_project()
    folders = ([project.workflows, project.root] if project is not None else []) + [definitions_dir()]
    candidates = [Path(reference)] + [folder / name for folder in folders for name in (reference, f"{reference}.asl.json")]
    return next((candidate for candidate in candidates if candidate.is_file()), None)


def load_definition(reference: str, stack: "Stack", variables: Mapping[str, Any] | None = None) -> StateMachineDefinition:
    """A state machine by its stack key or name, or an ASL file, filled from the stack and `variables`."""
    values = {**template_variables(stack), **{name: str(value) for name, value in (variables or {}).items()}}
    machines = stack.step_functions_config
    for key, machine in machines.items():
        if reference in (key, machine.name):
            return _from_stack(key, machine, values)
    path = template_path(reference)
    if path is None:
        known = ", ".join(sorted(m.name for m in machines.values())) or "none"
        raise DefinitionError(f"no state machine {reference!r}: not in the stack's step_functions_config ({known}) and not an ASL file")
    return _from_file(path, path.name.removesuffix(".json").removesuffix(".asl"), "STANDARD", values)


def read_variables(assignments: tuple[str, ...] | list[str] = (), files: tuple[str, ...] | list[str] = ()) -> dict[str, str]:
    """Placeholder values from `NAME=VALUE` assignments and files (a JSON object, or NAME=VALUE lines);
    assignments win over files, later files over earlier ones."""
    values: dict[str, str] = {}
    for file in files:
        try:
            text = Path(file).read_text()
        except OSError as error:
            raise DefinitionError(f"--vars {file}: {error.strerror or error}") from None
        if text.lstrip().startswith("{"):
            try:
                document = json.loads(text)
            except json.JSONDecodeError as error:
                raise DefinitionError(f"--vars {file}: not valid JSON at line {error.lineno} column {error.colno}: {error.msg}") from None
            values.update({str(k): v if isinstance(v, str) else json.dumps(v) for k, v in document.items()})
        else:
            for number, line in enumerate(text.splitlines(), 1):
                if line.strip() and not line.lstrip().startswith("#"):
                    values.update(_assignment(line, f"--vars {file} line {number}"))
    for assignment in assignments:
        values.update(_assignment(assignment, f"--var {assignment!r}"))
    return values


def _assignment(text: str, where: str) -> dict[str, str]:
    name, equals, value = text.partition("=")
    name = name.strip()
    if not equals or not _IDENTIFIER.match(name):
        raise DefinitionError(f"{where}: expected NAME=VALUE, with NAME a placeholder name")
    return {name: value.strip()}


def _from_stack(key: str, machine: "StateMachineConfig", values: Mapping[str, str]) -> StateMachineDefinition:
    name, kind, definition = machine.name, machine.type, machine.definition
    if not definition.strip():
        raise DefinitionError(f"step_functions_config[{key!r}].definition is missing")
    if definition.lstrip().startswith("{"):
        source = f"step_functions_config[{key!r}].definition"
        return StateMachineDefinition(name, kind, parse_json(fill_placeholders(definition, values, source), source), source)
    path = template_path(definition)
    if path is None:
        raise DefinitionError(f"step_functions_config[{key!r}].definition: {definition!r} is neither ASL JSON nor an ASL file")
    return _from_file(path, name, kind, values)


def _from_file(path: Path, name: str, kind: str, values: Mapping[str, str]) -> StateMachineDefinition:
    source = str(path)
    text = fill_placeholders(path.read_text(), values, source)
    return StateMachineDefinition(name, kind, parse_json(text, source), source)


def _key(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", key)
