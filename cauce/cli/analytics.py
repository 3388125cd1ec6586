"""cauce analytics check / explain / run: SQL analytics apps on Spark."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import click

from cauce.cli.options import emit, fail, json_option, lake_folder, needs_extra, with_stack


@click.group()
def analytics() -> None:
    """SQL analytics apps (Kinesis Data Analytics SQL) on Spark: check, explain, run."""


def _load_analytics_app(reference, stack):
    from cauce.analytics.app import AppDefinitionError, load_app

    try:
        return load_app(reference, stack)
    except AppDefinitionError as error:
        fail(str(error), 2)


@analytics.command("check")
@click.argument("reference", metavar="APP")
@click.option("--no-spark", is_flag=True, help="Only parse and translate (skip Spark's check of columns and functions).")
@json_option
@needs_extra("analytics")
@with_stack(optional=True)  # an app folder runs outside a project too
def analytics_check(reference, no_spark, as_json, stack, stack_file, project):
    """Parse, translate and check an app against its input schema (no data is run).

    APP is a folder, a name in the project's apps folder, or a stack key.
    """
    from cauce.analytics.dialect import AnalyticsSqlError
    from cauce.analytics.runtime import analyze, check

    app = _load_analytics_app(reference, stack)
    try:
        program, plans = check(app)
        if not no_spark:
            from cauce.etl.runtimes.local import LocalRuntime

            if importlib.util.find_spec("pyspark") is None:
                fail("cauce analytics check needs the 'local' extra for Spark's check (or give --no-spark): pip install 'cauce[local]'", 2)
            runtime = LocalRuntime(lake_folder(None, project))
            analyze(app, runtime.spark, runtime.lake)
    except AnalyticsSqlError as error:
        fail(f"{app.name}: {error}", 2)
    document = {"app": app.name, "streams": {n: s.columns for n, s in program.streams.items()},
                "pumps": {p.name: {"into": p.target, "reads": p.sources} for p in program.pumps}, "valid": True}
    text = f"{app.name}: valid; " + ", ".join(f"{p.name}: {', '.join(p.sources)} -> {p.target}" for p in program.pumps)
    emit(as_json, document, text)


@analytics.command("explain")
@click.argument("reference", metavar="APP")
@needs_extra("analytics")
@with_stack(optional=True)  # an app folder runs outside a project too
def analytics_explain(reference, stack, stack_file, project):
    """Print the Spark SQL each pump became."""
    from cauce.analytics.dialect import AnalyticsSqlError
    from cauce.analytics.runtime import check

    app = _load_analytics_app(reference, stack)
    try:
        _, plans = check(app)
    except AnalyticsSqlError as error:
        fail(f"{app.name}: {error}", 2)
    for pump, sql in plans.items():
        click.echo(f"-- pump {pump}\n{sql};\n")


@analytics.command("run")
@click.argument("reference", metavar="APP")
@click.option("--input", "input_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="Records: JSON lines, or CSV with a header row (.csv); an `_arrival_time` field or --rowtime-column gives ROWTIME.")
@click.option("--rowtime-column", default=None, help="Input column whose value is the record's arrival time (ROWTIME).")
@click.option("--output", default=None, help="Write the output rows as JSON lines to this file, or to an s3:// key in the local lake.")
@json_option
@needs_extra("analytics", "local")
@with_stack(optional=True)  # an app folder runs outside a project too
def analytics_run(reference, input_file, rowtime_column, output, as_json, stack, stack_file, project):
    """Run an app over a file of records, deterministically (every window closes at the end of the input)."""
    from cauce.analytics.dialect import AnalyticsSqlError
    from cauce.analytics.runtime import run
    from cauce.etl.runtimes.local import LocalRuntime

    app = _load_analytics_app(reference, stack)
    records, lines = [], []  # lines[i]: the 1-based file line of records[i]
    if input_file.suffix.lower() == ".csv":
        import csv

        with input_file.open(newline="") as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                records.append(row)
                lines.append(reader.line_num)
    else:  # JSON lines as they are: Spark parses them, and refuses what is not JSON with the rest
        for number, line in enumerate(input_file.read_bytes().splitlines(), start=1):
            if line.strip():
                records.append(line)
                lines.append(number)
    if not records:
        fail(f"--input {input_file}: no records in it (JSON lines, or CSV with a header)", 2)
    runtime = LocalRuntime(lake_folder(None, project))
    spark = runtime.spark
    try:
        result = run(app, records, spark, rowtime_column=rowtime_column, lake=runtime.lake, intermediate=True)
    except AnalyticsSqlError as error:
        fail(f"{app.name}: {error}", 2)
    # every refusal named by its file line, whether the JSON or the schema refused it
    result.errors = [{**e, "line": lines[e["line"] - 1], "record": _printable(e["record"])} for e in result.errors]
    rows = [{"stream": name, **row} for name, stream_rows in result.outputs.items() for row in stream_rows]
    # the streams other pumps read, shown too (marked), as KDA's console shows every in-application stream
    shown = [{"stream": name, "intermediate": True, **row} for name, stream_rows in result.intermediate.items() for row in stream_rows] + rows
    if output is not None:
        target = runtime.lake.local_path(output) if output.startswith("s3://") else Path(output)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("".join(json.dumps(row, default=_json_value) + "\n" for row in rows))
    if as_json:
        click.echo(json.dumps({"outputs": result.outputs, "intermediate": result.intermediate, "errors": result.errors,
                               "records": len(records), "refused": len(result.errors)}, indent=2, default=_json_value))
    else:
        for row in shown if output is None else []:
            click.echo(json.dumps(row, default=_json_value))
        click.echo(f"{app.name}: {_count(len(records), 'record')} in, {_count(len(rows), 'row')} out, {len(result.errors)} refused", err=True)
        for error in result.errors[:10]:
            click.echo(f"  line {error['line']}: {error['reason']}", err=True)
    received = len(records)
    if received and len(result.errors) == received:
        fail(f"{app.name}: every record ({received}) was refused; nothing ran through the app", 1)


def _printable(record):
    return record.decode(errors="replace") if isinstance(record, bytes) else record


COMMANDS = [analytics]


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _json_value(value: object) -> str:
    """A value JSON has no type for: a TIMESTAMP as KDA writes it, to the millisecond (2026-11-26 10:00:01.250)."""
    import datetime as dt

    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="milliseconds")
    return str(value)
