"""Outside in: Cauce as a user gets it. The wheel is built, installed with its extras into a fresh
virtualenv outside the repository, and a project made by `cauce init` runs every command from its
own folder, with its own `handlers/` and `etl/` packages beside Cauce's.

Select it with `-m outside_in` (or leave it out with `-m "not outside_in"`). The tests run in
file order, each on what the previous ones left (the project, its lake, its dist/). The duration
of each step is printed at the end (pytest -s, or in the terminal summary of `-rA`): the first
install fills pip's cache, later ones are faster.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MIRROR = Path("/opt/tf-plugins")
PROJECT = "shop-events"
BUCKET = f"{PROJECT}-lake"
TIMINGS: dict[str, float] = {}

pytestmark = pytest.mark.outside_in


def timed(step: str, command: list[str], cwd: Path, env: dict, timeout: int = 600) -> subprocess.CompletedProcess:
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    TIMINGS[step] = TIMINGS.get(step, 0.0) + time.perf_counter() - started
    return completed


def succeeded(completed: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert completed.returncode == 0, f"{completed.args} exited {completed.returncode}\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
    return completed


@pytest.fixture(scope="module")
def area(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("outside-in")
    assert not folder.resolve().is_relative_to(ROOT), "the user's machine must not be inside Cauce's repository"
    yield folder
    print("\nouter loop timings: " + ", ".join(f"{step} {seconds:.1f}s" for step, seconds in TIMINGS.items()))


@pytest.fixture(scope="module")
def wheel(area) -> Path:
    # a copy of the tree, so that setuptools' build/ and egg-info stay out of the checkout
    source = area / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", ".cauce",
                                                                 ".terraform*", "*.tfstate*", ".pytest_cache"))
    succeeded(timed("wheel build", [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(area / "wheel"), str(source)],
                    area, os.environ.copy()))
    return next((area / "wheel").glob("cauce-*.whl"))


@pytest.fixture(scope="module")
def user_env(area, wheel) -> dict:
    """A fresh virtualenv with `pip install 'cauce[local,lambda]' pytest` from the wheel, and an
    environment that knows nothing of this repository."""
    venv = area / "venv"
    succeeded(timed("virtualenv", [sys.executable, "-m", "venv", str(venv)], area, os.environ.copy()))
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("CAUCE_", "PYTEST_", "VIRTUAL_ENV", "PYTHON")) and key not in ("COV_CORE_SOURCE",)}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(venv))
    # --no-compile: byte-compiling all of pyspark and moto is most of an install from pip's cache;
    # the commands compile what they import, once
    succeeded(timed("pip install", [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-compile",
                                    f"{wheel}[local,lambda]", "pytest"], area, env, timeout=900))
    env["USER_PYTHON"] = str(venv / "bin" / "python")
    return env


def cauce(env: dict, cwd: Path, step: str, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return timed(step, [env["USER_PYTHON"], "-m", "cauce", *args], cwd, env, timeout)


@pytest.fixture(scope="module")
def project(area, user_env) -> Path:
    root = area / "work" / PROJECT
    root.parent.mkdir()
    report = json.loads(succeeded(cauce(user_env, root.parent, "cauce init", "init", PROJECT, "--json")).stdout)
    assert report["project_name"] == PROJECT
    # The user's own `etl` package beside the scaffold's own `handlers`: names Cauce's packages once had
    (root / "etl").mkdir()
    (root / "etl" / "__init__.py").write_text('"""The shop\'s own ETL helpers."""\nOWN = True\n')
    (root / "tests" / "test_own_packages.py").write_text(
        "import cauce.etl\nimport cauce.handlers\nimport etl\nimport handlers\n\n\n"
        "def test_the_projects_packages_are_its_own():\n"
        "    assert etl.OWN and etl.__file__ != cauce.etl.__file__ and handlers.__file__ != cauce.handlers.__file__\n"
        "    from cauce.etl import GlueJob  # Cauce's still import beside them\n"
        "    assert GlueJob.__module__.startswith('cauce.etl')\n"
    )
    return root


def test_the_wheel_carries_the_module_and_the_templates_and_no_generic_package(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"cauce/terraform/variables.tf", "cauce/terraform/lambda.tf", "cauce/terraform/assets/handler-stub.zip",
            "cauce/analytics/glue_main.py", "cauce/ops/project_template/stack.tfvars.json.tmpl"} <= names
    assert not {name.split("/")[0] for name in names} & {"etl", "handlers", "analytics", "statemachines", "infra"}


def test_init_writes_a_project_and_refuses_a_folder_that_is_not_empty(project, user_env):
    for relative in ("pyproject.toml", "stack.tfvars.json", "jobs/events_job.py", "handlers/transform.py", "handlers/consumer.py",
                     "workflows/pipeline.asl.json", "apps/events-per-minute/app.sql", "apps/events-per-minute/app.json",
                     "infra/main.tf", "infra/modules/cauce/variables.tf", "infra/modules/cauce/runtime/glue_main.py"):
        assert (project / relative).is_file(), relative
    stack = json.loads((project / "stack.tfvars.json").read_text())
    assert stack["lambda_config"]["transform"]["handler"] == "handlers.transform.handler"
    again = cauce(user_env, project.parent, "cauce init", "init", PROJECT)
    assert again.returncode == 2 and "is not empty" in again.stderr


def test_the_projects_tests_pass(project, user_env):
    completed = succeeded(timed("project pytest", [user_env["USER_PYTHON"], "-m", "pytest", "-q", "-p", "no:cacheprovider"], project, user_env))
    assert re.search(r"\b7 passed", completed.stdout), completed.stdout[-2000:]


def test_the_job_runs_twice_and_the_bookmark_reads_nothing_new(project, user_env):
    raw = project / ".cauce" / "lake" / BUCKET / "raw-data" / "year=2026" / "month=11" / "delivery-1.json"
    raw.parent.mkdir(parents=True)
    raw.write_text('{"event_id": "e1", "event_type": "view", "event_time": "2026-11-02T10:00:00Z"}\n'
                   '{"event_id": "e2", "event_type": "purchase", "amount": 3.5, "event_time": "2026-11-02T10:05:00Z"}\n'
                   "{not json\n")
    runs = [json.loads(succeeded(cauce(user_env, project, "cauce job run x2", "job", "run", f"{PROJECT}-events",
                                       "--job-bookmark-option", "job-bookmark-enable", "--json")).stdout) for _ in range(2)]
    assert (runs[0]["rows_read"], runs[0]["rows_written"], runs[0]["rows_quarantined"]) == ({"raw_events": 3}, {"curated_events": 2}, 1)
    assert sum(runs[1]["rows_read"].values()) == 0 and runs[1]["status"] == "SUCCEEDED"
    curated = project / ".cauce" / "lake" / BUCKET / "curated" / "events"
    assert list(curated.rglob("*.parquet"))


def test_invoke_runs_the_projects_own_transform(project, user_env):
    completed = succeeded(cauce(user_env, project, "cauce invoke", "invoke", "handlers.transform:handler", "--event", "events/firehose.json", "--json"))
    assert [record["result"] for record in json.loads(completed.stdout)["records"]] == ["Ok", "ProcessingFailed"]


def test_the_workflow_validates_and_runs_the_projects_job_and_function(project, user_env):
    validation = json.loads(succeeded(cauce(user_env, project, "cauce sfn validate", "sfn", "validate", f"{PROJECT}-pipeline", "--json")).stdout)
    assert validation["valid"] and validation["source"].endswith("workflows/pipeline.asl.json")
    run = json.loads(succeeded(cauce(user_env, project, "cauce sfn run", "sfn", "run", f"{PROJECT}-pipeline", "--json")).stdout)
    assert run["status"] == "SUCCEEDED"
    assert [(state["state"], state["status"]) for state in run["history"]] == [("CurateEvents", "SUCCEEDED"), ("Report", "SUCCEEDED")]
    assert run["output"]["report"]["report"] == {"job_name": f"{PROJECT}-events", "job_run_id": run["output"]["job_run"]["Id"], "status": "SUCCEEDED"}


def test_the_sql_app_runs_from_the_projects_apps_folder(project, user_env):
    completed = succeeded(cauce(user_env, project, "cauce analytics run", "analytics", "run", "events-per-minute", "--input", "events/events.jsonl", "--json"))
    rows = json.loads(completed.stdout)["outputs"]["DESTINATION_SQL_STREAM"]
    assert [(row["events"], row["purchases"]) for row in rows] == [(2, 1), (1, 1)]


def test_the_layer_and_the_function_zip_are_the_same_bytes_twice(project, user_env):
    reports = [json.loads(succeeded(cauce(user_env, project, "cauce layer build x2", "layer", "build", "--json")).stdout) for _ in range(2)]
    first, second = reports
    assert first["sha256"] == second["sha256"] and first["function"]["sha256"] == second["function"]["sha256"]
    layer = zipfile.ZipFile(first["path"]).namelist()
    assert "python/cauce/handlers/firehose.py" in layer and "python/cauce/ops/layer.py" in layer
    assert not [name for name in layer if name.startswith(("python/cauce/terraform/", "python/cauce/ops/project_template/", "python/handlers/"))]
    assert sorted(zipfile.ZipFile(first["function"]["path"]).namelist()) == [
        "etl/__init__.py", "handlers/__init__.py", "handlers/consumer.py", "handlers/transform.py"]
    assert first["function"]["functions"] == ["transform", "consumer"]
    assert first["function_and_layer_unzipped_bytes"] == first["unzipped_bytes"] + first["function"]["unzipped_bytes"] < 250 * 1024 * 1024
    assert Path(first["path"]) == project / "dist" / "cauce-layer-python3.12-x86_64.zip"


def test_the_demo_reconciles_the_projects_own_stack(project, user_env):
    completed = succeeded(cauce(user_env, project, "cauce demo", "demo", "--events", "1500", "--json"))
    report = json.loads(completed.stdout)
    assert report["reconciled"], [check for check in report["checks"] if not check["ok"]]
    assert report["stages"]["workflow"]["name"] == f"{PROJECT}-pipeline"
    assert report["stages"]["firehose"]["delivered"] > 0 and report["stages"]["workflow"]["rows_written"] > 0
    assert "events-per-minute" in report["stages"]["analytics"]["apps"]
    assert report["outputs"][f"job {PROJECT}-events target"] == f"s3://{BUCKET}/curated/events/"


@pytest.mark.skipif(shutil.which("terraform") is None, reason="the terraform CLI is not installed")
@pytest.mark.skipif(not (MIRROR / "registry.terraform.io" / "hashicorp" / "aws").is_dir(),
                    reason="no AWS provider mirror at /opt/tf-plugins: terraform init cannot get the provider offline")
def test_the_projects_infra_validates_with_the_built_artifacts(project, area, user_env):
    assert (project / "dist" / "function.zip").is_file()  # so lambda_packages and lambda_layer_zip are set, not the stubs
    config = area / "cli.tfrc"
    config.write_text(
        'provider_installation {\n'
        f'  filesystem_mirror {{\n    path    = "{MIRROR}"\n    include = ["registry.terraform.io/hashicorp/*"]\n  }}\n'
        '  direct {\n    exclude = ["registry.terraform.io/hashicorp/*"]\n  }\n}\n'
    )
    env = {**user_env, "TF_CLI_CONFIG_FILE": str(config), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    infra = project / "infra"
    succeeded(timed("terraform init+validate", ["terraform", "init", "-backend=false", "-input=false", "-no-color"], infra, env))
    validate = succeeded(timed("terraform init+validate", ["terraform", "validate", "-no-color"], infra, env))
    assert "The configuration is valid" in validate.stdout
    fmt = timed("terraform init+validate", ["terraform", "fmt", "-check", "-recursive", str(infra)], infra, env)
    assert fmt.returncode == 0, fmt.stdout
