"""cauce sfn list / validate / run / test-state / diagram: Step Functions workflows."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from cauce.cli.options import emit, fail, json_option, lake_option, needs_extra, with_stack


@click.group()
def sfn() -> None:
    """Step Functions: validate, run locally with jobs and handlers bound, draw."""


def _load_workflow(reference, stack, assignments=(), files=()):
    from cauce.statemachines.definition import DefinitionError, load_definition, read_variables

    try:
        return load_definition(reference, stack, read_variables(assignments, files))
    except DefinitionError as error:
        fail(str(error), 2)


def _json_argument(text: str | None, option: str):
    """An option's JSON value, given inline or as @FILE."""
    if text is None:
        return None
    try:
        return json.loads(Path(text[1:]).read_text() if text.startswith("@") else text)
    except (OSError, json.JSONDecodeError) as error:
        fail(f"{option} is not valid JSON: {error}", 2)


def _placeholder_options(command):
    """--var NAME=VALUE and --vars FILE: values for any `${...}` in the definition (a public workflow's own)."""
    command = click.option("--vars", "vars_files", multiple=True, type=click.Path(dir_okay=False),
                           help="Placeholder values: a JSON object, or NAME=VALUE lines (repeatable).")(command)
    return click.option("--var", "assignments", multiple=True, metavar="NAME=VALUE",
                        help="A value for ${NAME} in the definition (repeatable; wins over --vars and the stack).")(command)


@sfn.command("list")
@json_option
@with_stack
def sfn_list(as_json, stack, stack_file, project):
    """List the stack's state machines and the packaged ASL templates."""
    from cauce.statemachines.definition import definitions_dir

    machines = [{"key": key, "name": m.name, "type": m.type, "definition": m.definition if len(m.definition) < 120 else "(inline)"}
                for key, m in stack.step_functions_config.items()]
    templates = sorted(p.name for p in definitions_dir().glob("*.asl.json"))
    text = "\n".join(f"{m['name']:<28} {m['type']:<9} {m['definition']}" for m in machines) or "no state machines in the stack"
    emit(as_json, {"state_machines": machines, "templates": templates}, text + "\ntemplates: " + ", ".join(templates))


@sfn.command("validate")
@click.argument("reference", metavar="NAME_OR_FILE")
@_placeholder_options
@json_option
@needs_extra("local")
@with_stack
def sfn_validate(reference, assignments, vars_files, as_json, stack, stack_file, project):
    """Check an ASL definition: structure, graph, Retry/Catch, paths, and that every Task is bound locally
    to a function or job that imports."""
    from cauce.localstack.bindings import StackBindings
    from cauce.statemachines.validate import validate

    definition = _load_workflow(reference, stack, assignments, vars_files)
    problems = validate(definition.document, StackBindings(stack, project=project).known_targets())
    document = {"name": definition.name, "source": definition.source, "valid": not problems,
                "problems": [{"where": p.where, "message": p.message} for p in problems]}
    text = (f"{definition.source}: valid" if not problems
            else f"{definition.source}: {len(problems)} problem(s)\n" + "\n".join(f"  {p}" for p in problems))
    emit(as_json, document, text)
    if problems:
        sys.exit(1)


@sfn.command("run")
@click.argument("reference", metavar="NAME_OR_FILE")
@click.option("--input", "input_text", default="{}", show_default=True, help="Execution input: JSON, or @FILE.")
@lake_option
@click.option("--real-time", is_flag=True, help="Really wait on Retry intervals and Wait states (default: virtual time).")
@_placeholder_options
@click.option("--mock-config", type=click.Path(dir_okay=False), envvar="SFN_MOCK_CONFIG",
              help="Mocked responses in Step Functions Local's format (default: $SFN_MOCK_CONFIG).")
@click.option("--test-case", help="The mock configuration's test case to run (its states' responses are mocked).")
@json_option
@click.option("--verbose", is_flag=True, help="Also show the logs of the jobs and handlers (on stderr).")
@needs_extra("local")
@with_stack
def sfn_run(reference, input_text, lake, real_time, assignments, vars_files, mock_config, test_case, as_json, verbose,
            stack, stack_file, project):
    """Run a workflow locally: Glue tasks run jobs on local Spark, Lambda tasks run handlers in process, e.g.

        cauce sfn run etl-workflow --input '{}'
    """
    import contextlib
    import io

    from cauce.localstack.bindings import StackBindings
    from cauce.statemachines.local import LocalStepFunctions
    from cauce.statemachines.mocks import MockConfigError
    from cauce.statemachines.validate import AslValidationError

    if test_case and not mock_config:
        fail("--test-case needs --mock-config FILE (or SFN_MOCK_CONFIG)", 2)
    definition = _load_workflow(reference, stack, assignments, vars_files)
    execution_input = _json_argument(input_text, "--input")
    logs = sys.stderr if verbose else io.StringIO()
    try:
        with contextlib.redirect_stdout(logs), contextlib.redirect_stderr(logs), \
                LocalStepFunctions(stack, bindings=StackBindings(stack, lake=lake, project=project), virtual_time=not real_time,
                                   mock_config=mock_config if test_case else None) as local:
            result = local.run(definition, execution_input, test_case=test_case)
    except (AslValidationError, MockConfigError) as error:
        fail(str(error), 2)
    if not result.succeeded and not verbose:
        _show_log_tail(logs.getvalue())
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2, default=str))
    else:
        click.echo(_history_table(result))
        for row in result.rows:
            if row.status in ("FAILED", "CAUGHT") and row.cause:
                click.echo(f"  {row.state}: {row.error}: {_short(row.cause)}")
        click.echo(f"\n{result.name}: {result.status}" + (f" ({result.error}: {result.cause})" if result.error else ""))
        if result.skipped_wait_seconds:
            click.echo(f"virtual time: {result.skipped_wait_seconds:,.0f} s of Retry and Wait delays not waited for")
        click.echo("output: " + json.dumps(result.output, default=str))
    if not result.succeeded:
        sys.exit(1)


def _show_log_tail(captured: str, lines: int = 20) -> None:
    """A failed run's last log lines (the jobs' and handlers'), on stderr: the clue is usually there."""
    tail = captured.strip().splitlines()[-lines:]
    if tail:
        click.echo("last log lines (all with --verbose):\n" + "\n".join(f"  {line}" for line in tail), err=True)


@sfn.command("test-state")
@click.argument("reference", metavar="NAME_OR_FILE")
@click.argument("state_name", metavar="STATE")
@click.option("--input", "input_text", default="{}", show_default=True, help="The state's input: JSON, or @FILE.")
@click.option("--mock", "mock_text", default=None,
              help='A mocked task outcome, as TestState takes it: {"result": ...} or {"errorOutput": {"error": ..., "cause": ...}} '
                   "(JSON, or @FILE). Without one a Task calls what it is bound to.")
@click.option("--variables", "variables_text", default=None, help="Variables the state can read (a JSON object, or @FILE).")
@lake_option
@_placeholder_options
@json_option
@needs_extra("local")
@with_stack
def sfn_test_state(reference, state_name, input_text, mock_text, variables_text, lake, assignments, vars_files, as_json,
                   stack, stack_file, project):
    """Run one state of a workflow, as AWS's TestState API does: its status (SUCCEEDED, FAILED, CAUGHT_ERROR,
    RETRIABLE), output, error and next state, e.g.

        cauce sfn test-state order-flow Charge --input '{"amount": 5}' --mock '{"result": {"Payload": {"ok": true}}}'

    Like TestState, the command succeeds whatever the state's status; it exits 2 on bad input."""
    import contextlib
    import io

    from cauce.localstack.bindings import StackBindings
    from cauce.statemachines.local import LocalStepFunctions
    from cauce.statemachines.validate import AslValidationError

    definition = _load_workflow(reference, stack, assignments, vars_files)
    execution_input = _json_argument(input_text, "--input")
    mock = _json_argument(mock_text, "--mock")
    variables = _json_argument(variables_text, "--variables")
    if mock is not None and (not isinstance(mock, dict) or set(mock) - {"result", "errorOutput"} or len(mock) != 1):
        fail('--mock takes one of {"result": ...} or {"errorOutput": {"error": ..., "cause": ...}}', 2)
    if variables is not None and not isinstance(variables, dict):
        fail("--variables takes a JSON object of names and values", 2)
    logs = io.StringIO()
    try:
        with contextlib.redirect_stdout(logs), contextlib.redirect_stderr(logs), \
                LocalStepFunctions(stack, bindings=StackBindings(stack, lake=lake, project=project)) as local:
            outcome = local.test_state(definition, state_name, execution_input, mock=mock, variables=variables)
    except KeyError as error:
        fail(f"{definition.source}: {error.args[0]}", 2)
    except AslValidationError as error:
        fail(str(error), 2)
    document = {"status": outcome.status, "output": outcome.output, "error": outcome.error, "cause": outcome.cause,
                "nextState": outcome.next_state, "inspectionData": outcome.inspection_data}  # TestState's response fields
    lines = [f"{state_name}: {outcome.status}" + (f" -> {outcome.next_state}" if outcome.next_state else "")]
    if outcome.error:
        lines.append(f"  error: {outcome.error}: {_short(outcome.cause or '')}")
    lines.append("  output: " + json.dumps(outcome.output, default=str))
    emit(as_json, document, "\n".join(lines))


def _short(cause: str, limit: int = 300) -> str:
    """A cause for one line: Glue's ErrorMessage or a Lambda's errorMessage when the cause is their JSON."""
    try:
        document = json.loads(cause)
        cause = document.get("ErrorMessage") or document.get("errorMessage") or cause
    except (json.JSONDecodeError, AttributeError):
        pass
    cause = " ".join(str(cause).split())
    return cause if len(cause) <= limit else cause[: limit - 3] + "..."


def _history_table(result) -> str:
    header = f"{'state':<28} {'type':<9} {'status':<10} {'attempts':>8} {'duration':>10}  error"
    lines = [header, "-" * len(header)]
    for row in result.rows:
        duration = "" if row.duration_seconds is None else f"{row.duration_seconds:.3f}s"
        attempts = str(row.attempts) if row.attempts else ""
        lines.append(f"{row.state:<28} {row.type:<9} {row.status:<10} {attempts:>8} {duration:>10}  {row.error or ''}")
    return "\n".join(lines)


@sfn.command("diagram")
@click.argument("reference", metavar="NAME_OR_FILE")
@click.option("--format", "image_format", type=click.Choice(["mermaid", "dot", "svg", "png"]), default="mermaid",
              show_default=True, help="Mermaid or DOT text, or a picture drawn by Graphviz.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: standard output; required for png).")
@with_stack
def sfn_diagram(reference, image_format, output, stack, stack_file, project):
    """Draw a workflow: Mermaid text for Markdown, or an SVG/PNG picture for docs."""
    from cauce.statemachines.diagram import DiagramError, dot, mermaid, render

    definition = _load_workflow(reference, stack)
    try:
        if image_format == "mermaid":
            content: str | bytes = mermaid(definition.document)
        elif image_format == "dot":
            content = dot(definition.document, definition.name)
        else:
            content = render(definition.document, image_format, definition.name)
    except DiagramError as error:
        fail(str(error))
    if output is not None:
        output.write_bytes(content if isinstance(content, bytes) else content.encode())
        click.echo(f"wrote {output}")
    elif isinstance(content, bytes) and image_format == "png":
        fail("a PNG needs --output FILE", 2)
    else:
        click.echo(content if isinstance(content, str) else content.decode())


COMMANDS = [sfn]
