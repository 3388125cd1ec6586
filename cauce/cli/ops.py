"""cauce cost and cauce doctor: operations."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from cauce.cli.options import fail, json_option, lake_folder, lake_option, stack_option, with_project


@click.command()
@click.argument("stack_path", metavar="[STACK_FILE]", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--region", default="us-east-1", show_default=True, help="Region whose price table to use.")
@click.option("--assume", "assume", multiple=True, metavar="NAME=VALUE",
              help="A usage assumption, e.g. --assume events_per_second=200 (repeatable; see the defaults in the output).")
@click.option("--assumptions", "assumptions_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A JSON file of usage assumptions.")
@click.option("--prices", "prices_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A JSON price table whose rows replace the shipped ones.")
@click.option("--advise", is_flag=True, help="Also print tuning advice: savings and risks, each with the inputs it reads.")
@json_option
@with_project
def cost(stack_path, region, assume, assumptions_file, prices_file, advise, as_json, project):
    """Monthly cost estimate of a stack definition (default: the project's), offline."""
    from cauce.ops.advice import advise as advise_stack
    from cauce.ops.cost import Assumptions, CostError, estimate, price_table
    from cauce.core.project import stack_file
    from cauce.core.stack import StackError, load_stack

    stack_path = stack_file(stack_path, project)
    if stack_path is None:
        fail("no stack to price: give STACK_FILE, or run in a Cauce project (cauce init)", 2)

    values: dict = {}
    try:
        if assumptions_file:
            given = json.loads(assumptions_file.read_text())
            if not isinstance(given, dict):
                raise CostError(f"--assumptions {assumptions_file}: expected a JSON object of NAME: VALUE, got {type(given).__name__}")
            values.update(given)
        for item in assume:
            name, sep, value = item.partition("=")
            if not sep:
                raise CostError(f"--assume {item!r}: expected NAME=VALUE")
            values[name.strip()] = value.strip()
        stack = load_stack(stack_path)
        assumptions = Assumptions.from_values(values)
        prices = price_table(region, prices_file)
        result = estimate(stack, assumptions, prices, set(values))
        advice = advise_stack(stack, assumptions, prices, result) if advise else []
    except json.JSONDecodeError as error:
        fail(f"--assumptions {assumptions_file}: not valid JSON: {error}", 2)
    except (CostError, StackError) as error:
        fail(str(error), 2)
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


@click.command()
@lake_option
@click.option("--aws", "check_aws", is_flag=True, help="Also read the deployed stack's alarms and Glue runs (uses your AWS credentials).")
@click.option("--profile", default=None, help="AWS profile for --aws.")
@click.option("--region", default=None, help="AWS region for --aws.")
@json_option
@stack_option
@with_project
def doctor(lake, check_aws, profile, region, as_json, stack_file, project):
    """Check this machine for local runs and, with --aws, point at the deployed stack's likely problem."""
    from cauce.ops.doctor import aws_checks, local_checks
    from cauce.core.project import stack_file as chosen_stack_file
    from cauce.core.stack import StackError, load_stack

    stack_file = chosen_stack_file(stack_file, project)
    findings = local_checks(stack_file, lake_folder(lake, project))
    if check_aws:
        import boto3

        try:
            stack = load_stack(stack_file)
        except StackError as error:
            fail(str(error), 2)
        from botocore.exceptions import BotoCoreError, ClientError

        from cauce.ops.doctor import Finding

        try:
            findings += aws_checks(stack, boto3.Session(profile_name=profile, region_name=region))
        except (BotoCoreError, ClientError) as error:  # no credentials, no such profile, endpoint unreachable, access denied
            findings.append(Finding("deployed stack", "fail", f"cannot read it from AWS: {error}"))
    if as_json:
        click.echo(json.dumps({"findings": [f.as_dict() for f in findings]}, indent=2))
    else:
        for finding in findings:
            click.echo(f"[{finding.status:>4}] {finding.check}: {finding.detail}" + (f"\n       see {finding.guide}" if finding.guide else ""))
    if any(f.status == "fail" for f in findings):
        sys.exit(1)


COMMANDS = [cost, doctor]
