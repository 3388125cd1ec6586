"""Commands in a user's project and outside one: the project found from the working folder
upward, its code importable, the extras named when missing."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from cauce.cli import cli
from tests.stacks import EMPTY


def run(*args):
    return CliRunner().invoke(cli, list(args), prog_name="cauce")


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A minimal project of the user's own, with a `handlers` package (the name Cauce used to install)."""
    root = tmp_path / "shop"
    (root / "handlers").mkdir(parents=True)
    (root / "handlers" / "__init__.py").write_text("")
    (root / "handlers" / "orders.py").write_text(textwrap.dedent("""
        from cauce.handlers import firehose_transform

        @firehose_transform
        def handler(event: dict):
            return {**event, "seen": True}
    """))
    (root / "pyproject.toml").write_text('[project]\nname = "shop"\nversion = "0"\n\n[tool.cauce]\nstack = "stack.json"\n')
    (root / "stack.json").write_text(json.dumps({**EMPTY, "project_name": "shop"}))
    (root / "deep" / "er").mkdir(parents=True)
    monkeypatch.chdir(root / "deep" / "er")  # commands find the project from a subfolder
    monkeypatch.delenv("CAUCE_STACK", raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the project's root goes first on it, for this test only
    yield root
    for name in [m for m in sys.modules if m == "handlers" or m.startswith("handlers.")]:
        del sys.modules[name]  # each test's project has its own `handlers` package


def test_a_users_own_handlers_package_loads_from_the_project_root(project, tmp_path):
    from cauce.handlers.testing import firehose_event

    event = tmp_path / "event.json"
    event.write_text(json.dumps(firehose_event([{"id": 1}])))
    result = run("invoke", "handlers.orders:handler", "--event", str(event), "--json")
    assert result.exit_code == 0, result.output
    [record] = json.loads(result.stdout)["records"]
    assert record["result"] == "Ok"


def test_outside_a_project_commands_refuse_to_guess_a_stack(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CAUCE_STACK", raising=False)
    result = run("sfn", "list")
    assert result.exit_code == 2
    assert "no Cauce project here" in result.output and "cauce init" in result.output


def test_cauce_stack_names_the_stack_outside_a_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.json").write_text(json.dumps({**EMPTY, "project_name": "abc"}))
    monkeypatch.setenv("CAUCE_STACK", str(tmp_path / "s.json"))
    result = run("sfn", "list", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["state_machines"] == []


def test_a_broken_tool_cauce_table_is_named(project):
    (project / "pyproject.toml").write_text('[tool.cauce]\nstak = "stack.json"\n')
    result = run("sfn", "list")
    assert result.exit_code == 2
    assert "[tool.cauce] has unknown key(s) stak" in result.output


def test_a_missing_extra_is_named_with_its_install_command(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pyspark" else real(name, *a))
    result = run("job", "run", "anything")
    assert result.exit_code == 2
    assert "cauce job run needs the 'local' extra (pyspark not installed): pip install 'cauce[local]'" in result.output
    assert "Traceback" not in result.output


def test_sfn_validate_imports_each_bound_handler_and_names_the_state(project):
    """A handler that cannot be imported is a validation problem, not a failure after earlier states ran."""
    example = json.loads((Path(__file__).parents[1] / "infra/examples/complete/stack.tfvars.json").read_text())
    function = {**example["lambda_config"]["data-processor"], "function_name": "broken", "handler": "handlers.broken.handler"}
    (project / "handlers" / "broken.py").write_text("import not_a_module_anywhere\n")
    definition = {"StartAt": "Fine", "States": {
        "Fine": {"Type": "Pass", "Next": "Call"},
        "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "broken"}, "End": True}}}
    machine = {**example["step_functions_config"]["etl-workflow"], "name": "flow", "definition": json.dumps(definition)}
    (project / "stack.json").write_text(json.dumps({**EMPTY, "project_name": "shop", "lambda_config": {"broken": function},
                                                    "step_functions_config": {"flow": machine}}))
    result = run("sfn", "validate", "flow", "--json")
    assert result.exit_code == 1, result.output
    [problem] = json.loads(result.stdout)["problems"]
    assert problem["where"] == "States.Call.Parameters.FunctionName"
    assert "Lambda function 'broken' cannot be loaded: ModuleNotFoundError: No module named 'not_a_module_anywhere'" in problem["message"]
