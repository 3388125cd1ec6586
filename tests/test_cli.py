"""The `cauce` command line, in process (it shares the test run's SparkSession)."""

import json

from click.testing import CliRunner

from cauce.cli import cli
from etl.testing import put_json_lines


def invoke(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_help_everywhere():
    for command in ([], ["job"], ["job", "run"], ["job", "list"], ["shell"], ["demo"]):
        result = invoke(*command, "--help")
        assert result.exit_code == 0 and "Usage:" in result.output


def test_job_list_json_includes_the_seed_job():
    result = invoke("job", "list", "--json")
    jobs = {j["name"]: j for j in json.loads(result.output)["jobs"]}
    assert jobs["etl-proceso-principal"]["path"].endswith("etl/jobs/etl_main.py")


def test_job_run_by_name_with_glue_arguments(spark, cauce_lake):
    put_json_lines(cauce_lake, "s3://b/raw/x.json", [
        {"event_id": "e1", "event_type": "view", "event_time": "2026-11-01T00:00:00Z"}, "oops"])
    result = invoke("job", "run", "etl-proceso-principal", "--lake", str(cauce_lake.root), "--json",
                    "--source_path", "s3://b/raw/", "--target_path", "s3://b/out/", "--quarantine_path", "s3://b/q/")
    document = json.loads(result.output)
    assert result.exit_code == 0, document["error"]
    assert (document["status"], document["rows_written"], document["rows_quarantined"]) == ("SUCCEEDED", {"curated_events": 1}, 1)
    # the stack's default_arguments applied: bookmark enabled, so a rerun reads nothing new
    again = json.loads(invoke("job", "run", "etl-proceso-principal", "--lake", str(cauce_lake.root), "--json",
                              "--source_path", "s3://b/raw/", "--target_path", "s3://b/out/", "--quarantine_path", "s3://b/q/").output)
    assert again["rows_read"] == {"raw_events": 0}


def test_job_run_by_path_reports_argument_problems_and_exits_2(tmp_path, cauce_lake):
    script = tmp_path / "my_job.py"
    script.write_text(
        "from dataclasses import dataclass\n"
        "from etl import GlueJob\n"
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
    assert result.exit_code == 1 and "no job named 'no-such-job' (known: etl-proceso-principal" in result.output


def test_demo_reconciles(tmp_path, spark):
    result = invoke("demo", "--events", "300", "--malformed-share", "0.1", "--lake", str(tmp_path / "demo"), "--json")
    report = json.loads(result.output)
    assert result.exit_code == 0 and report["reconciled"], report["checks"]
    assert report["totals"]["malformed"] == report["quarantined_rows"] > 0
