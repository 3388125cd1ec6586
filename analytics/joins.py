"""Stream-to-stream joins over windows, and ROWTIME carried through subqueries.

Kinesis Data Analytics SQL Reference, "JOIN clause" (Stream-to-Stream Joins): at least one of the
two streams is restricted to a time window by an OVER clause after it in FROM,
`JOIN "S" OVER (RANGE INTERVAL '1' MINUTE PRECEDING) AS s`, or `OVER w` naming a `WINDOW w AS (...)`;
a side without a window takes part with its current row only. Read as a join over all of both
streams, a pair (l, r) joins when, at the later row's arrival, the earlier one is still in its side's
window: l.ROWTIME - window(r's side) <= r.ROWTIME <= l.ROWTIME + window(l's side), bounds included.
That is a plain Spark join with a time condition added to ON, so INNER, LEFT, RIGHT, FULL and CROSS
joins keep Spark's meaning.

ROWTIME of a joined row: the moment it can be computed, the later of the two rows' ROWTIMEs. An outer
join's row without a match is emitted when its window closes (no later row can match it any more): its
ROWTIME is its own ROWTIME plus its side's window (KDA, like the SQLstream engine it runs, "the later bound
of the window ... at the point any possible match passed out of the window"). The unqualified ROWTIME
operator in the query is that output ROWTIME.

ORDER BY (SQL Reference, "ORDER BY clause"): a streaming ORDER BY leads with a time-based, monotonic expression
(`ORDER BY FLOOR(s.ROWTIME TO MINUTE), state, SUM(amount) DESC`) and sorts the rows of each time bucket. A stream's
rows are listed in ROWTIME order; the pump's ORDER BY becomes a hidden rank column (ORDER_COLUMN) that orders the
rows of one ROWTIME, instead of a sort Spark would not keep through the stream's union and views.

ROWTIME through subqueries: every stream has ROWTIME, and a subquery in FROM is a stream, so `t.ROWTIME`
and the output ROWTIME resolve even when the inner SELECT lists only other columns: the inner query is
given its ROWTIME (its source's, or its window's end when it groups by a STEP or FLOOR window).
"""

from __future__ import annotations

from typing import Any

from cauce.analytics.dialect import UNIT_MICROS, AnalyticsSqlError, Token, _matching

ORDER_COLUMN = "__cauce_order"
_AFTER_SOURCE = {"ON", "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "OUTER", "WHERE", "GROUP", "HAVING", "ORDER",
                 "WINDOW", "WINDOWED", "UNION", "LIMIT", ",", ")", ";"}


def strip_join_windows(tokens: list[Token]) -> tuple[list[Token], dict[str, int]]:
    """The tokens without the OVER clauses that follow a stream in FROM or JOIN (and the WINDOW definitions
    only they use), and each windowed stream's window in microseconds, by its alias (upper case)."""
    windows: dict[str, int] = {}
    named = _named_windows(tokens)
    used_names: set[str] = set()
    out: list[Token] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.upper == "WITHIN" and [t.upper for t in tokens[index + 1:index + 2]] == ["INTERVAL"]:
            # T-sort, `ORDER BY expr WITHIN INTERVAL 'n' unit`: the whole input is at hand, so rows are in ROWTIME order already
            index += 4
            continue
        if (token.upper == "OVER" and index >= 2 and tokens[index - 1].kind in ("word", "quoted")
                and tokens[index - 2].upper in ("FROM", "JOIN")):
            stream = tokens[index - 1]
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            if following is not None and following.text == "(":
                close = _matching(tokens, index + 1)
                micros = _range_micros(tokens[index + 2:close], token)
                index = close + 1
                alias_token = None
            elif following is not None and following.kind in ("word", "quoted") and following.name.upper() in named:
                micros = _range_micros(named[following.name.upper()], following)
                used_names.add(following.name.upper())
                index += 2
                alias_token = following  # `JOIN TradeStream OVER t ON ...`: the window's name is the stream's alias
            else:
                raise AnalyticsSqlError(f"line {token.line}, column {token.column}: OVER after {stream.text} needs a window: "
                                        "(RANGE INTERVAL 'n' unit PRECEDING) or the name of a WINDOW clause's window")
            rest = tokens[index:]
            if rest and rest[0].upper == "AS" and len(rest) > 1:
                alias_token, index = rest[1], index + 2
            elif rest and rest[0].kind in ("word", "quoted") and rest[0].upper not in _AFTER_SOURCE:
                alias_token, index = rest[0], index + 1
            if alias_token is not None:
                out.extend([Token("word", "AS", token.line, token.column), alias_token])
            windows[(alias_token or stream).name.upper()] = micros
            continue
        out.append(token)
        index += 1
    return _without_window_definitions(out, used_names), windows


def _named_windows(tokens: list[Token]) -> dict[str, list[Token]]:
    """`WINDOW w AS (spec)` definitions at the top level: name -> the spec's tokens."""
    found = {}
    for index, token in enumerate(tokens):
        if token.upper == "WINDOW" and index + 3 < len(tokens) and tokens[index + 2].upper == "AS" and tokens[index + 3].text == "(":
            found[tokens[index + 1].name.upper()] = tokens[index + 4:_matching(tokens, index + 3)]
    return found


def _without_window_definitions(tokens: list[Token], names: set[str]) -> list[Token]:
    """The tokens without `WINDOW name AS (...)` for the join windows `names` (Spark knows only analytic windows)."""
    index = 0
    out: list[Token] = []
    while index < len(tokens):
        token = tokens[index]
        if (token.upper == "WINDOW" and index + 3 < len(tokens) and tokens[index + 1].name.upper() in names
                and tokens[index + 2].upper == "AS" and tokens[index + 3].text == "("):
            index = _matching(tokens, index + 3) + 1
            if index < len(tokens) and tokens[index].text == ",":  # more definitions follow: keep the WINDOW keyword
                out.append(token)
                index += 1
            continue
        out.append(token)
        index += 1
    return out


def _range_micros(spec: list[Token], at: Token) -> int:
    words = [t.upper for t in spec]
    if words[:1] == ["ROWS"]:
        raise AnalyticsSqlError(f"line {at.line}, column {at.column}: a join over a row window (ROWS n PRECEDING) is not "
                                "translated yet; a time window (RANGE INTERVAL 'n' unit PRECEDING) is")
    if (len(spec) != 5 or words[0] != "RANGE" or words[1] != "INTERVAL" or spec[2].kind != "string"
            or words[3] not in UNIT_MICROS or words[4] != "PRECEDING"):
        raise AnalyticsSqlError(f"line {at.line}, column {at.column}: a join window must be RANGE INTERVAL 'n' "
                                "SECOND|MINUTE|HOUR|DAY PRECEDING")
    try:
        amount = int(spec[2].text.strip("'"))
    except ValueError:
        raise AnalyticsSqlError(f"line {spec[2].line}, column {spec[2].column}: the interval {spec[2].text} is not a whole number") from None
    return amount * UNIT_MICROS[words[3]]


def _qualifier(source: Any) -> Any:
    """The identifier a source's columns are qualified by: its alias, else its name (quoting kept)."""
    alias = source.args.get("alias")
    return (alias.this if alias is not None else source.this).copy()


def _rowtime(qualifier: Any) -> Any:
    import sqlglot

    return sqlglot.exp.Column(this=sqlglot.exp.to_identifier("ROWTIME"), table=qualifier.copy())


def _plus(expression: Any, micros: int) -> Any:
    import sqlglot

    if not micros:
        return expression
    return sqlglot.exp.Add(this=expression, expression=sqlglot.parse_one(f"INTERVAL '{micros // 10**6}' SECOND", read="postgres"))


def stream_join(pump: Any, expression: Any, windows: dict[str, int], stream_joins: list, references: frozenset[str] = frozenset()) -> Any:
    """The pump's join of two streams, with its time condition; returns the output ROWTIME expression,
    which also replaces the unqualified ROWTIME operator in the query."""
    import sqlglot

    exp = sqlglot.exp
    from_clause = expression.args.get("from_") or expression.args.get("from")
    if len(stream_joins) != 1:
        raise AnalyticsSqlError(f"pump {pump.name} (line {pump.line}): a join of more than two streams is not translated yet")
    join = stream_joins[0]
    if from_clause is None:
        raise AnalyticsSqlError(f"pump {pump.name} (line {pump.line}): a JOIN needs a stream in FROM before it")
    left, right = from_clause.this, join.this
    left_name, right_name = _qualifier(left), _qualifier(right)
    left_window, right_window = windows.get(left_name.name.upper()), windows.get(right_name.name.upper())
    if left_window is None and right_window is None:
        raise AnalyticsSqlError(f"pump {pump.name} (line {pump.line}): a join of the streams {left.name} and {right.name} needs a window "
                                f"on at least one of them, as in JOIN {right.name} OVER (RANGE INTERVAL '1' MINUTE PRECEDING) AS ...; "
                                f"a join with reference data names a table of the app's reference data "
                                f"({', '.join(sorted(references)) or 'none declared'})")
    left_window, right_window = left_window or 0, right_window or 0
    pump.join_micros = left_window + right_window
    left_time, right_time = _rowtime(left_name), _rowtime(right_name)
    in_windows = exp.and_(exp.GTE(this=right_time.copy(), expression=_minus(left_time.copy(), right_window)),
                          exp.LTE(this=right_time.copy(), expression=_plus(left_time.copy(), left_window)))
    condition = join.args.get("on")
    join.set("on", exp.and_(condition, in_windows) if condition is not None else in_windows)
    if join.args.get("kind") == "CROSS":
        join.set("kind", None)
    side = join.args.get("side") or ""
    rowtime = exp.Greatest(this=left_time.copy(), expressions=[right_time.copy()])
    if side in ("LEFT", "FULL") or side in ("RIGHT", "FULL"):
        cases = exp.Case()
        if side in ("LEFT", "FULL"):
            cases = cases.when(exp.Is(this=right_time.copy(), expression=exp.Null()), _plus(left_time.copy(), left_window))
        if side in ("RIGHT", "FULL"):
            cases = cases.when(exp.Is(this=left_time.copy(), expression=exp.Null()), _plus(right_time.copy(), right_window))
        rowtime = cases.else_(rowtime)
    for column in list(expression.find_all(exp.Column)):
        if column.name.upper() == "ROWTIME" and not column.table and column.find_ancestor(exp.Subquery) is None:
            column.replace(rowtime.copy())
    return rowtime


def _minus(expression: Any, micros: int) -> Any:
    import sqlglot

    if not micros:
        return expression
    return sqlglot.exp.Sub(this=expression, expression=sqlglot.parse_one(f"INTERVAL '{micros // 10**6}' SECOND", read="postgres"))


def carry_rowtime(select: Any, window_ends: dict[str, str], depth: int = 0) -> None:
    """Give each subquery in FROM or JOIN whose SELECT does not list ROWTIME its ROWTIME (and a name if it has none)."""
    import sqlglot

    exp = sqlglot.exp
    from_clause = select.args.get("from_") or select.args.get("from")
    sources = ([from_clause.this] if from_clause is not None else []) + [j.this for j in select.args.get("joins") or []]
    for number, source in enumerate(sources):
        if not isinstance(source, exp.Subquery) or not isinstance(source.this, exp.Select):
            continue
        inner = source.this
        carry_rowtime(inner, window_ends, depth + 1)
        if source.args.get("alias") is None:
            source.set("alias", exp.TableAlias(this=exp.to_identifier(f"__cauce_from_{depth}_{number}")))
        listed = any(isinstance(p, exp.Star) or (isinstance(p, exp.Column) and isinstance(p.this, exp.Star))
                     or p.alias_or_name.upper() == "ROWTIME" for p in inner.expressions)
        if listed:
            continue
        rowtime = inner_rowtime(inner, window_ends)
        if rowtime is not None:
            inner.select(exp.alias_(rowtime, "ROWTIME"), copy=False)
            alias = source.args["alias"]
            if alias.columns:  # `AS l(r)` names the listed columns: the carried ROWTIME gets its own name after them
                alias.append("columns", exp.to_identifier("ROWTIME"))


def inner_rowtime(select: Any, window_ends: dict[str, str]) -> Any:
    """A SELECT's ROWTIME: its window's end when it groups by a STEP or FLOOR window, else its source's ROWTIME."""
    import sqlglot

    exp = sqlglot.exp
    group = select.args.get("group")
    if group is not None:
        rendered = {sqlglot.parse_one(start, read="postgres").sql(): end for start, end in window_ends.items()}
        windows = [expression.sql() for expression in group.expressions if expression.sql() in rendered]
        # the window over ROWTIME, if one: its end is when the group's row comes out (see dialect._rewrite)
        windows.sort(key=lambda start: not any(column.name.upper() == "ROWTIME" for column in sqlglot.parse_one(start).find_all(exp.Column)))
        if windows:
            return sqlglot.parse_one(rendered[windows[0]], read="postgres")
        return None  # no window to give it a ROWTIME: Spark's analyzer names what is missing
    from_clause = select.args.get("from_") or select.args.get("from")
    if from_clause is None:
        return None
    return _rowtime(_qualifier(from_clause.this)) if from_clause.this.args.get("alias") is not None or isinstance(from_clause.this, exp.Table) else None


def order_by_as_rank(select: Any) -> Any:
    """The SELECT with its ORDER BY as the hidden ORDER_COLUMN: each row's rank in that order."""
    import sqlglot

    exp = sqlglot.exp
    order = select.args.get("order")
    if order is None:
        return select
    select = select.copy()
    select.set("order", None)
    rank = exp.Window(this=exp.RowNumber(), order=order.copy())
    return select.select(exp.alias_(rank, ORDER_COLUMN), copy=False)


def rowtime_alias(select: Any) -> Any:
    """`expr AS ROWTIME` in the SELECT list, removed from it: KDA's ROWTIME alias, which sets the output row's
    ROWTIME (SQL Reference, "ROWTIME": "As a column alias, to override the timestamp on the current row")."""
    import sqlglot

    exp = sqlglot.exp
    for projection in select.expressions:
        if (isinstance(projection, exp.Alias) and projection.alias.upper() == "ROWTIME"
                and not (isinstance(projection.this, exp.Column) and projection.this.name.upper() == "ROWTIME")):
            select.set("expressions", [p for p in select.expressions if p is not projection])
            return projection.this
    return None
