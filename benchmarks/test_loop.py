"""The test loop: wall time of one ETL unit test from a cold `pytest` start, split into where it
goes (interpreter, pytest and its plugins, collecting the test module, the Spark session, the first
Spark job, the test itself, the end of the run), and the per-test time once the session is warm.
Goals: cold <= 5 s; warm median per test <= 0.2 s. Phases come from a small pytest plugin
(benchmarks/_loop_timer.py); repeats and figures from benchmarks/_measure.py.

    python benchmarks/test_loop.py [--repeats 5] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _measure as measure

ROOT = Path(__file__).resolve().parent.parent
ONE_TEST = "tests/etl/test_example_job.py::test_output_rows_match_expected_frame"
WARM_TESTS = "tests/etl/test_lifecycle.py"


def pytest_run(*targets: str) -> tuple[float, dict]:
    """(wall seconds, the plugin's phases) of one fresh pytest process over `targets`."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "benchmarks"), os.environ.get("PYTHONPATH")])),
                       "CAUCE_LOOP_OUT": out.name, "CAUCE_LOOP_STARTED": repr(time.time())}
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "_loop_timer", *targets], cwd=ROOT,
                       check=True, capture_output=True, env=environment)
        wall = time.perf_counter() - started
        return wall, json.loads(Path(out.name).read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    measure.options(parser, repeats=5)
    args = parser.parse_args()
    warm_tests = WARM_TESTS
    if args.quick:
        args.repeats, warm_tests = 1, ONE_TEST.split("::")[0]
    results = measure.Results("test_loop")

    interpreter = statistics.median(measure.repeat(lambda _: subprocess.run([sys.executable, "-c", "pass"], check=True), 9))
    cold_runs = []
    measure.repeat(lambda _: cold_runs.append(pytest_run(ONE_TEST)), args.repeats, warmup=1)
    cold_runs = cold_runs[1:]  # the warm-up fills the page cache
    warm_wall, warm = pytest_run(warm_tests, ONE_TEST)  # the one test again, last, in a warm session
    warm_calls = [t["call"] for t in warm["tests"] if "call" in t]
    one_test_warm = [t["call"] for t in warm["tests"] if t["test"] == ONE_TEST][-1]  # its last run: the session warm

    def phases(wall: float, run: dict) -> dict[str, float]:
        marks, test = run["marks"], run["tests"][0]
        return {
            "interpreter start": interpreter,
            "pytest, plugins, conftest": marks["configured"] - interpreter,
            "collection (test module imports)": marks["collected"] - marks["configured"],
            "Spark session (fixture setup)": test["setup"],
            "first Spark job": test["call"] - one_test_warm,
            "the test itself (as when warm)": one_test_warm,
            "teardown and exit": wall - marks["collected"] - test["setup"] - test["call"],
        }

    split = [phases(wall, run) for wall, run in cold_runs]
    walls = [wall for wall, _ in cold_runs]
    print(f"cold: one ETL unit test ({ONE_TEST}) from a fresh pytest process, {args.repeats} runs after a warm-up:")
    for phase in split[0]:
        values = measure.Spread.of(s[phase] for s in split)
        print(f"  {phase:<36} median {values.median:6.2f} s  [{values.low:.2f}-{values.high:.2f}]")
    print(f"  {'total (wall)':<36} median {statistics.median(walls):6.2f} s  [{min(walls):.2f}-{max(walls):.2f}]")
    ordered = sorted(warm_calls)
    print(f"warm: {len(warm_calls)} tests ({warm_tests} and the one test) in {warm_wall:.1f} s wall; per test (call) median "
          f"{statistics.median(ordered):.2f} s, fastest {ordered[0]:.2f} s, slowest {ordered[-1]:.2f} s")
    results.add("test loop: one ETL test, cold pytest (s)", "1 test", "-", measure.Spread.of(walls), measure.Goal("<=", 5, " s"))
    results.add("test loop: per test, warm session (s)", f"{len(warm_calls)} tests", "-", measure.Spread.of(warm_calls),
                measure.Goal("<=", 0.2, " s"))
    results.write(args.results)


if __name__ == "__main__":
    main()
