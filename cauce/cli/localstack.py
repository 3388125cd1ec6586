"""cauce demo, up, down, send, status: the whole stack on this machine."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from cauce.cli.options import emit, fail, json_option, needs_extra, state_folder, state_option, with_project, with_stack


@click.command()
@click.option("--events", type=click.IntRange(min=1), default=20_000, show_default=True, help="Events to generate.")
@click.option("--malformed-share", type=click.FloatRange(0, 1), default=0.02, show_default=True, help="Share of bad events.")
@click.option("--duplicate-share", type=click.FloatRange(0, 1), default=0.01, show_default=True, help="Share of re-delivered events.")
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed for the generated events.")
@click.option("--lake", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Lake folder for the demo, emptied first (default: .cauce/demo-lake in the project, or here).")
@click.option("--etl-only", is_flag=True, help="Only the ETL job, on two batches written straight to the lake (with bookmarks).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="HTML report to write (default: demo-report.html beside the lake); its log file takes the same name with .log.")
@json_option
@click.option("--verbose", is_flag=True, help="Print the jobs' and handlers' structured log lines (on stderr) instead of to the log file.")
@needs_extra("local", "lambda", "analytics")
@with_stack(example_outside_project=True)
def demo(events, malformed_share, duplicate_share, seed, lake, etl_only, report_path, as_json, verbose, stack, stack_file, project):
    """The whole stack on this machine, every event reconciled: the project's stack, or outside a project the
    embedded example (the seed's).

    Events go into the Kinesis stream, Firehose delivers them through the data-processor into the lake,
    the crawler catalogs them, the etl-workflow runs the Glue job then the data-processor, and the SQL
    analytics app counts them per minute.
    """
    import atexit
    import contextlib

    lake = lake or (project.root if project is not None else Path.cwd()) / ".cauce" / "demo-lake"
    if etl_only:
        from cauce.localstack.demo import run_demo

        report = run_demo(lake, events, malformed_share, duplicate_share, seed, progress=not as_json, verbose=verbose)
        emit(as_json, report, report["text"])
        if not report["reconciled"]:
            sys.exit(1)
        return
    from cauce.localstack.pipeline import run_pipeline
    from cauce.localstack.report import write_html_report

    terminal = sys.stdout  # progress and stage lines; the handlers' and jobs' logs go to the log file
    lake.mkdir(parents=True, exist_ok=True)
    log_path = report_path.with_suffix(".log") if report_path else lake.parent / "demo.log"
    say = (lambda _line: None) if as_json else (lambda line: click.echo(line, file=terminal))
    bar = click.progressbar(length=events, label="stream stages", file=terminal, hidden=as_json,
                            item_show_func=lambda detail: detail)
    done = 0

    def progress(events_done: int, detail: str) -> None:
        nonlocal done
        bar.update(events_done - done, detail)
        done = events_done
        if events_done >= events:
            bar.render_finish()

    # The handlers' loggers keep the stream they are created with, so the log file stays open until exit.
    log_file = open(log_path, "w")
    atexit.register(log_file.close)
    with contextlib.ExitStack() as outputs:
        if not verbose:
            outputs.enter_context(contextlib.redirect_stderr(log_file))
            outputs.enter_context(contextlib.redirect_stdout(log_file))
        else:
            outputs.enter_context(contextlib.redirect_stdout(sys.stderr))
        with bar:
            report = run_pipeline(lake, events, malformed_share, duplicate_share, seed, stack=stack, say=say, progress=progress)
    report["log"] = str(log_path)
    if report_path is None:
        report_path = lake.parent / "demo-report.html"
    report["html_report"] = str(write_html_report(report, report_path))
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
    else:
        click.echo(_pipeline_text(report))
    if not report["reconciled"]:
        sys.exit(1)


def _pipeline_text(report: dict) -> str:
    lines = [""]
    for check in report["checks"]:
        lines.append(f"  [{'ok' if check['ok'] else 'FAILED'}] {check['check']}")
    lines.append("")
    lines.append("where the outputs are (s3:// maps into the lake folder " + report["lake"] + "):")
    lines += [f"  {name:<34} {place}" for name, place in report["outputs"].items()]
    settings = report["not_applicable_locally"]
    if settings:
        lines.append(f"{sum(len(paths) for paths in settings.values())} AWS-only settings were accepted but do not apply locally "
                     f"(listed in the HTML report and --json), e.g. {next(iter(settings))}")
    lines.append(f"report: {report['html_report']}   logs: {report['log']}")
    if report["reconciled"]:
        lines.append(f"Reconciled: nothing lost ({report['records_put']:,} records in {report['seconds']:.0f} s, "
                     f"peak memory {report['peak_memory_mb']:,} MB).")
    else:
        reason = f": {report['failure']}" if report["failure"] else ": see the failed checks above"
        lines.append(f"NOT reconciled. The {report['failed_stage']} stage failed{reason}")
    return "\n".join(lines)


@click.command()
@state_option
@click.option("--port", type=click.IntRange(1024, 65535), default=None, help="Port on 127.0.0.1 (default: a free one).")
@json_option
@needs_extra("local", "lambda", "analytics")
@with_stack
def up(state_dir, port, as_json, stack, stack_file, project):
    """Start the local stack as a server on 127.0.0.1 (moto), with Firehose delivery, event source mappings and analytics apps running.

    Any AWS client can use it: export AWS_ENDPOINT_URL as printed. Stop it with `cauce down`.
    """
    from cauce.localstack.applicability import not_applicable_locally
    from cauce.localstack.control import AnalyticsAppRefused, PortBusy, StackStartFailed, status
    from cauce.localstack.control import up as start
    state_dir = state_folder(state_dir, project)
    try:
        record = start(state_dir, stack_file, port, project_root=project.root if project is not None else None, stack=stack)
        document = {**status(state_dir), "already_running": record["already_running"],
                    "not_applicable_locally": not_applicable_locally(stack)}
    except PortBusy as error:
        fail(str(error), 2)
    except (StackStartFailed, AnalyticsAppRefused) as error:
        fail(str(error))
    lines = [("already running" if record["already_running"] else "started") + f": {document['endpoint']} (pid {document['pid']})",
             f"  export AWS_ENDPOINT_URL={document['endpoint']} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
             f"AWS_DEFAULT_REGION={document['region']}",
             "  streams: " + ", ".join(f"{name} ({s['shards']} shards)" for name, s in document["streams"].items()),
             "  firehose: " + (", ".join(document.get("firehose", {})) or "none"),
             f"  lake: {document['lake']['path']}   log: {state_dir / 'server.log'}"]
    settings = document["not_applicable_locally"]
    if settings:
        lines.append(f"  {sum(len(p) for p in settings.values())} AWS-only settings do not apply locally:")
        lines += [f"    {reason}: {', '.join(paths)}" for reason, paths in settings.items()]
    emit(as_json, document, "\n".join(lines))


@click.command()
@state_option
@click.option("--purge", is_flag=True, help="Also delete the state folder: the lake, catalog, bookmarks and logs.")
@json_option
@with_project
def down(state_dir, purge, as_json, project):
    """Stop the local stack (Firehose buffers are delivered first)."""
    from cauce.localstack import control

    state_dir = state_folder(state_dir, project)
    document = control.down(state_dir, purge)
    firehose = document["final_status"].get("firehose", {})
    analytics = document["final_status"].get("analytics", {})
    text = ("stopped" if document["stopped"] else "no local stack was running") + "".join(
        f"\n  firehose {name}: {f['delivered']:,} delivered, {f['processing_failed']:,} processing-failed" for name, f in firehose.items()) + "".join(
        f"\n  analytics {name}: {a['events_counted']:,} events counted in {a['rows']} window(s)" for name, a in analytics.items())
    if purge:
        text += f"\n  removed {state_dir}"
    emit(as_json, document, text)
    if document["killed"]:  # what it had not finished (an analytics app's last windows) is lost
        fail(f"the server had not stopped {control.STOP_TIMEOUT_SECONDS} s after SIGTERM and was killed: the counts above are its last status; "
             f"see {state_dir / 'server.log'}")


@click.command()
@click.argument("stream")
@click.argument("source", type=click.File("r"))
@state_option
@click.option("--partition-key-field", default=None, help="JSON field whose value is the partition key (default: the line number).")
@json_option
@with_project
def send(stream, source, state_dir, partition_key_field, as_json, project):
    """Put the lines of SOURCE (JSON lines; '-' for standard input) into STREAM of the running local stack."""
    from cauce.localstack.control import StackNotRunning
    from cauce.localstack.control import send as put

    state_dir = state_folder(state_dir, project)
    with click.progressbar(length=0, label=f"sending to {stream}", hidden=as_json, show_pos=True) as bar:
        try:
            document = put(state_dir, stream, source, partition_key_field, progress=bar.update)
        except StackNotRunning as error:
            fail(str(error))
        except Exception as error:  # e.g. ResourceNotFoundException: the message names the stream
            fail(f"sending to {stream} failed: {error}")
    emit(as_json, document, f"sent {document['records']:,} records to {stream}")


@click.command()
@state_option
@json_option
@with_project
def status(state_dir, as_json, project):
    """The running local stack: endpoint, streams, Firehose and consumer counts, lake size."""
    from cauce.localstack.control import StackNotRunning
    from cauce.localstack.control import status as read

    try:
        document = read(state_folder(state_dir, project))
    except StackNotRunning as error:
        fail(str(error))
    lines = [f"local stack at {document['endpoint']} (pid {document['pid']})"]
    lines += [f"  stream   {name}: {s['status']}, {s['shards']} shards" for name, s in document["streams"].items()]
    lines += [f"  firehose {name}: {f['records_in']:,} in, {f['buffered']:,} buffered (up to {f['buffer_interval']:.0f} s), "
              f"{f['delivered']:,} delivered, {f['processing_failed']:,} processing-failed, {f['objects']} objects"
              for name, f in document.get("firehose", {}).items()]
    lines += [f"  consumer {key}: {m['records_read']:,} read, {m['succeeded']:,} processed, {m['to_destination']:,} to destination"
              for key, m in document.get("event_sources", {}).items()]
    lines += [f"  analytics {name}: {a['events_counted']:,} events counted in {a['rows']} closed window(s), "
              f"{a.get('in_open_windows', 0):,} in open windows, {a['pending']:,} waiting for the next batch, {a['refused']:,} refused"
              for name, a in document.get("analytics", {}).items()]
    lines.append(f"  lake     {document['lake']['path']}: {document['lake']['objects']} objects, {document['lake']['bytes']:,} bytes")
    emit(as_json, document, "\n".join(lines))


COMMANDS = [demo, up, down, send, status]
