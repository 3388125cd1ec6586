import json
import logging

import boto3

from cauce.etl.metrics import NAMESPACE, JsonFormatter, publish_cloudwatch


def test_counters_reach_cloudwatch(aws):
    client = boto3.client("cloudwatch")
    publish_cloudwatch(client, "etl-proceso-principal", {"rows_read": 10, "rows_quarantined": 2, "duration_seconds": 1.5})
    metrics = client.list_metrics(Namespace=NAMESPACE)["Metrics"]
    assert sorted(m["MetricName"] for m in metrics) == ["duration_seconds", "rows_quarantined", "rows_read"]
    assert metrics[0]["Dimensions"] == [{"Name": "JobName", "Value": "etl-proceso-principal"}]


def test_log_lines_are_one_json_document_with_the_fields():
    record = logging.LogRecord("cauce.etl.x", logging.INFO, __file__, 1, "job run finished", None, None)
    record.fields = {"rows_read": {"raw": 3}, "status": "SUCCEEDED"}
    document = json.loads(JsonFormatter().format(record))
    assert document["message"] == "job run finished" and document["rows_read"] == {"raw": 3}
    assert document["level"] == "INFO" and document["timestamp"].endswith("+00:00")
