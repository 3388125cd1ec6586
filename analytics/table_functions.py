"""The Kinesis Data Analytics table functions: `TOP_K_ITEMS_TUMBLING`, `RANDOM_CUT_FOREST`,
`RANDOM_CUT_FOREST_WITH_EXPLANATION` and `HOTSPOTS`, read as KDA reads them in a pump:

    SELECT STREAM ... FROM TABLE(FN(CURSOR(SELECT STREAM ... FROM "S"), parameters...))

The dialect (translate_select) hands the pump's tokens here: the `TABLE(...)` becomes a view, the
CURSOR's SELECT is translated like any pump's, and the parameters are checked at once (line, column).
When the pump runs, the CURSOR's rows are read in ROWTIME order (arrival order within one ROWTIME)
and the function runs over them on the driver, row by row as KDA's does; its rows are the view.

- TOP_K_ITEMS_TUMBLING(cursor, 'column', K, windowSize): per epoch-aligned tumbling window of
  windowSize seconds, the K most frequent values of the column with their counts (columns: the
  column, `MOST_FREQUENT_VALUES` BIGINT), most frequent first, ties by value; ROWTIME the window's end.
  Counts are exact (KDA approximates them; an exact count is one of the answers it may give).
- RANDOM_CUT_FOREST(cursor, numberOfTrees=100, subSampleSize=256, timeDecay=100000, shingleSize=1):
  every cursor column, then ANOMALY_SCORE. The forest is the robust random cut forest of Guha et al.
  (ICML 2016): trees are `rrcf` RCTrees (the maintained implementation of the paper: cuts, insertion,
  deletion). What rrcf leaves to its user is written here: each tree keeps a time-decayed reservoir
  sample of subSampleSize points (weight log(-log u) - n/timeDecay, the smallest kept, so a point's
  chance to stay decays with its age), and a point is scored before it is inserted, with the forest's
  expected-depth score as AWS's Random Cut Forest library computes it (the same displacement idea; the
  visit from the point's leaf to the root, 1/(depth+1) where a cut would separate the point, normalised
  by log2(1 + sample size)), so that a point far from the rest scores high (typically above 1, the
  others near 0.7-1) and the score splits exactly into per-column attributions. Scores are 0 until the
  forest holds subSampleSize/4 points (the library's default; AWS describes an initial learning phase
  with scores of 0) and while a shingle is not full.
- RANDOM_CUT_FOREST_WITH_EXPLANATION(cursor, numberOfTrees, subSampleSize, timeDecay, shingleSize,
  withDirectionality=false): also ANOMALY_EXPLANATION, a JSON object with, per numeric column,
  ATTRIBUTION_SCORE (its share of the score; the shares sum to ANOMALY_SCORE as AWS documents) and,
  with directionality, DIRECTION (HIGH when the column's attribution above the sample outweighs that
  below) and STRENGTH (|high - low|, the net directional attribution). Numbers are strings with four
  decimals, as in AWS's example output. With a shingle, a column's figures sum over its positions.
- HOTSPOTS(cursor, windowSize, scanRadius, minimumNumberOfPointsInAHotspot): every cursor column, then
  HOTSPOTS_RESULT, `{"hotspots": [{"density": d, "minValues": [...], "maxValues": [...]}]}`, for the
  window of the last windowSize rows (this row included). AWS describes a hotspot as a small region
  relatively dense with points, found in the window, with its bounding box and density; here: a point
  is dense when at least minimumNumberOfPointsInAHotspot window points (itself included) lie within
  scanRadius of it (Euclidean, on the values as given: normalise them in the CURSOR as AWS advises);
  dense points within scanRadius of each other form one hotspot, with the points within scanRadius of
  its dense points (density-based clustering); a hotspot has at least minimumNumberOfPointsInAHotspot
  points. Its density is relative: its share of the window's points over its bounding box's share of
  the window's bounding box (1 is the window's average). Hotspots are listed densest first.

Numeric columns are those of type DOUBLE, REAL, FLOAT, INTEGER, BIGINT, SMALLINT, TINYINT; DECIMAL is
refused (AWS: not supported, cast to DOUBLE). A row with a NULL in a numeric column is emitted with a
score of 0 (and takes no part in the model or the hotspot window).

Randomness: the forest's random numbers come from a seed, CAUCE_ANALYTICS_SEED (default 0) mixed with
the pump's name, so a run is reproducible and two pumps draw differently. KDA's own draws cannot be
reproduced: scores match KDA's in kind, not in digits.

Continuous runs: the state (the forest and its samples, the shingle, the hotspot window) lives in a
dict the IncrementalRunner keeps across micro-batches; rows a batch sees again (the carried records)
get the output they had, so every row goes through the model once, in the same order as in one run.
"""

from __future__ import annotations

import heapq
import json
import math
import os
import random
import re
import zlib
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cauce.analytics.dialect import AnalyticsSqlError, Pump, Token, _arguments

ROWTIME_COLUMN = "__cauce_rowtime"  # the view's row time: hidden, so that SELECT * does not take it
SEED_VARIABLE = "CAUCE_ANALYTICS_SEED"
_NUMERIC_TYPES = ("double", "float", "integer", "long", "short", "byte")


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: type  # int, float, bool or str
    default: Any  # None: required
    low: float | None = None
    high: float | None = None


_RCF = (Parameter("numberOfTrees", int, 100, 1, 1000), Parameter("subSampleSize", int, 256, 10, 1000),
        Parameter("timeDecay", int, 100000, 1, 2**31 - 1), Parameter("shingleSize", int, 1, 1, 30))
SIGNATURES: dict[str, tuple[Parameter, ...]] = {
    "TOP_K_ITEMS_TUMBLING": (Parameter("columnName", str, None), Parameter("K", int, None, 1, 100000),
                             Parameter("windowSize", int, None, 1, 3600)),
    "RANDOM_CUT_FOREST": _RCF,
    "RANDOM_CUT_FOREST_WITH_EXPLANATION": (*_RCF, Parameter("withDirectionality", bool, False)),
    "HOTSPOTS": (Parameter("windowSize", int, None, 1, None), Parameter("scanRadius", float, None, 0, None),
                 Parameter("minimumNumberOfPointsInAHotspot", int, None, 2, None)),
}


@dataclass
class TableFunction:
    """One `TABLE(FN(CURSOR(...), ...))` of a pump: the function, its parameters, the CURSOR's query."""

    name: str
    view: str
    cursor: Pump
    arguments: dict[str, Any]
    line: int
    column: int
    cursor_sql: str = ""
    sources: list[str] = field(default_factory=list)

    @property
    def horizon_micros(self) -> int:
        """How far back a continuous run must keep records for this function (a TOP_K window)."""
        return self.arguments["windowSize"] * 10**6 if self.name == "TOP_K_ITEMS_TUMBLING" else 0


def extract(pump: Pump, tokens: list[Token], references: frozenset[str]) -> list[Token]:
    """The pump's tokens with its `TABLE(FN(CURSOR(...), ...))` replaced by the view that will hold the
    function's rows (and ROWTIME by the view's row time); the function is set on `pump.table_function`."""
    from cauce.analytics.dialect import _matching, translate_select

    pump.table_function = None
    start = next((i for i, t in enumerate(tokens) if t.upper == "TABLE" and i + 1 < len(tokens) and tokens[i + 1].text == "("), None)
    if start is None:
        _refuse_cursor(tokens)
        return tokens
    close = _matching(tokens, start + 1)
    inside = tokens[start + 2:close]
    head = inside[0] if inside else tokens[start]
    if not inside or inside[0].kind != "word" or len(inside) < 2 or inside[1].text != "(":
        raise AnalyticsSqlError(f"line {head.line}, column {head.column}: TABLE(...) must call a table function: "
                                f"{', '.join(SIGNATURES)}")
    name = head.upper
    if name not in SIGNATURES:
        raise AnalyticsSqlError(f"line {head.line}, column {head.column}: {head.text}: not a table function Cauce runs "
                                f"({', '.join(SIGNATURES)})")
    call_close = _matching(inside, 1)
    arguments = _split_arguments(inside[2:call_close])
    first = arguments[0] if arguments else []
    if len(first) < 3 or first[0].upper != "CURSOR" or first[1].text != "(" or _matching(first, 1) != len(first) - 1:
        expected = "CURSOR(SELECT STREAM ... FROM <stream>)"  # the error message's example, not a query
        raise AnalyticsSqlError(f"line {head.line}, column {head.column}: {name}: the first argument must be {expected}")
    cursor = Pump(f"{pump.name} CURSOR", pump.target, first[2:-1], pump.line)
    values = _parameters(name, head, arguments[1:])
    view = "__cauce_tf_" + re.sub(r"[^A-Za-z0-9_]", "_", pump.name)
    function = TableFunction(name, view, cursor, values, head.line, head.column)
    function.cursor_sql = translate_select(cursor, references)[0]
    function.sources = list(cursor.sources)
    outer = tokens[:start] + [Token("word", view, tokens[start].line, tokens[start].column)] + tokens[close + 1:]
    _refuse_cursor(outer)
    pump.table_function = function
    return [Token("word", ROWTIME_COLUMN, t.line, t.column) if t.kind == "word" and t.upper == "ROWTIME" else t for t in outer]


def _refuse_cursor(tokens: list[Token]) -> None:
    for token in tokens:
        if token.kind == "word" and token.upper == "CURSOR":
            raise AnalyticsSqlError(f"line {token.line}, column {token.column}: CURSOR is read only as the first argument of "
                                    f"a table function in FROM TABLE(...): {', '.join(SIGNATURES)}")


def _split_arguments(tokens: list[Token]) -> list[list[Token]]:
    arguments = _arguments(tokens)
    if len(arguments) > 1 and not arguments[-1]:  # AWS's syntax shows a trailing comma
        arguments.pop()
    return arguments


def _parameters(name: str, at: Token, arguments: list[list[Token]]) -> dict[str, Any]:
    signature = SIGNATURES[name]
    if len(arguments) > len(signature):
        raise AnalyticsSqlError(f"line {at.line}, column {at.column}: {name} takes at most {len(signature)} parameters after "
                                f"the CURSOR ({', '.join(p.name for p in signature)}), got {len(arguments)}")
    values = {}
    for index, parameter in enumerate(signature):
        if index >= len(arguments):
            if parameter.default is None:
                raise AnalyticsSqlError(f"line {at.line}, column {at.column}: {name}: {parameter.name} is required "
                                        f"({', '.join(p.name for p in signature)})")
            values[parameter.name] = parameter.default
            continue
        values[parameter.name] = _literal(name, parameter, arguments[index], at)
    return values


def _literal(name: str, parameter: Parameter, tokens: list[Token], at: Token) -> Any:
    where = tokens[0] if tokens else at
    text = "".join(t.text for t in tokens)
    problem = f"line {where.line}, column {where.column}: {name}: {parameter.name}"
    if parameter.kind is str:
        if len(tokens) != 1 or tokens[0].kind != "string":
            raise AnalyticsSqlError(f"{problem} must be a column name in single quotes, got {text!r}")
        return tokens[0].text[1:-1].replace("''", "'")
    if parameter.kind is bool:
        if len(tokens) != 1 or tokens[0].upper not in ("TRUE", "FALSE"):
            raise AnalyticsSqlError(f"{problem} must be TRUE or FALSE, got {text!r}")
        return tokens[0].upper == "TRUE"
    try:
        value = parameter.kind(text) if parameter.kind is float else int(text)
    except ValueError:
        kind = "a whole number" if parameter.kind is int else "a number"
        raise AnalyticsSqlError(f"{problem} must be {kind}, got {text!r}") from None
    if (parameter.low is not None and (value < parameter.low or (parameter.kind is float and value == parameter.low))) or \
            (parameter.high is not None and value > parameter.high):
        bounds = f"{'above' if parameter.kind is float else 'at least'} {parameter.low:g}" + \
            (f" and at most {parameter.high:g}" if parameter.high is not None else "")
        raise AnalyticsSqlError(f"{problem} must be {bounds}, got {text}")
    return value


def register(pump: Pump, spark: Any, state: dict[str, Any]) -> None:
    """Run the pump's table function over its CURSOR's rows; its rows become the view the pump reads."""
    from pyspark.sql import types as T

    function: TableFunction = pump.table_function
    frame = spark.sql(function.cursor_sql)
    fields = frame.schema.fields
    # the last column is the row's ROWTIME; ROWTIME itself and Cauce's hidden columns are not the function's input
    keep = [i for i, f in enumerate(fields[:-1]) if f.name != "ROWTIME" and not f.name.startswith("__cauce_")]
    columns = [fields[i] for i in keep]
    rows = sorted(((row[-1], [row[i] for i in keep]) for row in frame.collect()), key=lambda r: r[0])
    where = function.name  # the runtime names the pump and its line
    added, out = _RUNNERS[function.name](where, function.arguments, columns, rows, state.setdefault(pump.name, {}),
                                         _seed(pump.name))
    schema = T.StructType([*added, T.StructField(ROWTIME_COLUMN, T.TimestampType())])
    spark.createDataFrame(out, schema=schema).createOrReplaceTempView(function.view)


def _seed(pump_name: str) -> int:
    base = os.environ.get(SEED_VARIABLE, "0")
    return zlib.crc32(f"{base}:{pump_name}".encode()) % (2**31 - 1000)


def _top_k(where: str, arguments: dict, columns: list, rows: list, state: dict, seed: int) -> tuple[list, list]:
    from pyspark.sql import types as T

    name = arguments["columnName"]
    index = next((i for i, c in enumerate(columns) if c.name == name), None)
    if index is None:
        index = next((i for i, c in enumerate(columns) if c.name.upper() == name.upper()), None)
    if index is None:
        raise AnalyticsSqlError(f"{where}: {name!r} is not a column of the CURSOR ({', '.join(c.name for c in columns)})")
    window = arguments["windowSize"] * 10**6
    counts: dict[int, Counter] = defaultdict(Counter)
    for rowtime, values in rows:
        if values[index] is not None:
            counts[_epoch_micros(rowtime) // window * window][values[index]] += 1
    out = []
    for start in sorted(counts):
        end = _from_epoch_micros(start + window)
        ranked = sorted(counts[start].items(), key=lambda item: (-item[1], item[0]))[:arguments["K"]]
        out.extend((value, count, end) for value, count in ranked)
    return [T.StructField(columns[index].name, columns[index].dataType), T.StructField("MOST_FREQUENT_VALUES", T.LongType())], out


def _epoch_micros(value: Any) -> int:
    import datetime as dt

    return (value - dt.datetime(1970, 1, 1)) // dt.timedelta(microseconds=1)


def _from_epoch_micros(micros: int) -> Any:
    import datetime as dt

    return dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=micros)


def _numeric(where: str, columns: list) -> list[int]:
    numeric = []
    for index, column in enumerate(columns):
        type_name = column.dataType.typeName()
        if type_name == "decimal":
            raise AnalyticsSqlError(f"{where}: column {column.name} is DECIMAL, which the function does not take (as on AWS): "
                                    "CAST it to DOUBLE in the CURSOR")
        if type_name in _NUMERIC_TYPES:
            numeric.append(index)
    if not numeric:
        raise AnalyticsSqlError(f"{where}: the CURSOR has no numeric column ({', '.join(c.name for c in columns)})")
    return numeric


def _row_by_row(state: dict, rows: list, step: Callable[[list], list]) -> list:
    """Each row's outputs, computing only rows not seen before (a continuous run sees carried rows again)."""
    memo = state.get("memo", [])  # (rowtime, key, output) of the rows computed, in order
    seen: dict[str, deque] = defaultdict(deque)
    for _, key, output in memo:
        seen[key].append(output)
    out = []
    for rowtime, values in rows:
        key = repr((rowtime, values))
        if seen[key]:
            output = seen[key].popleft()
        else:
            output = step(values)
            memo.append((rowtime, key, output))
        out.append((*values, *output, rowtime))
    # a later batch carries only rows at or after this batch's first: older outputs are not needed again
    state["memo"] = [entry for entry in memo if entry[0] >= rows[0][0]] if rows else memo
    return out


def _random_cut_forest(where: str, arguments: dict, columns: list, rows: list, state: dict, seed: int,
                       explain: bool = False) -> tuple[list, list]:
    from pyspark.sql import types as T

    numeric = _numeric(where, columns)
    if "forest" not in state:
        state["forest"] = Forest(arguments["numberOfTrees"], arguments["subSampleSize"], arguments["timeDecay"],
                                 arguments["shingleSize"], len(numeric), seed)
    forest: Forest = state["forest"]
    names = [columns[i].name for i in numeric]
    directional = arguments.get("withDirectionality", False)

    def step(values: list) -> list:
        point = [values[i] for i in numeric]
        if any(v is None for v in point):
            score, high, low = 0.0, [0.0] * len(point), [0.0] * len(point)
        else:
            score, high, low = forest.score_and_update([float(v) for v in point], explain)
        if not explain:
            return [score]
        return [score, explanation(names, high, low, directional)]

    added = [T.StructField("ANOMALY_SCORE", T.DoubleType())]
    if explain:
        added.append(T.StructField("ANOMALY_EXPLANATION", T.StringType()))
    return [*columns, *added], _row_by_row(state, rows, step)


def explanation(names: list[str], high: list[float], low: list[float], directional: bool) -> str:
    """ANOMALY_EXPLANATION: per column, its attribution (and, directional, its direction and strength)."""
    explained = {}
    for name, up, down in zip(names, high, low):
        entry = {}
        if directional:
            entry["DIRECTION"] = "HIGH" if up >= down else "LOW"
            entry["STRENGTH"] = f"{abs(up - down):.4f}"
        entry["ATTRIBUTION_SCORE"] = f"{up + down:.4f}"
        explained[name] = entry
    return json.dumps(explained, separators=(",", ":"))


def _with_explanation(*args: Any) -> tuple[list, list]:
    return _random_cut_forest(*args, explain=True)


def load_rrcf() -> Any:
    """The rrcf library (its RCTree and Branch)."""
    try:
        import rrcf
        return rrcf
    except ModuleNotFoundError as error:
        if error.name != "pkg_resources":
            raise
    # rrcf 0.4.4's package reads its own version with pkg_resources, which setuptools 81 and later no longer
    # ship: its trees (rrcf/rrcf.py, which needs numpy only) load alone
    import importlib.util
    from pathlib import Path

    package = importlib.util.find_spec("rrcf")
    spec = importlib.util.spec_from_file_location("rrcf.rrcf", Path(package.submodule_search_locations[0]) / "rrcf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Forest:
    """A robust random cut forest over a stream: rrcf trees, each on its time-decayed sample."""

    def __init__(self, trees: int, sample_size: int, time_decay: int, shingle_size: int, dimensions: int, seed: int) -> None:
        rrcf = load_rrcf()
        self.trees = [rrcf.RCTree(random_state=seed + i) for i in range(trees)]
        self.samplers = [random.Random(seed * 7919 + i) for i in range(trees)]  # nosec B311: a model's sampling, not security
        self.samples: list[list[tuple[float, int]]] = [[] for _ in range(trees)]  # max-heaps of (-weight, index)
        self.sample_size = sample_size
        self.time_decay = time_decay
        self.shingle: deque = deque(maxlen=shingle_size)
        self.dimensions = dimensions
        self.output_after = max(1, sample_size // 4)
        self.updates = 0
        self._branch = rrcf.Branch

    def score_and_update(self, values: list[float], explain: bool = False) -> tuple[float, list[float], list[float]]:
        """The point's score (and per-column high and low attributions) before the forest learns it."""
        import numpy as np

        self.shingle.append(values)
        zeros = [0.0] * self.dimensions
        if len(self.shingle) < self.shingle.maxlen:
            return 0.0, zeros, zeros
        point = np.array([v for part in self.shingle for v in part], dtype=float)
        score, high, low = 0.0, None, None
        if self.updates >= self.output_after:
            total_high, total_low = np.zeros(point.size), np.zeros(point.size)
            for tree in self.trees:
                tree_score, tree_high, tree_low = self._visit(tree, point, explain)
                score += tree_score
                if explain:
                    total_high += tree_high
                    total_low += tree_low
            score /= len(self.trees)
            if explain:  # a column's attribution sums over its places in the shingle
                high = (total_high / len(self.trees)).reshape(-1, self.dimensions).sum(axis=0).tolist()
                low = (total_low / len(self.trees)).reshape(-1, self.dimensions).sum(axis=0).tolist()
        self._update(point)
        return float(score), high or zeros, low or zeros

    def _update(self, point: Any) -> None:
        self.updates += 1
        index = self.updates
        for tree, sampler, sample in zip(self.trees, self.samplers, self.samples):
            weight = math.log(-math.log(sampler.random() or 1e-300)) - index / self.time_decay
            if len(sample) >= self.sample_size:
                if weight >= -sample[0][0]:
                    continue
                tree.forget_point(heapq.heappop(sample)[1])
            heapq.heappush(sample, (-weight, index))
            tree.insert_point(point, index=index)

    def _visit(self, tree: Any, point: Any, explain: bool) -> tuple[float, Any, Any]:
        """A tree's score of a point: from the point's leaf up to the root, where a random cut of a node's
        box grown to hold the point would separate it, the score moves towards 1/(depth+1)."""
        import numpy as np

        node, path = tree.root, []
        while isinstance(node, self._branch):
            path.append(node)
            node = node.l if point[node.q] <= node.p else node.r
        mass = tree.root.n
        depth = len(path)
        difference = point - node.x
        if not difference.any():  # the point is in the sample already: scored as seen, damped by its count
            score = (1 - node.n / (2 * mass)) / (depth + math.log2(node.n + 1))
            high = low = np.full(point.size, score / (2 * point.size)) if explain else None
        else:
            score = 1 / (depth + 1)
            if explain:
                spread = np.abs(difference).sum()
                high, low = np.maximum(difference, 0) / spread * score, np.maximum(-difference, 0) / spread * score
        for level in range(depth - 1, -1, -1):
            box = path[level].b
            above, below = np.maximum(point - box[-1], 0), np.maximum(box[0] - point, 0)
            gap = above.sum() + below.sum()
            if gap == 0:  # inside this box, so inside every box above it too
                break
            grown = (box[-1] - box[0]).sum() + gap
            separation, unseen = gap / grown, 1 / (level + 1)
            score = separation * unseen + (1 - separation) * score
            if explain:
                high = above / grown * unseen + (1 - separation) * high
                low = below / grown * unseen + (1 - separation) * low
        scale = math.log2(1 + mass)
        return score * scale, (high * scale if explain else None), (low * scale if explain else None)


def _hotspots(where: str, arguments: dict, columns: list, rows: list, state: dict, seed: int) -> tuple[list, list]:
    from pyspark.sql import types as T

    numeric = _numeric(where, columns)
    if "window" not in state:
        state["window"] = HotspotWindow(arguments["windowSize"], arguments["scanRadius"], arguments["minimumNumberOfPointsInAHotspot"])
    window: HotspotWindow = state["window"]

    def step(values: list) -> list:
        point = [values[i] for i in numeric]
        if all(v is not None for v in point):
            window.add([float(v) for v in point])
        return [json.dumps({"hotspots": window.hotspots()}, separators=(",", ":"))]

    return [*columns, T.StructField("HOTSPOTS_RESULT", T.StringType())], _row_by_row(state, rows, step)


class HotspotWindow:
    """The last `size` points, each with the window points within `radius` of it, and their hotspots."""

    def __init__(self, size: int, radius: float, minimum: int) -> None:
        self.size, self.radius, self.minimum = size, radius, minimum
        self.points: deque[tuple[int, list[float]]] = deque()
        self.neighbours: dict[int, set[int]] = {}
        self.values: dict[int, list[float]] = {}
        self.added = 0

    def add(self, point: list[float]) -> None:
        import numpy as np

        self.added += 1
        ident = self.added
        links: set[int] = set()
        if self.points:
            others = np.array([p for _, p in self.points])
            near = np.nonzero(np.sqrt(((others - np.array(point)) ** 2).sum(axis=1)) <= self.radius)[0]
            links = {self.points[i][0] for i in near}
        for other in links:
            self.neighbours[other].add(ident)
        self.points.append((ident, point))
        self.neighbours[ident], self.values[ident] = links, point
        if len(self.points) > self.size:
            gone, _ = self.points.popleft()
            for other in self.neighbours.pop(gone):
                self.neighbours[other].discard(gone)
            del self.values[gone]

    def hotspots(self) -> list[dict[str, Any]]:
        dense = {i for i, near in self.neighbours.items() if len(near) + 1 >= self.minimum}
        if not dense:
            return []
        every = list(self.values.values())
        dims = len(every[0])
        window_low = [min(p[d] for p in every) for d in range(dims)]
        window_high = [max(p[d] for p in every) for d in range(dims)]
        found, placed = [], set()
        for start in sorted(dense):
            if start in placed:
                continue
            component, members, frontier = set(), set(), [start]
            placed.add(start)
            while frontier:  # dense points within the radius of each other, and the points near them
                current = frontier.pop()
                component.add(current)
                members.add(current)
                for other in self.neighbours[current]:
                    members.add(other)
                    if other in dense and other not in placed:
                        placed.add(other)
                        frontier.append(other)
            if len(members) < self.minimum:
                continue
            low = [min(self.values[i][d] for i in members) for d in range(dims)]
            high = [max(self.values[i][d] for i in members) for d in range(dims)]
            share = 1.0
            for d in range(dims):
                span = window_high[d] - window_low[d]
                share *= (high[d] - low[d]) / span if span > 0 and high[d] > low[d] else 1.0 / max(len(every), 1)
            density = (len(members) / len(every)) / share
            found.append({"density": density, "minValues": low, "maxValues": high})
        return sorted(found, key=lambda h: -h["density"])


_RUNNERS = {"TOP_K_ITEMS_TUMBLING": _top_k, "RANDOM_CUT_FOREST": _random_cut_forest,
            "RANDOM_CUT_FOREST_WITH_EXPLANATION": _with_explanation, "HOTSPOTS": _hotspots}
