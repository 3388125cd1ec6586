"""cauce invoke: a Lambda handler called in process, as Lambda calls it."""

from __future__ import annotations

import json
import sys

import click

from cauce.cli.options import fail, needs_extra, with_project


@click.command()
@click.argument("target", metavar="MODULE:FUNCTION")
@click.option("--event", "event_file", type=click.File("r"), required=True, help="Event JSON file ('-' for standard input).")
@click.option("--function-name", default=None, help="Function name in the context (default: the handler's name).")
@click.option("--memory", type=click.IntRange(128, 10240), default=256, show_default=True, help="Memory size in the context (MB).")
@click.option("--timeout", type=click.IntRange(1, 900), default=300, show_default=True, help="Timeout in the context (seconds).")
@click.option("--json", "as_json", is_flag=True, help="Print only the response (or Lambda's error shape) as JSON; logs go to stderr.")
@needs_extra("lambda")
@with_project
def invoke(target, event_file, function_name, memory, timeout, as_json, project):
    """Invoke a handler in process, as Lambda would, e.g.

        cauce invoke handlers.data_processor:handler --event firehose.json
    """
    import contextlib
    import importlib

    from cauce.core.lambda_runtime import invoke as invoke_handler
    from cauce.core.lambda_runtime import lambda_context

    if project is None and "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, ".")  # outside a project the working folder is the function's root
    module_name, _, attribute = target.partition(":")
    try:
        event = json.load(event_file)
    except json.JSONDecodeError as error:
        fail(f"--event {event_file.name}: not valid JSON: {error}", 2)
    # The handler's logs and metrics go to stderr, so that stdout holds only the response.
    with contextlib.redirect_stdout(sys.stderr):
        try:
            handler = getattr(importlib.import_module(module_name), attribute or "handler")
        except (ImportError, AttributeError) as error:
            fail(f"cannot load {target}: {type(error).__name__}: {error}", 2)
        context = lambda_context(function_name=function_name or attribute or "handler", memory_limit_in_mb=memory, timeout_seconds=timeout)
        outcome = invoke_handler(handler, event, context)
    document = outcome["response"]
    if as_json:
        click.echo(json.dumps(document, indent=2, default=str))
    else:
        status = "ok" if outcome["ok"] else f"error {document['errorType']}"
        click.echo(f"{target}: {status} (request {context.aws_request_id})")
        click.echo(json.dumps(document, indent=2, default=str))
    if not outcome["ok"]:
        sys.exit(1)


COMMANDS = [invoke]
