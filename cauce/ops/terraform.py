"""Cauce's Terraform module as a user reaches it: inside the installed wheel, copied into the project.

Why package data plus a copy, and not a module registry or a git source: the wheel the user
installed is the one thing every user already has, and it holds the module of the same version
as the Python code the module deploys (the layer, the jobs' imports, the analytics runtime); a
registry or a git tag could drift from it, and neither is reachable from every machine. The
wheel maps the repository's infra/ onto the package `cauce.terraform` (pyproject.toml). A root
module cannot source a path inside site-packages (it differs on every machine and virtualenv),
so `cauce init` and `cauce infra export DIR` copy the module into the project, by default
`infra/modules/cauce`, and the root module uses

    module "stack" {
      source = "./modules/cauce"
      ...
      analytics_runtime_script      = "${path.module}/modules/cauce/runtime/glue_main.py"
      state_machine_definitions_dir = "${path.module}/../workflows"
    }

The module's own defaults for those two inputs point at the repository's analytics/ and
statemachines/ folders beside infra/; a copy carries the analytics runtime under runtime/, and a
project keeps its workflows in its own folder, so a root module using a copy sets both.
Re-export after upgrading Cauce (`cauce infra export infra/modules/cauce --force`).
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

MODULE_PATTERNS = ("*.tf", "README.md", "assets/*")
ANALYTICS_RUNTIME = "runtime/glue_main.py"  # where a copy keeps the analytics apps' Glue script
VERSION_FILE = "CAUCE_VERSION"


class ModuleExportError(RuntimeError):
    """The module cannot be found in the installation, or the target folder is in the way."""


def module_dir() -> Path:
    """The installed module: cauce/terraform/ beside this package in a wheel, infra/ in a source checkout.

    Found by path, not by importlib.resources: `cauce.terraform` holds no Python, so it is a
    namespace package, which resources cannot open on Python 3.11."""
    package = Path(__file__).resolve().parents[1]
    for folder in (package / "terraform", package.parent / "infra"):
        if (folder / "variables.tf").is_file():
            return folder
    raise ModuleExportError(f"Cauce's Terraform module is not installed (no variables.tf in {package / 'terraform'}): reinstall Cauce")


def module_files() -> list[tuple[str, Path]]:
    """(path inside the module, installed file), sorted: the .tf files, README and assets."""
    root = module_dir()
    found = {path.relative_to(root).as_posix(): path for pattern in MODULE_PATTERNS for path in root.glob(pattern) if path.is_file()}
    return sorted(found.items())


def export_module(target: Path, force: bool = False) -> list[Path]:
    """Copy the module into `target` with the analytics runtime under runtime/; returns the files written.

    A non-empty `target` is refused unless `force` (then the module's files are overwritten and
    nothing else in it is touched)."""
    from importlib.metadata import PackageNotFoundError, version

    if target.exists() and not target.is_dir():
        raise ModuleExportError(f"{target} exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise ModuleExportError(f"{target} is not empty: give --force to overwrite the module's files in it")
    files = [(name, source) for name, source in module_files()]
    files.append((ANALYTICS_RUNTIME, Path(str(resources.files("cauce.analytics").joinpath("glue_main.py")))))
    written = []
    for name, source in files:
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
        written.append(destination)
    try:
        installed = version("cauce")
    except PackageNotFoundError:
        installed = "unknown"
    (target / VERSION_FILE).write_text(f"{installed}\n")  # which Cauce the copy came from: re-export on upgrade
    written.append(target / VERSION_FILE)
    return written
