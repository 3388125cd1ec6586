"""cauce layer build: the Lambda layer, and in a project its function zip."""

from __future__ import annotations

from pathlib import Path

import click

from cauce.cli.options import current_project, emit, fail, json_option


@click.group()
def layer() -> None:
    """Lambda packages: the framework as a layer, the project's code as a function zip."""


@layer.command("build")
@click.option("--python", "python_version", type=click.Choice(["3.11", "3.12", "3.13"]), default="3.12", show_default=True,
              help="Lambda Python runtime the layer is for.")
@click.option("--arch", "architecture", type=click.Choice(["x86_64", "arm64"]), default="x86_64", show_default=True,
              help="Lambda architecture.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Zip to write (default: dist/cauce-layer-python<version>-<arch>.zip, in the project if in one).")
@click.option("--function-output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The project's function zip (default: dist/function.zip in the project).")
@click.option("--no-function", is_flag=True, help="Only the layer, not the project's function zip.")
@click.option("--constraint", "constraints", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="pip constraints file pinning the layer's dependencies.")
@click.option("--include-boto3", is_flag=True, help="Also bundle boto3/botocore (Lambda's runtime already has them).")
@json_option
def layer_build(python_version, architecture, output, function_output, no_function, constraints, include_boto3, as_json):
    """Build the Cauce layer zip (python/ root, manylinux wheels) and, in a project whose stack has
    functions of its own, the function zip of its code; both reproducible byte for byte.

    The module's inputs: lambda_layer_zip = the layer, lambda_packages = {function key = the function zip}.
    """
    from cauce.core.stack import StackError, load_stack
    from cauce.ops.layer import LAMBDA_UNZIPPED_LIMIT, LayerBuildError, build_function_package, build_layer, project_functions

    project = current_project()
    dist = (project.root if project is not None else Path.cwd()) / "dist"
    output = output or dist / f"cauce-layer-python{python_version}-{architecture}.zip"
    say = (lambda _step: None) if as_json else (lambda step: click.echo(f"... {step}", err=True))
    functions = []
    if project is not None and not no_function:
        try:
            functions = project_functions(load_stack(project.stack_file), project.source)
        except StackError as error:
            fail(str(error), 2)
    try:
        report = build_layer(output, python_version, architecture, include_boto3, constraints, progress=say)
        package = None
        if functions:
            say(f"packaging the project's code ({project.source}) for {', '.join(functions)}")
            package = build_function_package(project.source, function_output or dist / "function.zip", functions,
                                             skip=(project.lake, project.root / ".cauce", project.root / "dist"))
    except LayerBuildError as error:
        fail(str(error))
    text = (
        f"{report.path}\n  python{report.python} {report.architecture}  sha256 {report.sha256}\n"
        f"  {report.files} files, {report.zipped_bytes / 1e6:.1f} MB zipped, {report.unzipped_bytes / 1e6:.1f} MB unzipped"
        f" = {report.share_of_limit:.1%} of Lambda's 250 MB (function and layers, unzipped)\n"
        + "\n".join(f"  {name:<32} {size / 1e6:6.1f} MB" for name, size in report.largest)
    )
    document = report.as_dict()
    total = report.unzipped_bytes
    if package is not None:
        total += package.unzipped_bytes
        document["function"] = package.as_dict()
        text += (
            f"\n{package.path}\n  function code of {', '.join(package.functions)}  sha256 {package.sha256}\n"
            f"  {package.files} files, {package.zipped_bytes / 1e6:.2f} MB zipped = {package.zipped_bytes / package.zipped_limit_bytes:.1%} "
            f"of Lambda's 50 MB direct upload\n"
            f"  function + layer: {total / 1e6:.1f} MB unzipped = {total / LAMBDA_UNZIPPED_LIMIT:.1%} of Lambda's 250 MB"
        )
    document["function_and_layer_unzipped_bytes"] = total
    emit(as_json, document, text)
    if total > LAMBDA_UNZIPPED_LIMIT:
        fail(f"the layer{' and the function' if package else ''} unzip to {total:,} bytes, over Lambda's {LAMBDA_UNZIPPED_LIMIT:,}")
    if package is not None and package.zipped_bytes > package.zipped_limit_bytes:
        fail(f"the function zip is {package.zipped_bytes:,} bytes, over Lambda's {package.zipped_limit_bytes:,} for a direct upload")


COMMANDS = [layer]
