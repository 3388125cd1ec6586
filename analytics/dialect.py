"""The Kinesis Data Analytics SQL dialect, translated to Spark SQL.

An app is statements: `CREATE [OR REPLACE] STREAM "S" (col TYPE, ...)` declares an in-application
stream, and `CREATE [OR REPLACE] PUMP "P" AS INSERT INTO "S" SELECT STREAM ... FROM ...` feeds
one; pumps may read the input stream (`SOURCE_SQL_STREAM_001`) or each other's streams.

Each pump's SELECT is rewritten where the dialect differs from standard SQL, then parsed and
written as Spark SQL by sqlglot (quoted case-sensitive identifiers, functions, casts, subqueries):
- `SELECT STREAM` is a SELECT;
- `STEP(x BY INTERVAL 'n' unit)` is the start of the n-unit tumbling window holding x (epoch-aligned);
- `FLOOR(x TO unit)` is `date_trunc(unit, x)`, `CEIL(x TO unit)` the next unit boundary at or after x;
- `LAG(x, n, default) OVER (window)` is Spark's lag, or the default when the row n back is outside the window;
- `CURRENT_ROW_TIMESTAMP` is the output row's ROWTIME (the time KDA would output it, replaying arrivals);
- the log parsers (cauce.analytics.log_parsers) and SUBSTRING/OVERLAY (cauce.analytics.string_functions) are
  written as Spark SQL of KDA's meaning;
- a sliding window `OVER ([PARTITION BY ...] RANGE INTERVAL 'n' unit PRECEDING)` or `ROWS n PRECEDING`
  (inline or in a `WINDOW w AS (...)` clause) is ordered by ROWTIME and ends at the current row;
- `WINDOWED BY STAGGER (PARTITION BY ... RANGE INTERVAL 'n' unit)`: a window opens for a partition
  with its first row and closes n units later; the next row of that partition opens the next one.
  The runtime marks each row's window (in pandas, per partition) before the pump's query groups by it.
Output ROWTIME: a pump that groups by a STEP or FLOOR window emits each group at the window's end,
and that end is its ROWTIME; any other pump keeps its input row's ROWTIME.

`FROM TABLE(FN(CURSOR(...), ...))` (TOP_K_ITEMS_TUMBLING, RANDOM_CUT_FOREST, HOTSPOTS, ...) reads a view
of the function's rows: see analytics/table_functions.py.
- a join of two streams over a window (`JOIN "S" OVER (RANGE INTERVAL 'n' unit PRECEDING) AS s`) and
  ROWTIME through subqueries: analytics/joins.py.

What is not translated is refused up front, by name and line (never run with a wrong meaning):
joins of more than two streams or over row windows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(
    r"""(?P<ws>\s+)|(?P<comment>--[^\n]*|/\*.*?\*/)|(?P<quoted>"(?:[^"]|"")*")|(?P<string>'(?:[^']|'')*')"""
    r"""|(?P<unicode>[uU]&'(?:[^']|'')*')|(?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(?P<word>[A-Za-z_][A-Za-z0-9_$]*)|(?P<op><>|<=|>=|!=|\|\||[(),.;*+\-/<>=%:\[\]])""",
    re.S,
)
# A row's place among the rows of its stream with the same ROWTIME (0, 1, ...): the runtime adds it to
# every stream a sliding RANGE window reads. Up to MAX_PEERS rows may share one millisecond.
SEQUENCE_COLUMN = "__cauce_seq"
MAX_PEERS = 2**20
ARRIVAL_SCALE = 2 * MAX_PEERS  # unix millis * 2^21 stays within BIGINT until the year 2100
CURRENT_ROW_TIMESTAMP = "__cauce_current_row_timestamp"
# FLOOR/CEIL units of no fixed length: fine in a value, refused as a window (a continuous run carries a fixed span)
CALENDAR_UNITS = ("MONTH", "YEAR")
UNIT_MICROS = {"SECOND": 10**6, "MINUTE": 60 * 10**6, "HOUR": 3600 * 10**6, "DAY": 86400 * 10**6}
UNSUPPORTED: dict[str, str] = {}  # the dialect's functions with no translation: none today (a refusal names one here, and why)


class AnalyticsSqlError(ValueError):
    """SQL that does not parse, or uses a construct Cauce refuses; the message gives line and column."""


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    line: int
    column: int

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else self.text

    @property
    def name(self) -> str:
        """An identifier's name: quoted ones keep their case, others are upper case as in the dialect."""
        return self.text[1:-1].replace('""', '"') if self.kind == "quoted" else self.text.upper()


@dataclass
class Stream:
    name: str
    columns: list[tuple[str, str]]  # (name, SQL type)
    line: int


@dataclass
class Stagger:
    """A stagger window: the rows to window (a query on the pump's source), their partition columns, its length."""

    view: str
    view_sql: str
    keys: list[str]
    micros: int


@dataclass
class Pump:
    name: str
    target: str
    select: list[Token]
    line: int
    sources: list[str] = field(default_factory=list)
    stagger: Stagger | None = None
    grouped_by_monotonic: bool = False  # GROUP BY MONOTONIC(...) without a time window: one row per key
    table_function: Any = None  # a TABLE(FN(CURSOR(...), ...)) in FROM: cauce.analytics.table_functions.TableFunction
    join_micros: int = 0  # a stream-to-stream join's two windows together: how far back its rows reach
    selects_star: bool = False  # `SELECT STREAM *` (or `s.*`): in KDA a star does not take ROWTIME, a hidden column


@dataclass
class Program:
    streams: dict[str, Stream]
    pumps: list[Pump]


def tokenize(sql: str) -> list[Token]:
    tokens, position, line, line_start = [], 0, 1, 0
    while position < len(sql):
        match = _TOKEN.match(sql, position)
        if match is None:
            raise AnalyticsSqlError(f"line {line}, column {position - line_start + 1}: unexpected character {sql[position]!r}")
        kind, text = match.lastgroup, match.group()
        if kind == "unicode":  # U&'\0009': a string literal with Unicode escapes, as a plain one
            kind, text = "string", _unicode_literal(text, line, position - line_start + 1)
        if kind not in ("ws", "comment"):
            tokens.append(Token(kind, text, line, position - line_start + 1))
        newlines = match.group().count("\n")
        if newlines:
            line += newlines
            line_start = position + match.group().rfind("\n") + 1
        position = match.end()
    return tokens


def _unicode_literal(text: str, line: int, column: int) -> str:
    """A U&'...' literal's text as a plain literal: \\XXXX and \\+XXXXXX are the characters of those code points."""
    body, out, index = text[3:-1], [], 0
    while index < len(body):
        if body[index] != "\\":
            out.append(body[index])
            index += 1
            continue
        escape = re.match(r"\\(\\|[0-9A-Fa-f]{4}|\+[0-9A-Fa-f]{6})", body[index:])
        if escape is None:
            raise AnalyticsSqlError(f"line {line}, column {column}: {text}: a Unicode escape is \\XXXX or \\+XXXXXX (hexadecimal)")
        code = escape.group(1)
        out.append("\\" if code == "\\" else chr(int(code.lstrip("+"), 16)))
        index += escape.end()
    return "'" + "".join(out) + "'"


def parse(sql: str) -> Program:
    tokens = tokenize(sql)
    for token in tokens:
        if token.kind == "word" and token.upper in UNSUPPORTED:
            raise AnalyticsSqlError(f"line {token.line}, column {token.column}: {token.text}: {UNSUPPORTED[token.upper]}")
    streams: dict[str, Stream] = {}
    pumps: list[Pump] = []
    for statement in _statements(tokens):
        words = [t.upper for t in statement[:6]]
        head = statement[0]
        index = 3 if words[:3] == ["CREATE", "OR", "REPLACE"] else 1 if words[:1] == ["CREATE"] else None
        if index is None or len(statement) <= index + 1:
            raise AnalyticsSqlError(f"line {head.line}, column {head.column}: expected CREATE [OR REPLACE] STREAM or PUMP, got {head.text!r}")
        kind = statement[index].upper
        if kind == "STREAM":
            stream = _stream(statement[index + 1:], head)
            streams[stream.name] = stream
        elif kind == "PUMP":
            pumps.append(_pump(statement[index + 1:], head))
        else:
            raise AnalyticsSqlError(f"line {statement[index].line}, column {statement[index].column}: CREATE {statement[index].text} is not supported (STREAM or PUMP)")
    for pump in pumps:
        if pump.target not in streams:
            raise AnalyticsSqlError(f"line {pump.line}: pump {pump.name!r} inserts into {pump.target!r}, which no CREATE STREAM declares")
    return Program(streams, pumps)


def _statements(tokens: list[Token]) -> list[list[Token]]:
    statements, current, depth = [], [], 0
    for token in tokens:
        if token.text == "(":
            depth += 1
        elif token.text == ")":
            depth -= 1
        if token.text == ";" and depth == 0:
            if current:
                statements.append(current)
            current = []
        else:
            current.append(token)
    if current:
        statements.append(current)
    return statements


def _identifier(token: Token, what: str) -> str:
    if token.kind not in ("word", "quoted"):
        raise AnalyticsSqlError(f"line {token.line}, column {token.column}: expected {what}, got {token.text!r}")
    return token.name


def _stream(tokens: list[Token], head: Token) -> Stream:
    name = _identifier(tokens[0], "a stream name")
    if len(tokens) < 2 or tokens[1].text != "(":
        raise AnalyticsSqlError(f"line {tokens[0].line}: CREATE STREAM {name} needs its columns in parentheses")
    columns, current, depth = [], [], 0
    for token in tokens[2:]:
        if token.text == "(":
            depth += 1
        elif token.text == ")":
            if depth == 0:
                break
            depth -= 1
        if token.text == "," and depth == 0:
            columns.append(current)
            current = []
        else:
            current.append(token)
    columns.append(current)
    parsed = []
    for column in columns:
        if len(column) < 2:
            where = column[0] if column else tokens[1]
            raise AnalyticsSqlError(f"line {where.line}, column {where.column}: a stream column needs a name and a type")
        parsed.append((_identifier(column[0], "a column name"), " ".join(t.text for t in column[1:]).replace("( ", "(").replace(" )", ")").replace(" ,", ",")))
    return Stream(name, parsed, head.line)


def _pump(tokens: list[Token], head: Token) -> Pump:
    name = _identifier(tokens[0], "a pump name")
    words = [t.upper for t in tokens[1:4]]
    if words != ["AS", "INSERT", "INTO"]:
        raise AnalyticsSqlError(f"line {tokens[0].line}: CREATE PUMP {name} must continue AS INSERT INTO <stream> SELECT STREAM ...")
    target = _identifier(tokens[4], "the stream the pump inserts into")
    rest = tokens[5:]
    if rest and rest[0].text == "(":  # an explicit column list: the SELECT's columns map to these, in order
        close = next(i for i, t in enumerate(rest) if t.text == ")")
        rest = rest[close + 1:]
    if not rest or rest[0].upper != "SELECT":
        where = rest[0] if rest else tokens[4]
        raise AnalyticsSqlError(f"line {where.line}, column {where.column}: pump {name} must insert the rows of a SELECT STREAM")
    return Pump(name, target, rest, head.line)


def translate_select(pump: Pump, references: frozenset[str] = frozenset()) -> tuple[str, str | None]:
    """The pump's SELECT as Spark SQL, its last column the output ROWTIME, and the window-end
    expression when the pump groups by a window."""
    import sqlglot

    # SELECT STREAM, at the top and in subqueries, is a SELECT
    from cauce.analytics import joins

    tokens = [t for i, t in enumerate(pump.select) if not (t.upper == "STREAM" and i and pump.select[i - 1].upper == "SELECT")]
    from cauce.analytics.table_functions import extract

    tokens = extract(pump, tokens, references)  # FROM TABLE(FN(CURSOR(...), ...)) reads a view of the function's rows
    tokens, join_windows = joins.strip_join_windows(tokens)
    stagger: list = []
    window_ends: dict[str, str] = {}
    text, window_end = _rewrite(tokens, stagger, window_ends)
    try:
        expression = sqlglot.parse_one(text, read="postgres")
    except sqlglot.errors.ParseError as error:
        first = error.errors[0] if error.errors else {}
        raise AnalyticsSqlError(f"pump {pump.name} (line {pump.line}): {first.get('description', str(error))} "
                                f"near {first.get('highlight', '')!r}") from None
    if not isinstance(expression, sqlglot.exp.Select):
        raise AnalyticsSqlError(f"pump {pump.name} (line {pump.line}): expected a single SELECT STREAM")
    stream_joins = []
    for join in expression.find_all(sqlglot.exp.Join):
        joined = join.this.name if isinstance(join.this, sqlglot.exp.Table) else None
        if joined in references:
            continue
        if join.parent is not expression:  # a join inside a subquery: its time condition and ROWTIME are not worked out
            raise AnalyticsSqlError(f"pump {pump.name} (line {pump.line}): a join of streams inside a subquery is not translated yet; "
                                    "join them in the pump's own SELECT")
        stream_joins.append(join)
    pump.selects_star = any(isinstance(e, sqlglot.exp.Star) or (isinstance(e, sqlglot.exp.Column) and isinstance(e.this, sqlglot.exp.Star))
                            for e in expression.expressions)
    tables = {table.name for table in expression.find_all(sqlglot.exp.Table)} - references
    if pump.table_function is not None:  # the pump reads what its CURSOR reads
        tables = (tables - {pump.table_function.view}) | set(pump.table_function.sources)
    pump.sources = sorted(tables)
    joins.carry_rowtime(expression, window_ends)
    if stagger:
        expression, rowtime = _stagger(pump, expression, stagger[0], stagger[1])
    elif window_end is not None and expression.args.get("group"):
        if any(f"'{unit}'" in window_end for unit in CALENDAR_UNITS):
            raise AnalyticsSqlError(f"pump {pump.name} (line {pump.line}): a window of a MONTH or YEAR (FLOOR/CEIL ... TO) is not "
                                    "translated: a continuous run keeps a fixed span of records; use STEP or DAY")
        rowtime = sqlglot.parse_one(window_end, read="postgres")
    elif stream_joins:  # the later of the two rows' ROWTIMEs
        rowtime = joins.stream_join(pump, expression, join_windows, stream_joins, references)
    elif expression.args.get("group") and any(t.upper == "MONOTONIC" for t in tokens):
        # KDA emits a group once a row with the next key arrives; the input being finite, every group is
        # emitted, its ROWTIME that of its latest row
        rowtime = sqlglot.exp.Max(this=_input_rowtime(expression, pump))
        pump.grouped_by_monotonic = True
    else:  # a row keeps its input row's ROWTIME
        rowtime = _input_rowtime(expression, pump)
    override = joins.rowtime_alias(expression)
    rowtime = override if override is not None else rowtime
    expression = expression.transform(_char_padded).transform(lambda node: _similar_to(pump, node))
    # KDA's CURRENT_ROW_TIMESTAMP is the wall-clock time the row is output; replaying arrivals, that is the row's ROWTIME
    expression = expression.transform(lambda node: rowtime.copy() if isinstance(node, sqlglot.exp.Column)
                                      and node.name == CURRENT_ROW_TIMESTAMP else node)
    expression = _top_k_order(pump, expression)
    expression = joins.order_by_as_rank(expression)
    expression = expression.select(sqlglot.exp.alias_(rowtime, "ROWTIME"), copy=True)
    return _spark_sql(expression), window_end


def _top_k_order(pump: Pump, expression):
    """A pump reading TOP_K_ITEMS_TUMBLING with no ORDER BY of its own gives each window's items most frequent
    first, ties by item: the function "produces the same result as aggregating with GROUP BY and ORDER BY clauses"
    (Developer Guide, examples-window-topkitems.html)."""
    import sqlglot

    function = pump.table_function
    if function is None or function.name != "TOP_K_ITEMS_TUMBLING" or expression.args.get("order") or expression.args.get("group"):
        return expression
    from cauce.analytics.table_functions import ROWTIME_COLUMN

    item = sqlglot.exp.column(function.arguments["columnName"], quoted=True)
    return expression.order_by(sqlglot.exp.column(ROWTIME_COLUMN), sqlglot.exp.Ordered(this=sqlglot.exp.column("MOST_FREQUENT_VALUES"), desc=True),
                               item, copy=False)


def _char_padded(node):
    """CAST(x AS CHAR(n)) blank-padded (or cut) to n characters, as KDA's CHAR is; Spark's cast keeps x's length."""
    import sqlglot

    if not (isinstance(node, sqlglot.exp.Cast) and node.to.this == sqlglot.exp.DataType.Type.CHAR and node.to.expressions):
        return node
    width = node.to.expressions[0].this.copy()
    text = sqlglot.exp.Cast(this=node.this.copy(), to=sqlglot.exp.DataType.build("text"))
    return sqlglot.exp.Anonymous(this=f"{_PASS}rpad", expressions=[text, width, sqlglot.exp.Literal.string(" ")])


def _similar_to(pump: Pump, node):
    """`x SIMILAR TO 'pattern' [ESCAPE 'c']` (SQL's regular expressions, which Spark lacks) as a
    whole-string RLIKE: `%` any run of characters, `_` any one, `| * + ? {m,n} ( ) [...]` as in a
    regular expression, every other character itself."""
    import sqlglot

    escape = None
    if isinstance(node, sqlglot.exp.Escape):  # sqlglot reads `x [NOT] SIMILAR TO p ESCAPE 'c'` as ESCAPE around the comparison
        inner = node.this.this if isinstance(node.this, sqlglot.exp.Not) else node.this
        if not isinstance(inner, sqlglot.exp.SimilarTo):
            return node
        escape, similar = node.expression, inner
    elif isinstance(node, sqlglot.exp.SimilarTo):
        similar = node
    else:
        return node
    pattern = similar.expression
    if not (isinstance(pattern, sqlglot.exp.Literal) and pattern.is_string) or (escape is not None and not (
            isinstance(escape, sqlglot.exp.Literal) and escape.is_string and len(escape.this) == 1)):
        raise AnalyticsSqlError(f"pump {pump.name} (line {pump.line}): SIMILAR TO takes a string literal pattern "
                                "(and a one-character ESCAPE literal) here")
    matched = sqlglot.exp.RegexpLike(this=similar.this.copy(), expression=sqlglot.exp.Literal.string(
        similar_to_regex(pattern.this, escape.this if escape is not None else None)))
    return sqlglot.exp.Not(this=matched) if isinstance(node, sqlglot.exp.Escape) and isinstance(node.this, sqlglot.exp.Not) else matched


def similar_to_regex(pattern: str, escape: str | None = None) -> str:
    """A SIMILAR TO pattern as a Java regular expression matching the whole string."""
    out, bracket = [], False
    characters = iter(pattern)
    for character in characters:
        if escape is not None and character == escape:
            out.append(re.escape(next(characters, escape)))
        elif bracket:
            out.append("\\\\" if character == "\\" else character)
            bracket = character != "]"
        elif character == "%":
            out.append(".*")
        elif character == "_":
            out.append(".")
        elif character in "|*+?{}()[":
            out.append(character)
            bracket = character == "["
        else:
            out.append(re.escape(character))
    return "(?s)^(?:" + "".join(out) + ")$"


def _input_rowtime(expression, pump: Pump):
    """The ROWTIME column of the stream (or subquery, or table function) the SELECT reads."""
    import sqlglot

    from_clause = expression.args.get("from_") or expression.args.get("from")
    source = from_clause.this if from_clause is not None else None
    qualifier = source.alias_or_name if source is not None else None
    return sqlglot.exp.column("ROWTIME" if pump.table_function is None else "__cauce_rowtime", table=qualifier, quoted=False)


def _spark_sql(expression) -> str:
    return re.sub(rf"(?i)\b{_PASS}", "", expression.sql(dialect="spark"))


def _rewrite(tokens: list[Token], stagger: list | None = None, window_ends: dict | None = None) -> tuple[str, str | None]:
    """Token text with STEP and FLOOR ... TO rewritten; also the window-end expression, if any.
    A `WINDOWED BY STAGGER (...)` clause is removed, and its (partition expressions, micros) put in `stagger`."""
    out: list[str] = []
    window_end, rowtime_window = None, False
    index = 0
    while index < len(tokens):
        token = tokens[index]
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if token.upper == "WINDOWED" and [t.upper for t in tokens[index + 1:index + 4]] == ["BY", "STAGGER", "("]:
            close = _matching(tokens, index + 3)
            inner = tokens[index + 4:close]
            words = [t.upper for t in inner]
            if words[:2] != ["PARTITION", "BY"] or "RANGE" not in words:
                raise AnalyticsSqlError(f"line {token.line}, column {token.column}: WINDOWED BY STAGGER (PARTITION BY ... RANGE INTERVAL 'n' unit) expected")
            range_at = words.index("RANGE")
            keys, current = [], []
            for part in inner[2:range_at]:
                if part.text == "," and _depth(current, len(current)) == 0:
                    keys.append(_rewrite(current)[0])
                    current = []
                else:
                    current.append(part)
            keys.append(_rewrite(current)[0])
            if stagger is not None:
                stagger.extend([keys, _interval_micros(inner[range_at + 1:], token)])
            index = close + 1
            continue
        if token.upper in ("STEP", "FLOOR", "CEIL", "CEILING") and following is not None and following.text == "(":
            close = _matching(tokens, index + 1)
            inner = tokens[index + 2:close]
            keyword = "BY" if token.upper == "STEP" else "TO"
            split = next((i for i, t in enumerate(inner) if t.upper == keyword and _depth(inner, i) == 0), None)
            if split is not None:
                argument, _ = _rewrite(inner[:split])
                if token.upper == "STEP":
                    micros = _interval_micros(inner[split + 1:], token)
                    start = f"timestamp_micros(CAST(floor(unix_micros({argument}) / {micros}) * {micros} AS BIGINT))"
                    end = f"timestamp_micros(unix_micros({start}) + {micros})"  # built on the grouped expression itself
                else:
                    unit = inner[split + 1].upper if split + 1 < len(inner) else ""
                    if unit not in UNIT_MICROS and unit not in CALENDAR_UNITS:
                        raise AnalyticsSqlError(f"line {token.line}, column {token.column}: {token.upper}(... TO {unit}): the unit must be "
                                                "SECOND, MINUTE, HOUR, DAY, MONTH or YEAR")
                    start = f"date_trunc('{unit}', {argument})"
                    end = f"(date_trunc('{unit}', {argument}) + INTERVAL '1' {unit})"
                    if token.upper != "FLOOR":  # CEIL: the next unit boundary, or the time itself when it is one
                        start = end = f"CASE WHEN {start} = {argument} THEN {start} ELSE {end} END"
                out.append(start)
                # a group's rows come out when its ROWTIME window closes: a window over ROWTIME gives the
                # output ROWTIME, whatever windows over other times (FLOOR(EVENT_TIME TO MINUTE)) come before it
                over_rowtime = re.search(r"(?i)\bROWTIME\b", argument) is not None
                if window_end is None or (over_rowtime and not rowtime_window):
                    window_end, rowtime_window = end, over_rowtime
                if window_ends is not None:  # each window's end by its start, for a subquery's ROWTIME
                    window_ends[start] = end
                index = close + 1
                continue
        if token.upper == "CURRENT_ROW_TIMESTAMP" and (not index or tokens[index - 1].text != "."):
            out.append(CURRENT_ROW_TIMESTAMP)  # the output row's ROWTIME, once translate_select knows it
            index += 3 if [t.text for t in tokens[index + 1:index + 3]] == ["(", ")"] else 1
            continue
        if token.upper == "LAG" and following is not None and following.text == "(":
            lagged = _lag(tokens, index)
            if lagged is not None:
                out.append(lagged[0])
                index = lagged[1]
                continue
        if token.upper == "OVER" and following is not None and following.text == "(":
            close = _matching(tokens, index + 1)
            out.append("OVER (" + _window_spec(tokens[index + 2:close], token) + ")")
            index = close + 1
            continue
        if token.upper == "AS" and following is not None and following.text == "(" and index >= 2 and tokens[index - 2].upper == "WINDOW":
            close = _matching(tokens, index + 1)
            out.append("AS (" + _window_spec(tokens[index + 2:close], token) + ")")
            index = close + 1
            continue
        previous = tokens[index - 1] if index else None
        if token.upper in _FUNCTIONS and following is not None and following.text == "(" and (previous is None or previous.text != "."):
            close = _matching(tokens, index + 1)
            arguments = _arguments(tokens[index + 2:close])
            out.append(_FUNCTIONS[token.upper](token, [_rewrite(a)[0] for a in arguments], arguments))
            index = close + 1
            continue
        out.append(token.text)
        index += 1
    return " ".join(out), window_end


def _lag(tokens: list[Token], index: int) -> tuple[str, int] | None:
    """KDA's `LAG(expr [, N [, default]]) [IGNORE NULLS | RESPECT NULLS] OVER (window)`: expr of the row N rows back
    (N rows with a non-null expr back, with IGNORE NULLS), default (NULL) when that row is outside the window. Spark's lag takes no frame, so the frame counts the rows in it.
    The call and the index after it; None when no inline window follows (Spark then reports what it lacks)."""
    at = tokens[index]
    close = _matching(tokens, index + 1)
    after = close + 1
    words = [t.upper for t in tokens[after:after + 2]]
    ignore_nulls = words == ["IGNORE", "NULLS"]
    if words in (["IGNORE", "NULLS"], ["RESPECT", "NULLS"]):
        after += 2
    if after + 1 >= len(tokens) or tokens[after].upper != "OVER":
        return None
    if tokens[after + 1].text == "(":
        over_close = _matching(tokens, after + 1)
        spec = _window_spec(tokens[after + 2:over_close], tokens[after])
    else:  # OVER w, of the query's WINDOW w AS (...)
        named = next((i for i in range(len(tokens) - 2) if tokens[i].name == tokens[after + 1].name and tokens[i].kind in ("word", "quoted")
                      and tokens[i + 1].upper == "AS" and tokens[i + 2].text == "(" and i and tokens[i - 1].upper in ("WINDOW", ",")), None)
        if named is None:
            return None
        over_close = after + 1
        spec = _window_spec(tokens[named + 3:_matching(tokens, named + 2)], tokens[after])
    arguments = [_rewrite(a)[0] for a in _arguments(tokens[index + 2:close])]
    _arity(at, arguments, 1, 2, 3)
    offset = _whole_number(at, _arguments(tokens[index + 2:close])[1], "N") if len(arguments) > 1 else 1
    ordered = re.split(r" (?:RANGE|ROWS) BETWEEN ", spec)[0]  # the same partition and order, no frame
    default = arguments[2] if len(arguments) == 3 else "NULL"
    if ignore_nulls:  # N non-null rows back: the window must hold N non-null rows before this one
        before = f"count({arguments[0]}) OVER ({spec}) - CASE WHEN {arguments[0]} IS NULL THEN 0 ELSE 1 END"
        return (f"CASE WHEN {before} >= {offset} THEN lag({arguments[0]}, {offset}) IGNORE NULLS OVER ({ordered}) "
                f"ELSE {default} END", over_close + 1)
    return (f"CASE WHEN count(*) OVER ({spec}) > {offset} THEN lag({arguments[0]}, {offset}) OVER ({ordered}) "
            f"ELSE {default} END", over_close + 1)


def _arguments(tokens: list[Token]) -> list[list[Token]]:
    """A call's arguments: its tokens split at the top-level commas."""
    arguments, current = [], []
    for position, token in enumerate(tokens):
        if token.text == "," and _depth(tokens, position) == 0:
            arguments.append(current)
            current = []
        else:
            current.append(token)
    return arguments + [current] if current or arguments else []


def _arity(at: Token, arguments: list[str], *counts: int) -> None:
    if len(arguments) not in counts:
        expected = " or ".join(str(c) for c in counts)
        raise AnalyticsSqlError(f"line {at.line}, column {at.column}: {at.text} takes {expected} argument(s), got {len(arguments)}")


def _unix_timestamp(at: Token, arguments: list[str], _tokens: list) -> str:
    _arity(at, arguments, 1)  # KDA: milliseconds since the epoch, a BIGINT
    return f"unix_millis(CAST({arguments[0]} AS TIMESTAMP))"


def _to_timestamp(at: Token, arguments: list[str], _tokens: list) -> str:
    _arity(at, arguments, 1)  # KDA: from milliseconds since the epoch
    return f"timestamp_millis(CAST({arguments[0]} AS BIGINT))"


def _tsdiff(at: Token, arguments: list[str], _tokens: list) -> str:
    _arity(at, arguments, 2)  # KDA: the first minus the second, in milliseconds (NULL if either is)
    return f"({_epoch_millis(arguments[0])} - {_epoch_millis(arguments[1])})"


def _epoch_millis(argument: str) -> str:
    """Milliseconds since the epoch of a TIMESTAMP, or of a BIGINT that already is such a count:
    TSDIFF is documented on BIGINTs and used on TIMESTAMPs (ROWTIME), and the type is known only to Spark."""
    return f"coalesce(try_cast(CAST({argument} AS STRING) AS BIGINT), unix_millis(CAST({argument} AS TIMESTAMP)))"


def _literal(at: Token, tokens: list[Token], what: str) -> str:
    if len(tokens) != 1 or tokens[0].kind != "string":
        raise AnalyticsSqlError(f"line {at.line}, column {at.column}: {at.text}: {what} must be a string literal")
    return tokens[0].text[1:-1].replace("''", "'")


def _whole_number(at: Token, tokens: list[Token], what: str) -> int:
    if len(tokens) != 1 or tokens[0].kind != "number" or not tokens[0].text.isdigit():
        raise AnalyticsSqlError(f"line {at.line}, column {at.column}: {at.text}: {what} must be a whole number literal")
    return int(tokens[0].text)


def _regex_replace(at: Token, arguments: list[str], tokens: list[list[Token]]) -> str:
    """KDA's REGEX_REPLACE(original, regex, replacement, startPosition, occurrence): Java's replaceAll from
    startPosition when occurrence is 0, else only the occurrence-th match; the original if startPosition is past its end."""
    _arity(at, arguments, 5)
    original, regex, replacement = arguments[:3]
    start = _whole_number(at, tokens[3], "startPosition")
    occurrence = _whole_number(at, tokens[4], "occurrence")
    if start < 1:
        raise AnalyticsSqlError(f"line {at.line}, column {at.column}: REGEX_REPLACE: startPosition must be 1 or more")
    if occurrence == 0:  # Spark's regexp_replace is Java's replaceAll, from a position
        return f"{_PASS}regexp_replace({original}, {regex}, {replacement}, {start})"
    pattern = _literal(at, tokens[1], "the regex (with an occurrence other than 0)")
    if "$" in _literal(at, tokens[2], "the replacement (with an occurrence other than 0)"):
        raise AnalyticsSqlError(f"line {at.line}, column {at.column}: REGEX_REPLACE with an occurrence other than 0 and group "
                                "references ($n) in the replacement is not translated yet")
    # the shortest prefix holding occurrence-1 matches, kept; the next match replaced
    skip = f"^((?s:.*?(?:{pattern})){{{occurrence - 1}}}(?s:.*?))(?:{pattern})"
    tail = f"substring({original}, {start})"
    return (f"{_PASS}concat(substring({original}, 1, {start - 1}), {_PASS}regexp_replace({tail}, {_quote(skip)}, "
            f"{_PASS}concat('$1', {replacement}), 1))")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# Java SimpleDateFormat letters that Spark's datetime patterns read the same way
_DATE_LETTERS = set("GyMdHmsSEaKhkzZXD")


def _date_pattern(at: Token, tokens: list[Token]) -> tuple[str, int | None]:
    """A SimpleDateFormat pattern as Spark's, and the width of the text it matches when every field is numeric
    (SimpleDateFormat parses a prefix of its input and ignores what follows; Spark's parser would not)."""
    return java_date_pattern(at, _literal(at, tokens, "the format (a Java SimpleDateFormat pattern)"))


def java_date_pattern(at: Token, pattern: str) -> tuple[str, int | None]:
    """`_date_pattern` of a pattern already read from its literal (the log parsers' column formats)."""
    width: int | None = 0
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "'":
            close = pattern.find("'", index + 1)
            if close < 0:
                raise AnalyticsSqlError(f"line {at.line}, column {at.column}: {at.text}: unbalanced quote in {pattern!r}")
            width = None if width is None else width + max(close - index - 1, 1)
            index = close + 1
            continue
        run = len(pattern[index:]) - len(pattern[index:].lstrip(char))
        if char.isalpha():
            if char not in _DATE_LETTERS or (char == "S" and run != 3):
                raise AnalyticsSqlError(f"line {at.line}, column {at.column}: {at.text}: the pattern letter {char * run!r} of {pattern!r} "
                                        "is not translated (supported: G y M d H h K k m s SSS E a z Z X D)")
            if char in "EazZXG" or (char == "M" and run >= 3):
                width = None
        width = None if width is None else width + run
        index += run
    return pattern, width


def _timestamp_to_char(at: Token, arguments: list[str], tokens: list[list[Token]]) -> str:
    _arity(at, arguments, 2)  # KDA: TIMESTAMP_TO_CHAR(format, ts); a NULL timestamp gives the string 'null'
    pattern, _ = _date_pattern(at, tokens[0])
    return f"coalesce({_PASS}date_format(CAST({arguments[1]} AS TIMESTAMP), {_quote(pattern)}), 'null')"


def _char_to_timestamp(at: Token, arguments: list[str], tokens: list[list[Token]]) -> str:
    _arity(at, arguments, 2)  # KDA: CHAR_TO_TIMESTAMP(format, text); fields the format omits are 0 (days and months 1)
    return parsed_timestamp(arguments[1], *_date_pattern(at, tokens[0]))


def parsed_timestamp(text: str, pattern: str, width: int | None) -> str:
    """Spark SQL reading the text `text` with a checked SimpleDateFormat pattern, as SimpleDateFormat does."""
    text = f"CAST({text} AS STRING)" if width is None else f"substring(CAST({text} AS STRING), 1, {width})"
    return f"{_PASS}to_timestamp({text}, {_quote(pattern)})"


def _regex_groups(pattern: str) -> int:
    """How many capturing groups a Java regex has: '(' not escaped, not in a character class, not '(?:'-like
    (named groups '(?<name>' do capture)."""
    groups, index, in_class = 0, 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(" and (not pattern.startswith("?", index + 1) or
                              (pattern.startswith("?<", index + 1) and not pattern.startswith(("?<=", "?<!"), index + 1))):
            groups += 1
        index += 1
    return groups


def _regex_log_parse(at: Token, arguments: list[str], tokens: list[list[Token]]) -> str:
    """KDA's REGEX_LOG_PARSE(text, regex [, columns]): a ROW of COLUMN1..COLUMNn (VARCHAR(1024)), one per group of
    the Java regex, or the columns named and typed by the third argument; NULL when the regex does not match the text."""
    _arity(at, arguments, 2, 3)
    return _parsed_row(at, arguments, tokens, _literal(at, tokens[1], "the regex"))


def _fast_regex_log_parse(at: Token, arguments: list[str], tokens: list[list[Token]]) -> str:
    """KDA's FAST_REGEX_LOG_PARSER(text, fast_regex): like REGEX_LOG_PARSE, but every quantifier is lazy (it takes
    as little as it needs at each step) and the pattern must account for every character of the text."""
    _arity(at, arguments, 2)
    return _parsed_row(at, arguments, tokens, _lazy_regex(at, _literal(at, tokens[1], "the fast regex")))


def _lazy_regex(at: Token, pattern: str) -> str:
    """A Fast Regex pattern as a Java regex with lazy quantifiers; '@' (any string) becomes '.*?', a quoted
    string its literal text. The automaton operators (# & ~ <...>) are refused: they have no Java regex twin here."""
    out, index = [], 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            out.append(pattern[index:index + 2])
            index += 2
            continue
        if char == "[":
            close = index + 1
            while close < len(pattern) and (pattern[close] != "]" or close == index + 1):
                close += 2 if pattern[close] == "\\" else 1
            out.append(pattern[index:close + 1])
            index = close + 1
            continue
        if char == "{":
            close = pattern.find("}", index)
            out.append(pattern[index:close + 1] + "?")
            index = close + 1
            continue
        if char == '"':
            close = pattern.find('"', index + 1)
            out.append("\\Q" + pattern[index + 1:close] + "\\E")
            index = close + 1
            continue
        if char in "#&~<" or pattern.startswith("(?", index):
            raise AnalyticsSqlError(f"line {at.line}, column {at.column}: {at.text}: the fast regex construct {char!r} "
                                    "is not translated yet")
        out.append({"*": "*?", "+": "+?", "?": "??", "@": ".*?", "^": "\\^", "$": "\\$"}.get(char, char))
        index += 1
    return "".join(out)


def _parsed_row(at: Token, arguments: list[str], tokens: list[list[Token]], pattern: str) -> str:
    """The ROW of a log parser: one column per group of `pattern`, NULL unless it matches the whole text."""
    from cauce.analytics.app import Column

    count = _regex_groups(pattern)
    columns = [(f"COLUMN{i + 1}", "VARCHAR(1024)") for i in range(count)]
    if len(arguments) == 3:
        declared = [part.strip().split(None, 1) for part in _literal(at, tokens[2], "the columns").split(",") if part.strip()]
        if len(declared) != count or any(len(d) != 2 for d in declared):
            raise AnalyticsSqlError(f"line {at.line}, column {at.column}: {at.text}: the columns must be 'name TYPE, ...', one per group "
                                    f"of the regex ({count})")
        columns = [(name.strip('"'), sql_type) for name, sql_type in declared]
    if not count:
        raise AnalyticsSqlError(f"line {at.line}, column {at.column}: {at.text}: the regex has no group, so no column")
    return row_of_groups(arguments[0], pattern, [(name, Column(name, sql_type, None).spark_type) for name, sql_type in columns])


def row_of_groups(text: str, pattern: str, columns: list[tuple[str, str]]) -> str:
    """A ROW whose i-th column is the i-th group of the Java regex `pattern` cast to its Spark type,
    or, when a column's type is an expression of `{}`, that expression of the group; NULL unless it
    matches the whole text."""
    whole = _quote(f"^(?:{pattern})$")  # the regex must match the whole text (Java's Matcher.matches)
    fields = []
    for group, (name, spark_type) in enumerate(columns, start=1):
        extracted = f"{_PASS}regexp_extract({text}, {whole}, {group})"
        value = spark_type.format(extracted) if "{}" in spark_type else f"CAST({extracted} AS {spark_type})"
        fields.append(f"{_quote(name)}, {value}")
    return f"CASE WHEN {_PASS}rlike({text}, {whole}) THEN {_PASS}named_struct({', '.join(fields)}) END"


_FUNCTIONS = {"REGEX_LOG_PARSE": _regex_log_parse, "FAST_REGEX_LOG_PARSER": _fast_regex_log_parse, "FAST_REGEX_LOG_PARSE": _fast_regex_log_parse, "UNIX_TIMESTAMP": _unix_timestamp, "TO_TIMESTAMP": _to_timestamp, "TSDIFF": _tsdiff, "REGEX_REPLACE": _regex_replace,
              "TIMESTAMP_TO_CHAR": _timestamp_to_char, "CHAR_TO_TIMESTAMP": _char_to_timestamp}


def _monotonic(at: Token, arguments: list[str], _tokens: list) -> str:
    """KDA's MONOTONIC(expr): expr, declared never to change direction so that a streaming GROUP BY may use it as
    its key. Spark needs no such declaration: the value is the argument's; the pump's grouping is told apart
    by translate_select (a group's ROWTIME is its latest row's)."""
    _arity(at, arguments, 1)
    return f"({arguments[0]})"


def _translator(module: str, name: str):
    """A translator of another cauce.analytics module, imported when first used (it imports this one)."""
    def translate(at: Token, arguments: list[str], tokens: list[list[Token]]) -> str:
        import importlib

        return getattr(importlib.import_module(f"cauce.analytics.{module}"), name)(at, arguments, tokens)
    return translate


_FUNCTIONS.update({"W3C_LOG_PARSE": _translator("log_parsers", "w3c_log_parse"), "SYS_LOG_PARSE": _translator("log_parsers", "sys_log_parse"),
                   "VARIABLE_COLUMN_LOG_PARSE": _translator("log_parsers", "variable_column_log_parse"),
                   "FIXED_COLUMN_LOG_PARSE": _translator("log_parsers", "fixed_column_log_parse"), "MONOTONIC": _monotonic,
                   "SUBSTRING": _translator("string_functions", "substring"), "OVERLAY": _translator("string_functions", "overlay")})
# sqlglot would rewrite these Spark functions' arguments (date patterns, regex groups) as another dialect's:
# written under this prefix they pass through as calls it does not know, and the prefix is dropped after.
_PASS = "cauce_fn_"


def _window_spec(tokens: list[Token], at: Token) -> str:
    """A sliding window spec: ordered by ROWTIME, from n units (or rows) back to the current row."""
    words = [t.upper for t in tokens]
    frame = next((i for i, w in enumerate(words) if w in ("RANGE", "ROWS") and _depth(tokens, i) == 0), None)
    if frame is None:
        return " ".join(t.text for t in tokens)
    head = " ".join(t.text for t in tokens[:frame])
    ordered = "ORDER" in words[:frame]
    if not ordered:
        head = f"{head} ORDER BY ROWTIME".strip()
    bound = tokens[frame + 1:]
    if words[frame] == "RANGE":
        if len(bound) != 4 or bound[0].upper != "INTERVAL" or bound[3].upper != "PRECEDING" or bound[2].upper not in UNIT_MICROS:
            raise AnalyticsSqlError(f"line {tokens[frame].line}, column {tokens[frame].column}: "
                                    "RANGE INTERVAL 'n' SECOND|MINUTE|HOUR|DAY PRECEDING expected")
        if ordered:
            return f"{head} RANGE BETWEEN INTERVAL {bound[1].text} {bound[2].upper} PRECEDING AND CURRENT ROW"
        try:
            millis = int(bound[1].text.strip("'")) * UNIT_MICROS[bound[2].upper] // 1000
        except ValueError:
            raise AnalyticsSqlError(f"line {bound[1].line}, column {bound[1].column}: the interval {bound[1].text} is not a whole number") from None
        # KDA evaluates row by row: a row's window ends at the row itself, not at later rows with the
        # same ROWTIME (Spark's RANGE frame would take those peers in). So the frame is ordered by a key
        # unique per row, ROWTIME's milliseconds then the row's place among its ROWTIME's rows, and the
        # offset is chosen so that exactly the rows of the last n milliseconds (bound included) are in.
        key = f"unix_millis(ROWTIME) * {ARRIVAL_SCALE} + {SEQUENCE_COLUMN}"
        offset = (millis + 1) * ARRIVAL_SCALE - MAX_PEERS
        return f"{' '.join(t.text for t in tokens[:frame])} ORDER BY {key} RANGE BETWEEN {offset} PRECEDING AND CURRENT ROW".strip()
    if len(bound) != 2 or bound[0].kind != "number" or bound[1].upper != "PRECEDING":
        raise AnalyticsSqlError(f"line {tokens[frame].line}, column {tokens[frame].column}: ROWS n PRECEDING expected")
    return f"{head} ROWS BETWEEN {bound[0].text} PRECEDING AND CURRENT ROW"


def _stagger(pump: Pump, expression, keys: list[str], micros: int):
    """The pump's query over its windowed rows: grouped by the partition and the window each row fell in."""
    import sqlglot

    from_clause = expression.args.get("from_") or expression.args.get("from")
    table = from_clause.this if from_clause is not None else None
    if not isinstance(table, sqlglot.exp.Table):
        raise AnalyticsSqlError(f"pump {pump.name} (line {pump.line}): WINDOWED BY STAGGER needs a stream in FROM")
    alias = table.alias_or_name
    where = expression.args.get("where")
    key_sql = [_spark_sql(sqlglot.parse_one(k, read="postgres")) for k in keys]
    view = f"__cauce_stagger_{re.sub(r'[^A-Za-z0-9_]', '_', pump.name)}"
    # the app's own SQL, re-rendered by sqlglot: no outside value is interpolated
    view_sql = (f"SELECT *, {', '.join(f'{k} AS __cauce_key_{i}' for i, k in enumerate(key_sql))} "  # nosec B608
                f"FROM {table.sql(dialect='spark')}" + (f" WHERE {_spark_sql(where.this)}" if where is not None else ""))
    pump.stagger = Stagger(view, view_sql, [f"__cauce_key_{i}" for i in range(len(keys))], micros)
    expression = expression.copy()
    expression.set("where", None)
    (expression.args.get("from_") or expression.args.get("from")).set("this", sqlglot.exp.to_table(view).as_(alias))
    expression = expression.group_by(*[sqlglot.parse_one(k, read="postgres") for k in keys], "__cauce_window_open", "__cauce_window_close", append=False)
    return expression, sqlglot.exp.column("__cauce_window_close")


def _matching(tokens: list[Token], open_index: int) -> int:
    depth = 0
    for index in range(open_index, len(tokens)):
        depth += tokens[index].text == "("
        depth -= tokens[index].text == ")"
        if depth == 0:
            return index
    where = tokens[open_index]
    raise AnalyticsSqlError(f"line {where.line}, column {where.column}: unbalanced parenthesis")


def _depth(tokens: list[Token], position: int) -> int:
    return sum((t.text == "(") - (t.text == ")") for t in tokens[:position])


def _interval_micros(tokens: list[Token], at: Token) -> int:
    """`INTERVAL 'n' UNIT` in microseconds."""
    if len(tokens) != 3 or tokens[0].upper != "INTERVAL" or tokens[1].kind != "string" or tokens[2].upper not in UNIT_MICROS:
        raise AnalyticsSqlError(f"line {at.line}, column {at.column}: STEP(... BY INTERVAL 'n' SECOND|MINUTE|HOUR|DAY) expected")
    try:
        amount = int(tokens[1].text.strip("'"))
    except ValueError:
        raise AnalyticsSqlError(f"line {tokens[1].line}, column {tokens[1].column}: the interval {tokens[1].text} is not a whole number") from None
    if amount <= 0:
        raise AnalyticsSqlError(f"line {tokens[1].line}, column {tokens[1].column}: the interval must be positive")
    return amount * UNIT_MICROS[tokens[2].upper]
