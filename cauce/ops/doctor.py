"""`cauce doctor`: is this machine ready to run the stack locally, and, given AWS access, what is
the deployed stack's likely problem?

Local checks: Python, Java (Spark needs 17), pyspark, a loopback port, free disk for the lake,
the stack definition (with the Terraform module's rules), and the Terraform CLI (to deploy).
AWS checks (`--aws`): the stack's CloudWatch alarms in ALARM state and its Glue jobs' latest
failed runs, each mapped to the section of docs/operations.md that explains it.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cauce.core.stack import Stack

GUIDE = "docs/operations.md"
# alarm name suffix (from infra/monitoring.tf) -> troubleshooting section
ALARM_TOPICS = [
    (r"-write-throttled$", "Streaming: throttling"),
    (r"-iterator-age$", "Streaming: processing delays"),
    (r"-freshness$", "Streaming: processing delays"),
    (r"-delivery$", "Streaming: backup failures"),
    (r"-errors$", "Performance: resource constraints"),
    (r"-throttles$", "Performance: concurrency issues"),
    (r"^.*-states-.*-failed$", "ETL: job failures"),
]
# words in a failed Glue run's ErrorMessage -> troubleshooting section
GLUE_ERROR_TOPICS = [
    (r"OutOfMemory|Container killed|exceeding memory limits|GC overhead", "ETL: memory issues"),
    (r"[Tt]imeout|TIMEOUT|timed out", "ETL: timeout errors"),
    (r"Connection|JDBC|Communications link|Could not connect|SSL", "ETL: connection problems"),
]


@dataclass
class Finding:
    check: str
    status: str  # ok, warn, fail
    detail: str
    guide: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def local_checks(stack_file: Path | None, lake: Path) -> list[Finding]:
    findings = [Finding("python", "ok" if sys.version_info >= (3, 11) else "fail", f"Python {sys.version.split()[0]} (3.11+ needed)")]
    findings.append(_java())
    spec = importlib.util.find_spec("pyspark")
    if spec is None:
        findings.append(Finding("pyspark", "fail", "pyspark is not installed: pip install 'cauce[local]' (pyspark 3.5 as on Glue 5)"))
    else:
        from importlib.metadata import version

        spark_version = version("pyspark")
        findings.append(Finding("pyspark", "ok" if spark_version.startswith("3.5") else "warn", f"pyspark {spark_version} (Glue 5 runs 3.5)"))
    try:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
        findings.append(Finding("loopback port", "ok", "can bind 127.0.0.1 (Spark's driver and moto's server use it)"))
    except OSError as error:
        findings.append(Finding("loopback port", "fail", f"cannot bind 127.0.0.1: {error}"))
    where = lake if lake.exists() else next((p for p in lake.parents if p.exists()), Path("."))
    free_gib = shutil.disk_usage(where).free / 1024**3
    findings.append(Finding("free disk", "ok" if free_gib >= 2 else "warn", f"{free_gib:,.1f} GiB free at {where} (the lake and Spark's scratch need a few GiB)"))
    from cauce.core.stack import StackError, load_stack

    try:
        if stack_file is None:
            findings.append(Finding("stack definition", "warn", "no Cauce project here and no --stack: run `cauce init`"))
        else:
            stack = load_stack(stack_file)
            if stack.warnings:  # usually typos: Terraform drops them without a word (or with a warning)
                findings.append(Finding("stack definition", "warn", f"{stack_file}: valid for the Terraform module, which ignores: "
                                        + "; ".join(stack.warnings)))
            else:
                findings.append(Finding("stack definition", "ok", f"{stack_file}: valid for the Terraform module"))
    except StackError as error:
        findings.append(Finding("stack definition", "fail", str(error)))
    terraform = shutil.which("terraform")
    findings.append(Finding("terraform", "ok" if terraform else "warn", terraform or "not installed: needed only to deploy infra/"))
    return findings


def _java() -> Finding:
    java = shutil.which("java")
    if java is None:
        return Finding("java", "fail", "java not found: Spark 3.5 needs Java 17 (apt-get install openjdk-17-jre-headless)")
    completed = subprocess.run([java, "-version"], capture_output=True, text=True)
    match = re.search(r'version "(\d+)', completed.stderr + completed.stdout)
    major = int(match.group(1)) if match else 0
    return Finding("java", "ok" if major == 17 else "warn", f"Java {major or '?'} ({java}); Spark 3.5 on Glue 5 uses 17")


def aws_checks(stack: "Stack", session: Any) -> list[Finding]:
    """The deployed stack's alarms in ALARM state and its Glue jobs' latest failed runs."""
    prefix = f"{stack.project_name}-{stack.environment}-"
    cloudwatch = session.client("cloudwatch")
    findings = []
    alarms = [a for page in cloudwatch.get_paginator("describe_alarms").paginate(AlarmNamePrefix=prefix, StateValue="ALARM")
              for a in page["MetricAlarms"]]
    for alarm in alarms:
        topic = next((t for pattern, t in ALARM_TOPICS if re.search(pattern, alarm["AlarmName"])), "Monitoring")
        findings.append(Finding(f"alarm {alarm['AlarmName']}", "fail", f"{alarm.get('AlarmDescription') or alarm['MetricName']}: "
                                f"{alarm.get('StateReason', '')}", f"{GUIDE}#{_anchor(topic)}"))
    glue = session.client("glue")
    for job in stack.glue_config.job_config.values():
        try:
            runs = glue.get_job_runs(JobName=job.name, MaxResults=5)["JobRuns"]
        except glue.exceptions.EntityNotFoundException:
            findings.append(Finding(f"glue job {job.name}", "warn", "not deployed in this account and region"))
            continue
        failed = [r for r in runs if r.get("JobRunState") in ("FAILED", "TIMEOUT", "ERROR")]
        if failed:
            message = failed[0].get("ErrorMessage", "") or failed[0]["JobRunState"]
            topic = glue_run_topic(failed[0]["JobRunState"], message)
            findings.append(Finding(f"glue job {job.name}", "fail", f"run {failed[0]['Id']} {failed[0]['JobRunState']}: {message}",
                                    f"{GUIDE}#{_anchor(topic)}"))
    if not findings:
        findings.append(Finding("deployed stack", "ok", f"no alarm in ALARM state for {prefix}*, no failed Glue run among the latest"))
    return findings


def glue_run_topic(state: str, message: str) -> str:
    """The troubleshooting section a failed Glue run points at."""
    if state == "TIMEOUT":
        return "ETL: timeout errors"
    return next((topic for pattern, topic in GLUE_ERROR_TOPICS if re.search(pattern, message)), "ETL: job failures")


def _anchor(topic: str) -> str:
    return re.sub(r"[^a-z0-9 -]", "", topic.lower()).replace(" ", "-")
