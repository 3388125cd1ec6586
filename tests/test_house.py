"""The house has floors: a lower package never imports a higher one. Read from the code's own
import statements (deferred imports inside functions included), not from a list kept by hand."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIRS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]

# floor of each package; a module may import its own floor's packages only where ALLOWED says so
FLOORS = {
    "cauce.core": 0,
    "cauce.etl": 1, "cauce.handlers": 1, "cauce.analytics": 1, "cauce.statemachines": 1,
    "cauce.localstack": 2, "cauce.ops": 2,
    "cauce.cli": 3, "cauce.pytest_plugin": 3,
    "cauce": 4,  # cauce/__main__.py (`python -m cauce`); cauce/__init__.py imports nothing (every import of cauce.* runs it)
}
# imports between packages of one floor, each downhill: analytics may use etl's Spark session and lake
ALLOWED_SIDEWAYS = {("cauce.analytics", "cauce.etl"), ("cauce.localstack", "cauce.ops")}


def package_of(module: str) -> str:
    parts = module.split(".")
    for length in (2, 1):
        candidate = ".".join(parts[:length])
        if candidate in FLOORS:
            return candidate
    raise AssertionError(f"{module}: in no floor of the house (add it to FLOORS in tests/test_house.py)")


def modules() -> dict[str, Path]:
    found = {}
    for package, folder in PACKAGE_DIRS.items():
        for path in (ROOT / folder).rglob("*.py"):
            relative = path.relative_to(ROOT / folder).with_suffix("")
            name = ".".join([package, *relative.parts]).removesuffix(".__init__")
            if package == "cauce" and relative.parts and f"cauce.{relative.parts[0]}" in PACKAGE_DIRS:
                continue
            found[name] = path
    return found


def imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {name for name in names if name == "cauce" or name.startswith("cauce.")}


def test_every_module_is_in_a_floor():
    assert {package_of(name) for name in modules()} <= set(FLOORS)


def test_no_import_runs_up_or_sideways():
    arrows = []
    for name, path in sorted(modules().items()):
        here = package_of(name)
        for target in sorted(imports(path)):
            there = package_of(target)
            if here == there:
                continue
            if FLOORS[there] > FLOORS[here] or (FLOORS[there] == FLOORS[here] and (here, there) not in ALLOWED_SIDEWAYS):
                arrows.append(f"{name} ({here}, floor {FLOORS[here]}) imports {target} ({there}, floor {FLOORS[there]})")
    assert not arrows, "imports that run up the house:\n  " + "\n  ".join(arrows)


def test_the_ground_floor_imports_nothing_of_cauce_above_it():
    ground = {name: path for name, path in modules().items() if package_of(name) == "cauce.core"}
    assert ground, "no ground floor found"
    assert all(target.startswith("cauce.core") for path in ground.values() for target in imports(path))


def test_importing_any_cauce_package_costs_nothing_above_it():
    assert imports(ROOT / "cauce" / "__init__.py") == set()


def test_every_package_folder_is_packaged():
    """A folder with an __init__.py that pyproject.toml does not list would be missing from the wheel."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {name for name, path in modules().items() if path.name == "__init__.py"}
    assert found <= listed, f"not in [tool.setuptools] packages: {sorted(found - listed)}"
