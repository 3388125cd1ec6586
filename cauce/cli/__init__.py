"""The `cauce` command line: one module per command group; the options, the project and stack
loading, the extras and the output conventions they share are in options.py. Every command has
--help, exits non-zero on failure (2 for bad input), and commands that report take --json."""

from __future__ import annotations

import click

from cauce.cli import analytics, handlers, init, jobs, layer, localstack, ops, sfn


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cauce")
def cli() -> None:
    """Cauce: build, test on one machine, and deploy AWS data-processing stacks."""


for module in (init, jobs, localstack, handlers, layer, sfn, ops, analytics):
    for command in module.COMMANDS:
        cli.add_command(command)


def main() -> None:
    cli(prog_name="cauce")
