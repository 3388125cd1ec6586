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
@click.option("--events", type=click.IntRange(min=1), default=20_000, show_default=True, help="Events per batch.")
@click.option("--malformed-share", type=click.FloatRange(0, 1), default=0.02, show_default=True, help="Share of bad events.")
@click.option("--duplicate-share", type=click.FloatRange(0, 1), default=0.01, show_default=True, help="Share of re-delivered events.")
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed for the generated events.")
@click.option("--lake", type=click.Path(file_okay=False, path_type=Path), default=Path(".cauce/demo-lake"), show_default=True,
              help="Lake folder for the demo (emptied first).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--verbose", is_flag=True, help="Also print the job's structured JSON log lines.")
def demo(events, malformed_share, duplicate_share, seed, lake, as_json, verbose):
    """The main job on embedded defaults: generate events, run etl-proceso-principal twice, reconcile."""
    from cauce.demo import run_demo

    report = run_demo(lake, events, malformed_share, duplicate_share, seed, progress=not as_json, verbose=verbose)
    _emit(as_json, report, report["text"])
    if not report["reconciled"]:
        sys.exit(1)


def main() -> None:
    cli(prog_name="cauce")


if __name__ == "__main__":
    main()
