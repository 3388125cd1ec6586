"""cauce job run / job list, and cauce shell: Glue jobs on the local runtime."""

from __future__ import annotations

import sys

import click

from cauce.cli.options import emit, fail, json_option, lake_folder, lake_option, needs_extra, with_project, with_stack


@click.group()
def job() -> None:
    """Glue ETL jobs: run locally exactly as on Glue, list them."""


@job.command("run", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("path_or_name")
@lake_option
@click.option("--worker-type", default=None, help="Glue worker type (default: from the stack, else G.1X).")
@click.option("--number-of-workers", type=int, default=None, help="Glue workers (default: from the stack, else 2).")
@click.option("--timeout", "timeout_minutes", type=float, default=None, help="Minutes before the run is stopped (TIMEOUT).")
@click.option("--max-retries", type=int, default=None, help="Retries of a FAILED run (Glue's 0-10).")
@json_option
@needs_extra("local")
@with_stack(optional=True)  # a job file runs outside a project too, with Glue's defaults
@click.pass_context
def job_run(ctx, path_or_name, lake, worker_type, number_of_workers, timeout_minutes, max_retries, as_json, stack, stack_file, project):
    """Run a job (a .py file or a job name) with Glue's arguments, e.g.

        cauce job run etl-proceso-principal --job-bookmark-option job-bookmark-enable --source_path s3://b/raw/
    """
    from cauce.etl.arguments import run_arguments
    from cauce.etl.discovery import JobNotFound, resolve_job
    from cauce.etl.runner import RunPolicy, run_job
    from cauce.etl.runtimes.local import LocalRuntime

    script = _glue_script(path_or_name, project)
    if script is not None:  # a plain awsglue script, run unmodified on the local awsglue
        _run_glue_script(ctx, script, lake, as_json, stack, project,
                         worker_type=worker_type, number_of_workers=number_of_workers, timeout_minutes=timeout_minutes, max_retries=max_retries)
        return
    try:
        job_cls, path = resolve_job(path_or_name, project)
    except JobNotFound as error:
        fail(str(error), 2)
    definition = stack.glue_jobs().get(job_cls.name) if stack is not None else None
    values = run_arguments(definition.default_arguments if definition else None, ctx.args, job_cls.name)  # the run's arguments win, as on Glue
    try:
        policy = RunPolicy.for_job(definition, worker_type=worker_type, number_of_workers=number_of_workers,
                                   timeout_minutes=timeout_minutes, max_retries=max_retries)
    except ValueError as error:
        fail(str(error), 2)
    runtime = LocalRuntime(lake_folder(lake, project), cores=policy.local_cores)
    for connection in stack.glue_config.connection_config.values() if stack is not None else ():
        runtime.catalog.put_connection(connection.document)
    result = run_job(job_cls, values, runtime, policy)
    document = {**result.as_dict(), "script": str(path), "lake": str(runtime.lake.root), "local_cores": policy.local_cores}
    text = (
        f"{result.job_name} {result.run_id}: {result.status} in {result.duration_seconds:.1f}s\n"
        f"  read {result.rows_read}  written {result.rows_written}  quarantined {result.rows_quarantined}"
        + (f"\n  error: {result.error}" if result.error else "")
    )
    emit(as_json, document, text)
    if not result.succeeded:
        sys.exit(2 if result.error_type == "JobArgumentError" else 1)


def _glue_script(path_or_name, project):
    """The path of a plain Glue script given by path or by name (file stem) in the job folders, else None."""
    from pathlib import Path

    from cauce.etl.discovery import glue_scripts
    from cauce.etl.glue_scripts import is_glue_script

    path = Path(path_or_name)
    if path.suffix == ".py":
        return path if path.exists() and is_glue_script(path) else None
    return glue_scripts(project).get(path_or_name)


def _run_glue_script(ctx, path, lake, as_json, stack, project, **settings):
    from cauce.etl.arguments import run_arguments, split_argv
    from cauce.etl.glue_scripts import run_glue_script
    from cauce.etl.runner import RunPolicy

    given = split_argv(list(ctx.args))
    name = given.get("JOB_NAME") or path.stem
    definition = stack.glue_jobs().get(name) if stack is not None else None
    values = run_arguments(definition.default_arguments if definition else None, ctx.args, name)  # the run's arguments win, as on Glue
    try:  # the stack's worker settings, timeout and retries for the job, as for a GlueJob
        policy = RunPolicy.for_job(definition, **settings)
    except ValueError as error:
        fail(str(error), 2)
    result = run_glue_script(path, values, lake_folder(lake, project), policy=policy)
    document = {**result.as_dict(), "script": str(path), "kind": "glue-script", "local_cores": policy.local_cores,
                "worker_type": policy.worker_type, "number_of_workers": policy.number_of_workers, "timeout_minutes": policy.timeout_minutes}
    text = (
        f"{result.job_name} {result.run_id}: {result.status} in {result.duration_seconds:.1f}s (Glue script {path.name})\n"
        f"  read {result.rows_read}  written {result.rows_written}"
        + "".join(f"\n  warning: {w}" for w in result.warnings)
        + (f"\n  error: {result.error}" if result.error else "")
    )
    emit(as_json, document, text)
    if not result.succeeded:
        sys.exit(1)


@job.command("list")
@json_option
@needs_extra("local")
@with_project
def job_list(as_json, project):
    """List the jobs Cauce can run: the project's job folders and $CAUCE_JOBS_PATH."""
    from cauce.etl.discovery import discover, glue_scripts
    from cauce.etl.glue_scripts import script_description

    jobs = [
        {"name": name, "class": cls.__name__, "path": str(path), "description": cls.description}
        for name, (cls, path) in sorted(discover(project).items())
    ]
    known = {j["name"] for j in jobs}
    jobs += [{"name": name, "class": None, "kind": "glue-script", "path": str(path), "description": script_description(path)}
             for name, path in sorted(glue_scripts(project).items()) if name not in known]
    text = "\n".join(f"{j['name']:<32} {j['path']}" for j in jobs) or "no jobs found"
    emit(as_json, {"jobs": jobs}, text)


@click.command()
@lake_option
@needs_extra("local")
@with_project
def shell(lake, project):
    """A PySpark shell on the local runtime (spark, lake, catalog ready): the seed's dev endpoint, locally."""
    import code

    from cauce.etl.awsglue.environment import LocalGlueEnvironment
    from cauce.etl.runtimes.local import LocalRuntime

    runtime = LocalRuntime(lake_folder(lake, project))
    LocalGlueEnvironment(runtime.lake, runtime.spark).mount_lake_buckets()  # s3:// URIs read the lake, as on Glue
    namespace = {"spark": runtime.spark, "lake": runtime.lake, "catalog": runtime.catalog, "runtime": runtime}
    buckets = sorted(p.name for p in runtime.lake.root.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))) \
        if runtime.lake.root.exists() else []
    example = f"s3://{buckets[0]}/..." if buckets else "s3://bucket/key"
    banner = (
        f"Cauce shell: Spark {runtime.spark.version}, lake {runtime.lake.root} (buckets: {', '.join(buckets) or 'none yet'})\n"
        f"  spark.read.parquet('{example}') reads the lake; catalog.resolve('db', 'table'); lake.local_path(uri) for files"
    )
    code.interact(banner=banner, local=namespace)


COMMANDS = [job, shell]
