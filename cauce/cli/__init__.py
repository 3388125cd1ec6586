"""The `cauce` command line: one module per command group; the options, the project and stack
loading, the extras and the output conventions they share are in options.py. Every command has
--help, exits non-zero on failure (2 for bad input), and commands that report take --json."""

from __future__ import annotations

import click

from cauce.cli import analytics, handlers, init, jobs, layer, localstack, ops, sfn


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cauce")
@click.option("--debug", is_flag=True, help="Show the Python traceback of an unexpected error.")
def cli(debug: bool) -> None:
    """Cauce: build, test on one machine, and deploy AWS data-processing stacks."""
    if debug:
        import os

        os.environ[DEBUG_VARIABLE] = "1"


for module in (init, jobs, localstack, handlers, layer, sfn, ops, analytics):
    for command in module.COMMANDS:
        cli.add_command(command)


INTERRUPTED_EXIT = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C
DEBUG_VARIABLE = "CAUCE_DEBUG"  # set by --debug, or by hand: unexpected errors show their traceback


def main() -> None:
    """Run the command line. Ctrl-C exits 130 saying it was interrupted, not click's "Aborted!" with 1:
    what a command had finished before (records delivered, files committed) stays where it is. An
    unexpected error is one line, with its traceback only under --debug."""
    import os
    import sys

    try:
        code = cli.main(prog_name="cauce", standalone_mode=False)
    except (click.Abort, KeyboardInterrupt):  # click turns Ctrl-C into Abort
        click.echo("\ncauce: interrupted (Ctrl-C); what was finished before is kept", err=True)
        sys.exit(INTERRUPTED_EXIT)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except Exception as error:
        if os.environ.get(DEBUG_VARIABLE):
            raise
        click.echo(f"cauce: unexpected error: {type(error).__name__}: {error}\n"
                   "  run again with `cauce --debug ...` for the traceback, and please report it", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
