"""The test loop: wall time of one ETL unit test from a cold `pytest` start, and the per-test
time once the session is warm (from pytest's own --durations over the lifecycle tests).

    python benchmarks/test_loop.py
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ONE_TEST = "tests/etl/test_example_job.py::test_output_rows_match_expected_frame"


def main() -> None:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", ONE_TEST], cwd=ROOT, check=True,
                   capture_output=True)
    cold = time.perf_counter() - started
    print(f"cold: one ETL unit test ({ONE_TEST}) from a fresh pytest process: {cold:.1f}s wall")

    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=0",
                          "--durations-min=0", "tests/etl/test_lifecycle.py"], cwd=ROOT, check=True, capture_output=True, text=True)
    whole = time.perf_counter() - started
    calls = [float(m.group(1)) for m in re.finditer(r"^([\d.]+)s call ", run.stdout, re.M)]
    setups = [float(m.group(1)) for m in re.finditer(r"^([\d.]+)s setup ", run.stdout, re.M)]
    ordered = sorted(calls)
    print(f"warm: {len(calls)} lifecycle tests in {whole:.1f}s wall; per test (call) median {statistics.median(ordered):.2f}s, "
          f"fastest {ordered[0]:.2f}s, slowest {ordered[-1]:.2f}s; session start (first setup) {max(setups):.1f}s")
    print(f"ratio cold single test / warm median test: {cold / statistics.median(ordered):.1f}x")


if __name__ == "__main__":
    main()
