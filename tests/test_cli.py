"""The `cauce` command line, in process (it shares the test run's SparkSession)."""

import copy
import json
from pathlib import Path
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from cauce.cli import cli
from cauce.etl.testing import put_json_lines


def invoke(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_help_everywhere():
    for command in ([], ["job"], ["job", "run"], ["job", "list"], ["shell"], ["demo"], ["invoke"], ["layer"], ["layer", "build"],
                    ["sfn"], ["sfn", "run"], ["sfn", "validate"], ["sfn", "diagram"], ["sfn", "list"], ["cost"], ["doctor"],
                    ["analytics"], ["analytics", "run"], ["analytics", "check"], ["analytics", "explain"], ["up"], ["down"], ["send"],
                    ["status"]):
        result = invoke(*command, "--help")
        assert result.exit_code == 0 and "Usage:" in result.output


def test_job_list_json_includes_the_seed_job():
    result = invoke("job", "list", "--json")
    jobs = {j["name"]: j for j in json.loads(result.stdout)["jobs"]}
    assert jobs["etl-proceso-principal"]["path"].endswith("etl/jobs/etl_main.py")


def test_job_run_by_name_with_glue_arguments(spark, cauce_lake):
    put_json_lines(cauce_lake, "s3://b/raw/x.json", [
        {"event_id": "e1", "event_type": "view", "event_time": "2026-11-01T00:00:00Z"}, "oops"])
    result = invoke("job", "run", "etl-proceso-principal", "--lake", str(cauce_lake.root), "--json",
                    "--source_path", "s3://b/raw/", "--target_path", "s3://b/out/", "--quarantine_path", "s3://b/q/")
    document = json.loads(result.stdout)
    assert result.exit_code == 0, document["error"]
    assert (document["status"], document["rows_written"], document["rows_quarantined"]) == ("SUCCEEDED", {"curated_events": 1}, 1)
    # the stack's default_arguments applied: bookmark enabled, so a rerun reads nothing new
    again = json.loads(invoke("job", "run", "etl-proceso-principal", "--lake", str(cauce_lake.root), "--json",
                              "--source_path", "s3://b/raw/", "--target_path", "s3://b/out/", "--quarantine_path", "s3://b/q/").stdout)
    assert again["rows_read"] == {"raw_events": 0}


def test_job_run_by_path_reports_argument_problems_and_exits_2(tmp_path, cauce_lake):
    script = tmp_path / "my_job.py"
    script.write_text(
        "from dataclasses import dataclass\n"
        "from cauce.etl import GlueJob\n"
        "@dataclass(frozen=True)\n"
        "class Args:\n    target_path: str\n    limit: int = 1\n"
        "class MyJob(GlueJob):\n    Arguments = Args\n    def run(self):\n        pass\n"
    )
    result = CliRunner().invoke(cli, ["job", "run", str(script), "--lake", str(cauce_lake.root), "--limit", "x"])
    assert result.exit_code == 2
    assert "--target_path: missing (required, str)" in result.output
    assert "--limit: 'x' is not a valid int" in result.output


def test_unknown_job_exits_non_zero():
    result = CliRunner().invoke(cli, ["job", "run", "no-such-job"])
    assert result.exit_code == 2 and "no job named 'no-such-job' (known: etl-proceso-principal" in result.output


def test_demo_etl_only_reconciles(tmp_path, spark):
    result = invoke("demo", "--etl-only", "--events", "300", "--malformed-share", "0.1", "--lake", str(tmp_path / "demo"), "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 0 and report["reconciled"], report["checks"]
    assert report["totals"]["malformed"] == report["quarantined_rows"] > 0


def test_demo_runs_the_whole_stack_and_reconciles_every_event(tmp_path, spark):
    result = CliRunner().invoke(cli, ["demo", "--events", "400", "--malformed-share", "0.2", "--lake", str(tmp_path / "demo"), "--json"])
    assert result.exit_code == 0, result.output[-2000:]
    report = json.loads(result.stdout)
    assert report["reconciled"], report["checks"]
    stages = report["stages"]
    assert stages["firehose"]["processing_failed"] > 0 and stages["workflow"]["rows_quarantined"] > 0  # both nets caught bad events
    assert stages["firehose"]["processing_failed"] + stages["workflow"]["rows_quarantined"] == report["expected"]["malformed"]
    assert stages["workflow"]["status"] == "SUCCEEDED" and stages["crawler"]["tables"] == ["raw_raw_data"]
    assert report["stages"]["analytics"]["apps"]["realtime-processing"]["events_counted"] > 0
    html = Path(report["html_report"]).read_text()
    assert "Reconciled: nothing lost" in html and html.count("<svg") == 3 and "etl-workflow" in html
    assert f"Peak memory {report['peak_memory_mb']:,} MB" in html and "records in the analytics windows" in html
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")  # opens offline


def test_demo_names_the_failed_stage_and_exits_non_zero(tmp_path, spark):
    from cauce.core.stack import load_stack

    stack = copy.deepcopy(load_stack(None).document)
    stack["glue_config"]["crawler_config"]["data-crawler"]["s3_target"][0]["path"] = "s3://mi-bucket/nothing-here/"
    (tmp_path / "stack.json").write_text(json.dumps(stack))

    result = CliRunner().invoke(cli, ["demo", "--events", "50", "--stack", str(tmp_path / "stack.json"), "--lake", str(tmp_path / "demo")])

    assert result.exit_code == 1
    assert "crawler    FAILED: no files under s3://mi-bucket/nothing-here/" in result.output
    assert "NOT reconciled. The crawler stage failed" in result.output


def test_invoke_prints_only_the_response_on_stdout_with_json(tmp_path):
    from cauce.handlers.testing import firehose_event

    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(firehose_event([{"event_id": "1", "event_type": "view", "event_time": "t"}, "x"])))

    # A fresh process, as a user runs it: the handler module is imported by the command itself.
    completed = subprocess.run([sys.executable, "-m", "cauce", "invoke", "cauce.handlers.data_processor:handler",
                                "--event", str(event_file), "--json"], capture_output=True, text=True)

    assert completed.returncode == 0, completed.stderr
    assert [r["result"] for r in json.loads(completed.stdout)["records"]] == ["Ok", "ProcessingFailed"]
    assert '"message":"record failed"' in completed.stderr  # the handler's structured logs, kept apart
    assert '"RecordsFailed":[1.0]' in completed.stderr  # and its EMF metrics


def test_invoke_exits_non_zero_with_lambdas_error_shape(tmp_path):
    event_file = tmp_path / "event.json"
    event_file.write_text('{"operation": "launch"}')

    result = CliRunner().invoke(cli, ["invoke", "cauce.handlers.data_processor:handler", "--event", str(event_file), "--json"])

    assert result.exit_code == 1
    assert json.loads(result.stdout)["errorType"] == "UnknownOperation"


def test_invoke_names_what_it_cannot_load(tmp_path):
    event_file = tmp_path / "event.json"
    event_file.write_text("{}")
    result = CliRunner().invoke(cli, ["invoke", "cauce.handlers.nothing_here:handler", "--event", str(event_file)])
    assert result.exit_code == 2 and "cannot load cauce.handlers.nothing_here:handler" in result.output
    event_file.write_text("{oops")
    result = CliRunner().invoke(cli, ["invoke", "cauce.handlers.data_processor:handler", "--event", str(event_file)])
    assert result.exit_code == 2 and "not valid JSON" in result.output


def test_sfn_validate_the_seed_workflow_and_a_broken_file(tmp_path):
    result = CliRunner().invoke(cli, ["sfn", "validate", "etl-workflow", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["valid"] is True

    broken = tmp_path / "broken.asl.json"
    broken.write_text(json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}))
    result = CliRunner().invoke(cli, ["sfn", "validate", str(broken), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["problems"] == [{"where": "States.A.Next", "message": "'B' is not a state here"}]


def test_sfn_run_prints_the_history_and_exits_non_zero_on_failure(tmp_path):
    workflow = tmp_path / "wf.asl.json"
    workflow.write_text(json.dumps({"StartAt": "Hold", "States": {
        "Hold": {"Type": "Wait", "Seconds": 600, "Next": "Stop"},
        "Stop": {"Type": "Fail", "Error": "Custom.Stop", "Cause": "on purpose"}}}))

    result = CliRunner().invoke(cli, ["sfn", "run", str(workflow), "--input", '{"a": 1}'])

    assert result.exit_code == 1
    assert "Hold                         Wait      SUCCEEDED" in result.stdout
    assert re.search(r"Hold +Wait +SUCCEEDED +600\.\d{3}s", result.stdout)  # the wait, plus real milliseconds
    assert "wf: FAILED (Custom.Stop: on purpose)" in result.stdout
    as_json = CliRunner().invoke(cli, ["sfn", "run", str(workflow), "--json"])
    assert 600 <= json.loads(as_json.stdout)["history"][0]["duration_seconds"] < 601


def test_sfn_validate_and_run_fill_a_workflows_own_placeholders_from_var_and_vars(tmp_path):
    workflow = tmp_path / "greet.asl.json"  # placeholders as AWS SAM's DefinitionSubstitutions write them
    workflow.write_text(json.dumps({"QueryLanguage": "JSONata", "StartAt": "Greet", "States": {
        "Greet": {"Type": "Pass", "Output": {"message": "{% '${Greeting}, ' & $states.input.name & '${Suffix}' %}", "stage": "${Stage}"},
                  "End": True}}}))
    (tmp_path / "vars.json").write_text(json.dumps({"Greeting": "Hello", "Suffix": "!"}))
    (tmp_path / "more.env").write_text("# later files win\nStage=dev\nGreeting=Hi\n")

    missing = CliRunner().invoke(cli, ["sfn", "validate", str(workflow)])
    assert missing.exit_code == 2 and "${Greeting} has no value" in missing.output

    valid = CliRunner().invoke(cli, ["sfn", "validate", str(workflow), "--vars", str(tmp_path / "vars.json"), "--var", "Stage=prod"])
    assert valid.exit_code == 0, valid.output

    result = CliRunner().invoke(cli, ["sfn", "run", str(workflow), "--json", "--input", '{"name": "Ada"}', "--vars", str(tmp_path / "vars.json"),
                                      "--vars", str(tmp_path / "more.env"), "--var", "Suffix=?"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["output"] == {"message": "Hi, Ada?", "stage": "dev"}

    bad = CliRunner().invoke(cli, ["sfn", "run", str(workflow), "--var", "no-equals"])
    assert bad.exit_code == 2 and "--var 'no-equals': expected NAME=VALUE" in bad.output


def test_sfn_diagram_mermaid_and_svg(tmp_path):
    result = CliRunner().invoke(cli, ["sfn", "diagram", "etl-workflow"])
    assert result.exit_code == 0
    assert result.stdout.startswith("flowchart TD") and "StartETLProcess -.->|catch States.ALL| NotifyFailure" in result.stdout

    picture = tmp_path / "cauce.etl.svg"
    result = CliRunner().invoke(cli, ["sfn", "diagram", "etl-workflow", "--format", "svg", "--output", str(picture)])
    assert result.exit_code == 0, result.output  # Graphviz is installed by scripts/system-packages.sh
    assert picture.read_text().lstrip().startswith("<?xml") and "StartETLProcess" in picture.read_text()


def test_analytics_check_explain_and_run_the_seed_app(spark, tmp_path):
    assert "STREAM_PUMP: SOURCE_SQL_STREAM_001 -> DESTINATION_SQL_STREAM" in invoke("analytics", "check", "realtime-processing").output
    assert invoke("analytics", "check", "realtime-processing", "--no-spark").exit_code == 0
    assert "UNIX_MICROS" in invoke("analytics", "explain", "realtime-processing").output
    records = tmp_path / "in.jsonl"
    records.write_text('{"timestamp": "2026-11-26T10:00:01Z", "data": "a"}\n{"timestamp": "2026-11-26T10:00:02Z", "data": "b"}\n{oops\n')
    result = CliRunner().invoke(cli, ["analytics", "run", "realtime-processing", "--input", str(records), "--rowtime-column", "timestamp", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [row["events"] for row in document["outputs"]["DESTINATION_SQL_STREAM"]] == [2]
    assert len(document["errors"]) == 1


def test_analytics_check_refuses_an_unsupported_construct_by_name(tmp_path):
    folder = tmp_path / "anomalies"
    folder.mkdir()
    (folder / "app.sql").write_text('CREATE STREAM "O" ("s" DOUBLE);\nCREATE PUMP "P" AS INSERT INTO "O"\n'
                                    'SELECT STREAM W3C_LOG_PARSE("v", \'IIS\') FROM "SOURCE_SQL_STREAM_001";')
    (folder / "app.json").write_text(json.dumps({"application_configuration": {"sql_configuration": {
        "input_schema": json.dumps({"RecordColumns": [{"Name": "v", "SqlType": "DOUBLE"}]})}}}))
    result = CliRunner().invoke(cli, ["analytics", "check", str(folder)])
    assert result.exit_code == 2 and "line 3, column 15" in result.output and "W3C_LOG_PARSE: the IIS format" in result.output
    (folder / "app.sql").write_text('CREATE STREAM "O" ("s" DOUBLE);\nCREATE PUMP "P" AS INSERT INTO "O" SELECT STREAM "volume" FROM "SOURCE_SQL_STREAM_001";')
    result = CliRunner().invoke(cli, ["analytics", "check", str(folder)])  # Spark's analyzer, with no data
    assert result.exit_code == 2 and "pump P (line 2)" in result.output and "volume" in result.output


def test_analytics_run_reads_csv_and_writes_to_the_lake(spark, tmp_path, monkeypatch):
    monkeypatch.setenv("CAUCE_LAKE", str(tmp_path / "lake"))
    records = tmp_path / "in.csv"
    records.write_text("timestamp,data\n2026-11-26T10:00:01Z,a\n2026-11-26T10:01:01Z,b\n")
    result = CliRunner().invoke(cli, ["analytics", "run", "realtime-processing", "--input", str(records), "--rowtime-column", "timestamp",
                                      "--output", "s3://mi-bucket/analytics/out.jsonl"])
    assert result.exit_code == 0, result.output
    written = (tmp_path / "lake" / "mi-bucket" / "analytics" / "out.jsonl").read_text().splitlines()
    assert [json.loads(line)["events"] for line in written] == [1, 1]


def test_analytics_run_refuses_a_rowtime_column_not_in_the_schema(spark, tmp_path):
    """ROWTIME is the record's arrival time (KDA SQL Reference, "ROWTIME"): a rowtime column the input
    schema lacks is the run's mistake, so the run stops with exit 2 and names the schema's columns."""
    records = tmp_path / "in.jsonl"
    records.write_text('{"timestamp": "2026-11-26T10:00:01Z", "data": "a"}\n')
    result = CliRunner().invoke(cli, ["analytics", "run", "realtime-processing", "--input", str(records), "--rowtime-column", "tss"])
    assert result.exit_code == 2, result.output
    assert "rowtime column 'tss' is not a column of the input schema (timestamp, data)" in result.output
    assert "is not in list" not in result.output and "Traceback" not in result.output


def test_analytics_run_exits_non_zero_when_every_record_is_refused_and_counts_lines_from_one(spark, tmp_path):
    """Every refusal is named by its 1-based line in the file, whether the JSON or the schema refused it;
    a run that refused every record exits 1."""
    records = tmp_path / "in.jsonl"
    records.write_text('{"data": "a"}\n\n{oops\n{"data": "b"}\n')  # no arrival time, a blank line, broken JSON
    result = CliRunner().invoke(cli, ["analytics", "run", "realtime-processing", "--input", str(records), "--json"])
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    assert [(e["line"], e["reason"].split(":")[0]) for e in document["errors"]] == [(1, "no arrival time"), (3, "not valid JSON"), (4, "no arrival time")]
    assert "every record (3) was refused" in result.output
    csv_records = tmp_path / "in.csv"
    csv_records.write_text("timestamp,data\nbad,a\n2026-11-26T10:00:01Z,b\n")
    result = CliRunner().invoke(cli, ["analytics", "run", "realtime-processing", "--input", str(csv_records), "--rowtime-column", "timestamp"])
    assert result.exit_code == 0 and "line 2: column timestamp (TIMESTAMP): 'bad' is not a timestamp" in result.output


def test_a_command_that_starts_spark_prints_its_own_output_only(tmp_path):
    """Spark's start-up lines (its log-level banner, Hadoop's native-library warning) are not the command's:
    a fresh `cauce analytics run` process writes its rows to stdout and its summary to stderr, nothing else."""
    import subprocess
    import sys

    records = tmp_path / "in.jsonl"
    records.write_text('{"timestamp": "2026-11-26T10:00:01Z", "data": "a", "_arrival_time": "2026-11-26T10:00:01Z"}\n')
    done = subprocess.run([sys.executable, "-c", "from cauce.cli import main; main()", "analytics", "run", "realtime-processing", "--input", str(records)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines() == ["realtime-processing: 1 record in, 1 row out, 0 refused"]  # its window closes at the end
    assert [json.loads(line)["events"] for line in done.stdout.splitlines()] == [1]


# AWS's "Example: Creating Throttled Alerts" (KDA SQL Developer Guide, app-throttled-alerts.html), as printed
THROTTLED_ALERTS_SQL = """CREATE OR REPLACE STREAM "CHANGE_STREAM"
           (ticker_symbol VARCHAR(4),
            sector        VARCHAR(12),
            change        DOUBLE,
            price         DOUBLE);

CREATE OR REPLACE PUMP "change_pump" AS
   INSERT INTO "CHANGE_STREAM"
      SELECT STREAM ticker_symbol, sector, change, price
      FROM   "SOURCE_SQL_STREAM_001"
      WHERE  (ABS(Change / (Price - Change)) * 100) > 1;

-- ** Trigger Count and Limit **
-- Counts "triggers" or those values that evaluated true against the previous where clause
-- Then provides its own limit on the number of triggers per hour per ticker symbol to what
-- is specified in the WHERE clause

CREATE OR REPLACE STREAM TRIGGER_COUNT_STREAM (
   ticker_symbol VARCHAR(4),
   change REAL,
   trigger_count INTEGER);

CREATE OR REPLACE PUMP trigger_count_pump AS INSERT INTO TRIGGER_COUNT_STREAM
SELECT STREAM ticker_symbol, change, trigger_count
FROM (
    SELECT STREAM ticker_symbol, change, COUNT(*) OVER W1 as trigger_count
    FROM "CHANGE_STREAM"
    --window to perform aggregations over last minute to keep track of triggers
    WINDOW W1 AS (PARTITION BY ticker_symbol RANGE INTERVAL '1' MINUTE PRECEDING)
)
WHERE trigger_count >= 1;
"""
# the Getting Started demo stream's schema (TICKER_SYMBOL, SECTOR, CHANGE, PRICE)
DEMO_STREAM_SCHEMA = {"RecordColumns": [{"Name": "TICKER_SYMBOL", "SqlType": "VARCHAR(4)", "Mapping": "$.TICKER_SYMBOL"},
                                        {"Name": "SECTOR", "SqlType": "VARCHAR(16)", "Mapping": "$.SECTOR"},
                                        {"Name": "CHANGE", "SqlType": "REAL", "Mapping": "$.CHANGE"},
                                        {"Name": "PRICE", "SqlType": "REAL", "Mapping": "$.PRICE"}]}


def test_an_aws_example_app_in_a_folder_runs_outside_any_project(spark, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no project here or above
    monkeypatch.delenv("CAUCE_STACK", raising=False)
    app = tmp_path / "throttled-alerts"
    app.mkdir()
    (app / "app.sql").write_text(THROTTLED_ALERTS_SQL)
    (app / "app.json").write_text(json.dumps({"application_configuration": {"sql_configuration": {"input_schema": json.dumps(DEMO_STREAM_SCHEMA)}}}))
    ticks = [("AAPL", 2.0, 100.0, "07:00:00"), ("AAPL", 3.0, 101.0, "07:00:20"), ("AMZN", 0.1, 300.0, "07:00:25"), ("AAPL", -2.5, 99.0, "07:01:10"),
             ("AMZN", 9.0, 310.0, "07:01:20"), ("AAPL", 0.2, 99.5, "07:01:30"), ("TOOLONG", 5.0, 50.0, "07:01:35")]
    (tmp_path / "ticks.json").write_text("".join(json.dumps({"TICKER_SYMBOL": t, "SECTOR": "TECHNOLOGY", "CHANGE": c, "PRICE": p,
                                                             "_arrival_time": f"2026-12-02T{at}Z"}) + "\n" for t, c, p, at in ticks))
    assert CliRunner().invoke(cli, ["analytics", "check", "throttled-alerts", "--no-spark"]).exit_code == 0
    result = CliRunner().invoke(cli, ["analytics", "run", "throttled-alerts", "--input", "ticks.json", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["outputs"]["TRIGGER_COUNT_STREAM"]
    # over 1 % of change: all but AMZN at 07:00:25 and AAPL at 07:01:30; a row's minute holds itself and the rows before it;
    # TOOLONG is cut to VARCHAR(4), as KDA truncates
    assert [(r["TICKER_SYMBOL"], r["CHANGE"], r["TRIGGER_COUNT"], r["ROWTIME"][11:19]) for r in rows] == [
        ("AAPL", 2.0, 1, "07:00:00"), ("AAPL", 3.0, 2, "07:00:20"), ("AAPL", -2.5, 2, "07:01:10"), ("AMZN", 9.0, 1, "07:01:20"),
        ("TOOL", 5.0, 1, "07:01:35")]
    # the intermediate CHANGE_STREAM, which the second pump reads, is shown too: the same five changes over 1 %
    document = json.loads(result.stdout)
    assert [r["TICKER_SYMBOL"] for r in document["intermediate"]["CHANGE_STREAM"]] == ["AAPL", "AAPL", "AAPL", "AMZN", "TOOL"]
    assert (document["records"], document["refused"]) == (7, 0)
    lines = CliRunner().invoke(cli, ["analytics", "run", "throttled-alerts", "--input", "ticks.json"]).stdout.splitlines()
    assert [(json.loads(line)["stream"], json.loads(line).get("intermediate", False)) for line in lines] == \
        [("CHANGE_STREAM", True)] * 5 + [("TRIGGER_COUNT_STREAM", False)] * 5


def test_ctrl_c_exits_130_saying_it_was_interrupted(monkeypatch, capsys):
    """An interrupt is an interrupt: not click's "Aborted!" with status 1, nor a failure."""
    import sys

    import cauce.statemachines.definition
    from cauce.cli import main

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(cauce.statemachines.definition, "definitions_dir", interrupted)
    monkeypatch.setattr(sys, "argv", ["cauce", "sfn", "list"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 130
    err = capsys.readouterr().err
    assert "cauce: interrupted (Ctrl-C)" in err and "Aborted" not in err and "Traceback" not in err


def test_the_entry_point_keeps_click_exit_codes(monkeypatch, capsys):
    import sys

    from cauce.cli import main

    monkeypatch.setattr(sys, "argv", ["cauce", "no-such-command"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2 and "No such command 'no-such-command'" in capsys.readouterr().err
    monkeypatch.setattr(sys, "argv", ["cauce", "--version"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 0


def test_an_unexpected_error_is_one_line_and_its_traceback_only_under_debug(monkeypatch, capsys):
    import sys

    import cauce.statemachines.definition
    from cauce.cli import main

    def broken():
        raise RuntimeError("the definitions folder vanished")

    monkeypatch.setattr(cauce.statemachines.definition, "definitions_dir", broken)
    monkeypatch.setenv("CAUCE_DEBUG", "")  # --debug sets it: restored after the test
    monkeypatch.setattr(sys, "argv", ["cauce", "sfn", "list"])
    with pytest.raises(SystemExit) as exited:
        main()
    err = capsys.readouterr().err
    assert exited.value.code == 1 and "cauce: unexpected error: RuntimeError: the definitions folder vanished" in err
    assert "Traceback" not in err
    monkeypatch.setattr(sys, "argv", ["cauce", "--debug", "sfn", "list"])
    with pytest.raises(RuntimeError, match="vanished"):  # the traceback is the user's to see
        main()
