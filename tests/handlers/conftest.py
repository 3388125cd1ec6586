"""Helpers for the handler tests: each handler gets its own service name and log buffer, because
Powertools binds one logging handler per service name for the life of the process."""

from __future__ import annotations

import io
import itertools
import json

import pytest

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
