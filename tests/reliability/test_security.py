"""Security checks of the Python code: bandit finds nothing of medium or high severity, and secrets
never reach logs or error messages (a JDBC password resolved from Secrets Manager, values of keys
named like password, secret or token). The module's posture (IAM, encryption, checkov) is tested
in tests/infra."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from cauce.etl import GlueJob, JdbcSource, S3Sink

pytestmark = pytest.mark.reliability

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["etl", "handlers", "analytics", "statemachines", "cauce"]


def test_bandit_finds_nothing_of_medium_or_high_severity():
    completed = subprocess.run([sys.executable, "-m", "bandit", "-q", "-r", *PACKAGES, "-f", "json"], cwd=ROOT, capture_output=True,
                               text=True, timeout=300)
    report = json.loads(completed.stdout)
    serious = [(r["filename"], r["line_number"], r["test_id"], r["issue_text"]) for r in report["results"]
               if r["issue_severity"] in ("MEDIUM", "HIGH")]
    assert serious == []
    assert report["metrics"]["_totals"]["loc"] > 5000  # it really read the code


@dataclass(frozen=True)
class Args:
    target_path: str = "s3://lake/orders/"


class LeakyExport(GlueJob):
    """A job whose author logs more than they should: the connection's options and a token."""

    name = "leaky-export"
    Arguments = Args

    def extract(self):
        from cauce.etl.connections import resolve_jdbc_connection

        options = resolve_jdbc_connection(self.runtime.catalog.get_connection("db")).spark_options("public.orders")
        self.logger.info("connecting with %s", options)  # the password is in there
        self.logger.info("calling the partner API", extra={"fields": {"api_token": "tok-1234567", "user": options["user"]}})
        return self.read(JdbcSource("db", "public.orders"), ctx="orders")

    def load(self, orders):
        self.write(orders, S3Sink(self.args.target_path), ctx="orders_out")


@pytest.mark.postgres
def test_a_jdbc_password_from_secrets_manager_never_reaches_the_job_logs(postgres, aws, run_glue_job, local_runtime):
    password = "Sup3r-S3cret-Pa55"
    with postgres.connect() as db:
        db.execute("DROP TABLE IF EXISTS orders")
        db.execute("CREATE TABLE orders (id integer primary key)")
        db.execute("INSERT INTO orders VALUES (1), (2)")
    boto3.client("secretsmanager").create_secret(Name="db-creds", SecretString=json.dumps({"password": password}))
    local_runtime.catalog.put_connection({"name": "db", "connection_type": "JDBC", "connection_properties": {
        "JDBC_CONNECTION_URL": postgres.jdbc_url, "USERNAME": "cauce", "PASSWORD": "{{resolve:secretsmanager:db-creds:SecretString:password}}"}})
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    from cauce.etl.metrics import JsonFormatter, job_logger

    handler.setFormatter(JsonFormatter())
    job_logger(LeakyExport.name).addHandler(handler)
    try:
        result = run_glue_job(LeakyExport)
    finally:
        job_logger(LeakyExport.name).removeHandler(handler)

    assert result.succeeded, result.error
    logs = captured.getvalue()
    assert "connecting with" in logs and "calling the partner API" in logs  # the lines were logged ...
    assert password not in logs and "tok-1234567" not in logs  # ... without the secrets
    assert '"api_token": "*****"' in logs and '"user": "cauce"' in logs


def test_an_error_message_quoting_a_registered_secret_is_masked(run_glue_job):
    from cauce.core.redaction import register_secret

    register_secret("hunter2-is-my-password")

    class FailsLoudly(GlueJob):
        name = "fails-loudly"

        def run(self):
            raise RuntimeError("login failed for admin:hunter2-is-my-password@db")

    result = run_glue_job(FailsLoudly)

    assert result.error == "RuntimeError: login failed for admin:*****@db"


def test_handler_logs_mask_sensitive_keys_and_registered_secrets(service, logs, lambda_context):
    from cauce.core.redaction import register_secret
    from cauce.handlers import firehose_transform
    from cauce.handlers.testing import firehose_event

    register_secret("db-pass-7f3a9")

    def transform(event):
        logger.info("enriching with db-pass-7f3a9", extra={"customer": event["customer"], "session_token": event["token"],
                                                           "config": {"client_secret": "cs-998877", "region": "eu-west-1"}})
        return event

    handler = firehose_transform(transform, service=service, log_stream=logs)
    logger = handler.telemetry.logger
    handler(firehose_event([{"customer": "ana", "token": "tk-55555"}]), lambda_context)

    line = next(r for r in logs.records() if r["message"].startswith("enriching"))
    assert line["message"] == "enriching with *****"
    assert (line["session_token"], line["config"], line["customer"]) == ("*****", {"client_secret": "*****", "region": "eu-west-1"}, "ana")
    assert "tk-55555" not in logs.getvalue() and "cs-998877" not in logs.getvalue()
