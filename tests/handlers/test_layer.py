"""`cauce layer build`: a layer that Lambda's Python can import, the same bytes every time.

The layer is built for this machine's Python and architecture so that it can be imported here,
by an interpreter that sees nothing but the layer (as on Lambda, plus the runtime's boto3).
pip resolves the wheels from the package index, as it would on a developer's machine.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import zipfile

import pytest
from click.testing import CliRunner

from cauce.cli import cli

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
ARCH = {"x86_64": "x86_64", "aarch64": "arm64"}.get(platform.machine())


@pytest.fixture(scope="module")
def layers(tmp_path_factory):
    if ARCH is None or PYTHON not in ("3.11", "3.12", "3.13"):
        pytest.skip(f"no Lambda runtime matches python{PYTHON} on {platform.machine()}")
    out = tmp_path_factory.mktemp("layers")
    reports = []
    for name in ("first.zip", "second.zip"):
        result = CliRunner().invoke(cli, ["layer", "build", "--python", PYTHON, "--arch", ARCH, "--output", str(out / name), "--json"])
        assert result.exit_code == 0, result.output
        reports.append(json.loads(result.stdout))
    return reports


def test_the_layer_is_reproducible_byte_for_byte(layers):
    first, second = layers
    assert first["sha256"] == second["sha256"]
    assert first["unzipped_bytes"] < first["limit_bytes"] == 250 * 1024 * 1024


def test_the_layer_holds_the_framework_under_python_and_nothing_heavy(layers):
    names = zipfile.ZipFile(layers[0]["path"]).namelist()
    tops = {name.split("/")[1] for name in names}

    assert all(name.startswith("python/") for name in names)
    assert {"cauce", "aws_lambda_powertools", "pydantic", "orjson", "aws_xray_sdk"} <= tops
    # namespaced: a function's own handlers/ or etl/ in /var/task (before the layer on sys.path) shadows nothing
    assert not tops & {"handlers", "etl", "analytics", "statemachines"}
    assert {"cauce/handlers/firehose.py", "cauce/core/kpl.py"} <= {n.removeprefix("python/") for n in names}
    assert not tops & {"pyspark", "boto3", "botocore", "moto", "pytest"}
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or "/tests/" in n or "direct_url.json" in n]
    assert {zipfile.ZipFile(layers[0]["path"]).getinfo(n).date_time for n in names} == {(1980, 1, 1, 0, 0, 0)}


def test_a_handler_runs_from_the_unzipped_layer_alone(layers, tmp_path):
    zipfile.ZipFile(layers[0]["path"]).extractall(tmp_path)
    task = tmp_path / "task"  # the function's own code, with a handlers/ package of its own, first on sys.path as /var/task is
    (task / "handlers").mkdir(parents=True)
    (task / "handlers" / "__init__.py").write_text("USER = True\n")
    script = (
        "import sys, json; sys.path[:0] = [sys.argv[2], sys.argv[1]];"
        "from cauce.handlers.data_processor import handler; from cauce.handlers.testing import firehose_event, lambda_context;"
        "import cauce.handlers, handlers, orjson; assert cauce.handlers.__file__.startswith(sys.argv[1]) and handlers.USER;"
        "r = handler(firehose_event([{'event_id': '1', 'event_type': 'view', 'event_time': 't'}]), lambda_context());"
        "print('RESULT', r['records'][0]['result'])"
    )
    # -I: no user site-packages, no PYTHONPATH; -S: not even this venv's site-packages
    completed = subprocess.run([sys.executable, "-I", "-S", "-c", script, str(tmp_path / "python"), str(task)], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
    assert "RESULT Ok" in completed.stdout
