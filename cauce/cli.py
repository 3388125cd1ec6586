"""The `cauce` command line. Every command has --help, exits non-zero on failure, and
commands that report take --json for machine-readable output."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

LAKE_OPTION = click.option(
    "--lake", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Local lake folder onto which s3:// URIs map (default: $CAUCE_LAKE or .cauce/lake).",
)
STACK_OPTION = click.option(
    "--stack", "stack_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Stack definition (the Terraform module's JSON tfvars). Default: the embedded example stack.",
)


def _emit(as_json: bool, document: dict, text: str) -> None:
    click.echo(json.dumps(document, indent=2, default=str) if as_json else text)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cauce")
def cli() -> None:
    """Cauce: build, test on one machine, and deploy AWS data-processing stacks."""


@cli.group()
def job() -> None:
    """Glue ETL jobs: run locally exactly as on Glue, list them."""


@job.command(
    "run",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.argument("path_or_name")
@LAKE_OPTION
@STACK_OPTION
@click.option("--worker-type", default=None, help="Glue worker type (default: from the stack, else G.1X).")
@click.option("--number-of-workers", type=int, default=None, help="Glue workers (default: from the stack, else 2).")
@click.option("--timeout", "timeout_minutes", type=float, default=None, help="Minutes before the run is stopped (TIMEOUT).")
@click.option("--max-retries", type=int, default=None, help="Retries of a FAILED run (Glue's 0-10).")
@click.option("--json", "as_json", is_flag=True, help="Print the run result as JSON.")
@click.pass_context
def job_run(ctx, path_or_name, lake, stack_file, worker_type, number_of_workers, timeout_minutes, max_retries, as_json):
    """Run a job (a .py file or a job name) with Glue's arguments, e.g.

        cauce job run etl-proceso-principal --job-bookmark-option job-bookmark-enable --source_path s3://b/raw/
    """
    from etl.arguments import split_argv
    from etl.runner import GLUE_DEFAULT_TIMEOUT_MINUTES, RunPolicy, run_job
    from etl.runtimes.local import LocalRuntime

    from cauce.jobs import JobNotFound, resolve_job
    from cauce.stack import StackError, glue_connections, glue_jobs, load_stack

    try:
        job_cls, path = resolve_job(path_or_name)
        stack = load_stack(stack_file)
    except (JobNotFound, StackError) as error:
        raise click.ClickException(str(error)) from None
    definition = glue_jobs(stack).get(job_cls.name, {})
    values = split_argv(_flatten(definition.get("default_arguments", {})))
    values.update(split_argv(ctx.args))  # run arguments override the job's default_arguments, as on Glue
    values.setdefault("JOB_NAME", job_cls.name)
    try:
        policy = RunPolicy(
            worker_type=worker_type or definition.get("worker_type", "G.1X"),
            number_of_workers=number_of_workers or definition.get("number_of_workers", 2),
            timeout_minutes=timeout_minutes or definition.get("timeout", GLUE_DEFAULT_TIMEOUT_MINUTES),
            max_retries=definition.get("max_retries", 0) if max_retries is None else max_retries,
        )
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    runtime = LocalRuntime(lake or Path(os.environ.get("CAUCE_LAKE", ".cauce/lake")), cores=policy.local_cores)
    for connection in glue_connections(stack):
        runtime.catalog.put_connection(connection)
    result = run_job(job_cls, values, runtime, policy)
    document = {**result.as_dict(), "script": str(path), "lake": str(runtime.lake.root), "local_cores": policy.local_cores}
    text = (
        f"{result.job_name} {result.run_id}: {result.status} in {result.duration_seconds:.1f}s\n"
        f"  read {result.rows_read}  written {result.rows_written}  quarantined {result.rows_quarantined}"
        + (f"\n  error: {result.error}" if result.error else "")
    )
    _emit(as_json, document, text)
    if not result.succeeded:
        sys.exit(2 if result.error_type == "JobArgumentError" else 1)


def _flatten(arguments: dict) -> list[str]:
    return [token for key, value in arguments.items() for token in (key, str(value))]


@job.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the jobs as JSON.")
def job_list(as_json):
    """List the jobs Cauce can run (etl/jobs, $CAUCE_JOBS_PATH, ./jobs)."""
    from cauce.jobs import discover

    jobs = [
        {"name": name, "class": cls.__name__, "path": str(path), "description": cls.description}
        for name, (cls, path) in sorted(discover().items())
    ]
    text = "\n".join(f"{j['name']:<32} {j['path']}" for j in jobs) or "no jobs found"
    _emit(as_json, {"jobs": jobs}, text)


@cli.command()
@LAKE_OPTION
def shell(lake):
    """A PySpark shell on the local runtime (spark, lake, catalog ready): the seed's dev endpoint, locally."""
    import code

    from etl.runtimes.local import LocalRuntime

    runtime = LocalRuntime(lake or Path(os.environ.get("CAUCE_LAKE", ".cauce/lake")))
    namespace = {"spark": runtime.spark, "lake": runtime.lake, "catalog": runtime.catalog, "runtime": runtime}
    banner = (
        f"Cauce shell: Spark {runtime.spark.version}, lake {runtime.lake.root}\n"
        "  spark, lake (lake.local_path('s3://b/k')), catalog (catalog.resolve('db', 'table'))"
    )
    code.interact(banner=banner, local=namespace)


@cli.command()
@click.option("--events", type=click.IntRange(min=1), default=20_000, show_default=True, help="Events to generate.")
@click.option("--malformed-share", type=click.FloatRange(0, 1), default=0.02, show_default=True, help="Share of bad events.")
@click.option("--duplicate-share", type=click.FloatRange(0, 1), default=0.01, show_default=True, help="Share of re-delivered events.")
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed for the generated events.")
@click.option("--lake", type=click.Path(file_okay=False, path_type=Path), default=Path(".cauce/demo-lake"), show_default=True,
              help="Lake folder for the demo (emptied first).")
@click.option("--etl-only", is_flag=True, help="Only the ETL job, on two batches written straight to the lake (with bookmarks).")
@STACK_OPTION
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="HTML report to write (default: demo-report.html beside the lake); its log file takes the same name with .log.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--verbose", is_flag=True, help="Print the jobs' and handlers' structured log lines (on stderr) instead of to the log file.")
def demo(events, malformed_share, duplicate_share, seed, lake, etl_only, stack_file, report_path, as_json, verbose):
    """The main job on embedded defaults: the seed's whole stack on this machine, every event reconciled.

    Events go into the Kinesis stream, Firehose delivers them through the data-processor into the lake,
    the crawler catalogs them, the etl-workflow runs the Glue job then the data-processor, and the SQL
    analytics app counts them per minute.
    """
    import atexit
    import contextlib

    from cauce.stack import StackError, load_stack

    if etl_only:
        from cauce.demo import run_demo

        report = run_demo(lake, events, malformed_share, duplicate_share, seed, progress=not as_json, verbose=verbose)
        _emit(as_json, report, report["text"])
        if not report["reconciled"]:
            sys.exit(1)
        return
    from cauce.localstack.pipeline import run_pipeline
    from cauce.localstack.report import write_html_report

    terminal = sys.stdout  # progress and stage lines; the handlers' and jobs' logs go to the log file
    lake.mkdir(parents=True, exist_ok=True)
    log_path = report_path.with_suffix(".log") if report_path else lake.parent / "demo.log"
    say = (lambda _line: None) if as_json else (lambda line: click.echo(line, file=terminal))
    bar = click.progressbar(length=events, label="stream stages", file=terminal, hidden=as_json,
                            item_show_func=lambda detail: detail)
    done = 0

    def progress(events_done: int, detail: str) -> None:
        nonlocal done
        bar.update(events_done - done, detail)
        done = events_done
        if events_done >= events:
            bar.render_finish()

    # The handlers' loggers keep the stream they are created with, so the log file stays open until exit.
    log_file = open(log_path, "w")
    atexit.register(log_file.close)
    with contextlib.ExitStack() as outputs:
        if not verbose:
            outputs.enter_context(contextlib.redirect_stderr(log_file))
            outputs.enter_context(contextlib.redirect_stdout(log_file))
        else:
            outputs.enter_context(contextlib.redirect_stdout(sys.stderr))
        try:
            stack = load_stack(stack_file)
        except StackError as error:
            raise click.ClickException(str(error)) from None
        with bar:
            report = run_pipeline(lake, events, malformed_share, duplicate_share, seed, stack=stack, say=say, progress=progress)
    report["log"] = str(log_path)
    if report_path is None:
        report_path = lake.parent / "demo-report.html"
    report["html_report"] = str(write_html_report(report, report_path))
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
    else:
        click.echo(_pipeline_text(report))
    if not report["reconciled"]:
        sys.exit(1)


def _pipeline_text(report: dict) -> str:
    lines = [""]
    for check in report["checks"]:
        lines.append(f"  [{'ok' if check['ok'] else 'FAILED'}] {check['check']}")
    lines.append("")
    lines.append("where the outputs are (s3:// maps into the lake folder " + report["lake"] + "):")
    lines += [f"  {name:<34} {place}" for name, place in report["outputs"].items()]
    settings = report["not_applicable_locally"]
    if settings:
        lines.append(f"{sum(len(paths) for paths in settings.values())} AWS-only settings were accepted but do not apply locally "
                     f"(listed in the HTML report and --json), e.g. {next(iter(settings))}")
    lines.append(f"report: {report['html_report']}   logs: {report['log']}")
    if report["reconciled"]:
        lines.append(f"Reconciled: nothing lost ({report['records_put']:,} records in {report['seconds']:.0f} s, "
                     f"peak memory {report['peak_memory_mb']:,} MB).")
    else:
        reason = f": {report['failure']}" if report["failure"] else ": see the failed checks above"
        lines.append(f"NOT reconciled. The {report['failed_stage']} stage failed{reason}")
    return "\n".join(lines)


STATE_OPTION = click.option(
    "--state", "state_dir", type=click.Path(file_okay=False, path_type=Path), default=Path(".cauce/stack"), show_default=True,
    help="The local stack's state folder (lake, catalog, bookmarks, server log).",
)


@cli.command()
@STACK_OPTION
@STATE_OPTION
@click.option("--port", type=click.IntRange(1024, 65535), default=None, help="Port on 127.0.0.1 (default: a free one).")
@click.option("--json", "as_json", is_flag=True, help="Print the endpoint and resources as JSON.")
def up(stack_file, state_dir, port, as_json):
    """Start the local stack as a server on 127.0.0.1 (moto), with Firehose delivery, event source mappings and analytics apps running.

    Any AWS client can use it: export AWS_ENDPOINT_URL as printed. Stop it with `cauce down`.
    """
    from cauce.localstack.applicability import not_applicable_locally
    from cauce.localstack.control import StackStartFailed, status
    from cauce.localstack.control import up as start
    from cauce.stack import StackError, load_stack

    try:
        stack = load_stack(stack_file)
        record = start(state_dir, stack_file, port)
        document = {**status(state_dir), "already_running": record["already_running"],
                    "not_applicable_locally": not_applicable_locally(stack)}
    except (StackError, StackStartFailed) as error:
        raise click.ClickException(str(error)) from None
    lines = [("already running" if record["already_running"] else "started") + f": {document['endpoint']} (pid {document['pid']})",
             f"  export AWS_ENDPOINT_URL={document['endpoint']} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
             f"AWS_DEFAULT_REGION={document['region']}",
             "  streams: " + ", ".join(f"{name} ({s['shards']} shards)" for name, s in document["streams"].items()),
             "  firehose: " + (", ".join(document.get("firehose", {})) or "none"),
             f"  lake: {document['lake']['path']}   log: {state_dir / 'server.log'}"]
    settings = document["not_applicable_locally"]
    if settings:
        lines.append(f"  {sum(len(p) for p in settings.values())} AWS-only settings do not apply locally:")
        lines += [f"    {reason}: {', '.join(paths)}" for reason, paths in settings.items()]
    _emit(as_json, document, "\n".join(lines))


@cli.command()
@STATE_OPTION
@click.option("--purge", is_flag=True, help="Also delete the state folder: the lake, catalog, bookmarks and logs.")
@click.option("--json", "as_json", is_flag=True, help="Print the final counts as JSON.")
def down(state_dir, purge, as_json):
    """Stop the local stack (Firehose buffers are delivered first)."""
    from cauce.localstack.control import down as stop

    document = stop(state_dir, purge)
    firehose = document["final_status"].get("firehose", {})
    analytics = document["final_status"].get("analytics", {})
    text = ("stopped" if document["stopped"] else "no local stack was running") + "".join(
        f"\n  firehose {name}: {f['delivered']:,} delivered, {f['processing_failed']:,} processing-failed" for name, f in firehose.items()) + "".join(
        f"\n  analytics {name}: {a['events_counted']:,} events counted in {a['rows']} window(s)" for name, a in analytics.items())
    if purge:
        text += f"\n  removed {state_dir}"
    _emit(as_json, document, text)


@cli.command()
@click.argument("stream")
@click.argument("source", type=click.File("r"))
@STATE_OPTION
@click.option("--partition-key-field", default=None, help="JSON field whose value is the partition key (default: the line number).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def send(stream, source, state_dir, partition_key_field, as_json):
    """Put the lines of SOURCE (JSON lines; '-' for standard input) into STREAM of the running local stack."""
    from cauce.localstack.control import StackNotRunning
    from cauce.localstack.control import send as put

    with click.progressbar(length=0, label=f"sending to {stream}", hidden=as_json, show_pos=True) as bar:
        try:
            document = put(state_dir, stream, source, partition_key_field, progress=bar.update)
        except StackNotRunning as error:
            raise click.ClickException(str(error)) from None
        except Exception as error:  # e.g. ResourceNotFoundException: the message names the stream
            raise click.ClickException(f"sending to {stream} failed: {error}") from None
    _emit(as_json, document, f"sent {document['records']:,} records to {stream}")


@cli.command()
@STATE_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(state_dir, as_json):
    """The running local stack: endpoint, streams, Firehose and consumer counts, lake size."""
    from cauce.localstack.control import StackNotRunning
    from cauce.localstack.control import status as read

    try:
        document = read(state_dir)
    except StackNotRunning as error:
        raise click.ClickException(str(error)) from None
    lines = [f"local stack at {document['endpoint']} (pid {document['pid']})"]
    lines += [f"  stream   {name}: {s['status']}, {s['shards']} shards" for name, s in document["streams"].items()]
    lines += [f"  firehose {name}: {f['records_in']:,} in, {f['buffered']:,} buffered (up to {f['buffer_interval']:.0f} s), "
              f"{f['delivered']:,} delivered, {f['processing_failed']:,} processing-failed, {f['objects']} objects"
              for name, f in document.get("firehose", {}).items()]
    lines += [f"  consumer {key}: {m['records_read']:,} read, {m['succeeded']:,} processed, {m['to_destination']:,} to destination"
              for key, m in document.get("event_sources", {}).items()]
    lines += [f"  analytics {name}: {a['events_counted']:,} events counted in {a['rows']} window(s), {a['pending']:,} waiting, "
              f"{a['refused']:,} refused" for name, a in document.get("analytics", {}).items()]
    lines.append(f"  lake     {document['lake']['path']}: {document['lake']['objects']} objects, {document['lake']['bytes']:,} bytes")
    _emit(as_json, document, "\n".join(lines))


@cli.group()
def layer() -> None:
    """Lambda layers: the framework packaged for Lambda."""


@layer.command("build")
@click.option("--python", "python_version", type=click.Choice(["3.11", "3.12", "3.13"]), default="3.12", show_default=True,
              help="Lambda Python runtime the layer is for.")
@click.option("--arch", "architecture", type=click.Choice(["x86_64", "arm64"]), default="x86_64", show_default=True,
              help="Lambda architecture.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Zip to write (default: dist/cauce-layer-python<version>-<arch>.zip).")
@click.option("--constraint", "constraints", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="pip constraints file pinning the layer's dependencies.")
@click.option("--include-boto3", is_flag=True, help="Also bundle boto3/botocore (Lambda's runtime already has them).")
@click.option("--json", "as_json", is_flag=True, help="Print the build report as JSON.")
def layer_build(python_version, architecture, output, constraints, include_boto3, as_json):
    """Build the Cauce layer zip (python/ root, manylinux wheels, reproducible byte for byte)."""
    from cauce.layer import LayerBuildError, build_layer

    output = output or Path("dist") / f"cauce-layer-python{python_version}-{architecture}.zip"
    say = (lambda _step: None) if as_json else (lambda step: click.echo(f"... {step}", err=True))
    try:
        report = build_layer(output, python_version, architecture, include_boto3, constraints, progress=say)
    except LayerBuildError as error:
        raise click.ClickException(str(error)) from None
    text = (
        f"{report.path}\n  python{report.python} {report.architecture}  sha256 {report.sha256}\n"
        f"  {report.files} files, {report.zipped_bytes / 1e6:.1f} MB zipped, {report.unzipped_bytes / 1e6:.1f} MB unzipped"
        f" = {report.share_of_limit:.1%} of Lambda's 250 MB (function and layers, unzipped)\n"
        + "\n".join(f"  {name:<32} {size / 1e6:6.1f} MB" for name, size in report.largest)
    )
    _emit(as_json, report.as_dict(), text)
    if report.unzipped_bytes > report.limit_bytes:
        raise click.ClickException(f"the layer unzips to {report.unzipped_bytes:,} bytes, over Lambda's {report.limit_bytes:,}")


@cli.command()
@click.argument("target", metavar="MODULE:FUNCTION")
@click.option("--event", "event_file", type=click.File("r"), required=True, help="Event JSON file ('-' for standard input).")
@click.option("--function-name", default=None, help="Function name in the context (default: the handler's name).")
@click.option("--memory", type=click.IntRange(128, 10240), default=256, show_default=True, help="Memory size in the context (MB).")
@click.option("--timeout", type=click.IntRange(1, 900), default=300, show_default=True, help="Timeout in the context (seconds).")
@click.option("--json", "as_json", is_flag=True, help="Print only the response (or Lambda's error shape) as JSON; logs go to stderr.")
def invoke(target, event_file, function_name, memory, timeout, as_json):
    """Invoke a handler in process, as Lambda would, e.g.

        cauce invoke handlers.data_processor:handler --event firehose.json
    """
    import contextlib
    import importlib

    from handlers.testing import invoke as invoke_handler
    from handlers.testing import lambda_context

    module_name, _, attribute = target.partition(":")
    try:
        event = json.load(event_file)
    except json.JSONDecodeError as error:
        raise click.ClickException(f"--event is not valid JSON: {error}") from None
    # The handler's logs and metrics go to stderr, so that stdout holds only the response.
    with contextlib.redirect_stdout(sys.stderr):
        try:
            handler = getattr(importlib.import_module(module_name), attribute or "handler")
        except (ImportError, AttributeError) as error:
            raise click.ClickException(f"cannot load {target}: {error}") from None
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


@cli.group()
def sfn() -> None:
    """Step Functions: validate, run locally with jobs and handlers bound, draw."""


def _load_workflow(reference, stack_file):
    from cauce.stack import StackError, load_stack
    from statemachines.definition import DefinitionError, load_definition

    try:
        stack = load_stack(stack_file)
        return stack, load_definition(reference, stack)
    except (StackError, DefinitionError) as error:
        raise click.ClickException(str(error)) from None


@sfn.command("list")
@STACK_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the state machines as JSON.")
def sfn_list(stack_file, as_json):
    """List the stack's state machines and the packaged ASL templates."""
    from cauce.stack import StackError, load_stack
    from statemachines.definition import definitions_dir

    try:
        stack = load_stack(stack_file)
    except StackError as error:
        raise click.ClickException(str(error)) from None
    machines = [{"key": key, "name": m.get("name", key), "type": m.get("type", "STANDARD"),
                 "definition": m.get("definition") if isinstance(m.get("definition"), str) and len(m["definition"]) < 120 else "(inline)"}
                for key, m in (stack.get("step_functions_config") or {}).items()]
    templates = sorted(p.name for p in definitions_dir().glob("*.asl.json"))
    text = "\n".join(f"{m['name']:<28} {m['type']:<9} {m['definition']}" for m in machines) or "no state machines in the stack"
    _emit(as_json, {"state_machines": machines, "templates": templates}, text + "\ntemplates: " + ", ".join(templates))


@sfn.command("validate")
@click.argument("reference", metavar="NAME_OR_FILE")
@STACK_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
def sfn_validate(reference, stack_file, as_json):
    """Check an ASL definition: structure, graph, Retry/Catch, paths, and that every Task is bound locally."""
    from statemachines.local import LocalStepFunctions
    from statemachines.validate import validate

    stack, definition = _load_workflow(reference, stack_file)
    problems = validate(definition.document, LocalStepFunctions(stack).known_targets)
    document = {"name": definition.name, "source": definition.source, "valid": not problems,
                "problems": [{"where": p.where, "message": p.message} for p in problems]}
    text = (f"{definition.source}: valid" if not problems
            else f"{definition.source}: {len(problems)} problem(s)\n" + "\n".join(f"  {p}" for p in problems))
    _emit(as_json, document, text)
    if problems:
        sys.exit(1)


@sfn.command("run")
@click.argument("reference", metavar="NAME_OR_FILE")
@click.option("--input", "input_text", default="{}", show_default=True, help="Execution input: JSON, or @FILE.")
@STACK_OPTION
@LAKE_OPTION
@click.option("--real-time", is_flag=True, help="Really wait on Retry intervals and Wait states (default: virtual time).")
@click.option("--json", "as_json", is_flag=True, help="Print the execution (status, output, history) as JSON.")
@click.option("--verbose", is_flag=True, help="Also show the logs of the jobs and handlers (on stderr).")
def sfn_run(reference, input_text, stack_file, lake, real_time, as_json, verbose):
    """Run a workflow locally: Glue tasks run jobs on local Spark, Lambda tasks run handlers in process, e.g.

        cauce sfn run etl-workflow --input '{}'
    """
    import contextlib
    import io

    from statemachines.local import LocalStepFunctions
    from statemachines.validate import AslValidationError

    stack, definition = _load_workflow(reference, stack_file)
    try:
        execution_input = json.loads(Path(input_text[1:]).read_text() if input_text.startswith("@") else input_text)
    except (OSError, json.JSONDecodeError) as error:
        raise click.ClickException(f"--input is not valid JSON: {error}") from None
    logs = sys.stderr if verbose else io.StringIO()
    try:
        with contextlib.redirect_stdout(logs), contextlib.redirect_stderr(logs), \
                LocalStepFunctions(stack, lake=lake, virtual_time=not real_time) as local:
            result = local.run(definition, execution_input)
    except AslValidationError as error:
        raise click.ClickException(str(error)) from None
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
@STACK_OPTION
@click.option("--format", "image_format", type=click.Choice(["mermaid", "dot", "svg", "png"]), default="mermaid",
              show_default=True, help="Mermaid or DOT text, or a picture drawn by Graphviz.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: standard output; required for png).")
def sfn_diagram(reference, stack_file, image_format, output):
    """Draw a workflow: Mermaid text for Markdown, or an SVG/PNG picture for docs."""
    from statemachines.diagram import DiagramError, dot, mermaid, render

    _, definition = _load_workflow(reference, stack_file)
    try:
        if image_format == "mermaid":
            content: str | bytes = mermaid(definition.document)
        elif image_format == "dot":
            content = dot(definition.document, definition.name)
        else:
            content = render(definition.document, image_format, definition.name)
    except DiagramError as error:
        raise click.ClickException(str(error)) from None
    if output is not None:
        output.write_bytes(content if isinstance(content, bytes) else content.encode())
        click.echo(f"wrote {output}")
    elif isinstance(content, bytes) and image_format == "png":
        raise click.ClickException("a PNG needs --output FILE")
    else:
        click.echo(content if isinstance(content, str) else content.decode())


@cli.command()
@click.argument("stack_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--region", default="us-east-1", show_default=True, help="Region whose price table to use.")
@click.option("--assume", "assume", multiple=True, metavar="NAME=VALUE",
              help="A usage assumption, e.g. --assume events_per_second=200 (repeatable; see the defaults in the output).")
@click.option("--assumptions", "assumptions_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A JSON file of usage assumptions.")
@click.option("--prices", "prices_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A JSON price table whose rows replace the shipped ones.")
@click.option("--advise", is_flag=True, help="Also print tuning advice: savings and risks, each with the inputs it reads.")
@click.option("--json", "as_json", is_flag=True, help="Print the estimate (and advice) as JSON.")
def cost(stack_file, region, assume, assumptions_file, prices_file, advise, as_json):
    """Monthly cost estimate of a stack definition (default: the embedded example), offline."""
    from cauce.advice import advise as advise_stack
    from cauce.cost import Assumptions, CostError, estimate, price_table
    from cauce.stack import StackError, load_stack

    values: dict = {}
    try:
        if assumptions_file:
            values.update(json.loads(assumptions_file.read_text()))
        for item in assume:
            name, sep, value = item.partition("=")
            if not sep:
                raise CostError(f"--assume {item!r}: expected NAME=VALUE")
            values[name.strip()] = value.strip()
        stack = load_stack(stack_file)
        assumptions = Assumptions.from_values(values)
        prices = price_table(region, prices_file)
        result = estimate(stack, assumptions, prices, set(values))
        advice = advise_stack(stack, assumptions, prices, result) if advise else []
    except (CostError, StackError, json.JSONDecodeError) as error:
        raise click.ClickException(str(error)) from None
    document = {**result.as_dict(), **({"advice": [a.as_dict() for a in advice]} if advise else {})}
    if as_json:
        click.echo(json.dumps(document, indent=2))
        return
    click.echo(f"{'component':<30} {'resource':<24} {'item':<42} {'quantity':>12} {'unit':<18} {'USD/month':>10}")
    for line in result.lines:
        click.echo(f"{line.component:<30} {line.resource[:24]:<24} {line.item[:42]:<42} {line.quantity:>12,.3f} {line.unit[:18]:<18} {line.monthly_usd:>10,.2f}")
    click.echo(f"{'total':<30} {'':<24} {'':<42} {'':>12} {'':<18} {result.total_usd:>10,.2f}")
    click.echo(f"\nprices: {result.region}, as of {result.prices_as_of} ({result.price_source})")
    assumed = [f"{name}={value['value']:g}" for name, value in result.assumptions.items() if value["assumed_default"]]
    if assumed:
        click.echo("assumed (defaults; set them with --assume): " + ", ".join(assumed))
    click.echo("not priced: " + ", ".join(result.not_priced))
    if advise:
        click.echo("\nadvice:")
        for item in advice:
            saving = f" (saves about ${item.monthly_saving_usd:,.2f}/month)" if item.monthly_saving_usd else ""
            click.echo(f"  [{item.kind}] {item.resource}: {item.message}{saving}\n      reads: {', '.join(item.reads)}")


@cli.command()
@STACK_OPTION
@LAKE_OPTION
@click.option("--aws", "check_aws", is_flag=True, help="Also read the deployed stack's alarms and Glue runs (uses your AWS credentials).")
@click.option("--profile", default=None, help="AWS profile for --aws.")
@click.option("--region", default=None, help="AWS region for --aws.")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def doctor(stack_file, lake, check_aws, profile, region, as_json):
    """Check this machine for local runs and, with --aws, point at the deployed stack's likely problem."""
    from cauce.doctor import aws_checks, local_checks
    from cauce.stack import StackError, load_stack

    findings = local_checks(stack_file, lake or Path(os.environ.get("CAUCE_LAKE", ".cauce/lake")))
    if check_aws:
        import boto3

        try:
            stack = load_stack(stack_file)
        except StackError as error:
            raise click.ClickException(str(error)) from None
        findings += aws_checks(stack, boto3.Session(profile_name=profile, region_name=region))
    if as_json:
        click.echo(json.dumps({"findings": [f.as_dict() for f in findings]}, indent=2))
    else:
        for finding in findings:
            click.echo(f"[{finding.status:>4}] {finding.check}: {finding.detail}" + (f"\n       see {finding.guide}" if finding.guide else ""))
    if any(f.status == "fail" for f in findings):
        sys.exit(1)


@cli.group()
def analytics() -> None:
    """SQL analytics apps (Kinesis Data Analytics SQL) on Spark: check, explain, run."""


def _load_analytics_app(reference, stack_file):
    from analytics.app import AppDefinitionError, load_app
    from cauce.stack import StackError, load_stack

    try:
        return load_app(reference, load_stack(stack_file))
    except (AppDefinitionError, StackError) as error:
        raise click.ClickException(str(error)) from None


@analytics.command("check")
@click.argument("reference", metavar="APP")
@STACK_OPTION
@click.option("--no-spark", is_flag=True, help="Only parse and translate (skip Spark's check of columns and functions).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def analytics_check(reference, stack_file, no_spark, as_json):
    """Parse, translate and check an app against its input schema (no data is run).

    APP is a folder, a name in analytics/apps, or a stack key.
    """
    from analytics.dialect import AnalyticsSqlError
    from analytics.runtime import analyze, check

    app = _load_analytics_app(reference, stack_file)
    try:
        program, plans = check(app)
        if not no_spark:
            from etl.runtimes.local import LocalRuntime

            runtime = LocalRuntime(Path(os.environ.get("CAUCE_LAKE", ".cauce/lake")))
            analyze(app, runtime.spark, runtime.lake)
    except AnalyticsSqlError as error:
        raise click.ClickException(f"{app.name}: {error}") from None
    document = {"app": app.name, "streams": {n: s.columns for n, s in program.streams.items()},
                "pumps": {p.name: {"into": p.target, "reads": p.sources} for p in program.pumps}, "valid": True}
    text = f"{app.name}: valid; " + ", ".join(f"{p.name}: {', '.join(p.sources)} -> {p.target}" for p in program.pumps)
    _emit(as_json, document, text)


@analytics.command("explain")
@click.argument("reference", metavar="APP")
@STACK_OPTION
def analytics_explain(reference, stack_file):
    """Print the Spark SQL each pump became."""
    from analytics.dialect import AnalyticsSqlError
    from analytics.runtime import check

    app = _load_analytics_app(reference, stack_file)
    try:
        _, plans = check(app)
    except AnalyticsSqlError as error:
        raise click.ClickException(f"{app.name}: {error}") from None
    for pump, sql in plans.items():
        click.echo(f"-- pump {pump}\n{sql};\n")


@analytics.command("run")
@click.argument("reference", metavar="APP")
@click.option("--input", "input_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="Records: JSON lines, or CSV with a header row (.csv); an `_arrival_time` field or --rowtime-column gives ROWTIME.")
@click.option("--rowtime-column", default=None, help="Input column whose value is the record's arrival time (ROWTIME).")
@click.option("--output", default=None, help="Write the output rows as JSON lines to this file, or to an s3:// key in the local lake.")
@STACK_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print outputs and errors as JSON.")
def analytics_run(reference, input_file, rowtime_column, output, stack_file, as_json):
    """Run an app over a file of records, deterministically (every window closes at the end of the input)."""
    from analytics.dialect import AnalyticsSqlError
    from analytics.runtime import run
    from etl.runtimes.local import LocalRuntime

    app = _load_analytics_app(reference, stack_file)
    records, unreadable = [], []
    if input_file.suffix.lower() == ".csv":
        import csv

        with input_file.open(newline="") as handle:
            records = list(csv.DictReader(handle))
    for number, line in enumerate([] if input_file.suffix.lower() == ".csv" else input_file.read_text().splitlines(), start=1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as error:  # reported with the schema's refusals, never dropped
                unreadable.append({"line": number, "record": line, "reason": f"not valid JSON: {error.msg}"})
    runtime = LocalRuntime(Path(os.environ.get("CAUCE_LAKE", ".cauce/lake")))
    spark = runtime.spark
    try:
        result = run(app, records, spark, rowtime_column=rowtime_column, lake=runtime.lake)
    except AnalyticsSqlError as error:
        raise click.ClickException(f"{app.name}: {error}") from None
    result.errors[:0] = unreadable
    rows = [{"stream": name, **row} for name, stream_rows in result.outputs.items() for row in stream_rows]
    if output is not None:
        target = runtime.lake.local_path(output) if output.startswith("s3://") else Path(output)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("".join(json.dumps(row, default=str) + "\n" for row in rows))
    if as_json:
        click.echo(json.dumps({"outputs": result.outputs, "errors": result.errors}, indent=2, default=str))
    else:
        for row in rows if output is None else []:
            click.echo(json.dumps(row, default=str))
        click.echo(f"{app.name}: {len(records) + len(unreadable)} records in, {len(rows)} rows out, {len(result.errors)} refused", err=True)
        for error in result.errors[:10]:
            where = f"line {error['line']}" if "line" in error else f"record {error['record_index']}"
            click.echo(f"  {where}: {error['reason']}", err=True)


def main() -> None:
    cli(prog_name="cauce")


if __name__ == "__main__":
    main()
