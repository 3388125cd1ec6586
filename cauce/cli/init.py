"""cauce init: a new project; cauce infra export: Cauce's Terraform module, copied out of the installation."""

from __future__ import annotations

from pathlib import Path

import click

from cauce.cli.options import emit, fail, json_option


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".", required=False)
@click.option("--name", default=None, help="The project's name (default: the folder's name): it prefixes every resource name.")
@click.option("--force", is_flag=True, help="Write into a folder that is not empty (the scaffold's files are overwritten, others kept).")
@json_option
def init(directory, name, force, as_json):
    """Create a project in DIRECTORY (default: here) that works at once: stack, a Glue job, a Firehose
    transform, a Kinesis consumer, a workflow, a SQL app, tests and a Terraform root module.

    Then, in it: pytest; cauce demo; cauce layer build; terraform -chdir=infra init.
    """
    from cauce.ops.scaffold import ScaffoldError, create_project
    from cauce.ops.terraform import ModuleExportError

    try:
        scaffold = create_project(directory, name=name, force=force)
    except (ScaffoldError, ModuleExportError) as error:
        fail(str(error), 2)
    except OSError as error:
        fail(f"cannot write the project into {directory}: {error}")
    where = "" if directory.resolve() == Path.cwd().resolve() else f"cd {directory}\n  "
    text = (f"created {scaffold.project_name} in {scaffold.root} ({len(scaffold.files)} files)\n"
            f"next:\n  {where}pytest\n  cauce demo\n  cauce layer build\n  terraform -chdir=infra init && terraform -chdir=infra plan")
    emit(as_json, scaffold.as_dict(), text)


@click.group()
def infra() -> None:
    """Cauce's Terraform module, as installed with this Cauce."""


@infra.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite the module's files in a folder that is not empty.")
@json_option
def infra_export(directory, force, as_json):
    """Copy the module into DIRECTORY, for a root module to use as `source = "./DIRECTORY"` (see the module's README)."""
    from cauce.ops.terraform import ModuleExportError, export_module

    try:
        files = export_module(directory, force=force)
    except ModuleExportError as error:
        fail(str(error), 2)
    emit(as_json, {"directory": str(directory), "files": [str(f) for f in files]}, f"wrote Cauce's Terraform module to {directory} ({len(files)} files)")


COMMANDS = [init, infra]
