"""One table of every benchmark's rows, as `make bench` ends: benchmark, input, baseline, the
figure (median and range over the interleaved repeats), the goal, and whether it is met.

    python benchmarks/summary.py [--results .cauce/bench] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _measure as measure  # noqa: E402

COLUMNS = ("benchmark", "input", "baseline", "figure (median [range])", "goal", "met")


def table(results: list[dict]) -> list[tuple[str, ...]]:
    lines = []
    for script in results:
        for row in script["rows"]:
            digits = 0 if abs(row["median"]) >= 100 else 2
            figure = measure.Spread(row["median"], row["low"], row["high"], row["count"]).text(row["unit"], digits)
            met = "" if row["met"] is None else ("yes" if row["met"] else "NO")
            lines.append((row["benchmark"], row["input"], row["baseline"], f"{figure} n={row['count']}", row["goal"] or "-", met))
    return lines


def render(lines: list[tuple[str, ...]]) -> str:
    widths = [max(len(COLUMNS[i]), *(len(line[i]) for line in lines)) for i in range(len(COLUMNS))]

    def fmt(cells):
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths)) + " |"

    return "\n".join([fmt(COLUMNS), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(fmt, lines)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=measure.RESULTS_DIR)
    parser.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    args = parser.parse_args()
    results = measure.read_results(args.results)
    if args.json:
        print(json.dumps(results, indent=1))
        return
    lines = table(results)
    if not lines:
        raise SystemExit(f"no benchmark results in {args.results}: run `make bench` or a benchmark first")
    print(render(lines))
    loads = ", ".join(f"{script['script']} {script['load_average']}" for script in results)
    met = sum(line[-1] == "yes" for line in lines)
    goals = sum(line[-1] in ("yes", "NO") for line in lines)
    print(f"{met} of {goals} goals met. Load average (1, 5, 15 min) as each script ended: {loads}")


if __name__ == "__main__":
    main()
