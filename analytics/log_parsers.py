"""KDA's log parsers, W3C_LOG_PARSE, VARIABLE_COLUMN_LOG_PARSE, FIXED_COLUMN_LOG_PARSE and SYS_LOG_PARSE, as Spark SQL.

Each returns a ROW (a Spark struct) addressed as in KDA: `t.r.COLUMN1`, or `l.r."name"` for declared columns.
They are written here as Spark SQL expressions (regular expressions, `regexp_extract_all`, `substring`) rather
than as Python UDFs, which would move every row through Python; what the KDA SQL reference leaves open is
decided as said in each function's docstring and in docs/analytics.md.
"""

from __future__ import annotations

import re

from cauce.analytics.dialect import (_PASS, AnalyticsSqlError, Token, _arity, _literal, _quote, java_date_pattern, parsed_timestamp,
                                     row_of_groups)

DEFAULT_TEXT = "VARCHAR(1024)"  # the type of a parser's columns when the call does not declare them
# Apache's format letters that W3C_LOG_PARSE gives a numeric column ("W3C Format Specifiers": "%b represents the
# number of bytes sent ..., so the column type is numeric"); a '-' in such a field is NULL
_NUMERIC_SPECIFIERS = {"b": "BIGINT", "D": "BIGINT", "T": "BIGINT", "I": "BIGINT", "O": "BIGINT", "p": "INTEGER",
                       "P": "INTEGER", "s": "INTEGER"}
_TEXT_SPECIFIERS = set("aABCefhHilmnoqrtuUvVX")
# "W3C Predefined Formats" of the KDA SQL reference
W3C_FORMATS = {
    "COMMON": '%h %l %u %t "%r" %>s %b',
    "COMMON WITH VHOST": '%v %h %l %u %t "%r" %>s %b',
    "NCSA EXTENDED": '%h %l %u %t "%r" %>s %b "%[Referer]i" "%[User-agent]i"',
    "REFERER": "%[Referer]i ---> %U",
    "AGENT": "%[User-agent]i",
}
_SPECIFIER = re.compile(r"%(?P<condition>!?\d{3}(?:,\d{3})*)?(?P<redirect>[<>])?(?:\{(?P<brace>[^}]*)\}|\[(?P<bracket>[^\]]*)\])?(?P<letter>[A-Za-z%])")
_COLUMN = re.compile(r"""^\s*(?P<name>"(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_$]*)\s+(?:TYPE\s+)?(?P<type>[A-Za-z]+(?:\s+[A-Za-z]+)*?(?:\s*\([^)]*\))?)"""
                     r"""(?:\s+'(?P<format>(?:[^']|'')*)')?(?:\s+(?P<not_null>NOT\s+NULL))?"""
                     r"""(?:\s+START\s+(?P<start>\d+)(?:\s+FOR\s+(?P<width>\d+))?)?\s*$""", re.I | re.S)
_SIZED = re.compile(r"^(VARCHAR|CHAR|CHARACTER VARYING|DECIMAL|NUMERIC)\s*\(\s*\d+\s*(?:,\s*\d+\s*)?\)$", re.I)
_SIMPLE = {"TIMESTAMP", "DATE", "BOOLEAN", "INTEGER", "INT", "BIGINT", "SMALLINT", "TINYINT", "DOUBLE", "REAL", "FLOAT"}


def java_literal(text: str) -> str:
    """`text` as a Java regex matching itself: every character not a letter or digit backslashed."""
    return "".join(char if char.isalnum() else "\\" + char for char in text)


def _error(at: Token, message: str) -> AnalyticsSqlError:
    return AnalyticsSqlError(f"line {at.line}, column {at.column}: {at.text}: {message}")


def w3c_log_parse(at: Token, arguments: list[str], tokens: list[list[Token]]) -> str:
    """W3C_LOG_PARSE(text, format): a ROW of COLUMN1..COLUMNn, one per specifier of the format (a predefined
    format's name or Apache's mod_log_config specifiers), text or numeric by specifier; NULL when the line
    does not have the format's shape. %t is the time with its brackets; a format's "[%t]" gives it without."""
    _arity(at, arguments, 2)
    name = _literal(at, tokens[1], "the format")
    upper = " ".join(name.upper().split())
    if upper == "IIS":
        raise _error(at, "the IIS format: the KDA SQL reference gives no specifiers for it; write them out as a custom format")
    if upper in W3C_FORMATS:
        form = W3C_FORMATS[upper]
    elif "%" in name:
        form = name.replace('\\"', '"')
    else:
        raise _error(at, f"{name!r} is neither a predefined format ({', '.join(W3C_FORMATS)}) nor Apache log format specifiers")
    pattern, columns, position = [], [], 0
    for match in _SPECIFIER.finditer(form):
        pattern.append(java_literal(form[position:match.start()]))
        position = match.end()
        letter = match.group("letter")
        if letter == "%":
            pattern.append("%")
            continue
        if letter not in _NUMERIC_SPECIFIERS and letter not in _TEXT_SPECIFIERS:
            raise _error(at, f"the format specifier {match.group()!r} is not one of Apache's (W3C Format Specifiers)")
        named = match.group("brace") or match.group("bracket")
        if letter == "t" and named is None:  # [day/month/year:time zone], or what is between brackets of the format
            pattern.append(r"(\[[^\]]*\]|[^\[\]]*?)")
        elif letter in _NUMERIC_SPECIFIERS:
            pattern.append(r"(-|-?\d+)")
        else:
            pattern.append("(.*?)")
        sql_type = _NUMERIC_SPECIFIERS.get(letter, DEFAULT_TEXT)
        columns.append((f"COLUMN{len(columns) + 1}", _converted(at, sql_type, None)))
    pattern.append(java_literal(form[position:]))
    if not columns:
        raise _error(at, f"the format {name!r} has no specifier, so no column")
    return row_of_groups(arguments[0], "".join(pattern), columns)


def sys_log_parse(at: Token, arguments: list[str], _tokens: list) -> str:
    """SYS_LOG_PARSE(text): syslog's 'Mon DD HH:MM:SS server message' as COLUMN1, the TIMESTAMP (in the year 1970:
    the line has none, and SimpleDateFormat sets what its pattern lacks to the epoch's), and COLUMN2, the rest;
    NULL when the line does not start with such a time."""
    _arity(at, arguments, 1)
    stamp = f"{_PASS}to_timestamp({_PASS}regexp_replace({{}}, ' +', ' '), 'MMM d HH:mm:ss')"  # RFC 3164 pads the day with a space
    return row_of_groups(arguments[0], r"([A-Z][a-z]{2} [ \d]?\d \d{2}:\d{2}:\d{2}) (.*)",
                         [("COLUMN1", stamp), ("COLUMN2", _converted(at, DEFAULT_TEXT, None))])


def variable_column_log_parse(at: Token, arguments: list[str], tokens: list[list[Token]]) -> str:
    """VARIABLE_COLUMN_LOG_PARSE(text, columns, delimiter [, escape, quote]): the text split at each delimiter (a
    string of one or more characters) that is not escaped (the escape character before it) nor in quotes (the
    quote string's first character opens them, its second, or the first again, closes them). Quotes and escape
    characters are dropped from the fields. `columns` is a count (COLUMN1..COLUMNn, VARCHAR(1024)) or
    'name TYPE type [format] [NOT NULL], ...'; fields past the last column are ignored, missing ones NULL."""
    _arity(at, arguments, 3, 5)
    columns = _columns(at, tokens[1], fixed=False)
    delimiter = _literal(at, tokens[2], "the delimiter")
    if not delimiter:
        raise _error(at, "the delimiter is empty")
    escape = _literal(at, tokens[3], "the escape string") if len(arguments) == 5 else ""
    quote = _literal(at, tokens[4], "the quote string") if len(arguments) == 5 else ""
    if len(escape) > 1 or len(quote) > 2:
        raise _error(at, "the escape string is one character (or empty) and the quote string one or two")
    begin, end = (quote[0], quote[-1]) if quote else ("", "")
    special = "".join(java_literal(c) for c in {escape, begin, end} if c)
    parts = [f"{java_literal(escape)}." if escape else None,
             f"{java_literal(begin)}[^{java_literal(end)}]*{java_literal(end)}" if quote else None,
             f"(?!{java_literal(delimiter)})" + (f"[^{special}]" if special else ".")]
    field_regex = "(?:" + "|".join(p for p in parts if p) + ")*"
    fields = f"{_PASS}regexp_extract_all({arguments[0]}, {_quote(f'(?s)(?:^|{java_literal(delimiter)})({field_regex})')}, 1)"
    unquote = "|".join(p for p in [f"{java_literal(escape)}(.)" if escape else None,
                                     f"{java_literal(begin)}([^{java_literal(end)}]*){java_literal(end)}" if quote else None] if p)
    values = []
    for index, (name, convert) in enumerate(columns, start=1):
        field = f"try_element_at({fields}, {index})"
        if unquote:
            field = f"{_PASS}regexp_replace({field}, {_quote('(?s)' + unquote)}, {_quote('$1$2' if escape and quote else '$1')})"
        values.append(f"{_quote(name)}, {convert.format(field)}")
    return f"CASE WHEN {arguments[0]} IS NOT NULL THEN {_PASS}named_struct({', '.join(values)}) END"


def fixed_column_log_parse(at: Token, arguments: list[str], tokens: list[list[Token]]) -> str:
    """FIXED_COLUMN_LOG_PARSE(text, 'name TYPE type [format] [NOT NULL] START n [FOR width], ...'): each column the
    text from character n (the first is 0) for `width` characters, or to the end, converted to its type."""
    _arity(at, arguments, 2)
    values = [f"{_quote(name)}, {convert.format(f'substring({arguments[0]}, {start + 1}' + (f', {width})' if width is not None else ')'))}"
              for name, convert, start, width in _columns(at, tokens[1], fixed=True)]
    return f"CASE WHEN {arguments[0]} IS NOT NULL THEN {_PASS}named_struct({', '.join(values)}) END"


def _columns(at: Token, tokens: list[Token], fixed: bool) -> list:
    """A parser's columns: (name, conversion) from a count or a column list; with START and FOR when `fixed`."""
    if not fixed and len(tokens) == 1 and tokens[0].kind == "number":
        if not tokens[0].text.isdigit() or int(tokens[0].text) < 1:
            raise _error(at, "the number of columns must be a whole number, 1 or more")
        return [(f"COLUMN{i}", _converted(at, DEFAULT_TEXT, None)) for i in range(1, int(tokens[0].text) + 1)]
    spec = _literal(at, tokens, "the columns (a count or 'name TYPE type, ...')" if not fixed else "the columns ('name TYPE type START n FOR w, ...')")
    columns = []
    for description in _split_columns(spec):
        match = _COLUMN.match(description)
        if match is None:
            raise _error(at, f"the column description {description.strip()!r} is not '<name> TYPE <type> [<format>] [NOT NULL]"
                             + (" START <n> [FOR <width>]'" if fixed else "'"))
        name = match.group("name")
        name = name[1:-1].replace('""', '"') if name.startswith('"') else name.upper()
        if fixed != (match.group("start") is not None):
            raise _error(at, f"the column {name} " + ("needs START <n>" if fixed else "takes no START (that is FIXED_COLUMN_LOG_PARSE's)"))
        date_format = match.group("format").replace("''", "'") if match.group("format") is not None else None
        convert = _converted(at, " ".join(match.group("type").split()), date_format)
        if fixed:
            width = match.group("width")
            columns.append((name, convert, int(match.group("start")), int(width) if width is not None else None))
        else:
            columns.append((name, convert))
    if not columns:
        raise _error(at, "no column is described")
    return columns


def _split_columns(spec: str) -> list[str]:
    """Column descriptions: the spec split at commas outside parentheses and quotes."""
    parts, current, depth, quote = [], [], 0, ""
    for char in spec:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    return [p for p in [*parts, "".join(current)] if p.strip()]


def _converted(at: Token, sql_type: str, date_format: str | None) -> str:
    """A Spark SQL template (`{}` the field's text) converting a field to `sql_type`; a field that is not a value
    of the type (a '-' for a number) is NULL. TIMESTAMP and DATE read `date_format` as SimpleDateFormat does."""
    from cauce.analytics.app import Column

    upper = sql_type.upper()
    if upper not in _SIMPLE and not _SIZED.match(upper):
        raise _error(at, f"the column type {sql_type!r} is not one of {', '.join(sorted(_SIMPLE))}, VARCHAR(n), CHAR(n), DECIMAL(p,s)")
    if date_format is not None:
        if upper not in ("TIMESTAMP", "DATE"):
            raise _error(at, f"a format {date_format!r} is for a TIMESTAMP or DATE column, not {sql_type}")
        pattern, width = java_date_pattern(at, date_format)
        stamp = parsed_timestamp("{}", pattern, width)
        return stamp if upper == "TIMESTAMP" else f"CAST({stamp} AS DATE)"
    spark_type = Column("x", upper, None).spark_type
    return "CAST({} AS STRING)" if spark_type == "string" else f"try_cast({{}} AS {spark_type})"
