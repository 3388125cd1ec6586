"""Examples of the Kinesis Data Analytics SQL *reference* (docs.aws.amazon.com/kinesisanalytics/latest/sqlref/), run as
KDA apps on Spark: each test names its page, and asserts the rows the page prints or that follow from what it states."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cauce.analytics.app import AnalyticsApp, parse_schema
from cauce.analytics.dialect import AnalyticsSqlError
from cauce.analytics.runtime import check, run

SQLREF = "https://docs.aws.amazon.com/kinesisanalytics/latest/sqlref/"
LINE = parse_schema({"RecordColumns": [{"Name": "log", "SqlType": "VARCHAR(512)"}]}, "logs")


def at(second: int, minute: int = 0) -> str:
    return f"2026-11-26T10:{minute:02d}:{second:02d}Z"


def ts(second: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, 26, 10, minute, second)


def one_row(spark, columns: dict[str, tuple[str, str]], records=None, schema=LINE) -> dict:
    """The single output row of a pump selecting `columns` ({name: (SQL type, expression)}) from one record."""
    rows = outputs(spark, columns, records or [{"log": "x", "_arrival_time": at(1)}], schema)
    assert len(rows) == 1
    return {name: value for name, value in rows[0].items() if name != "ROWTIME"}


def outputs(spark, columns: dict[str, tuple[str, str]], records, schema=LINE, source='"SOURCE_SQL_STREAM_001"', tail="") -> list[dict]:
    declared = ", ".join(f'"{name}" {sql_type}' for name, (sql_type, _) in columns.items())
    selected = ", ".join(expression for _, expression in columns.values())
    sql = (f'CREATE OR REPLACE STREAM "OUT" ({declared});\n'
           f'CREATE OR REPLACE PUMP "P" AS INSERT INTO "OUT"\n  SELECT STREAM {selected} FROM {source} {tail};')
    result = run(AnalyticsApp("reference", sql, schema), records, spark)
    assert result.errors == []
    return result.outputs["OUT"]


def refusal(sql_select: str) -> str:
    sql = f'CREATE OR REPLACE STREAM "OUT" ("a" VARCHAR(64));\nCREATE OR REPLACE PUMP "P" AS INSERT INTO "OUT"\n  {sql_select};'
    with pytest.raises(AnalyticsSqlError) as error:
        check(AnalyticsApp("reference", sql, LINE))
    return str(error.value)


# --- String and search functions ------------------------------------------------------------------------------------

def test_initcap(spark):
    # SQLREF sql-reference-initcap.html
    assert one_row(spark, {"r": ("VARCHAR(64)", "INITCAP('Each FIRST lEtTeR is cAPITALIZED')")}) == {"r": "Each First Letter Is Capitalized"}


def test_upper_lower_and_char_length(spark):
    # SQLREF sql-reference-upper.html, sql-reference-lower.html, sql-reference-char-length.html (a CHAR(16) is blank-padded)
    columns = {"up": ("VARCHAR(16)", "UPPER('abcDEFghi123')"), "low": ("VARCHAR(16)", "LOWER('abcDEFghi123')"),
               "one": ("INTEGER", "CHAR_LENGTH('one')"), "empty": ("INTEGER", "CHAR_LENGTH('')"), "fred": ("INTEGER", "CHARACTER_LENGTH('fred')"),
               "null": ("INTEGER", "CHARACTER_LENGTH(CAST(NULL AS VARCHAR(16)))"), "padded": ("INTEGER", "CHARACTER_LENGTH(CAST('fred' AS CHAR(16)))")}
    assert one_row(spark, columns) == {"up": "ABCDEFGHI123", "low": "abcdefghi123", "one": 3, "empty": 0, "fred": 4, "null": None, "padded": 16}


def test_overlay_examples(spark):
    # SQLREF sql-reference-overlay.html: a start below 1 puts 1 - start characters of the replacement first
    examples = {"FROM 1": "foo45", "FROM 0": "foo345", "FROM -2": "foo12345", "FROM 4": "123foo", "FROM 17": "12345foo",
                "FROM 2 FOR 0": "1foo2345", "FROM 2 FOR 2": "1foo45", "FROM 2 FOR 9": "1foo"}
    columns = {f"c{i}": ("VARCHAR(16)", f"OVERLAY('12345' PLACING 'foo' {form})") for i, form in enumerate(examples)}
    assert one_row(spark, columns) == {f"c{i}": result for i, result in enumerate(examples.values())}


def test_overlay_of_a_null_is_null(spark):
    # SQLREF sql-reference-overlay.html: "If any of the input arguments are null, the result is null."
    assert one_row(spark, {"r": ("VARCHAR(16)", "OVERLAY(CAST(NULL AS VARCHAR(5)) PLACING 'foo' FROM 1)")}) == {"r": None}


def test_position_examples(spark):
    # SQLREF sql-reference-position.html
    examples = [("'findme' IN '1234findmeXXX'", 5), ("'findme' IN '1234not-hereXXX'", 0), ("'1' IN '1234567'", 1),
                ("'7' IN '1234567'", 7), ("'' IN '1234567'", 1)]
    columns = {f"c{i}": ("INTEGER", f"POSITION({form})") for i, (form, _) in enumerate(examples)}
    assert one_row(spark, columns) == {f"c{i}": result for i, (_, result) in enumerate(examples)}


def test_trim_examples(spark):
    # SQLREF sql-reference-trim.html
    examples = [("' Trim front and back '", "Trim front and back"), ("BOTH FROM ' Trim front and back '", "Trim front and back"),
                ("BOTH ' ' FROM ' Trim front and back '", "Trim front and back"), ("LEADING 'x' FROM 'xxxTrim frontxxx'", "Trim frontxxx"),
                ("TRAILING 'x' FROM 'xxxTrimxBackxxx'", "xxxTrimxBack"), ("BOTH 'y' FROM 'xxxNo y to trimxxx'", "xxxNo y to trimxxx")]
    columns = {f"c{i}": ("VARCHAR(32)", f"TRIM({form})") for i, (form, _) in enumerate(examples)}
    assert one_row(spark, columns) == {f"c{i}": result for i, (_, result) in enumerate(examples)}


def test_substring_from_for(spark):
    # SQLREF sql-reference-substring.html, "FROM/ FOR": a start below 1 shortens the length; past the end, ''
    examples = [("FROM 3 FOR 4", "3456"), ("FROM 17 FOR 4", ""), ("FROM -1 FOR 4", "12"), ("FROM 6 FOR 0", ""), ("FROM 8 FOR 4", "89")]
    columns = {f"c{i}": ("VARCHAR(16)", f"SUBSTRING('123456789' {form})") for i, (form, _) in enumerate(examples)}
    assert one_row(spark, columns) == {f"c{i}": result for i, (_, result) in enumerate(examples)}


def test_substring_from_a_regex(spark):
    # SQLREF sql-reference-substring.html, "FROM Regex": the first match, NULL when none
    columns = {"a": ("VARCHAR(16)", "SUBSTRING('TECHNOLOGY' FROM 'L[A-Z]*')"), "b": ("VARCHAR(16)", "SUBSTRING('TECHNOLOGY' FROM 'FOO')"),
               "c": ("VARCHAR(16)", "SUBSTRING('TECHNOLOGY' FROM 'O[A-Z]')")}
    assert one_row(spark, columns) == {"a": "LOGY", "b": None, "c": "OL"}


def test_substring_with_commas(spark):
    # SQLREF sql-reference-substring.html, "Numeric": a start past the end gives NULL
    columns = {"a": ("VARCHAR(16)", "SUBSTRING('123456789', 3, 4)"), "b": ("VARCHAR(16)", "SUBSTRING('123456789', 7, 4)"),
               "c": ("VARCHAR(16)", "SUBSTRING('123456789', 10, 4)")}
    assert one_row(spark, columns) == {"a": "3456", "b": "789", "c": None}


def test_substring_similar_escape(spark):
    # SQLREF sql-reference-substring.html, "Similar...Escape"
    columns = {"a": ("VARCHAR(16)", "SUBSTRING('123456789' SIMILAR '23#\"456#\"78' ESCAPE '#')"),
               "b": ("VARCHAR(16)", "SUBSTRING('TECHNOLOGY' SIMILAR 'TECH%\"NOLO%\"GY' ESCAPE '%')")}
    assert one_row(spark, columns) == {"a": "456", "b": "NOLO"}


def test_substring_of_a_column_from_for(spark):
    # SQLREF sql-reference-substring.html: SUBSTRING of a stream's column, row by row
    rows = outputs(spark, {"r": ("VARCHAR(16)", 'SUBSTRING("log" FROM 2 FOR 3)')},
                   [{"log": "abcdef", "_arrival_time": at(1)}, {"log": "xy", "_arrival_time": at(2)}])
    assert [r["r"] for r in rows] == ["bcd", "y"]


def test_regex_replace_with_group_references(spark):
    # SQLREF sql-reference-regex-replace.html: Java's replaceAll, $n the n-th group
    columns = {"r": ("VARCHAR(32)", r"REGEX_REPLACE('2009-09-16', '(\d+)-(\d+)-(\d+)', '$3.$2.$1', 1, 0)")}
    assert one_row(spark, columns) == {"r": "16.09.2009"}


def test_similar_to_matches_the_whole_string_against_a_regular_expression_pattern(spark):
    # SQLREF sql-reference-string-operators.html: SIMILAR TO is LIKE (_ any one character, % any substring; an
    # ESCAPE character makes the next one plain) with the pattern a regular expression, matched against the whole string
    cases = {"a": "'a' SIMILAR TO 'a'", "b": "'a' SIMILAR TO 'A'", "c": "'ab' SIMILAR TO 'a_'", "d": "'abcd' SIMILAR TO 'a_'",
             "e": "'123aXYZ' SIMILAR TO '%a%'", "f": "'abc' SIMILAR TO 'a(b|x)c'", "g": "'abbbc' SIMILAR TO 'ab+c'",
             "h": "'a.c' SIMILAR TO 'a.c'", "i": "'abc' SIMILAR TO 'a.c'", "j": "'a%' SIMILAR TO 'a\\%' ESCAPE '\\'",
             "k": "'ab' SIMILAR TO 'a\\%' ESCAPE '\\'", "l": "'ab' NOT SIMILAR TO 'a_'", "m": "'b7' SIMILAR TO '[a-c][0-9]{1,2}'"}
    row = one_row(spark, {name: ("BOOLEAN", expression) for name, expression in cases.items()})
    assert row == {"a": True, "b": False, "c": True, "d": False, "e": True, "f": True, "g": True, "h": True, "i": False,
                   "j": True, "k": False, "l": False, "m": True}


def test_the_getting_started_exercise_filters_the_demo_stream_by_sector_with_similar_to(spark):
    # Kinesis Data Analytics SQL Developer Guide, Getting Started (get-started-exercise.html): the demo stream's
    # TICKER_SYMBOL, SECTOR, CHANGE, PRICE; the app keeps the rows whose sector SIMILAR TO '%TECH%'
    schema = parse_schema({"RecordColumns": [
        {"Name": "TICKER_SYMBOL", "SqlType": "VARCHAR(4)", "Mapping": "$.TICKER_SYMBOL"}, {"Name": "SECTOR", "SqlType": "VARCHAR(16)", "Mapping": "$.SECTOR"},
        {"Name": "CHANGE", "SqlType": "REAL", "Mapping": "$.CHANGE"}, {"Name": "PRICE", "SqlType": "REAL", "Mapping": "$.PRICE"}]}, "demo")
    sql = """CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (ticker_symbol VARCHAR(4), sector VARCHAR(12), change REAL, price REAL);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
SELECT STREAM ticker_symbol, sector, change, price
FROM "SOURCE_SQL_STREAM_001"
WHERE sector SIMILAR TO '%TECH%';"""
    demo = [("QXZ", "HEALTHCARE", -0.05, 84.51), ("NFLX", "TECHNOLOGY", 0.12, 96.65), ("WMT", "RETAIL", 0.2, 58.81), ("MSFT", "TECHNOLOGY", 0.44, 54.23)]
    records = [{"TICKER_SYMBOL": t, "SECTOR": s, "CHANGE": c, "PRICE": p, "_arrival_time": at(i)} for i, (t, s, c, p) in enumerate(demo)]

    result = run(AnalyticsApp("getting-started", sql, schema), records, spark)

    assert [(r["TICKER_SYMBOL"], r["SECTOR"], r["CHANGE"], r["PRICE"]) for r in result.outputs["DESTINATION_SQL_STREAM"]] == [
        ("NFLX", "TECHNOLOGY", 0.12, 96.65), ("MSFT", "TECHNOLOGY", 0.44, 54.23)]


# --- Log parsing functions ------------------------------------------------------------------------------------------

# SQLREF sql-reference-w3c-log-parse.html, Example 1 input (Apache's COMMON log format)
JOHN = '192.168.254.30 - John [24/May/2004:22:01:02 -0700] "GET /icons/apache_pb.gif HTTP/1.1" 304 0'
JANE = '192.168.254.30 - Jane [24/May/2004:22:01:02 -0700] "GET /icons/small/dir.gif HTTP/1.1" 304 0'
COMMON_COLUMNS = {"column1": "VARCHAR(16)", "column2": "VARCHAR(16)", "column3": "VARCHAR(16)", "column4": "VARCHAR(32)",
                  "column5": "VARCHAR(64)", "column6": "INTEGER", "column7": "BIGINT"}


def test_w3c_log_parse_common_as_example_1_prints_it(spark):
    # SQLREF sql-reference-w3c-log-parse.html, Example 1: COLUMN1..COLUMN7 are %h %l %u %t "%r" %>s %b; the time keeps
    # its brackets, the request line loses its quotes. The inner query selects ROWTIME as the pump carries it on.
    columns = {name: (sql_type, f"l.r.{name.upper()}") for name, sql_type in COMMON_COLUMNS.items()}
    rows = outputs(spark, columns, [{"log": JOHN, "_arrival_time": at(1)}, {"log": JANE, "_arrival_time": at(2)}],
                   source="(SELECT STREAM ROWTIME, W3C_LOG_PARSE(\"log\", 'COMMON') FROM \"SOURCE_SQL_STREAM_001\") AS l(ROWTIME, r)")
    assert rows == [
        {"column1": "192.168.254.30", "column2": "-", "column3": "John", "column4": "[24/May/2004:22:01:02 -0700]",
         "column5": "GET /icons/apache_pb.gif HTTP/1.1", "column6": 304, "column7": 0, "ROWTIME": ts(1)},
        {"column1": "192.168.254.30", "column2": "-", "column3": "Jane", "column4": "[24/May/2004:22:01:02 -0700]",
         "column5": "GET /icons/small/dir.gif HTTP/1.1", "column6": 304, "column7": 0, "ROWTIME": ts(2)}]


def test_w3c_log_parse_example_2_renames_and_casts_columns(spark):
    # SQLREF sql-reference-w3c-log-parse.html, Example 2: LOG_USER, ADDRESS, TIME_DATES from COLUMN3, COLUMN1, COLUMN4
    columns = {"LOG_USER": ("VARCHAR(5)", "CAST(s.r.COLUMN3 AS VARCHAR(5))"), "ADDRESS": ("VARCHAR(15)", "CAST(s.r.COLUMN1 AS VARCHAR(15))"),
               "TIME_DATES": ("VARCHAR(30)", "CAST(s.r.COLUMN4 AS VARCHAR(30))")}
    rows = outputs(spark, columns, [{"log": JANE, "_arrival_time": at(1)}, {"log": JOHN, "_arrival_time": at(2)}],
                   source="(SELECT STREAM ROWTIME, W3C_LOG_PARSE(\"log\", 'COMMON') AS r FROM \"SOURCE_SQL_STREAM_001\") AS s")
    assert [{k: v for k, v in r.items() if k != "ROWTIME"} for r in rows] == [
        {"LOG_USER": "Jane", "ADDRESS": "192.168.254.30", "TIME_DATES": "[24/May/2004:22:01:02 -0700]"},
        {"LOG_USER": "John", "ADDRESS": "192.168.254.30", "TIME_DATES": "[24/May/2004:22:01:02 -0700]"}]


def test_w3c_log_parse_custom_specifiers_with_the_time_in_brackets(spark):
    # SQLREF sql-reference-w3c-log-parse.html, "W3C Customized Formats": the specifiers named directly give the same
    # columns; with [%t] in the format the time column is 24/May/2004:22:01:02 -0700, without brackets
    columns = {"time": ("VARCHAR(32)", "t.r.COLUMN4"), "status": ("INTEGER", "t.r.COLUMN6"), "same": ("BOOLEAN", "t.c.COLUMN4 = '[' || t.r.COLUMN4 || ']'")}
    rows = outputs(spark, columns, [{"log": JOHN, "_arrival_time": at(1)}],
                   source="(SELECT STREAM ROWTIME, W3C_LOG_PARSE(\"log\", '%h %l %u [%t] \"%r\" %>s %b') AS r, "
                          "W3C_LOG_PARSE(\"log\", '%h %l %u %t \\\"%r\\\" %>s %b') AS c FROM \"SOURCE_SQL_STREAM_001\") AS t")
    assert [{k: v for k, v in r.items() if k != "ROWTIME"} for r in rows] == [
        {"time": "24/May/2004:22:01:02 -0700", "status": 304, "same": True}]


def test_w3c_log_parse_ncsa_extended_vhost_referer_and_agent(spark):
    # SQLREF sql-reference-w3c-log-parse.html, "W3C Predefined Formats": NCSA EXTENDED adds "%[Referer]i" "%[User-agent]i",
    # COMMON WITH VHOST puts %v first, REFERER is %[Referer]i ---> %U, AGENT is %[User-agent]i
    combined = JOHN + ' "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"'
    schema = parse_schema({"RecordColumns": [{"Name": "log", "SqlType": "VARCHAR(512)"}, {"Name": "vhost", "SqlType": "VARCHAR(512)"},
                                             {"Name": "referer", "SqlType": "VARCHAR(512)"}]}, "logs")
    columns = {"agent": ("VARCHAR(64)", "t.n.COLUMN9"), "referer": ("VARCHAR(64)", "t.n.COLUMN8"), "bytes": ("BIGINT", "t.n.COLUMN7"),
               "server": ("VARCHAR(32)", "t.v.COLUMN1"), "host": ("VARCHAR(32)", "t.v.COLUMN2"),
               "from_page": ("VARCHAR(64)", "t.f.COLUMN1"), "to_path": ("VARCHAR(64)", "t.f.COLUMN2"), "browser": ("VARCHAR(64)", "t.a.COLUMN1")}
    source = ("(SELECT STREAM ROWTIME, W3C_LOG_PARSE(\"log\", 'NCSA EXTENDED') AS n, W3C_LOG_PARSE(\"vhost\", 'COMMON WITH VHOST') AS v, "
              "W3C_LOG_PARSE(\"referer\", 'REFERER') AS f, W3C_LOG_PARSE(\"log\", 'AGENT') AS a FROM \"SOURCE_SQL_STREAM_001\") AS t")
    record = {"log": combined, "vhost": "www.example.com " + JOHN, "referer": "http://www.example.com/start.html ---> /index.html",
              "_arrival_time": at(1)}
    assert outputs(spark, columns, [record], schema, source=source)[0] == {
        "agent": "Mozilla/4.08 [en] (Win98; I ;Nav)", "referer": "http://www.example.com/start.html", "bytes": 0,
        "server": "www.example.com", "host": "192.168.254.30", "from_page": "http://www.example.com/start.html", "to_path": "/index.html",
        "browser": combined, "ROWTIME": ts(1)}


def test_w3c_log_parse_a_line_of_another_shape_is_null_and_a_dash_for_bytes_is_null(spark):
    # SQLREF sql-reference-w3c-log-parse.html: %b is numeric ("the column type is numeric"), so CLF's '-' (no bytes) is NULL
    rows = outputs(spark, {"user": ("VARCHAR(16)", "t.r.COLUMN3"), "bytes": ("BIGINT", "t.r.COLUMN7")},
                   [{"log": JOHN[:-1] + "-", "_arrival_time": at(1)}, {"log": "not a log line", "_arrival_time": at(2)}],
                   source="(SELECT STREAM ROWTIME, W3C_LOG_PARSE(\"log\", 'COMMON') AS r FROM \"SOURCE_SQL_STREAM_001\") AS t")
    assert [(r["user"], r["bytes"]) for r in rows] == [("John", None), (None, None)]


def test_variable_column_log_parse_splits_at_the_delimiter_into_varchar_columns(spark):
    # SQLREF sql-reference-variable-column-log-parse.html: "By default, the output columns are named COLUMN1, COLUMN2,
    # COLUMN3, etc."; the input "a,b" is two fields "a" and "b"
    rows = outputs(spark, {"c1": ("VARCHAR(8)", "t.r.COLUMN1"), "c2": ("VARCHAR(8)", "t.r.COLUMN2"), "c3": ("VARCHAR(8)", "t.r.COLUMN3")},
                   [{"log": "a,b,c", "_arrival_time": at(1)}, {"log": "a,b", "_arrival_time": at(2)}, {"log": "a,,c,d", "_arrival_time": at(3)}],
                   source="(SELECT STREAM ROWTIME, VARIABLE_COLUMN_LOG_PARSE(\"log\", 3, ',') AS r FROM \"SOURCE_SQL_STREAM_001\") AS t")
    assert [(r["c1"], r["c2"], r["c3"]) for r in rows] == [("a", "b", "c"), ("a", "b", None), ("a", "", "c")]


def test_variable_column_log_parse_escape_and_quotes_hide_the_delimiter(spark):
    # SQLREF sql-reference-variable-column-log-parse.html: with a backslash escape "a\,b" is the single field "a,b"; a quoted
    # string is one field even if it holds a delimiter; '[]' opens quotes with [ and closes them with ]
    source = ("(SELECT STREAM ROWTIME, VARIABLE_COLUMN_LOG_PARSE(\"log\", 2, ',', '\\', '\"') AS q, "
              "VARIABLE_COLUMN_LOG_PARSE(\"log\", 2, ',', '', '[]') AS b FROM \"SOURCE_SQL_STREAM_001\") AS t")
    rows = outputs(spark, {"q1": ("VARCHAR(8)", "t.q.COLUMN1"), "q2": ("VARCHAR(8)", "t.q.COLUMN2"), "b1": ("VARCHAR(8)", "t.b.COLUMN1")},
                   [{"log": "a\\,b,c", "_arrival_time": at(1)}, {"log": '"x,y",z', "_arrival_time": at(2)}, {"log": "[p,q],r", "_arrival_time": at(3)}],
                   source=source)
    assert [(r["q1"], r["q2"], r["b1"]) for r in rows] == [("a,b", "c", "a\\"), ("x,y", "z", '"x'), ("[p", "q]", "p,q")]


def test_variable_column_log_parse_typed_columns_with_a_timestamp_format(spark):
    # SQLREF sql-reference-variable-column-log-parse.html: a column list 'name TYPE type' names and types the columns; a
    # TIMESTAMP column takes a SimpleDateFormat format ("name" TYPE TIMESTAMP 'dd/MMM/yyyy:HH:mm:ss')
    spec = "'\"who\" TYPE VARCHAR(8), \"n\" TYPE INTEGER, \"at\" TYPE TIMESTAMP ''dd/MMM/yyyy:HH:mm:ss'''"
    source = f"(SELECT STREAM ROWTIME, VARIABLE_COLUMN_LOG_PARSE(\"log\", {spec}, '|') AS r FROM \"SOURCE_SQL_STREAM_001\") AS t"
    rows = outputs(spark, {"who": ("VARCHAR(8)", 't.r."who"'), "n": ("INTEGER", 't.r."n"'), "at": ("TIMESTAMP", 't.r."at"')},
                   [{"log": "John|42|24/May/2004:22:01:02", "_arrival_time": at(1)}, {"log": "Jane|many|", "_arrival_time": at(2)}], source=source)
    assert [(r["who"], r["n"], r["at"]) for r in rows] == [("John", 42, dt.datetime(2004, 5, 24, 22, 1, 2)), ("Jane", None, None)]


def test_variable_column_log_parse_with_a_tab_written_as_a_unicode_escape(spark):
    # SQLREF sql-reference-variable-column-log-parse.html: "a tab can also be a delimiter, specified using a unicode escape,
    # e.g., u&'\0009', which is a string consisting only of a tab character"
    rows = outputs(spark, {"c1": ("VARCHAR(8)", "t.r.COLUMN1"), "c2": ("VARCHAR(8)", "t.r.COLUMN2")}, [{"log": "a b\tc", "_arrival_time": at(1)}],
                   source="(SELECT STREAM ROWTIME, VARIABLE_COLUMN_LOG_PARSE(\"log\", 2, u&'\\0009') AS r FROM \"SOURCE_SQL_STREAM_001\") AS t")
    assert [(r["c1"], r["c2"]) for r in rows] == [("a b", "c")]


def test_fixed_column_log_parse_reads_fields_by_start_and_width(spark):
    # SQLREF sql-reference-fixed-column-log-parse.html: "Starting position of column is 0"; each field converted to its
    # type, a TIMESTAMP by its SimpleDateFormat format; without FOR a field runs to the end
    spec = ("'\"code\" TYPE VARCHAR(4) START 0 FOR 4, \"size\" TYPE INTEGER START 4 FOR 5, "
            "\"at\" TYPE TIMESTAMP ''dd/MMM/yyyy:HH:mm:ss'' START 9 FOR 20, \"rest\" TYPE VARCHAR(16) START 29'")
    source = f"(SELECT STREAM ROWTIME, FIXED_COLUMN_LOG_PARSE(\"log\", {spec}) AS r FROM \"SOURCE_SQL_STREAM_001\") AS t"
    columns = {"code": ("VARCHAR(4)", 't.r."code"'), "size": ("INTEGER", 't.r."size"'), "at": ("TIMESTAMP", 't.r."at"'), "rest": ("VARCHAR(16)", 't.r."rest"')}
    rows = outputs(spark, columns, [{"log": "GET  1024" + "24/May/2004:22:01:02" + " ok", "_arrival_time": at(1)}], source=source)
    assert [{k: v for k, v in r.items() if k != "ROWTIME"} for r in rows] == [
        {"code": "GET ", "size": 1024, "at": dt.datetime(2004, 5, 24, 22, 1, 2), "rest": " ok"}]


def test_sys_log_parse_gives_the_timestamp_and_the_message(spark):
    # SQLREF sql-reference-sys-log-parse.html: 'Mon DD HH:MM:SS server message' as COLUMN1 (TIMESTAMP) and COLUMN2 (VARCHAR);
    # the line has no year, and SimpleDateFormat's default is 1970; RFC 3164 pads a one-digit day with a space
    rows = outputs(spark, {"at": ("TIMESTAMP", "t.r.COLUMN1"), "message": ("VARCHAR(64)", "t.r.COLUMN2")},
                   [{"log": "Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8", "_arrival_time": at(1)},
                    {"log": "Feb  5 17:32:18 10.0.0.99 Use the BFG!", "_arrival_time": at(2)}, {"log": "no time here", "_arrival_time": at(3)}],
                   source="(SELECT STREAM ROWTIME, SYS_LOG_PARSE(\"log\") AS r FROM \"SOURCE_SQL_STREAM_001\") AS t")
    assert [(r["at"], r["message"]) for r in rows] == [
        (dt.datetime(1970, 10, 11, 22, 14, 15), "mymachine su: 'su root' failed for lonvick on /dev/pts/8"),
        (dt.datetime(1970, 2, 5, 17, 32, 18), "10.0.0.99 Use the BFG!"), (None, None)]


@pytest.mark.parametrize("call, message", [
    ("W3C_LOG_PARSE(\"log\", 'IIS')", "the IIS format: the KDA SQL reference gives no specifiers for it"),
    ("W3C_LOG_PARSE(\"log\", 'FANCY')", "'FANCY' is neither a predefined format"),
    ("W3C_LOG_PARSE(\"log\", '%h %Z')", "the format specifier '%Z' is not one of Apache's"),
    ("VARIABLE_COLUMN_LOG_PARSE(\"log\", 'a TYPE WIDGET', ',')", "the column type 'WIDGET' is not one of"),
    ("FIXED_COLUMN_LOG_PARSE(\"log\", 'a TYPE INTEGER')", "the column A needs START <n>"),
])
def test_what_cannot_be_translated_is_refused_by_name_line_and_column(call, message):
    error = refusal(f'SELECT STREAM {call} FROM "SOURCE_SQL_STREAM_001"')
    assert error.startswith("line 3, column 17: ") and message in error


def test_the_w3c_log_parse_example_reads_the_parsed_row_through_a_subquery_aliased_l_r(spark):
    # Developer Guide, "Example: Parsing Web Logs (W3C_LOG_PARSE Function)" (examples-transforming-strings-w3clogparse.html):
    # its application code as printed, on the record its Python producer writes
    sql = '''CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (
column1 VARCHAR(16),
column2 VARCHAR(16),
column3 VARCHAR(16),
column4 VARCHAR(16),
column5 VARCHAR(16),
column6 VARCHAR(16),
column7 VARCHAR(16));

CREATE OR REPLACE PUMP "myPUMP" AS
INSERT INTO "DESTINATION_SQL_STREAM"
        SELECT STREAM
            l.r.COLUMN1,
            l.r.COLUMN2,
            l.r.COLUMN3,
            l.r.COLUMN4,
            l.r.COLUMN5,
            l.r.COLUMN6,
            l.r.COLUMN7
        FROM (SELECT STREAM W3C_LOG_PARSE("log", 'COMMON')
              FROM "SOURCE_SQL_STREAM_001") AS l(r);'''
    record = {"log": '192.168.254.30 - John [24/May/2004:22:01:02 -0700] "GET /icons/apache_pb.gif HTTP/1.1" 304 0', "_arrival_time": at(1)}

    result = run(AnalyticsApp("w3c", sql, LINE), [record], spark)

    # the seven fields of the common log format (host, ident, user, [time], "request", status, bytes), as the page's
    # screenshot shows them; the page does not say whether the stream's VARCHAR(16) cuts the longer ones, and they are kept
    assert result.outputs["DESTINATION_SQL_STREAM"] == [{
        "COLUMN1": "192.168.254.30", "COLUMN2": "-", "COLUMN3": "John", "COLUMN4": "[24/May/2004:22:01:02 -0700]",
        "COLUMN5": "GET /icons/apache_pb.gif HTTP/1.1", "COLUMN6": "304", "COLUMN7": "0", "ROWTIME": ts(1)}]


# --- Date and time functions ----------------------------------------------------------------------------------------

def test_char_to_timestamp_template_examples(spark):
    # SQLREF sql-reference-char-to-timestamp.html: fields the template omits are zero (month and day 01); the template is read
    # in order, so 'yyyy-hh-mm' takes 09 as hours and 16 as minutes
    examples = [("'yyyy-MM-dd', '2009-09-16 03:15:24'", dt.datetime(2009, 9, 16)),
                ("'MM/dd/yy hh:mm:ss', '09/16/11 03:15:24'", dt.datetime(2011, 9, 16, 3, 15, 24)),
                ("'yyyy-hh-mm', '2009-09-16 03:15:24'", dt.datetime(2009, 1, 1, 9, 16)),
                ("'yyyy', '2009-09-16 03:15:24'", dt.datetime(2009, 1, 1)),
                ("'yyyy-hh', '2009-09-16 03:15:24'", dt.datetime(2009, 1, 1, 9)),
                ("'yyyy hh', '2009 09 16 03:15:24'", dt.datetime(2009, 1, 1, 9)),
                ("'yyyy/hh', '2009/09/16 03:15:24'", dt.datetime(2009, 1, 1, 9)),
                ("'yyyy-mm', '2009-09-16 03:15:24'", dt.datetime(2009, 1, 1, 0, 9))]
    columns = {f"c{i}": ("TIMESTAMP", f"CHAR_TO_TIMESTAMP({form})") for i, (form, _) in enumerate(examples)}
    assert one_row(spark, columns) == {f"c{i}": result for i, (_, result) in enumerate(examples)}


def test_timestamp_to_char_formats_with_simpledateformat_and_null_is_the_string_null(spark):
    # SQLREF sql-reference-timestamp-to-char.html: TIMESTAMP_TO_CHAR(format, ts); "If the input is null, the output will be
    # the string "null"."
    columns = {"a": ("VARCHAR(32)", "TIMESTAMP_TO_CHAR('yyyy-MM-dd HH:mm:ss', CHAR_TO_TIMESTAMP('yyyy-MM-dd hh:mm:ss', '2009-09-16 03:15:24'))"),
               "b": ("VARCHAR(32)", "TIMESTAMP_TO_CHAR('MM/dd/yy', ROWTIME)"), "c": ("VARCHAR(8)", "TIMESTAMP_TO_CHAR('yyyy', CAST(NULL AS TIMESTAMP))")}
    assert one_row(spark, columns) == {"a": "2009-09-16 03:15:24", "b": "11/26/26", "c": "null"}


def test_unix_timestamp_is_milliseconds_since_the_epoch(spark):
    # SQLREF sql-reference-unix-timestamp.html: "milliseconds since '1970-01-01 00:00:00' UTC, expressed as a BIGINT"
    columns = {"r": ("BIGINT", "UNIX_TIMESTAMP(CHAR_TO_TIMESTAMP('yyyy-MM-dd HH:mm:ss.SSS', '2017-03-08 21:23:07.123'))"),
               "epoch": ("BIGINT", "UNIX_TIMESTAMP(TO_TIMESTAMP(0))")}
    assert one_row(spark, columns) == {"r": 1489008187123, "epoch": 0}


def test_tsdiff_is_the_difference_in_milliseconds(spark):
    # SQLREF sql-reference-tsdiff.html: "Returns ... the difference in milliseconds"; NULL if either argument is
    rows = outputs(spark, {"since_first": ("BIGINT", "TSDIFF(ROWTIME, CHAR_TO_TIMESTAMP('yyyy-MM-dd HH:mm:ss', '2026-11-26 10:00:00'))"),
                           "none": ("BIGINT", "TSDIFF(ROWTIME, CAST(NULL AS TIMESTAMP))")},
                   [{"log": "a", "_arrival_time": "2026-11-26T10:00:01.250Z"}])
    assert [(r["since_first"], r["none"]) for r in rows] == [(1250, None)]


def test_floor_and_ceil_of_numbers_and_timestamps(spark):
    # SQLREF sql-reference-floor.html and sql-reference-ceil.html
    stamp = "TIMESTAMP '2004-09-30 13:48:23'"
    columns = {"f1": ("INTEGER", "FLOOR(5.2)"), "f2": ("INTEGER", "FLOOR(-3.3)"), "f3": ("INTEGER", "FLOOR(-3 * 3.1)"),
               "c1": ("INTEGER", "CEIL(5.2)"), "c2": ("INTEGER", "CEILING(-3.3)"), "c3": ("INTEGER", "CEILING(-3 * 3.1)"),
               "fh": ("TIMESTAMP", f"FLOOR({stamp} TO HOUR)"), "fm": ("TIMESTAMP", f"FLOOR({stamp} TO MINUTE)"),
               "fd": ("TIMESTAMP", f"FLOOR({stamp} TO DAY)"), "fy": ("TIMESTAMP", f"FLOOR({stamp} TO YEAR)"),
               "ch": ("TIMESTAMP", f"CEILING({stamp} TO HOUR)"), "cm": ("TIMESTAMP", f"CEILING({stamp} TO MINUTE)"),
               "cd": ("TIMESTAMP", f"CEILING({stamp} TO DAY)"), "cy": ("TIMESTAMP", f"CEILING({stamp} TO YEAR)"),
               "exact": ("TIMESTAMP", "CEIL(TIMESTAMP '2004-09-30 13:00:00' TO HOUR)")}
    assert one_row(spark, columns) == {
        "f1": 5, "f2": -4, "f3": -10, "c1": 6, "c2": -3, "c3": -9,
        "fh": dt.datetime(2004, 9, 30, 13), "fm": dt.datetime(2004, 9, 30, 13, 48), "fd": dt.datetime(2004, 9, 30), "fy": dt.datetime(2004, 1, 1),
        "ch": dt.datetime(2004, 9, 30, 14), "cm": dt.datetime(2004, 9, 30, 13, 49), "cd": dt.datetime(2004, 10, 1), "cy": dt.datetime(2005, 1, 1),
        "exact": dt.datetime(2004, 9, 30, 13)}


def test_a_window_by_year_is_refused_as_a_continuous_run_cannot_hold_it():
    error = refusal('SELECT STREAM COUNT(*) FROM "SOURCE_SQL_STREAM_001" GROUP BY FLOOR("SOURCE_SQL_STREAM_001".ROWTIME TO YEAR)')
    assert "a window of a MONTH or YEAR (FLOOR/CEIL ... TO) is not translated" in error


def test_current_row_timestamp_is_the_time_each_row_is_output(spark):
    # SQLREF sql-reference-current-row-timestamp.html: "each output row gets a newly-calculated value ... representing when that
    # row was output"; replaying arrivals, a row-by-row pump outputs each row at its ROWTIME, a windowed one at the window's end
    records = [{"log": "a", "_arrival_time": at(5)}, {"log": "b", "_arrival_time": at(40)}, {"log": "c", "_arrival_time": at(10, 1)}]
    rows = outputs(spark, {"log": ("VARCHAR(8)", '"log"'), "now": ("TIMESTAMP", "CURRENT_ROW_TIMESTAMP")}, records)
    assert [(r["log"], r["now"]) for r in rows] == [("a", ts(5)), ("b", ts(40)), ("c", ts(10, 1))]
    windows = outputs(spark, {"n": ("INTEGER", "COUNT(*)"), "now": ("TIMESTAMP", "CURRENT_ROW_TIMESTAMP")}, records,
                      tail='GROUP BY STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL \'1\' MINUTE)')
    assert [(r["n"], r["now"], r["ROWTIME"]) for r in windows] == [(2, ts(0, 1), ts(0, 1)), (1, ts(0, 2), ts(0, 2))]


# --- Analytic functions, MONOTONIC and windows ----------------------------------------------------------------------

PRICES = parse_schema({"RecordColumns": [{"Name": "ticker", "SqlType": "VARCHAR(4)"}, {"Name": "price", "SqlType": "DOUBLE"}]}, "prices")


def test_lag_gives_the_value_n_rows_back_in_the_window_else_the_default(spark):
    # SQLREF sql-reference-lag.html: the record N records before the current one in the window; defaultExpr (else null)
    # when that record "falls outside the window"; N defaults to 1
    records = [{"ticker": "A", "price": p, "_arrival_time": at(s)} for s, p in [(1, 10.0), (2, 11.0), (3, 12.0), (4, 13.0)]]
    rows = outputs(spark, {"price": ("DOUBLE", '"price"'), "previous": ("DOUBLE", 'LAG("price") OVER (ROWS 3 PRECEDING)'),
                           "two_back": ("DOUBLE", 'LAG("price", 2, -1.0) OVER (ROWS 2 PRECEDING)'),
                           "three_back": ("DOUBLE", 'LAG("price", 3) OVER (ROWS 2 PRECEDING)')}, records, PRICES)
    assert [(r["price"], r["previous"], r["two_back"], r["three_back"]) for r in rows] == [
        (10.0, None, -1.0, None), (11.0, 10.0, -1.0, None), (12.0, 11.0, 10.0, None), (13.0, 12.0, 11.0, None)]


def test_lag_over_a_named_window(spark):
    # SQLREF sql-reference-lag.html ("OVER window-specification") and sql-reference-window-clause.html (WINDOW w AS (...))
    records = [{"ticker": "A", "price": p, "_arrival_time": at(s)} for s, p in [(1, 10.0), (2, 11.0), (3, 12.0)]]
    rows = outputs(spark, {"previous": ("DOUBLE", 'LAG("price") OVER w'), "total": ("DOUBLE", 'SUM("price") OVER w')}, records, PRICES,
                   tail="WINDOW w AS (ROWS 1 PRECEDING)")
    assert [(r["previous"], r["total"]) for r in rows] == [(None, 10.0), (10.0, 21.0), (11.0, 23.0)]


def test_lag_over_a_time_range_partitioned_by_ticker(spark):
    # SQLREF sql-reference-lag.html: OVER a window partitioned and bounded by a time range; a record older than the range
    # falls outside it
    records = [{"ticker": t, "price": p, "_arrival_time": at(s)} for t, s, p in [("A", 1, 10.0), ("B", 2, 50.0), ("A", 3, 11.0), ("A", 30, 12.0)]]
    rows = outputs(spark, {"ticker": ("VARCHAR(4)", '"ticker"'),
                           "previous": ("DOUBLE", 'LAG("price", 1) OVER (PARTITION BY "ticker" RANGE INTERVAL \'10\' SECOND PRECEDING)')},
                   records, PRICES)
    assert [(r["ticker"], r["previous"]) for r in rows] == [("A", None), ("B", None), ("A", 10.0), ("A", None)]


def test_lag_ignore_nulls_as_the_reference_example_1_writes_it(spark):
    # SQLREF sql-reference-lag.html, Example 1 (the sample stock dataset): LAG(price, 1, 0) and LAG(price, 2, 0) IGNORE NULLS
    # OVER (PARTITION BY ticker_symbol RANGE INTERVAL '1' MINUTE PRECEDING): the previous prices of the ticker, skipping
    # records whose price is null, 0 when the window holds no such record
    stocks = parse_schema({"RecordColumns": [{"Name": "TICKER_SYMBOL", "SqlType": "VARCHAR(4)"}, {"Name": "SECTOR", "SqlType": "VARCHAR(16)"},
                                             {"Name": "CHANGE", "SqlType": "REAL"}, {"Name": "PRICE", "SqlType": "REAL"}]}, "stocks")
    sql = """
    CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (
        ticker_symbol VARCHAR(4),
        price     DOUBLE,
        previous_price DOUBLE,
        previous_price_2 DOUBLE);
    CREATE OR REPLACE PUMP "STREAM_PUMP" AS
        INSERT INTO "DESTINATION_SQL_STREAM"
        SELECT STREAM ticker_symbol,
             price,
             LAG(price, 1, 0) IGNORE NULLS OVER (
                PARTITION BY ticker_symbol
                RANGE INTERVAL '1' MINUTE PRECEDING),
             LAG(price, 2, 0) IGNORE NULLS OVER (
                PARTITION BY ticker_symbol
                RANGE INTERVAL '1' MINUTE PRECEDING)
        FROM "SOURCE_SQL_STREAM_001"
    """
    records = [{"TICKER_SYMBOL": t, "SECTOR": "TECHNOLOGY", "CHANGE": 0.5, "PRICE": p, "_arrival_time": at(s, m)}
               for t, m, s, p in [("QXZ", 0, 1, 10.5), ("ASD", 0, 2, 60.0), ("QXZ", 0, 3, None), ("QXZ", 0, 4, 11.0),
                                  ("QXZ", 0, 50, 12.5), ("QXZ", 1, 30, 13.0)]]
    result = run(AnalyticsApp("stocks", sql, stocks), records, spark)
    assert [(r["TICKER_SYMBOL"], r["PRICE"], r["PREVIOUS_PRICE"], r["PREVIOUS_PRICE_2"]) for r in result.outputs["DESTINATION_SQL_STREAM"]] == [
        ("QXZ", 10.5, 0.0, 0.0), ("ASD", 60.0, 0.0, 0.0), ("QXZ", None, 10.5, 0.0), ("QXZ", 11.0, 10.5, 0.0),
        ("QXZ", 12.5, 11.0, 10.5), ("QXZ", 13.0, 12.5, 0.0)]  # at 10:01:30 the minute back holds 12.5 alone


def test_monotonic_lets_group_by_emit_per_key(spark):
    # SQLREF sql-reference-monotonic.html: MONOTONIC(orderId) asserts the line items of an order are consecutive, so a
    # streaming GROUP BY on it can emit each order; it returns its argument
    schema = parse_schema({"RecordColumns": [{"Name": "orderId", "SqlType": "INTEGER"}, {"Name": "amount", "SqlType": "DOUBLE"}]}, "orders")
    records = [{"orderId": o, "amount": a, "_arrival_time": at(s)} for o, s, a in [(1000, 1, 1.5), (1000, 2, 2.5), (1001, 3, 4.0), (1005, 4, 1.0), (1005, 5, 2.0)]]
    rows = outputs(spark, {"order": ("INTEGER", 'MONOTONIC("orderId")'), "total": ("DOUBLE", 'SUM("amount")'), "items": ("INTEGER", "COUNT(*)")},
                   records, schema, tail='GROUP BY MONOTONIC("orderId")')
    assert rows == [{"order": 1000, "total": 4.0, "items": 2, "ROWTIME": ts(2)}, {"order": 1001, "total": 4.0, "items": 1, "ROWTIME": ts(3)},
                    {"order": 1005, "total": 3.0, "items": 2, "ROWTIME": ts(5)}]


def test_monotonic_grouping_is_refused_in_the_continuous_run(spark):
    from cauce.analytics.streaming import IncrementalRunner

    sql = ('CREATE OR REPLACE STREAM "OUT" ("n" INTEGER);\nCREATE OR REPLACE PUMP "P" AS INSERT INTO "OUT"\n'
           '  SELECT STREAM COUNT(*) FROM "SOURCE_SQL_STREAM_001" GROUP BY MONOTONIC("log");')
    with pytest.raises(AnalyticsSqlError, match=r"pump P \(line 2\): GROUP BY MONOTONIC\(\.\.\.\) without a STEP or FLOOR window runs in "
                                                r"the deterministic mode only"):
        IncrementalRunner(AnalyticsApp("reference", sql, LINE), spark)


def test_step_tumbling_window_emits_at_the_window_end(spark):
    # SQLREF sql-reference-step.html: STEP(ROWTIME BY INTERVAL '10' SECOND) is the start of the 10-second window holding the row
    records = [{"ticker": "A", "price": p, "_arrival_time": at(s)} for s, p in [(1, 1.0), (9, 2.0), (10, 4.0), (25, 8.0)]]
    rows = outputs(spark, {"start": ("TIMESTAMP", 'STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL \'10\' SECOND)'),
                           "total": ("DOUBLE", 'SUM("price")')}, records, PRICES,
                   tail='GROUP BY STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL \'10\' SECOND)')
    assert rows == [{"start": ts(0), "total": 3.0, "ROWTIME": ts(10)}, {"start": ts(10), "total": 4.0, "ROWTIME": ts(20)},
                    {"start": ts(20), "total": 8.0, "ROWTIME": ts(30)}]


def test_sliding_window_of_a_time_range_holds_the_rows_of_that_range(spark):
    # SQLREF sql-reference-window-clause.html: OVER (RANGE INTERVAL '10' SECOND PRECEDING) aggregates the rows of the last
    # 10 seconds up to the current row, one output row per input row
    records = [{"ticker": "A", "price": p, "_arrival_time": at(s)} for s, p in [(1, 1.0), (5, 2.0), (11, 4.0), (30, 8.0)]]
    rows = outputs(spark, {"total": ("DOUBLE", 'SUM("price") OVER (RANGE INTERVAL \'10\' SECOND PRECEDING)'),
                           "n": ("INTEGER", "COUNT(*) OVER (ROWS 1 PRECEDING)")}, records, PRICES)
    assert [(r["total"], r["n"], r["ROWTIME"]) for r in rows] == [(1.0, 1, ts(1)), (3.0, 2, ts(5)), (7.0, 2, ts(11)), (8.0, 2, ts(30))]


def test_decimal_floor_keeps_exact_digits(spark):
    # SQLREF sql-reference-floor.html: FLOOR of a DECIMAL is the largest integer at or below it
    assert one_row(spark, {"r": ("DECIMAL(4,0)", "FLOOR(CAST(-3.3 AS DECIMAL(4,1)))")}) == {"r": Decimal("-4")}
