"""pytest plugin for benchmarks/test_loop.py (loaded with `-p _loop_timer`): when each phase of one
pytest run ends, in seconds since the benchmark started the process, and each test's setup and
call durations; written as JSON to $CAUCE_LOOP_OUT when the run ends."""

from __future__ import annotations

import json
import os
import time

STARTED = float(os.environ.get("CAUCE_LOOP_STARTED", time.time()))  # time.time() in the parent, just before it started us
marks: dict[str, float] = {}
tests: list[dict] = []


def pytest_configure(config) -> None:  # pytest, its plugins (cauce's) and the initial conftest files are loaded
    marks["configured"] = time.time() - STARTED


def pytest_collection_finish(session) -> None:  # the test modules are imported (pyspark, cauce.etl, the job)
    marks["collected"] = time.time() - STARTED


def pytest_runtest_logreport(report) -> None:
    if report.when == "setup":
        tests.append({"test": report.nodeid, "setup": report.duration})
    elif report.when == "call" and tests:
        tests[-1]["call"] = report.duration


def pytest_unconfigure(config) -> None:
    marks["finished"] = time.time() - STARTED
    target = os.environ.get("CAUCE_LOOP_OUT")
    if target:
        with open(target, "w") as out:
            json.dump({"marks": marks, "tests": tests}, out)
