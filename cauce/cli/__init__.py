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


INTERRUPTED_EXIT = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C


def main() -> None:
    """Run the command line. Ctrl-C exits 130 saying it was interrupted, not click's "Aborted!" with 1:
    what a command had finished before (records delivered, files committed) stays where it is."""
    import sys

    try:
        code = cli.main(prog_name="cauce", standalone_mode=False)
    except (click.Abort, KeyboardInterrupt):  # click turns Ctrl-C into Abort
        click.echo("\ncauce: interrupted (Ctrl-C); what was finished before is kept", err=True)
        sys.exit(INTERRUPTED_EXIT)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
