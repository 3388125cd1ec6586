"""Terraform's type system for input values, driven by Python type hints.

A variable's type expression is mirrored by a hint: `str` is string, `float` is number, `bool` is
bool, `Any` is any, `tuple[T, ...]` is list(T), `frozenset[T]` is set(T), `dict[str, T]` is
map(T), and a frozen dataclass is object({...}). A dataclass field with a default is
`optional(T, default)`; `T | None = None` is `optional(T)` (a null default).

`convert` turns a JSON value into an instance of the hint the way Terraform converts a value to a
variable's type (https://developer.hashicorp.com/terraform/language/expressions/type-constraints):
- a string converts to a number if it is a decimal number ("2" -> 2, "-2.5e-1" -> -0.25; no
  spaces, no hexadecimal), and to a bool if it is "true", "false", "1" or "0";
- a number or a bool converts to a string ("2", "2.5", "true"); a bool never converts to a number
  nor a number to a bool;
- absent or null optional attributes take their default; absent required attributes are errors;
- attributes the object type does not declare are dropped (reported as warnings here, since they
  are usually typos);
- a set drops duplicates and, of strings, orders them lexically.
Numbers come out as int when integral (Terraform prints 2, not 2.0), else float.

Terraform accepts null for a required attribute; this module's every required attribute is read
by the module (a validation, a resource), so `terraform plan` fails on it later, less clearly.
Here a null where a value is required is an error at once.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, Union

# A Terraform type as data: "string", "number", "bool", "any", ("list"|"set"|"map", element)
# or ("object", {attribute: (type, optional, default)}). tests/infra/test_stack_types.py compares
# it with the type expressions of infra/variables.tf.
TerraformType = Any

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_BOOLS = {"true": True, "false": False, "1": True, "0": False}


class Problems:
    """What a conversion found: errors (the value cannot have the type) and warnings (dropped)."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []


def _nullable(hint: Any) -> tuple[Any, bool]:
    """(the hint without None, whether None was part of it)."""
    if typing.get_origin(hint) in (Union, types.UnionType):
        arguments = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(arguments) == 1 and len(arguments) < len(typing.get_args(hint)):
            return arguments[0], True
    return hint, False


def _field_has_default(field: dataclasses.Field) -> bool:
    return field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING


def _field_default(field: dataclasses.Field) -> Any:
    return field.default_factory() if field.default_factory is not dataclasses.MISSING else field.default


def attributes(cls: type) -> list[dataclasses.Field]:
    """The fields of a dataclass that are Terraform attributes (not Cauce's own, like warnings)."""
    return [f for f in dataclasses.fields(cls) if f.metadata.get("terraform", True)]


def defaults(cls: type) -> dict[str, Any]:
    """The documents of a dataclass's optional attributes' defaults, by attribute."""
    return {f.name: to_document(_field_default(f)) for f in attributes(cls) if _field_has_default(f)}


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def terraform_type(hint: Any) -> TerraformType:
    """The Terraform type a hint stands for, as data (see TerraformType)."""
    hint, _ = _nullable(hint)
    if hint is str:
        return "string"
    if hint is bool:
        return "bool"
    if hint in (float, int):
        return "number"
    if hint is Any:
        return "any"
    if dataclasses.is_dataclass(hint):
        hints = _hints(hint)
        return ("object", {f.name: (terraform_type(hints[f.name]), _field_has_default(f), to_document(_field_default(f)) if _field_has_default(f) else None)
                           for f in attributes(hint)})
    origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple:
        return ("list", terraform_type(arguments[0]))
    if origin is frozenset:
        return ("set", terraform_type(arguments[0]))
    if origin is dict:
        return ("map", terraform_type(arguments[1]))
    raise TypeError(f"no Terraform type for the hint {hint!r}")


def type_text(hint: Any) -> str:
    """The hint in Terraform's syntax, objects within objects elided: `object({mode = string})`."""
    return _text(terraform_type(hint), 0)


def _text(kind: TerraformType, depth: int) -> str:
    if isinstance(kind, str):
        return kind
    if kind[0] == "object":
        if depth > 0:
            return "object({...})"
        return "object({" + ", ".join(f"{name} = {_text(t, depth + 1)}" for name, (t, _, _) in kind[1].items()) + "})"
    return f"{kind[0]}({_text(kind[1], depth)})"


def _article(text: str) -> str:
    return ("an " if text[0] in "aeiou" else "a ") + text


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _number_text(number: int | float) -> str:
    return str(number) if isinstance(number, int) else (str(int(number)) if number.is_integer() else repr(number))


def convert(value: Any, hint: Any, path: str, problems: Problems) -> Any:
    """`value` (parsed JSON) as an instance of `hint`, or None with an error added to `problems`."""
    hint, nullable = _nullable(hint)
    if value is None:
        if not nullable:
            problems.errors.append(f"{path}: null where the module needs {_article(type_text(hint))}")
        return None
    expected = type_text(hint)
    if hint is Any:
        return value
    if hint is str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return _number_text(value)
        if isinstance(value, str):
            return value
    elif hint in (float, int):
        number: Any = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and _NUMBER.fullmatch(value):
            number = float(value) if any(c in value for c in ".eE") else int(value)
        if number is not None and not (isinstance(number, float) and math.isinf(number)):
            return int(number) if isinstance(number, float) and number.is_integer() else number
    elif hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value in _BOOLS:
            return _BOOLS[value]
    elif dataclasses.is_dataclass(hint):
        if isinstance(value, Mapping):
            return convert_object(value, hint, path, problems)
    else:
        origin, arguments = typing.get_origin(hint), typing.get_args(hint)
        if origin is dict and isinstance(value, Mapping):
            return {key: convert(item, arguments[1], f'{path}["{key}"]', problems) for key, item in value.items()}
        if origin in (tuple, frozenset) and isinstance(value, list):
            items = [convert(item, arguments[0], f"{path}[{index}]", problems) for index, item in enumerate(value)]
            if origin is tuple:
                return tuple(items)
            return frozenset(item for item in items if item is not None)
    problems.errors.append(f"{path}: {_shown(value)} is not {_article(expected)}")
    return None


def convert_object(value: Mapping[str, Any], cls: type, path: str, problems: Problems, extra: str | None = None) -> Any:
    """An instance of dataclass `cls` from a JSON object: defaults for absent or null optional
    attributes, an error for each absent required one, a warning for each undeclared one."""
    hints = _hints(cls)
    fields = attributes(cls)
    values = {}
    prefix = f"{path}." if path else ""
    for field in fields:
        where = prefix + field.name
        if field.name not in value:
            if not _field_has_default(field):
                problems.errors.append(f"{where}: missing; the module's type requires it ({type_text(hints[field.name])})")
            continue  # the dataclass default applies
        if value[field.name] is None and _field_has_default(field):
            continue  # null takes the optional attribute's default, as in Terraform
        values[field.name] = convert(value[field.name], hints[field.name], where, problems)
    names = {field.name for field in fields}
    for name in value:
        if name not in names:
            problems.warnings.append(f"{prefix}{name}: " + (extra or "not an attribute of the module's type; Terraform drops it"))
    if problems.errors:
        return None  # an instance cannot be made; the caller raises with every error found
    return cls(**values)


def to_document(value: Any) -> Any:
    """The JSON document of a converted value: objects with every attribute, sets as sorted lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_document(getattr(value, f.name)) for f in attributes(type(value))}
    if isinstance(value, Mapping):
        return {key: to_document(item) for key, item in value.items()}
    if isinstance(value, frozenset):
        return sorted(to_document(item) for item in value)
    if isinstance(value, (tuple, list)):
        return [to_document(item) for item in value]
    return value
