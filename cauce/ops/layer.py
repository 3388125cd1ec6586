"""`cauce layer build`: the framework as a Lambda layer zip, reproducible byte for byte.

The layer holds Cauce (its `handlers` package with `etl`, `analytics`, `statemachines` and
`cauce`, all importable without pyspark) and its `lambda` extra (Powertools with Tracer and
parser, orjson), resolved by pip as manylinux wheels for the chosen Python and architecture,
under `python/` as Lambda expects. boto3, botocore and s3transfer are left out, because every
Python runtime provides them (`include_boto3=True` keeps them).

Same inputs, same bytes (pin the versions pip may pick with a constraints file): entries are sorted, timestamps fixed at 1980-01-01, permissions
normalized, and byte code, caches, tests, installer paths and console scripts removed.
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
# boto3 and what only it needs: every Python runtime provides them.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "urllib3", "python-dateutil", "six")
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_DROP_DIRS = {"__pycache__", "tests", "test", "bin"}
_DROP_SUFFIXES = (".pyc", ".pyo")
_DROP_NAMES = {"direct_url.json"}


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


def project_root() -> Path:
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file():
        raise LayerBuildError(f"no pyproject.toml at {root}: `cauce layer build` runs from a source checkout of Cauce")
    return root


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
    root = project_root()
    with tempfile.TemporaryDirectory(prefix="cauce-layer-") as scratch:
        scratch_path = Path(scratch)
        progress("building the cauce wheel")
        wheel = _build_wheel(root, scratch_path / "wheel")
        progress(f"resolving manylinux wheels for python{python} {architecture}")
        site = scratch_path / "layer" / "python"
        _pip_install(wheel, site, python, ARCHITECTURES[architecture], constraints)
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
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".cauce", "tests", "benchmarks", "docs", "infra"))
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(into), str(source)], "building the cauce wheel")
    return next(into.glob("cauce-*.whl"))


def _pip_install(wheel: Path, target: Path, python: str, machine: str, constraints: Path | None) -> None:
    platforms = [f"manylinux2014_{machine}"]
    if python != "3.11":  # python3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34)
        platforms.append(f"manylinux_2_28_{machine}")
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target),
        "--implementation", "cp", "--python-version", python, "--only-binary=:all:", "--no-compile",
        *[arg for platform in platforms for arg in ("--platform", platform)],
        *(["--constraint", str(constraints)] if constraints else []),
        f"{wheel}[lambda]",
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


def _write_zip(base: Path, output: Path) -> tuple[int, int, list[tuple[str, int]]]:
    files = sorted(p for p in base.rglob("*") if p.is_file())
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
            top = name.split("/")[1] if "/" in name else name
            by_top[top] = by_top.get(top, 0) + len(data)
    temporary.replace(output)
    largest = sorted(by_top.items(), key=lambda item: -item[1])[:8]
    return len(files), unzipped, largest
