"""cauce layer build: the Lambda layer."""

from __future__ import annotations

from pathlib import Path

import click

from cauce.cli.options import emit, fail, json_option


@click.group()
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
@json_option
def layer_build(python_version, architecture, output, constraints, include_boto3, as_json):
    """Build the Cauce layer zip (python/ root, manylinux wheels, reproducible byte for byte)."""
    from cauce.ops.layer import LayerBuildError, build_layer

    output = output or Path("dist") / f"cauce-layer-python{python_version}-{architecture}.zip"
    say = (lambda _step: None) if as_json else (lambda step: click.echo(f"... {step}", err=True))
    try:
        report = build_layer(output, python_version, architecture, include_boto3, constraints, progress=say)
    except LayerBuildError as error:
        fail(str(error))
    text = (
        f"{report.path}\n  python{report.python} {report.architecture}  sha256 {report.sha256}\n"
        f"  {report.files} files, {report.zipped_bytes / 1e6:.1f} MB zipped, {report.unzipped_bytes / 1e6:.1f} MB unzipped"
        f" = {report.share_of_limit:.1%} of Lambda's 250 MB (function and layers, unzipped)\n"
        + "\n".join(f"  {name:<32} {size / 1e6:6.1f} MB" for name, size in report.largest)
    )
    emit(as_json, report.as_dict(), text)
    if report.unzipped_bytes > report.limit_bytes:
        fail(f"the layer unzips to {report.unzipped_bytes:,} bytes, over Lambda's {report.limit_bytes:,}")


COMMANDS = [layer]
