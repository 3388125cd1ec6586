"""A local implementation of AWS Glue's Python API (awsglue) on plain PySpark.

Existing Glue scripts (console, Glue Studio, AWS's samples) run unmodified on local Spark:
`cauce job run script.py --JOB_NAME x`, or the `glue_context` pytest fixture. Written from the
AWS Glue developer guide (DynamicFrame, GlueContext, transforms, format options, job bookmarks),
not from AWS's awsglue sources; the Glue JARs those call do not exist outside AWS Glue.

Why it is `cauce.etl.awsglue` and put in place by `install()` rather than installed as `awsglue`:
on AWS Glue the real awsglue (backed by Glue's JVM classes) must always win, and Cauce's wheel is
installed on Glue workers too. So nothing here is importable as `awsglue` until a local run
calls `install()`, which puts a finder first on `sys.meta_path` mapping `awsglue.*` (and
`awsgluedq.*`, `awsglueml.*`) onto these modules, even where AWS's `awsgluedataplanepython`
is installed; `uninstall()` (or leaving `installed()`) restores the import state as it was.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import sys
from typing import Any, Iterator

_ALIASES = {
    "awsglue": "cauce.etl.awsglue",
    "awsgluedq": "cauce.etl.awsglue",
    "awsgluedq.transforms": "cauce.etl.awsglue.dataquality",
    "awsglueml": "cauce.etl.awsglue",
    "awsglueml.transforms": "cauce.etl.awsglue.ml",
}
_ROOTS = ("awsglue", "awsgluedq", "awsglueml")


def _target(fullname: str) -> str | None:
    if fullname in _ALIASES:
        return _ALIASES[fullname]
    root, _, rest = fullname.partition(".")
    if root == "awsglue" and rest:
        return f"cauce.etl.awsglue.{rest}"
    return None


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str):
        self.target = target
        self._spec: Any = None

    def create_module(self, spec: Any) -> Any:
        module = importlib.import_module(self.target)
        self._spec = module.__spec__
        return module

    def exec_module(self, module: Any) -> None:
        module.__spec__ = self._spec  # the module stays what it is; only its second name is new


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        name = _target(fullname)
        if name is None:
            return None
        if importlib.util.find_spec(name) is None:
            return None  # awsglue.<something Glue has and Cauce lacks>: a plain ModuleNotFoundError
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(name), is_package=name == "cauce.etl.awsglue")


_finder: _AliasFinder | None = None
_saved: dict[str, Any] = {}


def _is_alias(name: str) -> bool:
    return name.split(".")[0] in _ROOTS


def install() -> None:
    """Make `import awsglue...` load this implementation (local runs only)."""
    global _finder
    if _finder is not None:
        return
    import importlib.util  # noqa: F401  (used by the finder)

    for name in [n for n in sys.modules if _is_alias(n)]:
        _saved[name] = sys.modules.pop(name)  # a real awsglue imported earlier is set aside
    _finder = _AliasFinder()
    sys.meta_path.insert(0, _finder)


def uninstall() -> None:
    global _finder
    if _finder is None:
        return
    sys.meta_path.remove(_finder)
    _finder = None
    for name in [n for n in sys.modules if _is_alias(n)]:
        del sys.modules[name]
    sys.modules.update(_saved)
    _saved.clear()


def is_installed() -> bool:
    return _finder is not None


@contextlib.contextmanager
def installed() -> Iterator[None]:
    already = is_installed()
    install()
    try:
        yield
    finally:
        if not already:
            uninstall()


def __getattr__(name: str) -> Any:
    # `from awsglue import DynamicFrame` (Glue Studio scripts), without importing pyspark up front
    if name in ("DynamicFrame", "DynamicFrameCollection", "DynamicFrameReader", "DynamicFrameWriter"):
        return getattr(importlib.import_module("cauce.etl.awsglue.dynamicframe"), name)
    raise AttributeError(name)
