"""Shared fixtures: a real PostgreSQL server for the JDBC tests, moto for AWS APIs, and for
handler tests a service name and log buffer of their own (Powertools binds one logging handler
per service name for the life of the process).

The `spark`, `cauce_lake`, `local_runtime` and `run_glue_job` fixtures come from Cauce's
own pytest plugin (cauce.pytest_plugin), exactly as users get them.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    database: str

    @property
    def jdbc_url(self) -> str:
        return f"jdbc:postgresql://{self.host}:{self.port}/{self.database}"

    def connect(self):
        import psycopg

        return psycopg.connect(host=self.host, port=self.port, user=self.user, dbname=self.database, autocommit=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _pg_binary(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))), None)
    if found is None:
        raise RuntimeError(f"PostgreSQL's {name} is not installed: run scripts/system-packages.sh")
    return str(found)


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server on 127.0.0.1 for this test run (initdb refuses root: run as `postgres`)."""
    folder = Path(tempfile.mkdtemp(prefix="cauce-pg-"))
    data = folder / "data"
    as_root = os.geteuid() == 0
    run_as = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        shutil.chown(folder, "postgres")
    port = _free_port()
    subprocess.run([*run_as, _pg_binary("initdb"), "-D", str(data), "-A", "trust", "-U", "cauce", "--no-sync"],
                   check=True, capture_output=True)
    subprocess.run(
        [*run_as, _pg_binary("pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w", "-t", "60",
         "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
        check=True, capture_output=True,
    )
    try:
        yield PostgresServer("127.0.0.1", port, "cauce", "postgres")
    finally:
        subprocess.run([*run_as, _pg_binary("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def aws(monkeypatch):
    """moto in process for every boto3 client the code under test creates."""
    from moto import mock_aws

    from cauce.core.aws import ENVIRONMENT

    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield

_services = itertools.count()


class LogBuffer(io.StringIO):
    def records(self) -> list[dict]:
        return [json.loads(line) for line in self.getvalue().splitlines() if line.strip()]

    def messages(self, message: str) -> list[dict]:
        return [r for r in self.records() if r.get("message") == message]


@pytest.fixture
def logs() -> LogBuffer:
    return LogBuffer()


@pytest.fixture
def service() -> str:
    return f"test-handler-{next(_services)}"


@pytest.fixture
def emf_documents():
    """Parse the CloudWatch EMF documents out of captured stdout."""

    def parse(captured_stdout: str) -> list[dict]:
        return [d for d in map(json.loads, filter(None, captured_stdout.splitlines())) if "_aws" in d]

    return parse
