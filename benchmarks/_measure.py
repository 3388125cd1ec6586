"""The one way every benchmark measures, prints and records a comparison.

    sides = measure.compare({"plain PySpark": plain, "Cauce": cauce}, repeats=9)
    ratio = sides.ratio("Cauce", over="plain PySpark")       # time ratio, paired run by run
    results.add("ETL overhead", "1,000,000 JSON lines", "plain PySpark", ratio, measure.Goal("<=", 1.05))

`compare` runs one warm-up of each side, then interleaves them ABBA (A B, B A, A B, ...), so
drift in the machine (other processes, the page cache, the JIT) hits both sides alike and the
side that runs second is not always the same one. Ratios are taken pair by pair (the repeat's
A against the same repeat's B), and reported as their median and range. A side is a callable
of the repeat index; it is timed by the wall clock around the call, unless it returns a float,
which is then taken as its own time (for sides that must leave setup outside the timing).

Each benchmark script writes its rows to .cauce/bench/<script>.json; benchmarks/summary.py
prints them all as one table. No test asserts a time: figures depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / ".cauce" / "bench"


@dataclass(frozen=True)
class Spread:
    """Median, fastest-to-slowest range and count of a list of figures."""

    median: float
    low: float
    high: float
    count: int

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread:
        values = list(values)
        return cls(statistics.median(values), min(values), max(values), len(values))

    def scaled(self, factor: float) -> Spread:
        return Spread(self.median * factor, self.low * factor, self.high * factor, self.count)

    def text(self, unit: str = "x", digits: int = 2) -> str:
        return f"{self.median:,.{digits}f}{unit} [{self.low:,.{digits}f}-{self.high:,.{digits}f}]"


@dataclass(frozen=True)
class Goal:
    """A bound on a row's median: `Goal(">=", 1.5)` or `Goal("<=", 5, "s")`."""

    operator: str
    bound: float
    unit: str = "x"

    def met(self, value: float) -> bool:
        return value >= self.bound if self.operator == ">=" else value <= self.bound

    def text(self) -> str:
        return f"{self.operator} {self.bound:,g}{self.unit}"


@dataclass
class Sides:
    """Seconds of each side, repeat by repeat (warm-up left out)."""

    seconds: dict[str, list[float]]

    def spread(self, name: str) -> Spread:
        return Spread.of(self.seconds[name])

    def ratio(self, name: str, over: str) -> Spread:
        """`name`'s time over `over`'s, pair by pair: below 1 means `name` is faster."""
        return Spread.of(a / b for a, b in zip(self.seconds[name], self.seconds[over]))

    def speedup(self, name: str, over: str) -> Spread:
        """How many times faster `name` runs than `over` (throughput ratio), pair by pair."""
        return Spread.of(b / a for a, b in zip(self.seconds[name], self.seconds[over]))

    def print(self, scale: float = 1.0, unit: str = "s", per: tuple[int, str] | None = None) -> None:
        """min / median / max of each side; with `per=(count, "records")`, the median's rate too."""
        width = max(len(name) for name in self.seconds)
        for name, values in self.seconds.items():
            s = self.spread(name).scaled(scale)
            rate = f"  {per[0] / statistics.median(values):>12,.0f} {per[1]}/s" if per else ""
            print(f"  {name:<{width}}  min {s.low:9.3f}{unit}  median {s.median:9.3f}{unit}  max {s.high:9.3f}{unit}{rate}")


def compare(sides: dict[str, Callable[[int], object]], repeats: int, warmup: int = 1) -> Sides:
    """Warm up each side, then run them interleaved ABBA for `repeats` rounds."""
    names = list(sides)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(-warmup, repeats):
        order = names if round_number % 2 == 0 else names[::-1]
        for name in order:
            started = time.perf_counter()
            returned = sides[name](round_number)
            elapsed = returned if isinstance(returned, float) else time.perf_counter() - started
            if round_number >= 0:
                seconds[name].append(elapsed)
    return Sides(seconds)


def repeat(run: Callable[[int], object], repeats: int, warmup: int = 1) -> list[float]:
    """One side alone (a figure with no baseline to interleave with): seconds of each repeat."""
    return compare({"only": run}, repeats, warmup).seconds["only"]


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def options(parser: argparse.ArgumentParser, repeats: int) -> None:
    """The options every benchmark takes: repeats, a quick run, where results go."""
    parser.add_argument("--repeats", type=int, default=repeats, help=f"interleaved repeats after the warm-up (default {repeats})")
    parser.add_argument("--quick", action="store_true", help="small input and few repeats: checks the benchmark runs, not the figures")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="folder for the JSON rows (default .cauce/bench)")


@dataclass
class Row:
    benchmark: str
    input: str
    baseline: str
    median: float
    low: float
    high: float
    count: int
    unit: str
    goal: str
    met: bool | None
    note: str = ""


@dataclass
class Results:
    """The rows one benchmark script adds to the summary table."""

    script: str
    rows: list[Row] = field(default_factory=list)

    def add(self, benchmark: str, input: str, baseline: str, figure: Spread, goal: Goal | None = None, unit: str = "x",
            note: str = "") -> Row:
        row = Row(benchmark, input, baseline, figure.median, figure.low, figure.high, figure.count, goal.unit if goal else unit,
                  goal.text() if goal else "", goal.met(figure.median) if goal else None, note)
        self.rows.append(row)
        verdict = "" if row.met is None else ("  goal met" if row.met else "  goal NOT met")
        print(f"=> {benchmark}: {figure.text(row.unit)} vs {baseline}" + (f" (goal {row.goal}){verdict}" if goal else ""))
        return row

    def write(self, folder: Path = RESULTS_DIR) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.script}.json"
        path.write_text(json.dumps({"script": self.script, "load_average": load_average(), "measured_at": time.time(),
                                    "rows": [asdict(row) for row in self.rows]}, indent=1))
        print(f"(load average {load_average()}; rows written to {path})")
        return path


def read_results(folder: Path = RESULTS_DIR) -> list[dict]:
    """Every script's results in `folder`, in name order."""
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))] if folder.is_dir() else []
