"""Stream-to-stream joins over windows, ORDER BY a time bucket, ROWTIME through subqueries, EVENT_TIME,
and reference data declared as Kinesis Data Analytics declares it: AWS's documented examples, exact rows."""

from __future__ import annotations

import datetime as dt

import pytest

from cauce.analytics.app import AnalyticsApp, parse_schema
from cauce.analytics.dialect import AnalyticsSqlError
from cauce.analytics.runtime import check, run


def at(minute: int, second: int = 0) -> str:
    return f"2019-04-03T17:{minute:02d}:{second:02d}Z"


def ts(minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(2019, 4, 3, 17, minute, second)


# KDA SQL Reference, "JOIN clause", Stream-to-Stream Join Examples
# (https://docs.aws.amazon.com/kinesisanalytics/latest/sqlref/sql-reference-join-clause.html): one input stream
# holds orders {"orderid":"101", "orders":"1"} and shipments {"orderid":"101", "shipments":"2"}; two pumps split it.
ORDERS_SCHEMA = parse_schema({"RecordColumns": [
    {"Name": "orderid", "SqlType": "INTEGER", "Mapping": "$.orderid"},
    {"Name": "orders", "SqlType": "INTEGER", "Mapping": "$.orders"},
    {"Name": "shipments", "SqlType": "INTEGER", "Mapping": "$.shipments"},
]}, "test")
ORDERS_AND_SHIPMENTS = '''
CREATE OR REPLACE STREAM "ORDERS_STREAM" ("orderid" int, "orderrowtime" timestamp);
CREATE OR REPLACE PUMP "ORDERS_STREAM_PUMP" AS INSERT INTO "ORDERS_STREAM"
  SELECT STREAM "orderid", "ROWTIME" FROM "SOURCE_SQL_STREAM_001" WHERE "orders" = 1;
CREATE OR REPLACE STREAM "SHIPMENTS_STREAM" ("orderid" int, "shipmentrowtime" timestamp);
CREATE OR REPLACE PUMP "SHIPMENTS_STREAM_PUMP" AS INSERT INTO "SHIPMENTS_STREAM"
  SELECT STREAM "orderid", "ROWTIME" FROM "SOURCE_SQL_STREAM_001" WHERE "shipments" = 2;
'''


def order(orderid: str, minute: int, second: int = 0) -> dict:
    return {"orderid": orderid, "orders": "1", "_arrival_time": at(minute, second)}


def shipment(orderid: str, minute: int, second: int = 0) -> dict:
    return {"orderid": orderid, "shipments": "2", "_arrival_time": at(minute, second)}


RECORDS = [order("101", 18, 0), shipment("101", 18, 40),  # shipped 40 s after the order: in a minute's window
           order("102", 18, 10), shipment("102", 19, 30),  # 80 s: outside it
           shipment("103", 20, 0), order("103", 20, 20)]   # the shipment first, the order 20 s later


def orders_app(join_pump: str) -> AnalyticsApp:
    return AnalyticsApp("joins", ORDERS_AND_SHIPMENTS + join_pump, ORDERS_SCHEMA)


def test_a_time_window_join_pairs_rows_within_each_others_window_at_the_later_rows_rowtime(spark):
    """JOIN clause, "Time Window Join": both streams over a one-minute window. A pair joins when, as the later
    row arrives, the earlier is still in its window; the joined row's ROWTIME is when it could be computed."""
    app = orders_app('''
    CREATE OR REPLACE STREAM "OUTPUT_STREAM" ("resultrowtime" timestamp, "orderid" int, "shipmenttime" timestamp, "ordertime" timestamp);
    CREATE OR REPLACE PUMP "OUTPUT_STREAM_PUMP" AS INSERT INTO "OUTPUT_STREAM"
      SELECT STREAM ROWTIME AS "resultrowtime", s."orderid", s.ROWTIME AS "shipmenttime", o.ROWTIME AS "ordertime"
      FROM ORDERS_STREAM OVER (RANGE INTERVAL '1' MINUTE PRECEDING) AS o
      JOIN SHIPMENTS_STREAM OVER (RANGE INTERVAL '1' MINUTE PRECEDING) AS s
      ON o."orderid" = s."orderid";''')

    assert run(app, RECORDS, spark).outputs == {"OUTPUT_STREAM": [
        {"resultrowtime": ts(18, 40), "orderid": 101, "shipmenttime": ts(18, 40), "ordertime": ts(18, 0), "ROWTIME": ts(18, 40)},
        {"resultrowtime": ts(20, 20), "orderid": 103, "shipmenttime": ts(20, 0), "ordertime": ts(20, 20), "ROWTIME": ts(20, 20)},
    ]}


def test_a_window_on_one_side_only_joins_that_sides_recent_rows_with_the_other_sides_current_row(spark):
    """JOIN clause: "If no time window or row-based window is specified for one side of the join, only the
    current row from that side participates in the join evaluation." Orders over no window, shipments over a
    minute: an order joins the shipments of the minute before it, never a later shipment."""
    app = orders_app('''
    CREATE OR REPLACE STREAM "OUTPUT_STREAM" ("orderid" int, "shipmenttime" timestamp);
    CREATE OR REPLACE PUMP "OUTPUT_STREAM_PUMP" AS INSERT INTO "OUTPUT_STREAM"
      SELECT STREAM o."orderid", s.ROWTIME FROM ORDERS_STREAM AS o
      JOIN SHIPMENTS_STREAM OVER (RANGE INTERVAL '1' MINUTE PRECEDING) AS s ON o."orderid" = s."orderid";''')

    assert run(app, RECORDS, spark).outputs["OUTPUT_STREAM"] == [{"orderid": 103, "shipmenttime": ts(20, 0), "ROWTIME": ts(20, 20)}]


def test_the_developer_guides_order_and_trade_join_with_an_inline_or_a_named_window_gives_the_same_rows(spark):
    """Developer Guide, "Streaming Data Operations: Stream Joins", Example 1 (stream-joins-concepts.html): orders
    with the trades of the minute before, the window inline or in a WINDOW clause (`OVER t` names the alias)."""
    schema = parse_schema({"RecordColumns": [
        {"Name": "kind", "SqlType": "VARCHAR(8)"}, {"Name": "orderId", "SqlType": "INTEGER"}, {"Name": "tradeId", "SqlType": "INTEGER"},
        {"Name": "ticker", "SqlType": "VARCHAR(4)"}, {"Name": "amount", "SqlType": "DOUBLE"}]}, "test")
    streams = '''
    CREATE OR REPLACE STREAM "OrderStream" (orderId INTEGER, ticker VARCHAR(4), amount DOUBLE);
    CREATE OR REPLACE PUMP "O" AS INSERT INTO "OrderStream" SELECT STREAM orderId, ticker, amount FROM "SOURCE_SQL_STREAM_001" WHERE kind = 'order';
    CREATE OR REPLACE STREAM "TradeStream" (tradeId INTEGER, orderId INTEGER, ticker VARCHAR(4), amount DOUBLE);
    CREATE OR REPLACE PUMP "T" AS INSERT INTO "TradeStream" SELECT STREAM tradeId, orderId, ticker, amount FROM "SOURCE_SQL_STREAM_001" WHERE kind = 'trade';
    CREATE OR REPLACE STREAM "OUT" (rt TIMESTAMP, orderId INTEGER, ticker VARCHAR(4), orderAmount DOUBLE, tradeAmount DOUBLE);
    '''
    inline = '''CREATE OR REPLACE PUMP "J" AS INSERT INTO "OUT"
      SELECT STREAM ROWTIME, o.orderId, o.ticker, o.amount AS orderAmount, t.amount AS tradeAmount
      FROM "OrderStream" AS o JOIN "TradeStream" OVER (RANGE INTERVAL '1' MINUTE PRECEDING) AS t ON o.orderId = t.orderId;'''
    named = '''CREATE OR REPLACE PUMP "J" AS INSERT INTO "OUT"
      SELECT STREAM ROWTIME, o.orderId, o.ticker, o.amount AS orderAmount, t.amount AS tradeAmount
      FROM "OrderStream" AS o JOIN "TradeStream" OVER t ON o.orderId = t.orderId
      WINDOW t AS (RANGE INTERVAL '1' MINUTE PRECEDING);'''
    records = [{"kind": "trade", "tradeId": 1, "orderId": 7, "ticker": "AMZN", "amount": 10.0, "_arrival_time": at(0, 10)},
               {"kind": "order", "orderId": 7, "ticker": "AMZN", "amount": 10.5, "_arrival_time": at(0, 50)},
               {"kind": "trade", "tradeId": 2, "orderId": 8, "ticker": "MSFT", "amount": 5.0, "_arrival_time": at(1, 0)},
               {"kind": "order", "orderId": 8, "ticker": "MSFT", "amount": 5.5, "_arrival_time": at(2, 1)}]  # 61 s later

    expected = [{"RT": ts(0, 50), "ORDERID": 7, "TICKER": "AMZN", "ORDERAMOUNT": 10.5, "TRADEAMOUNT": 10.0, "ROWTIME": ts(0, 50)}]
    assert run(AnalyticsApp("inline", streams + inline, schema), records, spark).outputs["OUT"] == expected
    assert run(AnalyticsApp("named", streams + named, schema), records, spark).outputs["OUT"] == expected


def test_an_outer_joins_unmatched_row_is_emitted_when_its_window_closes(spark):
    """JOIN clause, LEFT OUTER JOIN: "rows from the left are kept even if they don't match any rows on the right.
    NULL values are generated on the right." An unmatched order is known only when no later shipment can match
    it: its row comes at its ROWTIME plus its window."""
    app = orders_app('''
    CREATE OR REPLACE STREAM "OUTPUT_STREAM" ("orderid" int, "shipmenttime" timestamp);
    CREATE OR REPLACE PUMP "OUTPUT_STREAM_PUMP" AS INSERT INTO "OUTPUT_STREAM"
      SELECT STREAM o."orderid", s.ROWTIME
      FROM ORDERS_STREAM OVER (RANGE INTERVAL '1' MINUTE PRECEDING) AS o
      LEFT JOIN SHIPMENTS_STREAM OVER (RANGE INTERVAL '1' MINUTE PRECEDING) AS s ON o."orderid" = s."orderid";''')

    assert run(app, RECORDS, spark).outputs["OUTPUT_STREAM"] == [
        {"orderid": 101, "shipmenttime": ts(18, 40), "ROWTIME": ts(18, 40)},
        {"orderid": 102, "shipmenttime": None, "ROWTIME": ts(19, 10)},
        {"orderid": 103, "shipmenttime": ts(20, 0), "ROWTIME": ts(20, 20)},
    ]


def test_a_join_of_two_streams_without_a_window_is_refused_as_kda_refuses_it():
    """JOIN clause: "you must restrict at least one stream to a time window by using an OVER clause"."""
    app = orders_app('''
    CREATE OR REPLACE STREAM "OUTPUT_STREAM" ("orderid" int);
    CREATE OR REPLACE PUMP "OUTPUT_STREAM_PUMP" AS INSERT INTO "OUTPUT_STREAM"
      SELECT STREAM o."orderid" FROM ORDERS_STREAM AS o JOIN SHIPMENTS_STREAM AS s ON o."orderid" = s."orderid";''')
    with pytest.raises(AnalyticsSqlError, match=r"pump OUTPUT_STREAM_PUMP \(line 10\).*needs a window on at least one of them"):
        check(app)


def test_a_join_over_a_row_window_is_refused_by_line_and_column():
    app = orders_app('''
    CREATE OR REPLACE STREAM "OUTPUT_STREAM" ("orderid" int);
    CREATE OR REPLACE PUMP "OUTPUT_STREAM_PUMP" AS INSERT INTO "OUTPUT_STREAM"
      SELECT STREAM o."orderid" FROM ORDERS_STREAM AS o JOIN SHIPMENTS_STREAM OVER (ROWS 10 PRECEDING) AS s ON o."orderid" = s."orderid";''')
    with pytest.raises(AnalyticsSqlError, match=r"line 11, column 79: a join over a row window \(ROWS n PRECEDING\) is not translated"):
        check(app)


def test_micro_batches_of_a_stream_join_emit_what_one_deterministic_run_emits(spark):
    from cauce.analytics.streaming import IncrementalRunner

    app = orders_app('''
    CREATE OR REPLACE STREAM "OUTPUT_STREAM" ("orderid" int, "ordertime" timestamp, "shipmenttime" timestamp);
    CREATE OR REPLACE PUMP "OUTPUT_STREAM_PUMP" AS INSERT INTO "OUTPUT_STREAM"
      SELECT STREAM o."orderid", o.ROWTIME, s.ROWTIME
      FROM ORDERS_STREAM OVER (RANGE INTERVAL '1' MINUTE PRECEDING) AS o
      FULL JOIN SHIPMENTS_STREAM OVER (RANGE INTERVAL '1' MINUTE PRECEDING) AS s ON o."orderid" = s."orderid";''')
    records = RECORDS + [order("104", 25)]
    whole = run(app, records, spark).outputs["OUTPUT_STREAM"]

    runner = IncrementalRunner(app, spark)
    streamed = []
    for start in range(0, len(records), 2):
        outputs, errors = runner.process(records[start:start + 2])
        assert errors == []
        streamed.extend(outputs.get("OUTPUT_STREAM", []))
    streamed.extend(runner.finish().get("OUTPUT_STREAM", []))

    assert len(whole) == 5  # 101 and 103 matched; 102's order and its shipment unmatched, each alone; 104 alone
    assert sorted(streamed, key=repr) == sorted(whole, key=repr)


def test_order_by_a_time_bucket_sorts_each_buckets_rows(spark):
    """SQL Reference, "ORDER BY clause": a streaming ORDER BY whose leading expression is time-based and monotonic,
    `GROUP BY FLOOR(ROWTIME TO HOUR), state, city ORDER BY FLOOR(ROWTIME TO HOUR), state, SUM(amount) DESC`,
    with the ROWTIME qualified as "T-sorting Stream Input" asks (`ORDER BY FLOOR(s.ROWTIME TO MINUTE), ...`)."""
    schema = parse_schema({"RecordColumns": [{"Name": "state", "SqlType": "VARCHAR(2)"}, {"Name": "city", "SqlType": "VARCHAR(16)"},
                                             {"Name": "amount", "SqlType": "DOUBLE"}]}, "test")
    sql = '''CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (state VARCHAR(2), city VARCHAR(16), total DOUBLE);
    CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
      SELECT STREAM state, city, SUM(amount) FROM "SOURCE_SQL_STREAM_001" AS s
      GROUP BY FLOOR(s.ROWTIME TO MINUTE), state, city
      ORDER BY FLOOR(s.ROWTIME TO MINUTE), state, SUM(amount) DESC;'''
    records = [{"state": st, "city": c, "amount": a, "_arrival_time": at(m, sec)} for st, c, a, m, sec in [
        ("CA", "Fresno", 1.0, 0, 1), ("CA", "Oakland", 5.0, 0, 2), ("AZ", "Tucson", 2.0, 0, 3), ("CA", "Fresno", 1.5, 0, 4),
        ("CA", "Fresno", 9.0, 1, 1), ("CA", "Oakland", 3.0, 1, 2)]]

    rows = run(AnalyticsApp("ordered", sql, schema), records, spark).outputs["DESTINATION_SQL_STREAM"]

    assert [(r["ROWTIME"], r["STATE"], r["CITY"], r["TOTAL"]) for r in rows] == [
        (ts(1), "AZ", "Tucson", 2.0), (ts(1), "CA", "Oakland", 5.0), (ts(1), "CA", "Fresno", 2.5),
        (ts(2), "CA", "Fresno", 9.0), (ts(2), "CA", "Oakland", 3.0)]


def test_order_by_a_one_second_bucket_sorts_rows_of_different_rowtimes_within_it(spark):
    """Developer Guide, "Detecting Data Anomalies on a Stream" (app-anom-score-create-app.html): its pump ends
    `ORDER BY FLOOR("TEMP_STREAM".ROWTIME TO SECOND), ANOMALY_SCORE DESC`, so each second's rows come out highest
    score first, whatever their own ROWTIMEs within the second."""
    schema = parse_schema({"RecordColumns": [{"Name": "TICKER_SYMBOL", "SqlType": "VARCHAR(4)"}, {"Name": "SCORE", "SqlType": "DOUBLE"}]}, "test")
    sql = '''CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (TICKER_SYMBOL VARCHAR(4), SCORE DOUBLE);
    CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
      SELECT STREAM TICKER_SYMBOL, SCORE FROM "SOURCE_SQL_STREAM_001"
      ORDER BY FLOOR("SOURCE_SQL_STREAM_001".ROWTIME TO SECOND), SCORE DESC;'''
    arrivals = [("A", 1.0, "10:00:01.100"), ("B", 5.0, "10:00:01.200"), ("C", 3.0, "10:00:01.900"), ("D", 2.0, "10:00:02.100"), ("E", 4.0, "10:00:02.500")]
    records = [{"TICKER_SYMBOL": t, "SCORE": score, "_arrival_time": f"2026-11-26T{time}Z"} for t, score, time in arrivals]

    rows = run(AnalyticsApp("anomaly-order", sql, schema), records, spark).outputs["DESTINATION_SQL_STREAM"]

    assert [(r["TICKER_SYMBOL"], r["SCORE"]) for r in rows] == [("B", 5.0), ("C", 3.0), ("A", 1.0), ("E", 4.0), ("D", 2.0)]


SCHEMA = parse_schema({"RecordColumns": [{"Name": "TICKER_SYMBOL", "SqlType": "VARCHAR(4)"}, {"Name": "PRICE", "SqlType": "DOUBLE"}]}, "test")


@pytest.mark.parametrize("outer", ['SELECT STREAM TICKER_SYMBOL, p FROM (SELECT STREAM TICKER_SYMBOL, PRICE * 2 AS p FROM "SOURCE_SQL_STREAM_001")',
                                   'SELECT STREAM t.TICKER_SYMBOL, t.p FROM (SELECT STREAM TICKER_SYMBOL, PRICE * 2 AS p FROM "SOURCE_SQL_STREAM_001") AS t WHERE t.ROWTIME > TIMESTAMP \'2019-04-03 17:00:00\''])
def test_a_subquery_that_does_not_select_rowtime_still_carries_it(spark, outer):
    """SQL Reference, "ROWTIME": every stream has a ROWTIME column, and a query's rows keep their input row's ROWTIME;
    a subquery in FROM is a stream, so its ROWTIME is there whether its SELECT lists it or not."""
    sql = f'''CREATE OR REPLACE STREAM "OUT" (ticker VARCHAR(4), doubled DOUBLE);
    CREATE OR REPLACE PUMP "P" AS INSERT INTO "OUT" {outer};'''
    records = [{"TICKER_SYMBOL": "AMZN", "PRICE": 4.0, "_arrival_time": at(0, 1)}]

    assert run(AnalyticsApp("sub", sql, SCHEMA), records, spark).outputs["OUT"] == [{"TICKER": "AMZN", "DOUBLED": 8.0, "ROWTIME": ts(0, 1)}]


def test_a_grouped_subquery_carries_its_windows_end_as_rowtime(spark):
    sql = '''CREATE OR REPLACE STREAM "OUT" (ticker VARCHAR(4), n INTEGER, emitted TIMESTAMP);
    CREATE OR REPLACE PUMP "P" AS INSERT INTO "OUT"
      SELECT STREAM w.TICKER_SYMBOL, w.n, w.ROWTIME FROM (SELECT STREAM TICKER_SYMBOL, COUNT(*) AS n FROM "SOURCE_SQL_STREAM_001"
        GROUP BY TICKER_SYMBOL, STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '1' MINUTE)) AS w;'''
    records = [{"TICKER_SYMBOL": "AMZN", "PRICE": p, "_arrival_time": at(0, s)} for p, s in [(1.0, 1), (2.0, 30)]]

    assert run(AnalyticsApp("sub", sql, SCHEMA), records, spark).outputs["OUT"] == [
        {"TICKER": "AMZN", "N": 2, "EMITTED": ts(1), "ROWTIME": ts(1)}]


# Developer Guide, "Example: Adding Reference Data to a Kinesis Data Analytics Application"
# (https://docs.aws.amazon.com/kinesisanalytics/latest/dev/app-add-reference-data.html), TickerReference.csv as printed there
TICKER_REFERENCE = b"Ticker, Company\nAMZN,Amazon\nASD, SomeCompanyA\nMMB, SomeCompanyB\nWAS,  SomeCompanyC\n"
# its application code, on the Getting Started exercise's demo stream (ticker_symbol, sector, change, price)
ADD_REFERENCE_SQL = '''CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (ticker_symbol VARCHAR(4), "Company" varchar(20), sector VARCHAR(12), change DOUBLE, price DOUBLE);

CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
   SELECT STREAM ticker_symbol, "c"."Company", sector, change, price
   FROM "SOURCE_SQL_STREAM_001" LEFT JOIN "CompanyName" as "c"
   ON "SOURCE_SQL_STREAM_001".ticker_symbol = "c"."Ticker";
'''
DEMO_SCHEMA = {"RecordColumns": [{"Name": "TICKER_SYMBOL", "SqlType": "VARCHAR(4)", "Mapping": "$.TICKER_SYMBOL"},
                                 {"Name": "SECTOR", "SqlType": "VARCHAR(16)", "Mapping": "$.SECTOR"},
                                 {"Name": "CHANGE", "SqlType": "REAL", "Mapping": "$.CHANGE"},
                                 {"Name": "PRICE", "SqlType": "REAL", "Mapping": "$.PRICE"}]}
DEMO_RECORDS = [{"TICKER_SYMBOL": "AMZN", "SECTOR": "TECHNOLOGY", "CHANGE": -0.5, "PRICE": 84.25, "_arrival_time": at(0, 1)},
                {"TICKER_SYMBOL": "ASD", "SECTOR": "FINANCIAL", "CHANGE": 0.25, "PRICE": 62.5, "_arrival_time": at(0, 2)},
                {"TICKER_SYMBOL": "QXZ", "SECTOR": "RETAIL", "CHANGE": 1.0, "PRICE": 40.0, "_arrival_time": at(0, 3)}]
# what follows from the reference's semantics: the CSV split at ',' (the leading space of " SomeCompanyA" kept),
# and no company for a ticker the table does not list (LEFT JOIN)
ADD_REFERENCE_ROWS = [
    {"TICKER_SYMBOL": "AMZN", "Company": "Amazon", "SECTOR": "TECHNOLOGY", "CHANGE": -0.5, "PRICE": 84.25, "ROWTIME": ts(0, 1)},
    {"TICKER_SYMBOL": "ASD", "Company": " SomeCompanyA", "SECTOR": "FINANCIAL", "CHANGE": 0.25, "PRICE": 62.5, "ROWTIME": ts(0, 2)},
    {"TICKER_SYMBOL": "QXZ", "Company": None, "SECTOR": "RETAIL", "CHANGE": 1.0, "PRICE": 40.0, "ROWTIME": ts(0, 3)},
]
# the ReferenceDataSource of AddApplicationReferenceDataSource (API_ReferenceDataSource.md), with the two discovered columns
KDA_REFERENCE_SOURCE = {
    "TableName": "CompanyName",
    "S3ReferenceDataSource": {"BucketARN": "arn:aws:s3:::mi-bucket", "FileKey": "TickerReference.csv",
                              "ReferenceRoleARN": "arn:aws:iam::123456789012:role/KinesisAnalytics-ReadS3Object"},
    "ReferenceSchema": {"RecordFormat": {"RecordFormatType": "CSV", "MappingParameters": {
        "CSVMappingParameters": {"RecordRowDelimiter": "\n", "RecordColumnDelimiter": ","}}},
        "RecordEncoding": "UTF-8",
        "RecordColumns": [{"Name": "Ticker", "SqlType": "VARCHAR(8)"}, {"Name": "Company", "SqlType": "VARCHAR(20)"}]},
}


def test_reference_data_declared_in_app_json_as_kda_declares_it_joins_by_its_record_columns(spark, cauce_lake, tmp_path):
    import json

    from cauce.analytics.app import load_app

    cauce_lake.put_object("s3://mi-bucket/TickerReference.csv", TICKER_REFERENCE)
    folder = tmp_path / "add-reference-data"
    folder.mkdir()
    (folder / "app.sql").write_text(ADD_REFERENCE_SQL)
    (folder / "app.json").write_text(json.dumps({
        "application_configuration": {"sql_configuration": {"input_schema": json.dumps(DEMO_SCHEMA)}},
        "reference_data_sources": [KDA_REFERENCE_SOURCE]}))

    result = run(load_app(str(folder)), DEMO_RECORDS, spark, lake=cauce_lake)

    assert result.outputs == {"DESTINATION_SQL_STREAM": ADD_REFERENCE_ROWS}


def test_reference_data_in_the_stacks_analytics_config_as_the_terraform_block_declares_it(spark, cauce_lake):
    """The module's analytics_config entry with the reference_data_sources block of aws_kinesis_analytics_application
    (table_name, s3, schema with record_columns and record_format.mapping_parameters.csv), read by the stack model."""
    from cauce.analytics.app import from_config
    from cauce.core.stack import parse_stack
    from tests.infra.test_stack_types import example

    cauce_lake.put_object("s3://mi-bucket/TickerReference.csv", TICKER_REFERENCE)
    values = example()
    key, entry = next(iter(values["kinesis_config"]["analytics_config"].items()))
    entry.update(code=ADD_REFERENCE_SQL, reference_data_sources=[{
        "table_name": "CompanyName",
        "s3": {"bucket_arn": "arn:aws:s3:::mi-bucket", "file_key": "TickerReference.csv"},
        "schema": {"record_columns": [{"name": "Ticker", "sql_type": "VARCHAR(8)"}, {"name": "Company", "sql_type": "VARCHAR(20)"}],
                   "record_format": {"mapping_parameters": {"csv": {"record_column_delimiter": ",", "record_row_delimiter": "\n"}}}}}])
    entry["application_configuration"]["sql_configuration"]["input_schema"] = __import__("json").dumps(DEMO_SCHEMA)
    stack = parse_stack(values)
    config = stack.kinesis_config.analytics_config[key]
    assert config.reference_data_sources[0].schema.record_encoding == "UTF-8"  # the module's default

    result = run(from_config(key, config.document, "stack"), DEMO_RECORDS, spark, lake=cauce_lake)

    assert result.outputs == {"DESTINATION_SQL_STREAM": ADD_REFERENCE_ROWS}


def test_json_reference_data_maps_columns_by_their_jsonpath(spark, cauce_lake):
    """API_JSONMappingParameters: RecordRowPath names the rows; each RecordColumn's Mapping its value."""
    from cauce.analytics.app import from_config

    cauce_lake.put_object("s3://mi-bucket/companies.json", b'{"companies": [{"t": "AMZN", "info": {"name": "Amazon"}}, {"t": "ASD", "info": {"name": "SomeCompanyA"}}]}')
    source = {"TableName": "CompanyName", "S3ReferenceDataSource": {"BucketARN": "arn:aws:s3:::mi-bucket", "FileKey": "companies.json"},
              "ReferenceSchema": {"RecordFormat": {"RecordFormatType": "JSON", "MappingParameters": {"JSONMappingParameters": {"RecordRowPath": "$.companies[*]"}}},
                                  "RecordColumns": [{"Name": "Ticker", "SqlType": "VARCHAR(8)", "Mapping": "$.t"},
                                                    {"Name": "Company", "SqlType": "VARCHAR(20)", "Mapping": "$.info.name"}]}}
    app = from_config("json-reference", {"code": ADD_REFERENCE_SQL, "reference_data_sources": [source],
                                         "application_configuration": {"sql_configuration": {"input_schema": DEMO_SCHEMA}}}, "test")

    rows = run(app, DEMO_RECORDS, spark, lake=cauce_lake).outputs["DESTINATION_SQL_STREAM"]

    assert [r["Company"] for r in rows] == ["Amazon", "SomeCompanyA", None]


@pytest.mark.parametrize(("change", "message"), [
    ({"TableName": None}, r"reference_data_sources\[0\]\.TableName: required"),
    ({"S3ReferenceDataSource": {"FileKey": "x.csv"}}, r"reference_data_sources\[0\]\.S3ReferenceDataSource: BucketARN"),
    ({"ReferenceSchema": {"RecordColumns": [{"Name": "Ticker", "SqlType": "TEXT"}]}}, r"RecordColumns\[0\]\.SqlType: 'TEXT' is not a supported SQL type"),
    ({"ReferenceSchema": {"RecordFormat": {"RecordFormatType": "PARQUET"}, "RecordColumns": [{"Name": "Ticker", "SqlType": "VARCHAR(8)"}]}},
     r"RecordFormatType: CSV or JSON, got 'PARQUET'"),
])
def test_an_invalid_reference_data_source_is_refused_naming_the_field(change, message):
    from cauce.analytics.app import AppDefinitionError, from_config

    source = {**KDA_REFERENCE_SOURCE, **change}
    with pytest.raises(AppDefinitionError, match=message):
        from_config("bad", {"code": ADD_REFERENCE_SQL, "reference_data_sources": [source],
                            "application_configuration": {"sql_configuration": {"input_schema": DEMO_SCHEMA}}}, "app.json")


def test_a_reference_row_that_does_not_fit_its_columns_is_refused_naming_the_table_and_line(spark, cauce_lake):
    from cauce.analytics.app import from_config

    cauce_lake.put_object("s3://mi-bucket/TickerReference.csv", b"AMZN,Amazon\nASD\n")
    app = from_config("short-row", {"code": ADD_REFERENCE_SQL, "reference_data_sources": [KDA_REFERENCE_SOURCE],
                                    "application_configuration": {"sql_configuration": {"input_schema": DEMO_SCHEMA}}}, "test")
    with pytest.raises(AnalyticsSqlError, match=r"reference data CompanyName \(s3://mi-bucket/TickerReference.csv\), line 2: 1 field\(s\), the schema has 2"):
        run(app, DEMO_RECORDS, spark, lake=cauce_lake)


def test_reference_values_convert_as_the_input_streams_do(spark, cauce_lake):
    """A reference table's fields take KDA's mapping rules, as the input stream's records do (Developer Guide,
    sch-mapping.html#sch-mapping-datatypes): a longer string is truncated to the VARCHAR's length, a string that
    reads as a number fills a numeric column, and one that does not is refused naming the table, line and column."""
    from cauce.analytics.app import from_config

    sql = '''CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (ticker_symbol VARCHAR(4), "Company" VARCHAR(20), "Employees" INTEGER);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
   SELECT STREAM ticker_symbol, "c"."Company", "c"."Employees"
   FROM "SOURCE_SQL_STREAM_001" LEFT JOIN "CompanyName" as "c" ON "SOURCE_SQL_STREAM_001".ticker_symbol = "c"."Ticker";'''
    source = {**KDA_REFERENCE_SOURCE, "ReferenceSchema": {**KDA_REFERENCE_SOURCE["ReferenceSchema"], "RecordColumns": [
        {"Name": "Ticker", "SqlType": "VARCHAR(8)"}, {"Name": "Company", "SqlType": "VARCHAR(8)"}, {"Name": "Employees", "SqlType": "INTEGER"}]}}
    app = from_config("converted", {"code": sql, "reference_data_sources": [source],
                                    "application_configuration": {"sql_configuration": {"input_schema": DEMO_SCHEMA}}}, "test")

    cauce_lake.put_object("s3://mi-bucket/TickerReference.csv", b"AMZN,Amazon.com Inc,1551000\nASD,SomeCompanyA,12\n")
    rows = run(app, DEMO_RECORDS, spark, lake=cauce_lake).outputs["DESTINATION_SQL_STREAM"]
    assert [(r["TICKER_SYMBOL"], r["Company"], r["Employees"]) for r in rows] == [
        ("AMZN", "Amazon.c", 1551000), ("ASD", "SomeComp", 12), ("QXZ", None, None)]

    cauce_lake.put_object("s3://mi-bucket/TickerReference.csv", b"AMZN,Amazon,1551000\nASD,SomeCompanyA,many\n")
    with pytest.raises(AnalyticsSqlError, match=r"reference data CompanyName \(s3://mi-bucket/TickerReference.csv\), line 2: "
                                                 r"column Employees \(INTEGER\): 'many' is not an int"):
        run(app, DEMO_RECORDS, spark, lake=cauce_lake)


def test_the_glue_job_reads_reference_tables_from_s3(spark, aws):
    """On AWS the Glue job reads the ReferenceDataSource's S3 object (moto here) into the reference table."""
    import boto3

    from cauce.analytics.app import from_config
    from cauce.analytics.glue_main import S3Objects

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="mi-bucket")
    s3.put_object(Bucket="mi-bucket", Key="TickerReference.csv", Body=TICKER_REFERENCE)
    app = from_config("on-aws", {"code": ADD_REFERENCE_SQL, "reference_data_sources": [KDA_REFERENCE_SOURCE],
                                 "application_configuration": {"sql_configuration": {"input_schema": DEMO_SCHEMA}}}, "--reference_data_sources")

    assert run(app, DEMO_RECORDS, spark, lake=S3Objects(s3)).outputs == {"DESTINATION_SQL_STREAM": ADD_REFERENCE_ROWS}


EVENTS_SCHEMA = parse_schema({"RecordColumns": [{"Name": "EVENT_TIME", "SqlType": "VARCHAR(32)", "Mapping": "$.EVENT_TIME"},
                                                {"Name": "TICKER_SYMBOL", "SqlType": "VARCHAR(4)", "Mapping": "$.TICKER_SYMBOL"}]}, "test")
EVENTS = [{"EVENT_TIME": "2019-04-03 17:00:10", "TICKER_SYMBOL": "AMZN", "_arrival_time": at(0, 20)},
          {"EVENT_TIME": "2019-04-03 17:00:20", "TICKER_SYMBOL": "AMZN", "_arrival_time": at(0, 30)}]


def test_an_event_time_column_cast_to_a_timestamp_checks_and_runs(spark):
    """Developer Guide, "Stagger Windows" (stagger-window-concepts.html): the input has an EVENT_TIME column;
    here it arrives as text and the pump casts it."""
    from cauce.analytics.runtime import analyze

    sql = '''CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (ticker_symbol VARCHAR(4), event_time TIMESTAMP, ticker_count INTEGER);
    CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
      SELECT STREAM TICKER_SYMBOL, FLOOR(CAST(EVENT_TIME AS TIMESTAMP) TO MINUTE), COUNT(TICKER_SYMBOL) AS ticker_count
      FROM "SOURCE_SQL_STREAM_001"
      WINDOWED BY STAGGER (PARTITION BY FLOOR(CAST(EVENT_TIME AS TIMESTAMP) TO MINUTE), TICKER_SYMBOL RANGE INTERVAL '1' MINUTE);'''
    app = AnalyticsApp("event-time", sql, EVENTS_SCHEMA)

    assert analyze(app, spark) == {"DESTINATION_SQL_STREAM": ["TICKER_SYMBOL", "EVENT_TIME", "TICKER_COUNT", "ROWTIME"]}
    assert run(app, EVENTS, spark).outputs["DESTINATION_SQL_STREAM"] == [
        {"TICKER_SYMBOL": "AMZN", "EVENT_TIME": ts(0), "TICKER_COUNT": 2, "ROWTIME": ts(1, 20)}]


def test_a_tumbling_window_over_rowtime_beside_one_over_event_time_gives_rowtime_its_end(spark):
    """Developer Guide, "Stagger Windows" (stagger-window-concepts.html): its tumbling-window application groups by
    FLOOR(EVENT_TIME TO MINUTE) and STEP(ROWTIME BY INTERVAL '1' MINUTE); on the page's four AMZN records it gives the
    three rows the page prints, each with the end of its ROWTIME window as ROWTIME."""
    schema = parse_schema({"RecordColumns": [{"Name": "TICKER_SYMBOL", "SqlType": "VARCHAR(4)", "Mapping": "$.TICKER_SYMBOL"},
                                             {"Name": "EVENT_TIME", "SqlType": "TIMESTAMP", "Mapping": "$.EVENT_TIME"}]}, "page")
    sql = '''CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (TICKER_SYMBOL VARCHAR(4), EVENT_TIME timestamp, TICKER_COUNT DOUBLE);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS
  INSERT INTO "DESTINATION_SQL_STREAM"
    SELECT STREAM TICKER_SYMBOL, FLOOR(EVENT_TIME TO MINUTE), COUNT(TICKER_SYMBOL) AS TICKER_COUNT
    FROM "SOURCE_SQL_STREAM_001"
    GROUP BY ticker_symbol, FLOOR(EVENT_TIME TO MINUTE), STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '1' MINUTE);'''
    page = [("11:00:20", "11:00:10"), ("11:00:30", "11:00:20"), ("11:01:05", "11:00:55"), ("11:01:15", "11:01:05")]
    records = [{"_arrival_time": f"2024-01-01T{rowtime}Z", "EVENT_TIME": f"2024-01-01 {event}", "TICKER_SYMBOL": "AMZN"} for rowtime, event in page]

    rows = run(AnalyticsApp("partial-results", sql, schema), records, spark).outputs["DESTINATION_SQL_STREAM"]

    moment = dt.datetime.fromisoformat
    assert [(r["ROWTIME"], r["EVENT_TIME"], r["TICKER_SYMBOL"], r["TICKER_COUNT"]) for r in rows] == [
        (moment("2024-01-01 11:01:00"), moment("2024-01-01 11:00:00"), "AMZN", 2.0),
        (moment("2024-01-01 11:02:00"), moment("2024-01-01 11:00:00"), "AMZN", 1.0),
        (moment("2024-01-01 11:02:00"), moment("2024-01-01 11:01:00"), "AMZN", 1.0)]


def test_an_expression_aliased_rowtime_sets_the_rows_rowtime(spark):
    """SQL Reference, "ROWTIME": ROWTIME is used "as a column alias, to override the timestamp on the current row";
    "T-sorting Stream Input": `ORDER BY <timestamp_expr> WITHIN <interval>` with that expression aliased ROWTIME."""
    sql = '''CREATE OR REPLACE STREAM "BY_EVENT_TIME" (ticker_symbol VARCHAR(4), arrived TIMESTAMP);
    CREATE OR REPLACE PUMP "P" AS INSERT INTO "BY_EVENT_TIME"
      SELECT STREAM CAST(s.EVENT_TIME AS TIMESTAMP) AS ROWTIME, s.TICKER_SYMBOL, s.ROWTIME FROM "SOURCE_SQL_STREAM_001" AS s
      ORDER BY CAST(s.EVENT_TIME AS TIMESTAMP) WITHIN INTERVAL '1' MINUTE;'''

    assert run(AnalyticsApp("override", sql, EVENTS_SCHEMA), EVENTS, spark).outputs["BY_EVENT_TIME"] == [
        {"TICKER_SYMBOL": "AMZN", "ARRIVED": ts(0, 20), "ROWTIME": ts(0, 10)},
        {"TICKER_SYMBOL": "AMZN", "ARRIVED": ts(0, 30), "ROWTIME": ts(0, 20)}]
