"""`cauce init`, `cauce infra export` and the function zip, in process (tests/test_outside_in.py runs
the same project from an installed wheel)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from click.testing import CliRunner

from cauce.cli import cli


def init(*args: str):
    return CliRunner().invoke(cli, ["init", *args])


def test_init_writes_a_complete_project_with_every_placeholder_filled(tmp_path):
    result = init(str(tmp_path / "shop"), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["project_name"] == "shop"
    assert {"pyproject.toml", "stack.tfvars.json", "jobs/events_job.py", "handlers/transform.py", "handlers/consumer.py",
            "workflows/pipeline.asl.json", "apps/events-per-minute/app.sql", "apps/events-per-minute/app.json",
            "tests/test_events_job.py", "tests/test_handlers.py", "events/firehose.json", "events/kinesis.json", ".gitignore",
            "infra/main.tf", "infra/versions.tf", "infra/modules/cauce/variables.tf", "infra/modules/cauce/runtime/glue_main.py"} <= set(report["files"])
    for relative in report["files"]:
        path = tmp_path / "shop" / relative
        if not relative.startswith("infra/modules/"):  # the module's own files are copied as they are
            assert "{{" not in path.read_text(), relative
    assert not list((tmp_path / "shop").rglob("*.tmpl"))


def test_the_projects_stack_passes_the_modules_rules_and_binds_its_own_code(tmp_path, monkeypatch):
    from cauce.core.project import find_project
    from cauce.core.stack import load_stack
    from cauce.statemachines.definition import load_definition

    assert init(str(tmp_path / "shop")).exit_code == 0
    project = find_project(tmp_path / "shop" / "handlers")
    assert project is not None and project.root == tmp_path / "shop"
    stack = load_stack(project.stack_file)
    assert stack.warnings == ()  # nothing in it that Terraform would drop
    assert stack.lambda_config["transform"].handler == "handlers.transform.handler"
    assert stack.kinesis_config.analytics_config["events-per-minute"].code == (project.apps / "events-per-minute" / "app.sql").read_text()
    monkeypatch.chdir(project.root)
    definition = load_definition("shop-pipeline", stack)
    assert definition.document["States"]["CurateEvents"]["Parameters"]["JobName"] == "shop-events"
    assert definition.document["States"]["Report"]["Parameters"]["FunctionName"] == "shop-transform"
    tomllib = __import__("tomllib")
    pyproject = tomllib.loads((project.root / "pyproject.toml").read_text())
    assert pyproject["project"]["dependencies"][0].startswith("cauce[local,lambda]")


def test_init_takes_a_relative_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = init("shop", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["root"] == str(tmp_path.resolve() / "shop") and (tmp_path / "shop" / "pyproject.toml").is_file()


def test_init_refuses_a_folder_that_is_not_empty_unless_forced(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    refused = init(str(tmp_path), "--name", "shop")
    assert refused.exit_code == 2 and "is not empty" in refused.output
    assert not (tmp_path / "pyproject.toml").exists()

    forced = init(str(tmp_path), "--name", "shop", "--force")
    assert forced.exit_code == 0, forced.output
    assert (tmp_path / "notes.txt").read_text() == "mine" and (tmp_path / "pyproject.toml").is_file()


def test_init_refuses_a_name_the_module_would_refuse(tmp_path):
    result = init(str(tmp_path / "x"), "--name", "Shop_Events")
    assert result.exit_code == 2 and "3-32 lowercase letters" in result.output


def test_the_folder_name_becomes_the_project_name(tmp_path):
    from cauce.ops.scaffold import project_name_for

    assert project_name_for(tmp_path / "My Shop_Events") == "my-shop-events"


def test_infra_export_writes_the_module_and_refuses_a_full_folder(tmp_path):
    target = tmp_path / "modules" / "cauce"
    result = CliRunner().invoke(cli, ["infra", "export", str(target)])
    assert result.exit_code == 0, result.output
    assert {"variables.tf", "lambda.tf", "assets/handler-stub.zip", "runtime/glue_main.py", "README.md"} <= {
        p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()}
    again = CliRunner().invoke(cli, ["infra", "export", str(target)])
    assert again.exit_code == 2 and "--force" in again.output


def test_the_function_zip_holds_the_projects_packages_only_and_is_the_same_bytes_twice(tmp_path):
    from cauce.ops.layer import build_function_package, project_functions

    source = tmp_path / "project"
    for relative in ("handlers/__init__.py", "handlers/orders.py", "handlers/data/rates.json", "etl/__init__.py", "tool.py",
                     "tests/test_orders.py", ".venv/lib/x.py", "venv/pyvenv.cfg", "venv/lib/y.py", "infra/main.tf", "README.md",
                     "handlers/__pycache__/orders.cpython-311.pyc", "scripts/run.py", ".cauce/lake/b/k"):
        (source / relative).parent.mkdir(parents=True, exist_ok=True)
        (source / relative).write_text(relative)
    from tests.stacks import lambda_function, stack_with

    stack = stack_with(lambda_config={
        "orders": lambda_function(function_name="orders", handler="handlers.orders.handler", runtime="python3.12"),
        "framework": lambda_function(function_name="framework", handler="cauce.handlers.data_processor.handler", runtime="python3.12"),
        "node": lambda_function(function_name="node", handler="index.handler", runtime="nodejs20.x"),
    })
    functions = project_functions(stack, source)
    assert functions == ["orders"]
    first = build_function_package(source, tmp_path / "dist" / "a.zip", functions)
    (source / "handlers" / "orders.py").touch()  # a new modification time changes nothing
    second = build_function_package(source, tmp_path / "dist" / "b.zip", functions)
    assert first.sha256 == second.sha256
    archive = zipfile.ZipFile(first.path)
    assert archive.namelist() == ["etl/__init__.py", "handlers/__init__.py", "handlers/data/rates.json", "handlers/orders.py", "tool.py"]
    assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert first.as_dict()["zipped_limit_bytes"] == 50 * 1024 * 1024


def test_the_demo_runs_the_stacks_own_state_machine():
    from cauce.core.stack import load_stack
    from cauce.localstack.pipeline import StageFailed, workflow_name
    from tests.stacks import empty_stack, stack_with

    machine = {**load_stack(None).document["step_functions_config"]["etl-workflow"], "name": "shop-pipeline"}
    assert workflow_name(stack_with(step_functions_config={"pipeline": machine})) == "shop-pipeline"
    try:
        workflow_name(empty_stack())
    except StageFailed as error:
        assert error.stage == "workflow" and "no step_functions_config" in error.reason
    else:
        raise AssertionError("a stack without state machines has no workflow to run")
