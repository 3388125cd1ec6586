"""Lazy package exports: `from cauce.handlers import firehose_transform` imports only what it names.

Shared by the packages whose `__init__` lists its public names (etl, handlers, statemachines),
so that importing a package stays cheap: a Lambda cold start or a Glue driver pays only for
the modules it uses.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` that imports `exports[name]` (a module path) on first access."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(exports[name]), name)

    return __getattr__
