"""The benchmarks' shared measurement (benchmarks/_measure.py) and summary table, on tiny input.
No time is asserted: figures depend on the machine; only the shape of what is measured and printed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import _measure as measure  # noqa: E402
import summary  # noqa: E402


def test_sides_are_warmed_up_then_interleaved_abba():
    calls = []
    sides = measure.compare({"a": lambda i: calls.append(("a", i)), "b": lambda i: calls.append(("b", i))}, repeats=3, warmup=1)
    assert calls == [("b", -1), ("a", -1), ("a", 0), ("b", 0), ("b", 1), ("a", 1), ("a", 2), ("b", 2)]
    assert [len(v) for v in sides.seconds.values()] == [3, 3]


def test_ratios_are_paired_repeat_by_repeat_and_a_side_may_time_itself():
    times = iter([9.0, 9.0, 1.0, 2.0, 4.0, 2.0, 3.0, 6.0])  # warm-up b, a; then a, b; b, a; a, b
    sides = measure.compare({"a": lambda _: next(times), "b": lambda _: next(times)}, repeats=3)
    assert sides.seconds == {"a": [1.0, 2.0, 3.0], "b": [2.0, 4.0, 6.0]}
    assert sides.ratio("a", over="b") == measure.Spread(0.5, 0.5, 0.5, 3)
    assert sides.speedup("a", over="b").median == 2.0


def test_goals_and_the_summary_table(tmp_path, capsys):
    results = measure.Results("tiny")
    results.add("faster", "3 runs", "the baseline", measure.Spread(1.6, 1.4, 1.9, 3), measure.Goal(">=", 1.5))
    results.add("slower", "3 runs", "the baseline", measure.Spread(1.2, 1.1, 1.3, 3), measure.Goal("<=", 1.05))
    results.add("figure only", "3 runs", "-", measure.Spread(2.0, 1.0, 3.0, 3))
    results.write(tmp_path)
    lines = summary.table(measure.read_results(tmp_path))
    assert [line[0] for line in lines] == ["faster", "slower", "figure only"]
    assert [line[-1] for line in lines] == ["yes", "NO", ""]
    assert lines[0][3] == "1.60x [1.40-1.90] n=3" and lines[0][4] == ">= 1.5x"
    table = summary.render(lines).splitlines()
    assert [cell.strip() for cell in table[0].split("|")[1:-1]] == list(summary.COLUMNS)
    assert len(table) == 2 + len(lines) and len({len(row) for row in table}) == 1  # aligned columns


@pytest.mark.parametrize("name", ["etl_overhead", "handlers_throughput", "statemachines_overhead", "analytics_throughput",
                                  "local_stack", "local_endpoint", "glue_scripts", "test_loop"])
def test_every_benchmark_in_make_bench_takes_the_shared_options(name):
    source = (BENCHMARKS / f"{name}.py").read_text()
    assert "measure.options(parser" in source and "results.write(" in source
    assert name in (BENCHMARKS.parent / "Makefile").read_text()
