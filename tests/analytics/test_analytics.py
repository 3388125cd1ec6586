"""SQL analytics apps in deterministic mode: exact output rows, and bad input refused or routed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cauce.analytics.app import AnalyticsApp, AppDefinitionError, load_app, parse_schema
from cauce.analytics.dialect import AnalyticsSqlError
from cauce.analytics.runtime import check, run

SCHEMA = parse_schema({"RecordColumns": [
    {"Name": "ticker", "SqlType": "VARCHAR(4)", "Mapping": "$.ticker"},
    {"Name": "price", "SqlType": "DOUBLE", "Mapping": "$.quote.price"},
    {"Name": "at", "SqlType": "TIMESTAMP"},
]}, "test")


def t(minute: int, second: int = 0) -> str:
    return f"2026-11-26T10:{minute:02d}:{second:02d}Z"


def ts(minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, 26, 10, minute, second)


def app(sql: str) -> AnalyticsApp:
    return AnalyticsApp("test", sql, SCHEMA)


def test_the_seed_app_counts_events_in_one_minute_tumbling_windows(spark):
    seed = load_app("realtime-processing")
    records = [{"timestamp": t(0, 5), "data": "a"}, {"timestamp": t(0, 59), "data": "b"}, {"timestamp": t(1, 0), "data": "c"},
               {"timestamp": t(3, 30), "data": "d"}]

    result = run(seed, records, spark, rowtime_column="timestamp")

    assert result.outputs == {"DESTINATION_SQL_STREAM": [
        {"window_start": ts(0), "events": 2, "ROWTIME": ts(1)},
        {"window_start": ts(1), "events": 1, "ROWTIME": ts(2)},
        {"window_start": ts(3), "events": 1, "ROWTIME": ts(4)},
    ]}
    assert result.errors == []


def test_a_continuous_filter_with_mappings_quoted_identifiers_and_scalar_functions(spark):
    sql = '''
    CREATE OR REPLACE STREAM "EXPENSIVE" ("Ticker" VARCHAR(4), "price_x2" DOUBLE, "label" VARCHAR(32));
    CREATE OR REPLACE PUMP "FILTER" AS INSERT INTO "EXPENSIVE"
      SELECT STREAM LOWER("ticker"), "price" * 2, 'p=' || CAST("price" AS VARCHAR(16))
      FROM "SOURCE_SQL_STREAM_001" WHERE "price" > 100 AND "ticker" LIKE 'A%';
    '''
    records = [{"ticker": "AMZN", "quote": {"price": 180.5}, "_arrival_time": t(0, 1)},
               {"ticker": "AAPL", "quote": {"price": 99.0}, "_arrival_time": t(0, 2)},
               {"ticker": "MSFT", "quote": {"price": 400.0}, "_arrival_time": t(0, 3)}]

    result = run(app(sql), records, spark)

    assert result.outputs["EXPENSIVE"] == [{"Ticker": "amzn", "price_x2": 361.0, "label": "p=180.5", "ROWTIME": ts(0, 1)}]


def test_chained_pumps_and_floor_to_unit_windows_over_an_intermediate_stream(spark):
    sql = '''
    CREATE OR REPLACE STREAM "CLEAN" ("ticker" VARCHAR(4), "price" DOUBLE);
    CREATE OR REPLACE STREAM "PER_MINUTE" ("minute" TIMESTAMP, "ticker" VARCHAR(4), "trades" INTEGER, "high" DOUBLE);
    CREATE OR REPLACE PUMP "CLEAN_PUMP" AS INSERT INTO "CLEAN"
      SELECT STREAM "ticker", "price" FROM "SOURCE_SQL_STREAM_001" WHERE "price" IS NOT NULL;
    CREATE OR REPLACE PUMP "MINUTE_PUMP" AS INSERT INTO "PER_MINUTE"
      SELECT STREAM FLOOR("CLEAN".ROWTIME TO MINUTE), "ticker", COUNT(*), MAX("price")
      FROM "CLEAN" GROUP BY FLOOR("CLEAN".ROWTIME TO MINUTE), "ticker";
    '''
    records = [{"ticker": "AMZN", "quote": {"price": p}, "_arrival_time": t(m, s)} for m, s, p in
               [(0, 10, 1.0), (0, 20, 3.0), (0, 30, None), (1, 5, 2.0)]]

    result = run(app(sql), records, spark)

    assert list(result.outputs) == ["PER_MINUTE"]  # CLEAN is read by a pump, so it is not an output
    assert result.outputs["PER_MINUTE"] == [
        {"minute": ts(0), "ticker": "AMZN", "trades": 2, "high": 3.0, "ROWTIME": ts(1)},
        {"minute": ts(1), "ticker": "AMZN", "trades": 1, "high": 2.0, "ROWTIME": ts(2)},
    ]


def test_sliding_windows_over_time_and_over_rows_emit_a_row_per_input_row(spark):
    sql = '''
    CREATE OR REPLACE STREAM "MOVING" ("ticker" VARCHAR(4), "price" DOUBLE, "avg_1m" DOUBLE, "max_last_2" DOUBLE);
    CREATE OR REPLACE PUMP "P" AS INSERT INTO "MOVING"
      SELECT STREAM "ticker", "price",
             AVG("price") OVER (PARTITION BY "ticker" RANGE INTERVAL '1' MINUTE PRECEDING),
             MAX("price") OVER W2
      FROM "SOURCE_SQL_STREAM_001"
      WINDOW W2 AS (PARTITION BY "ticker" ROWS 1 PRECEDING);
    '''
    records = [{"ticker": "A", "quote": {"price": p}, "_arrival_time": t(m, s)} for m, s, p in
               [(0, 0, 10.0), (0, 30, 20.0), (1, 10, 60.0), (3, 0, 5.0)]] + [{"ticker": "B", "quote": {"price": 1.0}, "_arrival_time": t(0, 45)}]

    result = run(app(sql), records, spark)

    assert [(r["ticker"], r["price"], r["avg_1m"], r["max_last_2"], r["ROWTIME"]) for r in result.outputs["MOVING"]] == [
        ("A", 10.0, 10.0, 10.0, ts(0, 0)),
        ("A", 20.0, 15.0, 20.0, ts(0, 30)),
        ("B", 1.0, 1.0, 1.0, ts(0, 45)),
        ("A", 60.0, 40.0, 60.0, ts(1, 10)),  # 10:00:10..10:01:10 holds 20 and 60
        ("A", 5.0, 5.0, 60.0, ts(3, 0)),
    ]


def test_records_that_do_not_fit_the_schema_go_to_the_errors_and_the_app_runs_on(spark):
    sql = '''CREATE OR REPLACE STREAM "OUT" ("ticker" VARCHAR(4));
    CREATE OR REPLACE PUMP "P" AS INSERT INTO "OUT" SELECT STREAM "ticker" FROM "SOURCE_SQL_STREAM_001";'''
    records = [{"ticker": "OK", "quote": {"price": "cheap"}, "_arrival_time": t(0)}, {"ticker": "FINE"}, '"not an object"',
               b'{"ticker": "BAD", ', {"ticker": "GOOD", "_arrival_time": t(1)}, {"ticker": "LATE", "_arrival_time": "soon"},
               {"ticker": "AT", "at": 1764151200, "_arrival_time": t(2)}]

    result = run(app(sql), records, spark)

    assert result.outputs["OUT"] == [{"ticker": "GOOD", "ROWTIME": ts(1)}]
    assert [(e["line"], e["reason"]) for e in result.errors] == [
        (1, "column price (DOUBLE): 'cheap' is not a double"),
        (2, "no arrival time: give the record an _arrival_time or run with a rowtime column"),
        (3, "expected a JSON object, got a string"),
        (4, "not valid JSON: Expecting property name enclosed in double quotes (column 19)"),
        (6, "_arrival_time: 'soon' is not a timestamp (ISO 8601 or epoch seconds/milliseconds)"),
        (7, "column at (TIMESTAMP): '1764151200' is not a timestamp"),  # KDA: a number does not convert to a datetime
    ]
    assert result.errors[0]["record"] == records[0] and result.errors[3]["record"] == records[3]  # as given, never dropped


def test_every_record_keeps_its_line_whatever_the_reader_makes_of_it(spark):
    """Spark's JSON reader gives one row per element of a top-level array and none for a blank text;
    each such record is still one refusal at its own line, and the records after it keep theirs."""
    sql = '''CREATE OR REPLACE STREAM "OUT" ("ticker" VARCHAR(4));
    CREATE OR REPLACE PUMP "P" AS INSERT INTO "OUT" SELECT STREAM "ticker" FROM "SOURCE_SQL_STREAM_001";'''
    good = [f'{{"ticker": "G{i}", "_arrival_time": "{t(0, i)}"}}'.encode() for i in range(6)]
    records = [good[0], b'[{"ticker": "A1"}, {"ticker": "A2"}]', good[1], b"", b"   ", good[2], b"\xff{}",
               b'\n  ' + good[3], b"42", good[4], b'{"ticker": "BAD"', good[5]]

    result = run(app(sql), records, spark)

    assert [r["ticker"] for r in result.outputs["OUT"]] == ["G0", "G1", "G2", "G3", "G4", "G5"]
    assert [(e["line"], e["reason"]) for e in result.errors] == [
        (2, "expected a JSON object, got an array"),
        (4, "not valid JSON: Expecting value (column 1)"),
        (5, "not valid JSON: Expecting value (column 4)"),
        (7, "not valid UTF-8: byte 1 (b'\\xff')"),
        (9, "expected a JSON object, got a number"),
        (11, "not valid JSON: Expecting ',' delimiter (column 17)"),
    ]
    assert [e["record"] for e in result.errors] == [records[i - 1] for i in (2, 4, 5, 7, 9, 11)]


def test_input_values_convert_as_kda_maps_json_types_to_sql_types(spark):
    """KDA's "Mapping JSON Data Types to SQL Data Types" (Kinesis Data Analytics SQL Developer Guide,
    sch-mapping.html#sch-mapping-datatypes): a longer string is truncated to the VARCHAR's length with
    no error; booleans are 1/0 in numeric columns; a number is true unless 0 in a BOOLEAN column, a string
    true only when it is "true" (any case); strings convert to numbers; arrays and objects become their
    text in a VARCHAR and are refused elsewhere; a number that does not fit an INTEGER is refused."""
    schema = parse_schema({"RecordColumns": [
        {"Name": "name", "SqlType": "VARCHAR(4)", "Mapping": "$.name"}, {"Name": "code", "SqlType": "CHAR(3)", "Mapping": "$.code"},
        {"Name": "n", "SqlType": "INTEGER", "Mapping": "$.n"}, {"Name": "x", "SqlType": "DOUBLE", "Mapping": "$.x"},
        {"Name": "ok", "SqlType": "BOOLEAN", "Mapping": "$.ok"}, {"Name": "price", "SqlType": "DECIMAL(5,2)", "Mapping": "$.price"},
        {"Name": "at", "SqlType": "TIMESTAMP", "Mapping": "$.at"}, {"Name": "first", "SqlType": "VARCHAR(16)", "Mapping": "$.items[0]"},
    ]}, "test")
    sql = '''CREATE OR REPLACE STREAM "OUT" ("name" VARCHAR(4), "code" CHAR(3), "n" INTEGER, "x" DOUBLE, "ok" BOOLEAN,
      "price" DECIMAL(5,2), "at" TIMESTAMP, "first" VARCHAR(16));
    CREATE OR REPLACE PUMP "P" AS INSERT INTO "OUT"
      SELECT STREAM "name", "code", "n", "x", "ok", "price", "at", "first" FROM "SOURCE_SQL_STREAM_001";'''
    rows = [
        {"name": "TOOLONG", "code": "A", "n": 12.0, "x": "2.5", "ok": 0, "price": "1.25", "at": "1992-02-14 18:35:44.0", "items": [{"k": 1}]},
        {"name": True, "code": "ABCD", "n": True, "x": False, "ok": "TRUE", "price": 3, "at": "1992-02-14", "items": ["s", 2]},
        {"name": 12.5, "n": "7", "ok": 5, "items": []},
        {"name": [1, 2], "ok": "yes"},
        {"n": 3000000000}, {"n": 12.5}, {"ok": [True]}, {"x": {"a": 1}}, {"price": 1.234}, {"at": True},
    ]
    records = [{**row, "_arrival_time": t(0, i)} for i, row in enumerate(rows)]

    result = run(AnalyticsApp("types", sql, schema), records, spark)

    columns = ("name", "code", "n", "x", "ok", "price", "at", "first")
    assert [tuple(r[c] for c in columns) for r in result.outputs["OUT"]] == [
        ("TOOL", "A  ", 12, 2.5, False, Decimal("1.25"), dt.datetime(1992, 2, 14, 18, 35, 44), '{"k":1}'),
        ("true", "ABC", 1, 0.0, True, Decimal("3.00"), dt.datetime(1992, 2, 14), "s"),
        ("12.5", None, 7, None, True, None, None, None),
        ("[1,2", None, None, None, False, None, None, None),
    ]
    assert [(e["line"], e["reason"]) for e in result.errors] == [
        (5, "column n (INTEGER): '3000000000' is not an int"),
        (6, "column n (INTEGER): '12.5' is not an int"),
        (7, "column ok (BOOLEAN): '[true]' is not a boolean"),
        (8, "column x (DOUBLE): '{\"a\":1}' is not a double"),
        (9, "column price (DECIMAL(5,2)): '1.234' is not a decimal"),
        (10, "column at (TIMESTAMP): 'true' is not a timestamp"),
    ]


@pytest.mark.parametrize("sql, message", [
    ('CREATE OR REPLACE STREAM "OUT" ("a" DOUBLE);\nCREATE PUMP "P" AS INSERT INTO "OUT" SELECT STREAM "price" FROM "SOURCE_SQL_STREAM_001" WHERE (;',
     "pump P (line 2):"),
    ('CREATE OR REPLACE PUMP "P" AS INSERT INTO "NOWHERE" SELECT STREAM 1 FROM "SOURCE_SQL_STREAM_001";',
     "inserts into 'NOWHERE', which no CREATE STREAM declares"),
    ('CREATE TABLE t (a INT);', "line 1, column 8: CREATE TABLE is not supported"),
    ('CREATE OR REPLACE STREAM "OUT" ("a" DOUBLE);\nCREATE PUMP "P" AS INSERT INTO "OUT" SELECT STREAM STEP("SOURCE_SQL_STREAM_001".ROWTIME BY 60) FROM "SOURCE_SQL_STREAM_001";',
     "STEP(... BY INTERVAL 'n' SECOND|MINUTE|HOUR|DAY) expected"),
    ('SELECT 1 # 2', "line 1, column 10: unexpected character '#'"),
])
def test_sql_errors_name_the_place(sql, message):
    with pytest.raises(AnalyticsSqlError) as error:
        check(app(sql))
    assert message in str(error.value)


def test_a_column_missing_from_the_schema_is_reported_by_the_pump(spark):
    sql = '''CREATE OR REPLACE STREAM "OUT" ("a" DOUBLE);
    CREATE OR REPLACE PUMP "P" AS INSERT INTO "OUT" SELECT STREAM "volume" FROM "SOURCE_SQL_STREAM_001";'''
    with pytest.raises(AnalyticsSqlError, match=r"pump P \(line 2\): .*volume"):
        run(app(sql), [{"ticker": "A", "_arrival_time": t(0)}], spark)


@pytest.mark.parametrize("schema, message", [
    ({"RecordColumns": [{"Name": "a", "SqlType": "VARCHAR"}]}, "RecordColumns[0].SqlType: 'VARCHAR' is not a supported SQL type"),
    ({"RecordColumns": [{"Name": "a", "SqlType": "INTEGER", "Mapping": "a.b"}]}, "RecordColumns[0].Mapping: 'a.b' is not a JSONPath"),
    ({"RecordColumns": [{"Name": "ROWTIME", "SqlType": "TIMESTAMP"}]}, "'ROWTIME' is a system column"),
    ({"RecordColumns": []}, "needs a non-empty RecordColumns list"),
    ("{not json", "input_schema is not valid JSON"),
])
def test_invalid_input_schemas_name_the_column_and_field(schema, message):
    with pytest.raises(AppDefinitionError) as error:
        parse_schema(schema, "app")
    assert message in str(error.value)


def test_apps_load_from_the_stack_too():
    from cauce.core.stack import load_stack

    seed = load_app("realtime-analytics", load_stack(None))
    assert seed.name == "realtime-processing" and [c.name for c in seed.columns] == ["timestamp", "data"]
    with pytest.raises(AppDefinitionError, match="no analytics app 'nope'"):
        load_app("nope")


def test_an_app_reads_a_kinesis_stream_and_writes_its_output_stream(spark, aws):
    import json

    import boto3

    from cauce.analytics.streams import run_on_streams
    from cauce.core.kinesis import read_stream
    from cauce.core.kpl import aggregate

    kinesis = boto3.client("kinesis")
    for name, shards in (("data-ingestion-stream", 2), ("processed-data-stream", 1)):
        kinesis.create_stream(StreamName=name, ShardCount=shards)
    events = [{"timestamp": t(0, s), "data": f"e{s}"} for s in range(5)]
    kinesis.put_records(StreamName="data-ingestion-stream", Records=[{"Data": json.dumps(e).encode(), "PartitionKey": e["data"]} for e in events[:3]])
    kinesis.put_record(StreamName="data-ingestion-stream", Data=aggregate([("k", json.dumps(e).encode()) for e in events[3:]]), PartitionKey="k")
    kinesis.put_record(StreamName="data-ingestion-stream", Data=b"{broken", PartitionKey="x")

    result = run_on_streams(load_app("realtime-processing"), spark, kinesis, "data-ingestion-stream", "processed-data-stream")

    windows = result.outputs["DESTINATION_SQL_STREAM"]  # ROWTIME is the arrival time: now, one window or two
    assert sum(w["events"] for w in windows) == 5  # KPL user records are counted one by one
    assert [e["reason"].split(":")[0] for e in result.errors] == ["not valid JSON"]
    written, unreadable = read_stream(kinesis, "processed-data-stream")
    assert unreadable == [] and sum(w["events"] for w in written) == 5 and len(written) == len(windows)


def test_price_alerts_join_reference_data_from_the_lake(spark, cauce_lake):
    cauce_lake.put_object("s3://mi-bucket/reference/companies.csv", b"ticker,company,price_limit\nAMZN,Amazon,200\nMSFT,Microsoft,300\n")
    records = [{"ticker": "AMZN", "trade": {"price": 210.0}, "_arrival_time": t(0, 1)},
               {"ticker": "AMZN", "trade": {"price": 190.0}, "_arrival_time": t(0, 2)},
               {"ticker": "MSFT", "trade": {"price": 350.5}, "_arrival_time": t(0, 3)},
               {"ticker": "ACME", "trade": {"price": 999.0}, "_arrival_time": t(0, 4)}]

    result = run(load_app("price-alerts"), records, spark, lake=cauce_lake)

    assert result.outputs["ALERTS"] == [
        {"ticker": "AMZN", "company": "Amazon", "price": 210.0, "over_by": 10.0, "ROWTIME": ts(0, 1)},
        {"ticker": "MSFT", "company": "Microsoft", "price": 350.5, "over_by": 50.5, "ROWTIME": ts(0, 3)},
    ]


def test_a_join_of_two_streams_without_a_window_is_refused_naming_the_reference_tables():
    sql = '''CREATE OR REPLACE STREAM "A" ("t" VARCHAR(8));
    CREATE OR REPLACE STREAM "B" ("t" VARCHAR(8));
    CREATE OR REPLACE PUMP "P" AS INSERT INTO "B" SELECT STREAM s."ticker" FROM "SOURCE_SQL_STREAM_001" AS s JOIN "A" AS a ON s."ticker" = a."t";'''
    with pytest.raises(AnalyticsSqlError, match=r"a join of the streams SOURCE_SQL_STREAM_001 and A needs a window.*reference data \(none declared\)"):
        check(app(sql))


def test_moving_average_app_slides_by_arrival_and_summarises_by_event_time(spark):
    records = [{"ticker": "A", "price": p, "traded_at": f"2026-11-26T09:{m:02d}:00Z", "_arrival_time": t(0, s)}
               for s, p, m in [(0, 10.0, 59), (20, 30.0, 59), (50, 20.0, 58), (70 - 60, 40.0, 59)]]
    records[3]["_arrival_time"] = t(1, 10)

    result = run(load_app("moving-average"), records, spark)

    assert [(r["price"], r["avg_1m"]) for r in result.outputs["MOVING_AVERAGE"]] == [(10.0, 10.0), (30.0, 20.0), (20.0, 20.0), (40.0, 30.0)]
    assert result.outputs["MINUTE_SUMMARY"] == [  # windows of the event-time column, not of arrival
        {"minute": dt.datetime(2026, 11, 26, 9, 58), "ticker": "A", "trades": 1, "low": 20.0, "high": 20.0, "ROWTIME": dt.datetime(2026, 11, 26, 9, 59)},
        {"minute": dt.datetime(2026, 11, 26, 9, 59), "ticker": "A", "trades": 3, "low": 10.0, "high": 40.0, "ROWTIME": dt.datetime(2026, 11, 26, 10, 0)},
    ]


def test_stagger_windows_open_with_a_partitions_first_row_and_close_after_the_interval(spark):
    sql = '''CREATE OR REPLACE STREAM "OUT" ("ticker" VARCHAR(4), "minute" TIMESTAMP, "n" INTEGER, "total" DOUBLE);
    CREATE OR REPLACE PUMP "P" AS INSERT INTO "OUT"
      SELECT STREAM "ticker", FLOOR("at" TO MINUTE), COUNT(*), SUM("price")
      FROM "SOURCE_SQL_STREAM_001" WHERE "price" > 0
      WINDOWED BY STAGGER (PARTITION BY "ticker", FLOOR("at" TO MINUTE) RANGE INTERVAL '1' MINUTE);'''
    schema = parse_schema({"RecordColumns": [{"Name": "ticker", "SqlType": "VARCHAR(4)"}, {"Name": "price", "SqlType": "DOUBLE"},
                                             {"Name": "at", "SqlType": "TIMESTAMP"}]}, "test")

    def trade(ticker, price, at, arrived):
        return {"ticker": ticker, "price": price, "at": t(*at), "_arrival_time": t(*arrived)}

    records = [trade("A", -1.0, (0, 1), (0, 1)),  # filtered out: opens no window
               trade("A", 1.0, (0, 5), (0, 10)), trade("A", 2.0, (0, 50), (0, 55)),
               trade("A", 4.0, (0, 59), (1, 20)),  # arrives after A's window closed: opens the next one
               trade("B", 8.0, (0, 30), (0, 31))]

    result = run(AnalyticsApp("stagger", sql, schema), records, spark)

    assert result.outputs["OUT"] == [
        {"ticker": "A", "minute": ts(0), "n": 2, "total": 3.0, "ROWTIME": ts(1, 10)},
        {"ticker": "B", "minute": ts(0), "n": 1, "total": 8.0, "ROWTIME": ts(1, 31)},
        {"ticker": "A", "minute": ts(0), "n": 1, "total": 4.0, "ROWTIME": ts(2, 20)},
    ]


@pytest.mark.parametrize("app_name", ["realtime-processing", "moving-average"])
def test_micro_batches_emit_what_one_deterministic_run_emits_once_windows_close(spark, app_name):
    from cauce.analytics.streaming import IncrementalRunner

    target = load_app(app_name)
    records = [{"timestamp": t(m, s), "data": f"e{m}{s}", "ticker": "AB"[(m + s) % 2], "price": float(m * 60 + s),
                "traded_at": t(m, s), "_arrival_time": t(m, s)} for m in range(4) for s in (0, 17, 34, 51)]
    records.append({"timestamp": t(9), "data": "late", "ticker": "A", "price": 1.0, "traded_at": t(9), "_arrival_time": t(9)})  # closes all
    whole = run(target, records, spark).outputs

    runner = IncrementalRunner(target, spark)
    streamed: dict[str, list] = {}
    for start in range(0, len(records), 3):  # micro-batches of 3 records
        outputs, errors = runner.process(records[start:start + 3])
        assert errors == []
        for name, rows in outputs.items():
            streamed.setdefault(name, []).extend(rows)

    for name, rows in whole.items():
        closed = [r for r in rows if r["ROWTIME"] <= ts(9)]
        assert sorted(streamed.get(name, []), key=repr) == sorted(closed, key=repr), name


def test_micro_batches_refuse_and_truncate_as_one_run_does_naming_lines_within_the_batch(spark):
    """The continuous run conforms each batch as the deterministic run does: the same refusals, with
    their line in their batch, and VARCHAR(8) truncated; the records it carries are never refused twice."""
    import orjson

    from cauce.analytics.streaming import IncrementalRunner

    target = load_app("moving-average")
    records = [orjson.dumps({"ticker": "ABCDEFGHIJ"[: 1 + i % 10], "price": float(i), "traded_at": t(i // 4, i % 4 * 15),
                             "_arrival_time": t(i // 4, i % 4 * 15)}) for i in range(16)]
    records[5] = b'{"ticker": "A", "price": "cheap", "_arrival_time": "2026-11-26T10:01:15Z"}'
    records[10] = b"[1, 2]"
    whole = run(target, records, spark)

    runner = IncrementalRunner(target, spark)
    streamed, refused = {}, []
    for start in range(0, len(records), 4):
        outputs, errors = runner.process(records[start:start + 4])
        refused += [(start + e["line"], e["reason"]) for e in errors]
        for name, rows in outputs.items():
            streamed.setdefault(name, []).extend(rows)
    for name, rows in runner.finish().items():
        streamed.setdefault(name, []).extend(rows)

    assert refused == [(e["line"], e["reason"]) for e in whole.errors] == [
        (6, "column price (DOUBLE): 'cheap' is not a double"), (11, "expected a JSON object, got an array")]
    assert {r["ticker"] for r in whole.outputs["MOVING_AVERAGE"]} == {"A", "AB", "ABC", "ABCD", "ABCDE", "ABCDEF", "ABCDEFG", "ABCDEFGH"}
    for name, rows in whole.outputs.items():
        assert sorted(streamed.get(name, []), key=repr) == sorted(rows, key=repr), name


@pytest.mark.parametrize("app_name", ["realtime-processing", "moving-average"])
def test_finishing_a_stream_emits_the_open_windows_so_batches_equal_one_run(spark, app_name):
    from cauce.analytics.streaming import IncrementalRunner

    target = load_app(app_name)
    records = [{"timestamp": t(m, s), "data": f"e{m}{s}", "ticker": "AB"[(m + s) % 2], "price": float(m * 60 + s),
                "traded_at": t(m, s), "_arrival_time": t(m, s)} for m in range(4) for s in (0, 17, 34, 51)]
    whole = run(target, records, spark).outputs

    runner = IncrementalRunner(target, spark)
    streamed: dict[str, list] = {}
    for start in range(0, len(records), 5):
        outputs, _errors = runner.process(records[start:start + 5])
        for name, rows in outputs.items():
            streamed.setdefault(name, []).extend(rows)
    for name, rows in runner.finish().items():
        streamed.setdefault(name, []).extend(rows)

    assert runner.finish() == {}
    for name, rows in whole.items():
        assert sorted(streamed.get(name, []), key=repr) == sorted(rows, key=repr), name


def test_the_glue_jobs_batch_function_runs_micro_batches_into_the_output_stream(spark, aws):
    import json

    import boto3

    from cauce.analytics.glue_main import make_batch_function
    from cauce.analytics.streaming import IncrementalRunner
    from cauce.core.kinesis import read_stream

    kinesis = boto3.client("kinesis")
    kinesis.create_stream(StreamName="processed-data-stream", ShardCount=1)
    process = make_batch_function(IncrementalRunner(load_app("realtime-processing"), spark), kinesis, "processed-data-stream")
    epoch_ms = [int(dt.datetime(2026, 11, 26, 10, m, s, tzinfo=dt.timezone.utc).timestamp() * 1000) for m, s in [(0, 1), (0, 2), (1, 0), (2, 30)]]
    # what Glue's Kinesis source gives: the record's fields, and its arrival time with addRecordTimestamp
    batches = [[{"timestamp": t(0, 1), "data": "a", "__src_timestamp": epoch_ms[0]}, {"timestamp": t(0, 2), "data": "b", "__src_timestamp": epoch_ms[1]}],
               [{"timestamp": t(1, 0), "data": "c", "__src_timestamp": epoch_ms[2]}],
               [{"timestamp": t(2, 30), "data": "d", "__src_timestamp": epoch_ms[3]}, {"timestamp": "bad", "data": "e", "__src_timestamp": epoch_ms[3]}]]

    for batch_id, rows in enumerate(batches):
        process(spark.createDataFrame(rows, "timestamp string, data string, __src_timestamp bigint"), batch_id)

    written, _ = read_stream(kinesis, "processed-data-stream")
    assert [(w["window_start"], w["events"]) for w in written] == [("2026-11-26T10:00:00", 2), ("2026-11-26T10:01:00", 1)]
    assert json.dumps(written)  # plain JSON in the output stream


def test_a_subquery_in_from(spark):
    sql = '''CREATE OR REPLACE STREAM "OUT" ("ticker" VARCHAR(4), "doubled" DOUBLE);
    CREATE OR REPLACE PUMP "P" AS INSERT INTO "OUT"
      SELECT STREAM "ticker", "p2" FROM (SELECT STREAM "ticker", "price" * 2 AS "p2", ROWTIME FROM "SOURCE_SQL_STREAM_001") AS s
      WHERE "p2" > 10;'''
    records = [{"ticker": "A", "quote": {"price": 4.0}, "_arrival_time": t(0, 1)}, {"ticker": "B", "quote": {"price": 6.0}, "_arrival_time": t(0, 2)}]

    assert run(app(sql), records, spark).outputs["OUT"] == [{"ticker": "B", "doubled": 12.0, "ROWTIME": ts(0, 2)}]


def test_a_sliding_window_holds_the_rows_before_the_current_row_and_itself_not_later_rows_of_the_same_rowtime(spark):
    """KDA SQL Reference, "WINDOW Clause (Sliding Windows)": the aggregate is computed for each input row over the
    rows of the window ending at that row. A first stage emits 8 rows with one ROWTIME (the minute's end); the
    second stage's running sums are 4, 7, 8, 10, 13, 16, 18, 20 (row by row), not 20 for every row."""
    sql = '''
    CREATE OR REPLACE STREAM "PER_TICKER" ("ticker" VARCHAR(4), "trades" INTEGER);
    CREATE OR REPLACE STREAM "RUNNING" ("ticker" VARCHAR(4), "trades" INTEGER, "running" INTEGER);
    CREATE OR REPLACE PUMP "COUNT_PUMP" AS INSERT INTO "PER_TICKER"
      SELECT STREAM "ticker", COUNT(*) FROM "SOURCE_SQL_STREAM_001"
      GROUP BY "ticker", STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '1' MINUTE);
    CREATE OR REPLACE PUMP "RUNNING_PUMP" AS INSERT INTO "RUNNING"
      SELECT STREAM "ticker", "trades", SUM("trades") OVER (RANGE INTERVAL '1' MINUTE PRECEDING) FROM "PER_TICKER";
    '''
    counts = {"A": 4, "B": 3, "C": 1, "D": 2, "E": 3, "F": 3, "G": 2, "H": 2}
    records = [{"ticker": ticker, "_arrival_time": t(0, second)} for ticker, n in counts.items() for second in range(n)]

    result = run(app(sql), records, spark)

    assert [(r["ticker"], r["running"], r["ROWTIME"]) for r in result.outputs["RUNNING"]] == [
        (ticker, running, ts(1)) for ticker, running in zip("ABCDEFGH", [4, 7, 8, 10, 13, 16, 18, 20])]


def test_input_rows_of_one_rowtime_enter_a_sliding_window_one_by_one_in_arrival_order(spark):
    """KDA SQL Reference, "WINDOW Clause (Sliding Windows)": one output row per input row, aggregated over the
    window ending at it; records that arrive in the same instant are taken in the order they arrived."""
    sql = '''
    CREATE OR REPLACE STREAM "OUT" ("ticker" VARCHAR(4), "total" DOUBLE, "n" INTEGER);
    CREATE OR REPLACE PUMP "P" AS INSERT INTO "OUT"
      SELECT STREAM "ticker", SUM("price") OVER W, COUNT(*) OVER W FROM "SOURCE_SQL_STREAM_001"
      WINDOW W AS (PARTITION BY "ticker" RANGE INTERVAL '10' SECOND PRECEDING);
    '''
    records = [{"ticker": "A", "quote": {"price": p}, "_arrival_time": t(0, s)} for s, p in
               [(0, 1.0), (5, 2.0), (5, 4.0), (10, 8.0), (11, 16.0)]]

    result = run(app(sql), records, spark)

    assert [(r["total"], r["n"]) for r in result.outputs["OUT"]] == [
        (1.0, 1), (3.0, 2), (7.0, 3), (15.0, 4),  # 10:00:10's window starts at 10:00:00, bound included
        (30.0, 4)]  # 10:00:11's window starts at 10:00:01: 10:00:00 has left


STOCKS = parse_schema({"RecordColumns": [
    {"Name": "TICKER_SYMBOL", "SqlType": "VARCHAR(4)"}, {"Name": "SECTOR", "SqlType": "VARCHAR(16)"},
    {"Name": "CHANGE", "SqlType": "REAL"}, {"Name": "CHANGE_TIME", "SqlType": "TIMESTAMP"}, {"Name": "PRICE", "SqlType": "REAL"},
]}, "stocks")


def test_unix_timestamp_gives_milliseconds_and_real_stays_float32(spark):
    """KDA SQL Reference, "UNIX_TIMESTAMP" (Example 1 on its sample stock dataset): a TIMESTAMP becomes
    milliseconds since 1970-01-01 00:00:00 UTC, a BIGINT. REAL values are 32-bit floats ("Data Types"),
    printed as such: 27.9, not 27.899999618530273."""
    sql = '''
    CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (ticker_symbol VARCHAR(4), SECTOR VARCHAR(16), CHANGE REAL,
        CHANGE_TIME BIGINT, PRICE REAL);
    CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
      SELECT STREAM TICKER_SYMBOL, SECTOR, CHANGE, UNIX_TIMESTAMP(CHANGE_TIME), PRICE FROM "SOURCE_SQL_STREAM_001";
    '''
    records = [{"TICKER_SYMBOL": "IOP", "SECTOR": "TECHNOLOGY", "CHANGE": -1.1, "CHANGE_TIME": "2017-03-08T21:23:07.123Z",
                "PRICE": 27.9, "_arrival_time": t(0, 1)}]

    result = run(AnalyticsApp("stocks", sql, STOCKS), records, spark)

    assert result.outputs["DESTINATION_SQL_STREAM"] == [{"TICKER_SYMBOL": "IOP", "SECTOR": "TECHNOLOGY", "CHANGE": -1.1,
                                                          "CHANGE_TIME": 1489008187123, "PRICE": 27.9, "ROWTIME": ts(0, 1)}]


def test_to_timestamp_reads_milliseconds_and_timestamps_keep_milliseconds(spark):
    """KDA SQL Reference, "TO_TIMESTAMP": a BIGINT of milliseconds since the epoch becomes a TIMESTAMP; KDA's
    TIMESTAMPs hold milliseconds ("Timestamp" data type), so microseconds in the input are dropped."""
    schema = parse_schema({"RecordColumns": [{"Name": "TICKER_SYMBOL", "SqlType": "VARCHAR(4)"},
                                             {"Name": "CHANGE_TIME", "SqlType": "BIGINT"}, {"Name": "AT", "SqlType": "TIMESTAMP"}]}, "stocks")
    sql = '''
    CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (ticker_symbol VARCHAR(4), change_time TIMESTAMP, at_copy TIMESTAMP);
    CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
      SELECT STREAM TICKER_SYMBOL, TO_TIMESTAMP(CHANGE_TIME), "AT" FROM "SOURCE_SQL_STREAM_001";
    '''
    records = [{"TICKER_SYMBOL": "IOP", "CHANGE_TIME": 1489008187123, "AT": "2017-03-08T21:23:07.123456Z", "_arrival_time": "2026-11-26T10:00:00.000999Z"}]

    result = run(AnalyticsApp("stocks", sql, schema), records, spark)

    assert result.outputs["DESTINATION_SQL_STREAM"] == [{"TICKER_SYMBOL": "IOP", "CHANGE_TIME": dt.datetime(2017, 3, 8, 21, 23, 7, 123000),
                                                          "AT_COPY": dt.datetime(2017, 3, 8, 21, 23, 7, 123000), "ROWTIME": ts(0)}]


def test_tsdiff_is_the_difference_in_milliseconds_and_null_when_an_argument_is(spark):
    """KDA SQL Reference, "TSDIFF": NULL if any argument is null, else the difference of the two timestamps in
    milliseconds (the arguments as milliseconds since the epoch, or TIMESTAMPs such as ROWTIME)."""
    sql = '''
    CREATE OR REPLACE STREAM "OUT" ("ticker" VARCHAR(4), "lag_ms" BIGINT, "from_millis" BIGINT);
    CREATE OR REPLACE PUMP "P" AS INSERT INTO "OUT"
      SELECT STREAM "ticker", TSDIFF(ROWTIME, "at"), TSDIFF(UNIX_TIMESTAMP(ROWTIME), 1795687200000) FROM "SOURCE_SQL_STREAM_001";
    '''
    records = [{"ticker": "A", "at": "2026-11-26T09:59:58.750Z", "_arrival_time": t(0, 1)}, {"ticker": "B", "_arrival_time": t(0, 2)}]

    result = run(app(sql), records, spark)

    assert [(r["ticker"], r["lag_ms"], r["from_millis"]) for r in result.outputs["OUT"]] == [("A", 2250, 1000), ("B", None, 2000)]


def test_regex_replace_as_the_reference_gives_it(spark):
    """KDA SQL Reference, "REGEX_REPLACE": Java's String.replaceAll(regex, replacement) from startPosition when
    occurrence is 0 (Example 1: 'TECHNOLOGY' becomes 'INFORMATION TECHNOLOGY'), else only the occurrence-th
    match; startPosition past the end gives the original."""
    schema = parse_schema({"RecordColumns": [{"Name": "TICKER_SYMBOL", "SqlType": "VARCHAR(4)"}, {"Name": "SECTOR", "SqlType": "VARCHAR(16)"},
                                             {"Name": "CHANGE", "SqlType": "REAL"}, {"Name": "PRICE", "SqlType": "REAL"}]}, "stocks")
    sql = r'''
    CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (ticker_symbol VARCHAR(4), SECTOR VARCHAR(24), CHANGE REAL, PRICE REAL,
        "dashes" VARCHAR(8), "from_3" VARCHAR(8), "past_end" VARCHAR(8), "dates" VARCHAR(16));
    CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
      SELECT STREAM TICKER_SYMBOL, REGEX_REPLACE(SECTOR, 'TECHNOLOGY', 'INFORMATION TECHNOLOGY', 1, 0), CHANGE, PRICE,
             REGEX_REPLACE('a-b-c-d', '-', '+', 1, 2), REGEX_REPLACE('a-b-c', '-', '+', 3, 0), REGEX_REPLACE('a-b', '-', '+', 9, 0),
             REGEX_REPLACE('2009-09-16', '(\d+)-(\d+)-(\d+)', '$3/$2/$1', 1, 0)
      FROM "SOURCE_SQL_STREAM_001";
    '''
    records = [{"TICKER_SYMBOL": "IOP", "SECTOR": "TECHNOLOGY", "CHANGE": -0.4, "PRICE": 96.2, "_arrival_time": t(0, 1)},
               {"TICKER_SYMBOL": "QXZ", "SECTOR": "RETAIL", "CHANGE": 1.5, "PRICE": 10.03, "_arrival_time": t(0, 2)}]

    result = run(AnalyticsApp("stocks", sql, schema), records, spark)

    rest = {"dashes": "a-b+c-d", "from_3": "a-b+c", "past_end": "a-b", "dates": "16/09/2009"}
    assert result.outputs["DESTINATION_SQL_STREAM"] == [
        {"TICKER_SYMBOL": "IOP", "SECTOR": "INFORMATION TECHNOLOGY", "CHANGE": -0.4, "PRICE": 96.2, **rest, "ROWTIME": ts(0, 1)},
        {"TICKER_SYMBOL": "QXZ", "SECTOR": "RETAIL", "CHANGE": 1.5, "PRICE": 10.03, **rest, "ROWTIME": ts(0, 2)}]


def test_char_to_timestamp_and_timestamp_to_char_read_java_simpledateformat_patterns(spark):
    """KDA SQL Reference, "Char To Timestamp(Sys)" and "TIMESTAMP_TO_CHAR": the template is a Java SimpleDateFormat
    pattern; fields it omits are zero (month and day 1), so 'yyyy-MM-dd' of '2009-09-16 03:15:24' is the day
    alone; hh is the 12-hour clock, HH the 24-hour one; a NULL timestamp formats as the string 'null'."""
    sql = '''
    CREATE OR REPLACE STREAM "OUT" ("day" TIMESTAMP, "month" TIMESTAMP, "full" TIMESTAMP, "millis" TIMESTAMP,
        "twelve" VARCHAR(32), "text" VARCHAR(32), "absent" VARCHAR(8));
    CREATE OR REPLACE PUMP "P" AS INSERT INTO "OUT"
      SELECT STREAM CHAR_TO_TIMESTAMP('yyyy-MM-dd', "ticker"), CHAR_TO_TIMESTAMP('yyyy-MM', "ticker"),
             CHAR_TO_TIMESTAMP('yyyy-MM-dd hh:mm:ss', "ticker"), CHAR_TO_TIMESTAMP('yyyy-MM-dd HH:mm:ss.SSS', '2009-09-16 15:15:24.123'),
             TIMESTAMP_TO_CHAR('yyyy-MM-dd hh:mm:ss a', "at"), TIMESTAMP_TO_CHAR('EEE, d MMM yyyy HH:mm', "at"),
             TIMESTAMP_TO_CHAR('yyyy', CAST(NULL AS TIMESTAMP))
      FROM "SOURCE_SQL_STREAM_001";
    '''
    schema = parse_schema({"RecordColumns": [{"Name": "ticker", "SqlType": "VARCHAR(32)"}, {"Name": "at", "SqlType": "TIMESTAMP"}]}, "dates")
    records = [{"ticker": "2009-09-16 03:15:24", "at": "2009-09-16T15:15:24Z", "_arrival_time": t(0, 1)}]

    result = run(AnalyticsApp("dates", sql, schema), records, spark)

    assert result.outputs["OUT"] == [{"day": dt.datetime(2009, 9, 16), "month": dt.datetime(2009, 9, 1), "full": dt.datetime(2009, 9, 16, 3, 15, 24),
                                      "millis": dt.datetime(2009, 9, 16, 15, 15, 24, 123000), "twelve": "2009-09-16 03:15:24 PM",
                                      "text": "Wed, 16 Sep 2009 15:15", "absent": "null", "ROWTIME": ts(0, 1)}]


@pytest.mark.parametrize("call, message", [
    ("REGEX_REPLACE(\"ticker\", 'a', 'b', 0, 0)", "REGEX_REPLACE: startPosition must be 1 or more"),
    ("REGEX_REPLACE(\"ticker\", 'a', 'b', \"price\", 0)", "REGEX_REPLACE: startPosition must be a whole number literal"),
    ("TIMESTAMP_TO_CHAR(\"ticker\", \"at\")", "TIMESTAMP_TO_CHAR: the format (a Java SimpleDateFormat pattern) must be a string literal"),
    ("CHAR_TO_TIMESTAMP('YYYY-ww', \"ticker\")", "the pattern letter 'YYYY' of 'YYYY-ww' is not translated"),
    ("TSDIFF(\"at\")", "TSDIFF takes 2 argument(s), got 1"),
])
def test_dialect_functions_refuse_what_they_cannot_translate_by_name_and_line(call, message):
    sql = f'CREATE OR REPLACE STREAM "OUT" ("a" VARCHAR(8));\nCREATE OR REPLACE PUMP "P" AS INSERT INTO "OUT"\n  SELECT STREAM {call} FROM "SOURCE_SQL_STREAM_001";'
    with pytest.raises(AnalyticsSqlError) as error:
        check(app(sql))
    assert str(error.value).startswith("line 3, column ") and message in str(error.value)


def test_regex_log_parse_returns_a_row_of_its_groups_addressable_by_column(spark):
    """KDA SQL Reference, "REGEX_LOG_PARSE" (Example 1, on the sample stock dataset, with the regex '.*([E].).*([R].*)'):
    the Java regex's groups, left to right, are COLUMN1..COLUMNn of a ROW, addressed as t.r.COLUMN1; when the regex
    does not match, the result is NULL. A third argument names and types the columns."""
    schema = parse_schema({"RecordColumns": [{"Name": "TICKER_SYMBOL", "SqlType": "VARCHAR(4)"}, {"Name": "SECTOR", "SqlType": "VARCHAR(16)"},
                                             {"Name": "CHANGE", "SqlType": "REAL"}, {"Name": "PRICE", "SqlType": "REAL"}]}, "stocks")
    sql = r'''
    CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (sector VARCHAR(16), match1 VARCHAR(1024), match2 VARCHAR(1024), "dollars" INTEGER);
    CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
      SELECT STREAM t.SECTOR, t.r.COLUMN1, t.r.COLUMN2, t.p."WHOLE"
      FROM (SELECT STREAM ROWTIME, SECTOR, REGEX_LOG_PARSE(SECTOR, '.*([E].).*([R].*)') AS r,
                   REGEX_LOG_PARSE(CAST(PRICE AS VARCHAR(16)), '(\d+)\.(\d+)', '"WHOLE" INTEGER, "CENTS" VARCHAR(4)') AS p
            FROM "SOURCE_SQL_STREAM_001") AS t;
    '''
    records = [{"TICKER_SYMBOL": "NFS", "SECTOR": "ENERGY", "CHANGE": 0.5, "PRICE": 76.25, "_arrival_time": t(0, 1)},
               {"TICKER_SYMBOL": "QXZ", "SECTOR": "RETAIL", "CHANGE": 1.5, "PRICE": 10.5, "_arrival_time": t(0, 2)},
               {"TICKER_SYMBOL": "AMZN", "SECTOR": "TECHNOLOGY", "CHANGE": 1.5, "PRICE": 10.5, "_arrival_time": t(0, 3)}]

    result = run(AnalyticsApp("stocks", sql, schema), records, spark)

    assert [(r["SECTOR"], r["MATCH1"], r["MATCH2"], r["dollars"]) for r in result.outputs["DESTINATION_SQL_STREAM"]] == [
        ("ENERGY", "EN", "RGY", 76),  # the greedy first .* backs off to the E that still has an R after it
        ("RETAIL", None, None, 10),  # an E, then no R after it: no match, NULL
        ("TECHNOLOGY", None, None, 10)]


def test_fast_regex_log_parser_is_lazy_and_must_account_for_every_character(spark):
    """KDA SQL Reference, "FAST_REGEX_LOG_PARSER": lazy semantics (each step parses no more than it needs, where
    REGEX_LOG_PARSE is greedy), '@' is any string, every character of the input must be accounted for by the
    pattern, else no fields; the groups are COLUMN1..COLUMNn."""
    schema = parse_schema({"RecordColumns": [{"Name": "line", "SqlType": "VARCHAR(64)"}]}, "logs")
    sql = '''
    CREATE OR REPLACE STREAM "OUT" ("first" VARCHAR(16), "rest" VARCHAR(32), "greedy_first" VARCHAR(16), "path" VARCHAR(32), "status" INTEGER);
    CREATE OR REPLACE PUMP "P" AS INSERT INTO "OUT"
      SELECT STREAM t.f.COLUMN1, t.f.COLUMN2, t.g.COLUMN1, t.h.COLUMN2, CAST(t.h.COLUMN3 AS INTEGER)
      FROM (SELECT STREAM ROWTIME, FAST_REGEX_LOG_PARSER("line", '(@) (@)') AS f, REGEX_LOG_PARSE("line", '(.*) (.*)') AS g,
                   FAST_REGEX_LOG_PARSE("line", '(@) "GET" ([^ ]+) ([0-9]{3})') AS h
            FROM "SOURCE_SQL_STREAM_001") AS t;
    '''
    records = [{"line": "10.0.0.1 GET /index.html 200", "_arrival_time": t(0, 1)}, {"line": "plain", "_arrival_time": t(0, 2)}]

    result = run(AnalyticsApp("logs", sql, schema), records, spark)

    assert [(r["first"], r["rest"], r["greedy_first"], r["path"], r["status"]) for r in result.outputs["OUT"]] == [
        ("10.0.0.1", "GET /index.html 200", "10.0.0.1 GET /index.html", "/index.html", 200),
        (None, None, None, None, None)]  # no space: the patterns cannot account for the text


def test_micro_batches_give_the_same_row_by_row_running_sums_as_one_run(spark):
    """KDA SQL Reference, "WINDOW Clause (Sliding Windows)": the 8 rows of one ROWTIME enter the window one by one
    in the continuous run too, whatever the micro-batches."""
    from cauce.analytics.streaming import IncrementalRunner

    sql = '''
    CREATE OR REPLACE STREAM "PER_TICKER" ("ticker" VARCHAR(4), "trades" INTEGER);
    CREATE OR REPLACE STREAM "RUNNING" ("ticker" VARCHAR(4), "running" INTEGER);
    CREATE OR REPLACE PUMP "COUNT_PUMP" AS INSERT INTO "PER_TICKER"
      SELECT STREAM "ticker", COUNT(*) FROM "SOURCE_SQL_STREAM_001"
      GROUP BY "ticker", STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '1' MINUTE);
    CREATE OR REPLACE PUMP "RUNNING_PUMP" AS INSERT INTO "RUNNING"
      SELECT STREAM "ticker", SUM("trades") OVER (RANGE INTERVAL '1' MINUTE PRECEDING) FROM "PER_TICKER";
    '''
    counts = {"A": 4, "B": 3, "C": 1, "D": 2, "E": 3, "F": 3, "G": 2, "H": 2}
    records = [{"ticker": ticker, "_arrival_time": t(0, second)} for ticker, n in counts.items() for second in range(n)]
    records.append({"ticker": "Z", "_arrival_time": t(2)})  # closes the first minute
    whole = run(app(sql), records, spark).outputs["RUNNING"]

    runner = IncrementalRunner(app(sql), spark)
    streamed = []
    for start in range(0, len(records), 5):
        outputs, _errors = runner.process(records[start:start + 5])
        streamed.extend(outputs.get("RUNNING", []))

    assert [r["running"] for r in streamed] == [4, 7, 8, 10, 13, 16, 18, 20]
    assert streamed == [r for r in whole if r["ROWTIME"] <= ts(2)]
