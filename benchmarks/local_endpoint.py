"""`cauce up` as an endpoint: start-up, the first answered request, idle memory, and the plain boto3
scenario of issue 18 (tests/localstack/clients/plain_boto3_scenario.py: stream, zip Lambda, API
Firehose with 2,000 records, a state machine, StartJobRun, StartCrawler) with its wall time and the
server's peak memory (Python, and Spark's JVM, which starts only with the job). Figures, not ratios:
there is no like-for-like baseline for a whole local AWS endpoint on this machine.

    python benchmarks/local_endpoint.py [--repeats 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "tests" / "localstack" / "clients" / "plain_boto3_scenario.py"


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def jvm_peak_mb(parent: int) -> float:
    """The peak RSS of the Spark JVM the server started (its child), 0 if none."""
    peak = 0.0
    for process in Path("/proc").glob("[0-9]*"):
        try:
            status = (process / "status").read_text()
            if f"PPid:\t{parent}\n" in status and b"java" in (process / "cmdline").read_bytes():
                peak = max(peak, rss_mb(int(process.name), "VmHWM"))
        except OSError:
            continue
    return peak


def one_run() -> dict:
    import boto3

    state = Path(tempfile.mkdtemp()) / "stack"
    environment = {**os.environ, "CAUCE_TIME_SCALE": "0.1"}
    started = time.perf_counter()
    up = subprocess.run([sys.executable, "-m", "cauce", "up", "--state", str(state), "--json"], capture_output=True, text=True,
                        env=environment, cwd=ROOT, check=True)
    up_seconds = time.perf_counter() - started
    record = json.loads(up.stdout)
    try:
        kinesis = boto3.client("kinesis", endpoint_url=record["endpoint"], region_name="us-east-1",
                               aws_access_key_id="testing", aws_secret_access_key="testing")
        answered = time.perf_counter()
        kinesis.list_streams()
        first_request = time.perf_counter() - answered
        time.sleep(2)  # idle: the server's loop polls once a second
        idle = rss_mb(record["pid"])
        scenario_started = time.perf_counter()
        ran = subprocess.run([sys.executable, "-I", str(SCENARIO), record["endpoint"]], capture_output=True, text=True, check=True)
        seen = json.loads(ran.stdout)
        return {"up_seconds": up_seconds, "first_request_seconds": first_request, "idle_rss_mb": idle,
                "scenario_seconds": time.perf_counter() - scenario_started, "peak_rss_mb": rss_mb(record["pid"], "VmHWM"),
                "jvm_peak_mb": jvm_peak_mb(record["pid"]), "reconciled": (seen["delivered_lines"], seen["failed_lines"]) == (1800, 200)
                and seen["execution_status"] == "SUCCEEDED" and seen["job_state"] == "SUCCEEDED"}
    finally:
        subprocess.run([sys.executable, "-m", "cauce", "down", "--state", str(state), "--purge"], capture_output=True, cwd=ROOT)


def main() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    import _measure as measure

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    measure.options(parser, repeats=3)
    args = parser.parse_args()
    runs = [one_run() for _ in range(1 if args.quick else args.repeats)]
    results = measure.Results("local_endpoint")
    scenario = "2,000 Firehose records (10% not JSON), a state machine, a job run, a crawl"
    print(f"cauce up endpoint, {len(runs)} runs; scenario: {scenario}")
    rows = (("cauce up: until it returns", "up_seconds", " s", None), ("first answered request", "first_request_seconds", "s",
            measure.Goal("<=", 0.5, " s")), ("server memory, idle", "idle_rss_mb", " MB", measure.Goal("<=", 100, " MB")),
            ("the plain boto3 scenario, wall time", "scenario_seconds", " s", None), ("server peak memory", "peak_rss_mb", " MB", None),
            ("Spark JVM peak memory", "jvm_peak_mb", " MB", None))
    for benchmark, name, unit, goal in rows:
        results.add(benchmark, scenario if "scenario" in name else "the example stack", "-", measure.Spread.of(run[name] for run in runs),
                    goal, unit=unit)
    print("every run reconciled" if all(run["reconciled"] for run in runs) else "NOT every run reconciled")
    results.write(args.results)


if __name__ == "__main__":
    main()
