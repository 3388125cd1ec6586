"""Conformance and speed of Python JSONata evaluators on the JSONata reference test suite.

The suite is jsonata-js's `test/test-suite` (groups/*/case*.json and datasets/*.json), from a
copy of the public jsonata-js repository; it is not kept in this repository. Each case gives an
expression, its input (`data`, or a `dataset`, or none), `bindings`, and one expected outcome:
`result` (deep-equal), `undefinedResult`, or an error `code`. A case passes when the evaluator
gives that outcome; for an error, the code must match where the evaluator reports codes.

Evaluators (each installs a different package; jsonata-python and jsonata-rs both install the
module `jsonata`, so measure one per process, or point --path at a folder holding one):
  jsonata-rs      module `jsonata` with `Jsonata.set_output_convert_nulls` (Rust, PyO3)
  jsonata-python  module `jsonata` with `Jsonata.set_validate_input` (pure Python)
  jsonatapy       module `jsonatapy` (Rust, PyO3)

AWS Step Functions implements JSONata 2.0 without `$eval` and adds `$partition`, `$range`,
`$hash`, `$random`, `$uuid` and `$parse`; `--aws` leaves out the cases that use `$eval`, which
AWS refuses (the added functions are not in the reference suite; tests/statemachines covers them).

    python benchmarks/jsonata_conformance.py --suite DIR [--engine jsonata-rs] [--path FOLDER] [--aws]

DIR is the repository's root or its test/test-suite folder. Prints the pass rate, the failures
per group (with --verbose, each failing case), and the time per evaluation of a compiled
expression typical of a Step Functions field (`$states.input.order.total * 1.21`).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script, or imported by tests/statemachines/test_jsonata.py
import _measure as measure  # noqa: E402

UNDEFINED = object()  # the expected outcome of an `undefinedResult` case


def suite_folder(root: Path) -> Path | None:
    for candidate in (root, root / "test" / "test-suite"):
        if (candidate / "groups").is_dir() and (candidate / "datasets").is_dir():
            return candidate
    return None


def load_cases(folder: Path) -> list[dict[str, Any]]:
    datasets = {p.stem: json.loads(p.read_text()) for p in (folder / "datasets").glob("*.json")}
    cases = []
    for group in sorted(p for p in (folder / "groups").iterdir() if p.is_dir()):
        for path in sorted(group.glob("*.json")):
            spec = json.loads(path.read_text())
            for index, case in enumerate(spec if isinstance(spec, list) else [spec]):
                if "expr-file" in case:
                    case["expr"] = (group / case["expr-file"]).read_text()
                if "data" in case:
                    data = case["data"]
                elif case.get("dataset") is None:
                    data = UNDEFINED
                else:
                    data = datasets[case["dataset"]]
                cases.append({**case, "group": group.name, "name": f"{group.name}/{path.stem}" + (f"[{index}]" if isinstance(spec, list) else ""),
                              "input": data})
    return cases


class Engine:
    """One evaluator behind one interface: compile, evaluate (UNDEFINED for undefined), error code."""

    name = ""

    def compile(self, expression: str) -> Any: ...

    def evaluate(self, compiled: Any, data: Any, bindings: dict, timeout_ms: int | None, depth: int | None) -> Any: ...

    @staticmethod
    def code(error: BaseException) -> str | None:
        for attribute in ("code", "error"):
            value = getattr(error, attribute, None)
            if isinstance(value, str):
                return value
        text = str(error)
        return text[:5] if len(text) >= 5 and text[0].isalpha() and text[1:5].isdigit() else None


class JsonataRs(Engine):
    name = "jsonata-rs"

    def __init__(self) -> None:
        import jsonata

        if not hasattr(jsonata.Jsonata, "set_output_convert_nulls") or not hasattr(jsonata, "UNDEFINED"):
            raise ImportError("the module `jsonata` here is not jsonata-rs")
        self.module = jsonata

    def compile(self, expression: str) -> Any:
        compiled = self.module.Jsonata(expression)
        compiled.set_output_convert_nulls(False)
        return compiled

    def evaluate(self, compiled, data, bindings, timeout_ms, depth):
        if timeout_ms or depth:
            compiled.set_runtime_bounds(int(timeout_ms or 10_000), int(depth or 10_000))
        result = compiled.evaluate(None if data is UNDEFINED else data, bindings or None)
        return UNDEFINED if result is self.module.UNDEFINED else result


class JsonataPython(Engine):
    name = "jsonata-python"

    def __init__(self) -> None:
        import jsonata

        if not hasattr(jsonata, "Jsonata") or not hasattr(jsonata.Jsonata, "set_validate_input"):
            raise ImportError("the module `jsonata` here is not jsonata-python")
        self.module = jsonata

    def compile(self, expression: str) -> Any:
        return self.module.Jsonata(expression)

    def evaluate(self, compiled, data, bindings, timeout_ms, depth):
        frame = None
        if timeout_ms or depth:
            frame = compiled.create_frame()
            frame.set_runtime_bounds(int(timeout_ms or 10_000), int(depth or 10_000))
            for key, value in (bindings or {}).items():
                frame.bind(key, value)
        result = compiled.evaluate(None if data is UNDEFINED else data, frame if frame is not None else (bindings or None))
        return UNDEFINED if result is None else result  # undefined and null both come back as None


class Jsonatapy(Engine):
    name = "jsonatapy"

    def __init__(self) -> None:
        import jsonatapy

        self.module = jsonatapy

    def compile(self, expression: str) -> Any:
        return self.module.compile(expression)

    def evaluate(self, compiled, data, bindings, timeout_ms, depth):
        data = None if data is UNDEFINED else data
        result = compiled.evaluate(data, bindings or None, timeout=timeout_ms, max_stack_depth=depth)
        if result is None:  # null or undefined: the JSON text form tells them apart
            text = compiled.evaluate_json_or_none(None if data is None else json.dumps(data), bindings or None,
                                                  timeout=timeout_ms, max_stack_depth=depth)
            return UNDEFINED if text is None else None
        return result


ENGINES: dict[str, Callable[[], Engine]] = {"jsonata-rs": JsonataRs, "jsonata-python": JsonataPython, "jsonatapy": Jsonatapy}


def same(actual: Any, expected: Any, unordered: bool = False) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return math.isclose(actual, expected, rel_tol=1e-12, abs_tol=1e-12)
    if isinstance(expected, list) and isinstance(actual, (list, tuple)):
        if len(actual) != len(expected):
            return False
        if unordered:
            remaining = list(actual)
            for item in expected:
                match = next((i for i, candidate in enumerate(remaining) if same(candidate, item)), None)
                if match is None:
                    return False
                remaining.pop(match)
            return True
        return all(same(a, e) for a, e in zip(actual, expected))
    if isinstance(expected, dict) and isinstance(actual, dict):
        return actual.keys() == expected.keys() and all(same(actual[k], expected[k]) for k in expected)
    return actual == expected


def run_case(engine: Engine, case: dict[str, Any]) -> tuple[bool, str]:
    expected_code = case.get("code") or (case.get("error") or {}).get("code")
    try:
        compiled = engine.compile(case["expr"])
        result = engine.evaluate(compiled, case["input"], case.get("bindings") or {}, case.get("timelimit"), case.get("depth"))
    except Exception as error:  # any evaluator error is an outcome to compare with the case's
        if expected_code is None:
            return False, f"raised {type(error).__name__}: {str(error)[:120]}"
        got = engine.code(error)
        return (got is None or got == expected_code), f"raised code {got}, expected {expected_code}"
    if expected_code is not None:
        return False, f"expected error {expected_code}, got {str(result)[:120]}"
    if case.get("undefinedResult"):
        # evaluators that collapse undefined into None cannot tell it from null: None counts as undefined
        return result is UNDEFINED, f"expected undefined, got {str(result)[:120]}"
    if "result" in case:
        expected = case["result"]
        actual = None if result is UNDEFINED and expected is None else result
        return same(actual, expected, bool(case.get("unordered"))), f"expected {str(expected)[:80]}, got {str(actual)[:80]}"
    return False, "case states no outcome"


def conformance(engine: Engine, cases: list[dict[str, Any]], verbose: bool = False) -> tuple[int, int, Counter]:
    passed, failures = 0, Counter()
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))
    for case in cases:
        ok, why = run_case(engine, case)
        if ok:
            passed += 1
        else:
            failures[case["group"]] += 1
            if verbose:
                print(f"    FAIL {case['name']}: {case['expr'][:80]!r}: {why}")
    return passed, len(cases), failures


def per_evaluation_microseconds(engine: Engine, repeats: int = 9, loop: int = 2000) -> measure.Spread:
    """Microseconds per evaluation of a compiled field expression: `loop` evaluations a repeat, after a warm-up."""
    compiled = engine.compile("$states.input.order.total * 1.21")
    bindings = {"states": {"input": {"order": {"id": "o-1", "total": 100, "lines": [{"sku": "a", "qty": 2}]}}, "context": {}}}
    assert math.isclose(engine.evaluate(compiled, None, bindings, None, None), 121.0)

    def evaluations(_repeat: int) -> None:
        for _ in range(loop):
            engine.evaluate(compiled, None, bindings, None, None)

    return measure.Spread.of(measure.repeat(evaluations, repeats)).scaled(1e6 / loop)


def uses_eval(case: dict[str, Any]) -> bool:
    return "$eval(" in case["expr"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", type=Path, required=True, help="a copy of jsonata-js (or its test/test-suite folder)")
    parser.add_argument("--engine", choices=sorted(ENGINES), default="jsonata-rs")
    parser.add_argument("--path", help="a folder to import the engine from (e.g. a pip --target folder)")
    parser.add_argument("--aws", action="store_true", help="leave out the cases using $eval, which AWS does not offer")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    if args.path:
        sys.path.insert(0, args.path)
    folder = suite_folder(args.suite)
    if folder is None:
        sys.exit(f"no JSONata test suite under {args.suite} (expected groups/ and datasets/)")
    engine = ENGINES[args.engine]()
    cases = load_cases(folder)
    if args.aws:
        cases = [c for c in cases if not uses_eval(c)]
    start = time.perf_counter()
    passed, total, failures = conformance(engine, cases, args.verbose)
    elapsed = time.perf_counter() - start
    print(f"{engine.name}: {passed} of {total} reference cases pass ({100 * passed / total:.1f}%)"
          f"{' (without the $eval cases AWS refuses)' if args.aws else ''}; suite in {elapsed:.1f} s")
    print(f"  per evaluation of a compiled field expression: {per_evaluation_microseconds(engine).text(' us', 1)}")
    if failures:
        print("  failures by group: " + ", ".join(f"{g} {n}" for g, n in failures.most_common(12)) + (" ..." if len(failures) > 12 else ""))


if __name__ == "__main__":
    main()
