"""`cauce layer build`: the framework as a Lambda layer zip, and the project's own code as a
function zip, both reproducible byte for byte.

The layer holds Cauce (`cauce`, with `cauce.handlers`, `cauce.etl`, `cauce.analytics` and
`cauce.statemachines`, all importable without pyspark) and its `lambda` extra (Powertools with
Tracer and parser, orjson), resolved by pip as manylinux wheels for the chosen Python and
architecture, under `python/` as Lambda expects. boto3, botocore and s3transfer are left out,
because every Python runtime provides them (`include_boto3=True` keeps them).

Where Cauce's own files come from:
- an installed Cauce (the usual case, `pip install cauce`): the installed package's files, as
  listed in its RECORD. They are pure Python, so the files this machine runs are the files Lambda
  runs, with no source tree, no build and no index needed for Cauce itself (it may not be on any
  index: a user can install it from a wheel file). Only the `lambda` extra's requirements, which
  hold compiled code (pydantic-core, orjson), are resolved by pip for Lambda's platform.
- a source checkout (an editable install, whose installed files are only a path hook): a wheel
  built from the checkout, installed the same way.
The Terraform module and `cauce init`'s templates are left out of the layer: Lambda needs neither.

The function zip holds the Python packages and modules of the project's `source` folder (its
handlers and whatever they import), without tests, infra, .cauce, dist, virtualenvs, hidden files
and byte code. Lambda's limits
are checked and reported: 50 MB zipped for a direct upload, 250 MB unzipped for a function and
all its layers together.

Same inputs, same bytes (pin the versions pip may pick with a constraints file): entries are
sorted, timestamps fixed at 1980-01-01, permissions normalized, and byte code, caches, tests,
installer paths and console scripts removed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

PYTHON_VERSIONS = ("3.11", "3.12", "3.13")
ARCHITECTURES = {"x86_64": "x86_64", "arm64": "aarch64"}
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024  # function and all its layers, unzipped
LAMBDA_ZIPPED_UPLOAD_LIMIT = 50 * 1024 * 1024  # a function zip uploaded directly (larger ones go through S3)
# boto3 and what only it needs: every Python runtime provides them.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "urllib3", "python-dateutil", "six")
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_DROP_DIRS = {"__pycache__", "tests", "test", "bin"}
_DROP_SUFFIXES = (".pyc", ".pyo")
_DROP_NAMES = {"direct_url.json"}
# parts of the Cauce package that Lambda never imports
_NOT_IN_LAYER = ("cauce/terraform", "cauce/ops/project_template")
# folders of a project that are not function code
_NOT_FUNCTION_CODE = {"tests", "test", "infra", "dist", "build", "node_modules", "__pycache__"}


class LayerBuildError(RuntimeError):
    """The layer could not be built (pip failed, no source tree, or the layer is too big)."""


@dataclass
class LayerReport:
    path: str
    python: str
    architecture: str
    sha256: str
    zipped_bytes: int
    unzipped_bytes: int
    files: int
    limit_bytes: int = LAMBDA_UNZIPPED_LIMIT
    largest: list[tuple[str, int]] = field(default_factory=list)

    @property
    def share_of_limit(self) -> float:
        return self.unzipped_bytes / self.limit_bytes

    def as_dict(self) -> dict:
        return {**asdict(self), "share_of_limit": round(self.share_of_limit, 4)}


def source_checkout() -> Path | None:
    """Cauce's source tree when this Cauce runs from one (an editable install), else None."""
    root = Path(__file__).resolve().parents[2]
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file() or not (root / "cauce" / "ops" / "layer.py").is_file():
        return None
    import tomllib

    try:
        return root if tomllib.loads(pyproject.read_text()).get("project", {}).get("name") == "cauce" else None
    except (OSError, tomllib.TOMLDecodeError):
        return None


def build_layer(
    output: Path,
    python: str = "3.12",
    architecture: str = "x86_64",
    include_boto3: bool = False,
    constraints: Path | None = None,
    progress: Callable[[str], None] = lambda _step: None,
) -> LayerReport:
    if python not in PYTHON_VERSIONS:
        raise LayerBuildError(f"python {python!r} is not a Lambda runtime Cauce supports: {', '.join(PYTHON_VERSIONS)}")
    if architecture not in ARCHITECTURES:
        raise LayerBuildError(f"architecture {architecture!r}: expected one of {', '.join(ARCHITECTURES)}")
    root = source_checkout()
    with tempfile.TemporaryDirectory(prefix="cauce-layer-") as scratch:
        scratch_path = Path(scratch)
        site = scratch_path / "layer" / "python"
        if root is not None:
            progress(f"building the cauce wheel from the source checkout {root}")
            wheel = _build_wheel(root, scratch_path / "wheel")
            progress(f"resolving manylinux wheels for python{python} {architecture}")
            _pip_install([f"{wheel}[lambda]"], site, python, ARCHITECTURES[architecture], constraints)
        else:
            progress("copying the installed cauce package")
            requirements = _copy_installed_cauce(site)
            progress(f"resolving manylinux wheels for python{python} {architecture}: {', '.join(requirements)}")
            _pip_install(requirements, site, python, ARCHITECTURES[architecture], constraints)
        for excluded in _NOT_IN_LAYER:
            shutil.rmtree(site / excluded, ignore_errors=True)
        if not include_boto3:
            _remove_distributions(site, RUNTIME_PROVIDED)
        _prune(site)
        progress("writing the zip")
        output.parent.mkdir(parents=True, exist_ok=True)
        files, unzipped, largest = _write_zip(site.parent, output)
    digest = hashlib.sha256(output.read_bytes()).hexdigest()
    return LayerReport(str(output), python, architecture, digest, output.stat().st_size, unzipped, files, largest=largest)


def _run(command: list[str], what: str) -> None:
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        tail = "\n".join((completed.stderr or completed.stdout).strip().splitlines()[-15:])
        raise LayerBuildError(f"{what} failed (exit {completed.returncode}):\n{tail}")


def _build_wheel(root: Path, into: Path) -> Path:
    # A copy of the tree keeps setuptools' build/ and egg-info out of the user's checkout.
    source = into.parent / "source"
    shutil.copytree(root, source, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", ".cauce", "tests", "benchmarks", "docs", "examples",
        ".terraform*", "*.tfstate*"))  # infra/ stays: pyproject maps it onto cauce.terraform
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(into), str(source)], "building the cauce wheel")
    return next(into.glob("cauce-*.whl"))


def _copy_installed_cauce(site: Path) -> list[str]:
    """Copy the installed distribution's package files (by its RECORD) into `site`; returns its
    requirements and the `lambda` extra's, which pip resolves for Lambda's platform."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution("cauce")
    except PackageNotFoundError:
        raise LayerBuildError("Cauce is neither installed as a distribution nor run from its source checkout") from None
    copied = 0
    for file in dist.files or []:
        relative = file.as_posix()
        if not relative.startswith("cauce/") or "__pycache__" in relative or relative.endswith(_DROP_SUFFIXES):
            continue
        source = Path(str(file.locate()))
        if not source.is_file():
            raise LayerBuildError(f"the installed Cauce is incomplete: {source} is missing (reinstall it)")
        destination = site / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
        copied += 1
    if not copied:
        raise LayerBuildError("the installed Cauce lists no package files (an editable install outside its checkout?): reinstall it")
    # METADATA only: pip sees Cauce as installed, and no path of this machine goes into the layer
    dist_info = site / f"cauce-{dist.version}.dist-info"
    dist_info.mkdir(parents=True, exist_ok=True)
    (dist_info / "METADATA").write_text(dist.read_text("METADATA") or "")
    # what `pip install cauce[lambda]` would install: the requirements without a marker, and the extra's
    core, extra = [], []
    for requirement in dist.requires or []:
        spec, _, marker = requirement.partition(";")
        marker = marker.replace("'", '"').replace(" ", "")
        if not marker:
            core.append(spec.strip())
        elif marker == 'extra=="lambda"':
            extra.append(spec.strip())
    if not extra:
        raise LayerBuildError("the installed Cauce declares no 'lambda' extra: it is not a Cauce this command can layer")
    return sorted(core) + sorted(extra)


def _pip_install(requirements: list[str], target: Path, python: str, machine: str, constraints: Path | None) -> None:
    platforms = [f"manylinux2014_{machine}"]
    if python != "3.11":  # python3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34)
        platforms.append(f"manylinux_2_28_{machine}")
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target),
        "--implementation", "cp", "--python-version", python, "--only-binary=:all:", "--no-compile",
        *[arg for platform in platforms for arg in ("--platform", platform)],
        *(["--constraint", str(constraints)] if constraints else []),
        *requirements,
    ]
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    completed = subprocess.run(command, capture_output=True, text=True, env=env)
    if completed.returncode != 0:
        tail = "\n".join(completed.stderr.strip().splitlines()[-15:])
        raise LayerBuildError(f"pip could not resolve the layer's packages for python{python} {machine}:\n{tail}")


def _remove_distributions(site: Path, names: tuple[str, ...]) -> None:
    """Remove installed distributions by their RECORD files (exactly the files pip installed)."""
    for dist_info in site.glob("*.dist-info"):
        name = dist_info.name.split("-")[0].lower().replace("_", "-")
        if name not in names:
            continue
        for line in (dist_info / "RECORD").read_text().splitlines():
            relative = line.rsplit(",", 2)[0]
            target = (site / relative).resolve()
            if target.is_relative_to(site.resolve()) and target.is_file():
                target.unlink()
        shutil.rmtree(dist_info, ignore_errors=True)
    for directory in sorted((p for p in site.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(directory.iterdir()):
            directory.rmdir()


def _prune(site: Path) -> None:
    for path in sorted(site.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if not path.exists():
            continue
        if path.is_dir() and path.name in _DROP_DIRS and not path.parent.name.endswith(".dist-info"):
            shutil.rmtree(path)
        elif path.is_file() and (path.suffix in _DROP_SUFFIXES or path.name in _DROP_NAMES):
            path.unlink()
    # RECORD lists what pip installed, direct_url.json (a path on this machine) included:
    # keep only the lines of files still in the layer.
    for record in site.glob("*.dist-info/RECORD"):
        lines = record.read_text().splitlines()
        kept = [line for line in lines if (site / line.rsplit(",", 2)[0]).is_file()]
        record.write_text("\n".join(kept) + "\n")


def _write_zip(base: Path, output: Path, files: list[Path] | None = None, top_part: int = 1) -> tuple[int, int, list[tuple[str, int]]]:
    files = sorted(files if files is not None else (p for p in base.rglob("*") if p.is_file()))
    unzipped = 0
    by_top: dict[str, int] = {}
    temporary = output.with_suffix(".zip.part")
    with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in files:
            name = path.relative_to(base).as_posix()
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o755 if os.access(path, os.X_OK) else 0o644) << 16
            info.create_system = 3  # Unix, whatever the building machine
            data = path.read_bytes()
            archive.writestr(info, data, compresslevel=9)
            unzipped += len(data)
            parts = name.split("/")
            top = parts[top_part] if len(parts) > top_part else name
            by_top[top] = by_top.get(top, 0) + len(data)
    temporary.replace(output)
    largest = sorted(by_top.items(), key=lambda item: -item[1])[:8]
    return len(files), unzipped, largest


# --- the project's own function code -------------------------------------------------------------

@dataclass
class FunctionPackageReport:
    path: str
    sha256: str
    zipped_bytes: int
    unzipped_bytes: int
    files: int
    functions: list[str]  # lambda_config keys whose handler this zip holds
    zipped_limit_bytes: int = LAMBDA_ZIPPED_UPLOAD_LIMIT
    largest: list[tuple[str, int]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {**asdict(self), "share_of_zipped_limit": round(self.zipped_bytes / self.zipped_limit_bytes, 4)}


def project_functions(stack: "Stack", source: Path) -> list[str]:
    """The stack's Python functions whose handler module is the project's own: its top-level
    package or module is in `source` (handlers under `cauce.` come from the layer)."""
    keys = []
    for key, function in stack.lambda_config.items():
        if not function.runtime.startswith("python"):
            continue
        top = function.handler.split(".", 1)[0]
        if top and top != "cauce" and ((source / top / "__init__.py").is_file() or (source / f"{top}.py").is_file()):
            keys.append(key)
    return keys


def function_files(source: Path, skip: tuple[Path, ...] = ()) -> list[Path]:
    """The files of the project's code: the Python modules and packages (folders with an
    __init__.py) at the top of `source`, with everything in those packages (data files included),
    but tests, hidden entries, virtualenvs (a folder with a pyvenv.cfg), egg-info, byte code and
    the folders in `skip`. The project's other files (stack, workflows, apps, infra, README) are
    not code Lambda runs."""
    skipped = {path.resolve() for path in skip}
    found = []

    def wanted(entry: Path) -> bool:
        return not (entry.name.startswith(".") or entry.resolve() in skipped or entry.name in _NOT_FUNCTION_CODE
                    or entry.name.endswith(".egg-info") or (entry.is_dir() and (entry / "pyvenv.cfg").exists()))

    def walk(folder: Path) -> None:
        for entry in sorted(folder.iterdir()):
            if not wanted(entry):
                continue
            if entry.is_dir():
                walk(entry)
            elif entry.is_file() and entry.suffix not in _DROP_SUFFIXES:
                found.append(entry)

    for entry in sorted(source.iterdir()):
        if not wanted(entry):
            continue
        if entry.is_dir() and (entry / "__init__.py").is_file():
            walk(entry)
        elif entry.is_file() and entry.suffix == ".py":
            found.append(entry)
    return found


def build_function_package(source: Path, output: Path, functions: list[str], skip: tuple[Path, ...] = ()) -> FunctionPackageReport:
    """The function zip of the project's code, at the zip's root as Lambda's /var/task expects."""
    files = [path for path in function_files(source, skip) if path.resolve() != output.resolve()]
    if not files:
        raise LayerBuildError(f"no function code under {source}")
    output.parent.mkdir(parents=True, exist_ok=True)
    count, unzipped, largest = _write_zip(source, output, files, top_part=0)
    digest = hashlib.sha256(output.read_bytes()).hexdigest()
    return FunctionPackageReport(str(output), digest, output.stat().st_size, unzipped, count, functions, largest=largest)
