"""`cauce doctor`: local checks on this machine, and the deployed stack read through moto."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from cauce.cli import cli
from cauce.ops.doctor import aws_checks, glue_run_topic, local_checks
from cauce.core.stack import load_stack
from tests.stacks import stack_with

EXAMPLE_STACK = Path(__file__).resolve().parents[1] / "infra" / "examples" / "complete" / "stack.tfvars.json"


def test_this_machine_is_ready_for_local_runs(tmp_path):
    findings = {f.check: f for f in local_checks(EXAMPLE_STACK, tmp_path / "lake")}
    assert {"python", "java", "pyspark", "loopback port", "free disk", "stack definition", "terraform"} <= set(findings)
    assert findings["java"].status == "ok" and findings["pyspark"].status == "ok" and findings["stack definition"].status == "ok"


def test_outside_a_project_the_doctor_says_there_is_no_stack(tmp_path):
    finding = next(f for f in local_checks(None, tmp_path / "lake") if f.check == "stack definition")
    assert finding.status == "warn" and "cauce init" in finding.detail


def test_the_doctor_warns_of_what_terraform_would_drop(tmp_path):
    values = copy.deepcopy(load_stack(None).document)
    values["kinesis_config"]["stream_config"]["data-stream"]["shard_cuont"] = 4
    path = tmp_path / "stack.json"
    path.write_text(json.dumps(values))
    finding = next(f for f in local_checks(path, tmp_path / "lake") if f.check == "stack definition")
    assert finding.status == "warn"
    assert 'kinesis_config.stream_config["data-stream"].shard_cuont: not an attribute of the module\'s type' in finding.detail


def test_an_invalid_stack_fails_the_doctor_with_the_modules_message(tmp_path):
    stack = copy.deepcopy(load_stack(None).document)
    stack["kinesis_config"]["stream_config"]["data-stream"]["encryption_type"] = "NONE"
    path = tmp_path / "stack.json"
    path.write_text(json.dumps(stack))
    result = CliRunner().invoke(cli, ["doctor", "--stack", str(path), "--json"])
    assert result.exit_code == 1
    [finding] = [f for f in json.loads(result.stdout)["findings"] if f["check"] == "stack definition"]
    assert finding["status"] == "fail" and "encryption_type: must be KMS" in finding["detail"]


def alarm(client, name, description):
    client.put_metric_alarm(AlarmName=name, AlarmDescription=description, MetricName="M", Namespace="AWS/Kinesis", Statistic="Sum",
                            Period=300, EvaluationPeriods=1, Threshold=0, ComparisonOperator="GreaterThanThreshold")
    client.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="Threshold Crossed: 1 datapoint [12.0] was greater than 0")


def test_alarms_in_alarm_state_point_at_their_troubleshooting_section(aws):
    cloudwatch = boto3.client("cloudwatch")
    alarm(cloudwatch, "mi-proyecto-dev-kinesis-data-stream-write-throttled", "writes to data-ingestion-stream are throttled: add shards")
    alarm(cloudwatch, "mi-proyecto-dev-firehose-s3-delivery-freshness", "records wait in s3-data-delivery")
    alarm(cloudwatch, "other-project-lambda-x-errors", "not this stack")
    boto3.client("glue").create_job(Name="etl-proceso-principal", Role="arn:aws:iam::123456789012:role/r",
                                    Command={"Name": "glueetl", "ScriptLocation": "s3://b/s.py"})

    findings = aws_checks(load_stack(None), boto3.Session())

    by_check = {f.check: f for f in findings}
    throttled = by_check["alarm mi-proyecto-dev-kinesis-data-stream-write-throttled"]
    assert throttled.status == "fail" and throttled.guide == "docs/operations.md#streaming-throttling"
    assert "add shards" in throttled.detail and "Threshold Crossed" in throttled.detail
    assert by_check["alarm mi-proyecto-dev-firehose-s3-delivery-freshness"].guide == "docs/operations.md#streaming-processing-delays"
    assert not any("other-project" in f.check for f in findings)


def test_a_quiet_deployed_stack_is_reported_healthy(aws):
    findings = aws_checks(stack_with(project_name="p-project", environment="e"), boto3.Session())
    assert [(f.check, f.status) for f in findings] == [("deployed stack", "ok")]


def test_an_undeployed_job_is_a_warning(aws):
    findings = aws_checks(load_stack(None), boto3.Session())
    assert ("glue job etl-proceso-principal", "warn") in [(f.check, f.status) for f in findings]


@pytest.mark.parametrize("state, message, topic", [
    ("FAILED", "Container killed by YARN for exceeding memory limits", "ETL: memory issues"),
    ("FAILED", "An error occurred while calling o95.load. Communications link failure (JDBC)", "ETL: connection problems"),
    ("TIMEOUT", "", "ETL: timeout errors"),
    ("FAILED", "AnalysisException: Path does not exist", "ETL: job failures"),
])
def test_failed_glue_runs_map_to_the_seeds_problems(state, message, topic):
    assert glue_run_topic(state, message) == topic


def test_every_section_the_doctor_points_at_exists_in_the_guide():
    from pathlib import Path

    from cauce.ops.doctor import ALARM_TOPICS, GLUE_ERROR_TOPICS, _anchor

    guide = (Path(__file__).resolve().parents[1] / "docs" / "operations.md").read_text()
    headings = {_anchor(line.lstrip("# ").strip()) for line in guide.splitlines() if line.startswith("### ")}
    topics = {t for _, t in ALARM_TOPICS} | {t for _, t in GLUE_ERROR_TOPICS} | {"ETL: job failures"}
    assert {_anchor(t) for t in topics} <= headings
