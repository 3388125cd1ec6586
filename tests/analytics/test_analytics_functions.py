"""The KDA analytics table functions (TOP_K_ITEMS_TUMBLING, RANDOM_CUT_FOREST, RANDOM_CUT_FOREST_WITH_EXPLANATION,
HOTSPOTS) on AWS's own examples: exact rows where the function is deterministic, AWS's documented properties where
it is random (the seed is fixed: CAUCE_ANALYTICS_SEED)."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest

from cauce.analytics.app import AnalyticsApp, parse_schema
from cauce.analytics.dialect import AnalyticsSqlError
from cauce.analytics.runtime import check, run

START = dt.datetime(2026, 11, 26, 10, 0, 0)


def at(seconds: float) -> str:
    return (START + dt.timedelta(seconds=seconds)).isoformat() + "Z"


def app(sql: str, columns: list[tuple[str, str]]) -> AnalyticsApp:
    schema = parse_schema({"RecordColumns": [{"Name": name, "SqlType": sql_type, "Mapping": f"$.{name}"} for name, sql_type in columns]}, "test")
    return AnalyticsApp("test", sql, schema)


@pytest.fixture(autouse=True)
def fixed_seed(monkeypatch):
    monkeypatch.setenv("CAUCE_ANALYTICS_SEED", "16")


# The application code of AWS's developer guide example "Retrieving the Most Frequently Occurring Values
# (TOP_K_ITEMS_TUMBLING)": docs.aws.amazon.com/kinesisanalytics/latest/dev/examples-window-topkitems.html
# (awsdocs/amazon-kinesis-data-analytics-developer-guide, doc_source/examples-window-topkitems.md).
TOP_K_APP = '''CREATE OR REPLACE STREAM DESTINATION_SQL_STREAM (
  "TICKER" VARCHAR(4),
  "MOST_FREQUENT_VALUES" BIGINT
);

CREATE OR REPLACE PUMP "STREAM_PUMP" AS
    INSERT INTO "DESTINATION_SQL_STREAM"
    SELECT STREAM *
        FROM TABLE (TOP_K_ITEMS_TUMBLING(
            CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001"),
            'TICKER',         -- name of column in single quotes
            5,                       -- number of the most frequently occurring values
            60                       -- tumbling window size in seconds
            )
        );'''
TICKERS = [("TICKER", "VARCHAR(4)"), ("PRICE", "DOUBLE")]


def test_top_k_the_developer_guides_example_gives_the_five_most_frequent_tickers_per_minute(spark):
    # the example's generator picks among AAPL, AMZN, MSFT, INTC, TBV; here a sixth, rarer ticker is left out of the top 5
    minute_one = ["AMZN"] * 5 + ["AAPL"] * 4 + ["MSFT"] * 3 + ["INTC"] * 2 + ["TBV"] * 2 + ["XYZ"]
    minute_two = ["TBV"] * 3 + ["INTC"]
    records = [{"TICKER": t, "PRICE": 1.0, "_arrival_time": at(i * 3)} for i, t in enumerate(minute_one)]
    records += [{"TICKER": t, "PRICE": 1.0, "_arrival_time": at(60 + i)} for i, t in enumerate(minute_two)]

    result = run(app(TOP_K_APP, TICKERS), records, spark)

    end_one, end_two = START + dt.timedelta(minutes=1), START + dt.timedelta(minutes=2)
    # each window's items most frequent first, ties by value: "the same result as aggregating with GROUP BY and ORDER BY"
    assert result.outputs["DESTINATION_SQL_STREAM"] == [
        {"TICKER": "AMZN", "MOST_FREQUENT_VALUES": 5, "ROWTIME": end_one},
        {"TICKER": "AAPL", "MOST_FREQUENT_VALUES": 4, "ROWTIME": end_one},
        {"TICKER": "MSFT", "MOST_FREQUENT_VALUES": 3, "ROWTIME": end_one},
        {"TICKER": "INTC", "MOST_FREQUENT_VALUES": 2, "ROWTIME": end_one},
        {"TICKER": "TBV", "MOST_FREQUENT_VALUES": 2, "ROWTIME": end_one},
        {"TICKER": "TBV", "MOST_FREQUENT_VALUES": 3, "ROWTIME": end_two},
        {"TICKER": "INTC", "MOST_FREQUENT_VALUES": 1, "ROWTIME": end_two},
    ]


def test_top_k_the_sql_references_example_on_the_stock_ticker_stream(spark):
    # docs.aws.amazon.com/kinesisanalytics/latest/sqlref/top-k.html, Example 1, on its sample stock dataset
    # (ticker_symbol VARCHAR(4), sector VARCHAR(16), change REAL, price REAL), here K = 3 over 10-second windows
    sql = '''CREATE OR REPLACE STREAM DESTINATION_SQL_STREAM ("TICKER_SYMBOL" VARCHAR(4), "MOST_FREQUENT_VALUES" BIGINT);
    CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
        SELECT STREAM * FROM TABLE (TOP_K_ITEMS_TUMBLING(
            CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001"), 'TICKER_SYMBOL', 3, 10));'''
    columns = [("TICKER_SYMBOL", "VARCHAR(4)"), ("SECTOR", "VARCHAR(16)"), ("CHANGE", "REAL"), ("PRICE", "REAL")]
    tickers = ["QXZ", "QXZ", "NFS", "QXZ", "WSB", "NFS", "ALY", "QXZ", "WSB", "NFS"]
    records = [{"TICKER_SYMBOL": t, "SECTOR": "TECHNOLOGY", "CHANGE": 0.5, "PRICE": 10.0, "_arrival_time": at(i)} for i, t in enumerate(tickers)]

    result = run(app(sql, columns), records, spark)

    end = START + dt.timedelta(seconds=10)
    assert result.outputs["DESTINATION_SQL_STREAM"] == [
        {"TICKER_SYMBOL": "QXZ", "MOST_FREQUENT_VALUES": 4, "ROWTIME": end},
        {"TICKER_SYMBOL": "NFS", "MOST_FREQUENT_VALUES": 3, "ROWTIME": end},
        {"TICKER_SYMBOL": "WSB", "MOST_FREQUENT_VALUES": 2, "ROWTIME": end},
    ]


@pytest.mark.parametrize("arguments, message", [
    ("'TICKER', 0, 60", "TOP_K_ITEMS_TUMBLING: K must be at least 1 and at most 100000, got 0"),
    ("'TICKER', 5, 3601", "windowSize must be at least 1 and at most 3600, got 3601"),  # AWS: 1 second to 1 hour
    ("TICKER, 5, 60", "columnName must be a column name in single quotes, got 'TICKER'"),
    ("'TICKER', 5", "windowSize is required"),
])
def test_top_k_parameters_out_of_awss_ranges_are_refused_with_line_and_column(arguments, message):
    sql = ('CREATE OR REPLACE STREAM "OUT" ("TICKER" VARCHAR(4), "N" BIGINT);\nCREATE OR REPLACE PUMP "P" AS INSERT INTO "OUT"\n'
           f'  SELECT STREAM * FROM TABLE(TOP_K_ITEMS_TUMBLING(CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001"), {arguments}));')
    with pytest.raises(AnalyticsSqlError) as error:
        check(app(sql, TICKERS))
    assert message in str(error.value) and str(error.value).startswith("line 3, column ")


def test_top_k_of_a_column_the_cursor_does_not_have_names_the_columns_it_has(spark):
    sql = TOP_K_APP.replace("'TICKER',", "'SYMBOL',")
    with pytest.raises(AnalyticsSqlError, match=r"pump STREAM_PUMP \(line 6\): TOP_K_ITEMS_TUMBLING: 'SYMBOL' is not a column of the CURSOR \(TICKER, PRICE, APPROXIMATE_ARRIVAL_TIME\)"):
        run(app(sql, TICKERS), [{"TICKER": "A", "PRICE": 1.0, "_arrival_time": at(0)}], spark)


@pytest.mark.parametrize("sql, message", [
    ('SELECT STREAM * FROM TABLE(COUNT_DISTINCT_ITEMS_TUMBLING(CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001"), \'TICKER\', 60))',
     "line 3, column 30: COUNT_DISTINCT_ITEMS_TUMBLING: not a table function Cauce runs"),
    ('SELECT STREAM "TICKER", CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001") FROM "SOURCE_SQL_STREAM_001"',
     "line 3, column 27: CURSOR is read only as the first argument of a table function"),
    ('SELECT STREAM * FROM TABLE(RANDOM_CUT_FOREST("SOURCE_SQL_STREAM_001"))', "the first argument must be CURSOR(SELECT STREAM"),
    ('SELECT STREAM * FROM TABLE(RANDOM_CUT_FOREST(CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001"), 100, 5))',
     "subSampleSize must be at least 10 and at most 1000, got 5"),
])
def test_what_is_not_a_table_function_call_is_refused_by_name_and_place(sql, message):
    text = f'CREATE OR REPLACE STREAM "OUT" ("a" DOUBLE);\nCREATE OR REPLACE PUMP "P" AS INSERT INTO "OUT"\n  {sql};'
    with pytest.raises(AnalyticsSqlError) as error:
        check(app(text, TICKERS))
    assert message in str(error.value)


# AWS's developer guide example "Detecting Data Anomalies on a Stream (RANDOM_CUT_FOREST Function)": its first
# pump, as printed (docs.aws.amazon.com/kinesisanalytics/latest/dev/app-anomaly-detection.html;
# awsdocs/amazon-kinesis-data-analytics-developer-guide, doc_source/app-anomaly-detection.md).
HEART_RATE_APP = '''--Creates a temporary stream.
CREATE OR REPLACE STREAM "TEMP_STREAM" (
	        "heartRate"        INTEGER,
	        "rateType"         varchar(20),
	        "ANOMALY_SCORE"    DOUBLE);

-- Compute an anomaly score for each record in the input stream
-- using Random Cut Forest
CREATE OR REPLACE PUMP "STREAM_PUMP" AS
   INSERT INTO "TEMP_STREAM"
      SELECT STREAM "heartRate", "rateType", ANOMALY_SCORE
      FROM TABLE(RANDOM_CUT_FOREST(
              CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001")));'''
HEART_RATE = [("heartRate", "INTEGER"), ("rateType", "VARCHAR(20)")]


def heart_rates(count: int, anomaly_at: int) -> list[dict]:
    """The example's generator (doc_source/app-anomaly-prepare.md): NORMAL rates 60-100, and one HIGH rate 150-200."""
    draw = random.Random(7)
    records = [{"heartRate": draw.randint(60, 100), "rateType": "NORMAL", "_arrival_time": at(i / 10)} for i in range(count)]
    records[anomaly_at] = {"heartRate": draw.randint(150, 200), "rateType": "HIGH", "_arrival_time": at(anomaly_at / 10)}
    return records


def test_random_cut_forest_with_its_defaults_scores_the_high_heart_rate_highest(spark):
    records = heart_rates(200, anomaly_at=150)

    rows = run(app(HEART_RATE_APP, HEART_RATE), records, spark).outputs["TEMP_STREAM"]

    assert [(r["heartRate"], r["rateType"]) for r in rows] == [(r["heartRate"], r["rateType"]) for r in records]  # every row, in order
    scores = [r["ANOMALY_SCORE"] for r in rows]
    assert scores[:64] == [0.0] * 64  # the learning phase: a quarter of the default subSampleSize (256)
    assert all(s > 0 for s in scores[64:])
    assert max(range(len(rows)), key=scores.__getitem__) == 150 and rows[150]["rateType"] == "HIGH"
    assert scores[150] > 2 * sorted(scores)[-2]  # far above every normal rate


# The same example whole: its output stream, and the second pump sorting each second's rows by score
# (`SELECT STREAM *` of a stream takes its columns, not its ROWTIME)
HEART_RATE_APP_WHOLE = HEART_RATE_APP + '''

--Creates another stream for application output.
CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (
	        "heartRate"        INTEGER,
	        "rateType"         varchar(20),
	        "ANOMALY_SCORE"    DOUBLE);

-- Sort records by descending anomaly score, insert into output stream
CREATE OR REPLACE PUMP "OUTPUT_PUMP" AS
   INSERT INTO "DESTINATION_SQL_STREAM"
      SELECT STREAM * FROM "TEMP_STREAM"
      ORDER BY FLOOR("TEMP_STREAM".ROWTIME TO SECOND), ANOMALY_SCORE DESC;'''


def test_random_cut_forest_the_developer_guides_whole_app_runs_its_two_pumps(spark):
    records = heart_rates(200, anomaly_at=150)

    rows = run(app(HEART_RATE_APP_WHOLE, HEART_RATE), records, spark).outputs["DESTINATION_SQL_STREAM"]

    assert len(rows) == 200 and set(rows[0]) == {"heartRate", "rateType", "ANOMALY_SCORE", "ROWTIME"}
    assert sorted(r["heartRate"] for r in rows) == sorted(r["heartRate"] for r in records)  # every record, once
    assert max(rows, key=lambda r: r["ANOMALY_SCORE"])["rateType"] == "HIGH"


def test_random_cut_forest_the_sql_references_stock_example_with_its_parameters(spark):
    # docs.aws.amazon.com/kinesisanalytics/latest/sqlref/sqlrf-random-cut-forest.html: the stock ticker stream, every
    # numeric column (CHANGE, PRICE) scored; numberOfTrees, subSampleSize, timeDecay, shingleSize given
    sql = '''CREATE OR REPLACE STREAM "ANOMALY_STREAM" ("TICKER_SYMBOL" VARCHAR(4), "SECTOR" VARCHAR(16), "CHANGE" REAL,
        "PRICE" REAL, "ANOMALY_SCORE" DOUBLE);
    CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "ANOMALY_STREAM"
        SELECT STREAM "TICKER_SYMBOL", "SECTOR", "CHANGE", "PRICE", ANOMALY_SCORE
        FROM TABLE(RANDOM_CUT_FOREST(CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001"), 50, 64, 10000, 1));'''
    columns = [("TICKER_SYMBOL", "VARCHAR(4)"), ("SECTOR", "VARCHAR(16)"), ("CHANGE", "REAL"), ("PRICE", "REAL")]
    draw = random.Random(3)
    records = [{"TICKER_SYMBOL": "QXZ", "SECTOR": "RETAIL", "CHANGE": round(draw.uniform(-1, 1), 2), "PRICE": round(draw.uniform(80, 90), 2),
                "_arrival_time": at(i)} for i in range(150)]
    records[120].update(CHANGE=-9.5, PRICE=31.0)  # a crash

    rows = run(app(sql, columns), records, spark).outputs["ANOMALY_STREAM"]

    scores = [r["ANOMALY_SCORE"] for r in rows]
    assert scores[:16] == [0.0] * 16 and max(range(150), key=scores.__getitem__) == 120
    assert rows[120]["PRICE"] == 31.0 and rows[120]["TICKER_SYMBOL"] == "QXZ"


def test_random_cut_forest_scores_are_reproducible_under_a_seed_and_change_with_it(spark, monkeypatch):
    records = heart_rates(120, anomaly_at=100)
    sql = HEART_RATE_APP.replace('"SOURCE_SQL_STREAM_001")', '"SOURCE_SQL_STREAM_001"), 20, 32, 1000, 1')

    first = [r["ANOMALY_SCORE"] for r in run(app(sql, HEART_RATE), records, spark).outputs["TEMP_STREAM"]]
    again = [r["ANOMALY_SCORE"] for r in run(app(sql, HEART_RATE), records, spark).outputs["TEMP_STREAM"]]
    monkeypatch.setenv("CAUCE_ANALYTICS_SEED", "17")
    other = [r["ANOMALY_SCORE"] for r in run(app(sql, HEART_RATE), records, spark).outputs["TEMP_STREAM"]]

    assert first == again and first != other
    assert max(range(120), key=first.__getitem__) == max(range(120), key=other.__getitem__) == 100


def test_random_cut_forest_with_a_shingle_scores_a_break_in_the_pattern(spark):
    # shingleSize n: each point is the last n records; until n records have come there is no point (score 0)
    sql = HEART_RATE_APP.replace('"SOURCE_SQL_STREAM_001")', '"SOURCE_SQL_STREAM_001"), 30, 64, 10000, 4')
    records = [{"heartRate": [60, 70, 80, 90][i % 4], "rateType": "NORMAL", "_arrival_time": at(i)} for i in range(160)]
    records[141]["heartRate"] = 60  # the same values, in the wrong order: only a shingle sees it

    scores = [r["ANOMALY_SCORE"] for r in run(app(sql, HEART_RATE), records, spark).outputs["TEMP_STREAM"]]

    assert scores[:3] == [0.0, 0.0, 0.0]
    assert max(range(160), key=scores.__getitem__) in (141, 142, 143, 144)  # the four shingles holding the break


# AWS's developer guide example "Detecting Data Anomalies and Getting an Explanation": its first pump as printed
# (docs.aws.amazon.com/kinesisanalytics/latest/dev/app-anom-with-exp-create-app.html; doc_source/app-anom-with-exp-create-app.md),
# the blood pressure records of its generator (doc_source/app-anomaly-with-ex-prepare.md).
BLOOD_PRESSURE_APP = '''--Creates a temporary stream.
CREATE OR REPLACE STREAM "TEMP_STREAM" (
	        "Systolic"                  INTEGER,
	        "Diastolic"                 INTEGER,
	        "BloodPressureLevel"        varchar(20),
	        "ANOMALY_SCORE"             DOUBLE,
	        "ANOMALY_EXPLANATION"       varchar(512));

-- Compute an anomaly score with explanation for each record in the input stream
-- using RANDOM_CUT_FOREST_WITH_EXPLANATION
CREATE OR REPLACE PUMP "STREAM_PUMP" AS
   INSERT INTO "TEMP_STREAM"
      SELECT STREAM "Systolic", "Diastolic", "BloodPressureLevel", ANOMALY_SCORE, ANOMALY_EXPLANATION
      FROM TABLE(RANDOM_CUT_FOREST_WITH_EXPLANATION(
              CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001"), 100, 256, 100000, 1, true));'''
BLOOD_PRESSURE = [("Systolic", "INTEGER"), ("Diastolic", "INTEGER"), ("BloodPressureLevel", "VARCHAR(20)")]


def blood_pressures(count: int) -> list[dict]:
    draw = random.Random(11)
    return [{"Systolic": draw.randint(90, 120), "Diastolic": draw.randint(60, 80), "BloodPressureLevel": "NORMAL",
             "_arrival_time": at(i / 10)} for i in range(count)]


def test_random_cut_forest_with_explanation_the_developer_guides_example(spark):
    records = blood_pressures(200)
    records[150] = {"Systolic": 144, "Diastolic": 123, "BloodPressureLevel": "HIGH", "_arrival_time": at(15)}  # AWS's HIGH row
    records[170] = {"Systolic": 105, "Diastolic": 140, "BloodPressureLevel": "HIGH", "_arrival_time": at(17)}  # only Diastolic is off

    rows = run(app(BLOOD_PRESSURE_APP, BLOOD_PRESSURE), records, spark).outputs["TEMP_STREAM"]

    scores = [r["ANOMALY_SCORE"] for r in rows]
    assert sorted(range(200), key=scores.__getitem__)[-2:] in ([150, 170], [170, 150])  # the HIGH rows score highest
    for index in (150, 170):
        explained = json.loads(rows[index]["ANOMALY_EXPLANATION"])
        # the numeric columns only (BloodPressureLevel is text), each with the fields of AWS's example output
        assert list(explained) == ["Systolic", "Diastolic"]
        assert all(list(entry) == ["DIRECTION", "STRENGTH", "ATTRIBUTION_SCORE"] for entry in explained.values())
        # AWS: the columns' attributions add up to the score ("in the ratio of 1.7447:2.1111" for 3.855851061)
        assert sum(float(e["ATTRIBUTION_SCORE"]) for e in explained.values()) == pytest.approx(scores[index], abs=2e-4)
        assert explained["Diastolic"]["DIRECTION"] == "HIGH"
    both, diastolic = json.loads(rows[150]["ANOMALY_EXPLANATION"]), json.loads(rows[170]["ANOMALY_EXPLANATION"])
    assert both["Systolic"]["DIRECTION"] == "HIGH"  # 144 is above the normal 90-120 too
    assert float(diastolic["Diastolic"]["ATTRIBUTION_SCORE"]) > 2 * float(diastolic["Systolic"]["ATTRIBUTION_SCORE"])
    assert float(diastolic["Diastolic"]["STRENGTH"]) > float(diastolic["Systolic"]["STRENGTH"])
    assert rows[0]["ANOMALY_SCORE"] == 0.0  # the initial learning phase: "you first see rows with an anomaly score equal to zero"


def test_random_cut_forest_with_explanation_without_directionality_gives_the_attribution_only(spark):
    sql = BLOOD_PRESSURE_APP.replace("100, 256, 100000, 1, true", "30, 64, 10000, 1")  # withDirectionality defaults to false
    records = blood_pressures(100)
    records[90].update(Systolic=60, Diastolic=70)

    rows = run(app(sql, BLOOD_PRESSURE), records, spark).outputs["TEMP_STREAM"]

    explained = json.loads(rows[90]["ANOMALY_EXPLANATION"])
    assert {name: list(entry) for name, entry in explained.items()} == {"Systolic": ["ATTRIBUTION_SCORE"], "Diastolic": ["ATTRIBUTION_SCORE"]}
    assert float(explained["Systolic"]["ATTRIBUTION_SCORE"]) > float(explained["Diastolic"]["ATTRIBUTION_SCORE"])


def test_random_cut_forest_refuses_a_decimal_column_as_aws_does(spark):
    sql = HEART_RATE_APP.replace('SELECT STREAM * FROM "SOURCE', 'SELECT STREAM CAST("heartRate" AS DECIMAL(5, 1)) AS "heartRate", "rateType" FROM "SOURCE')
    with pytest.raises(AnalyticsSqlError, match="column heartRate is DECIMAL, which the function does not take .*CAST it to DOUBLE"):
        run(app(sql, HEART_RATE), heart_rates(5, 1), spark)


# AWS's developer guide example "Detecting Hotspots on a Stream (HOTSPOTS Function)", its code as printed
# (docs.aws.amazon.com/kinesisanalytics/latest/dev/app-hotspots-detection.html; doc_source/app-hotspots-detection.md).
HOTSPOTS_APP = '''CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (
    "x" DOUBLE,
    "y" DOUBLE,
    "is_hot" VARCHAR(4),
    HOTSPOTS_RESULT VARCHAR(10000)
);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS
    INSERT INTO "DESTINATION_SQL_STREAM"
    SELECT "x", "y", "is_hot", "HOTSPOTS_RESULT"
    FROM TABLE (
        HOTSPOTS(
            CURSOR(SELECT STREAM "x", "y", "is_hot" FROM "SOURCE_SQL_STREAM_001"),
            1000,
            0.2,
            17)
    );'''
POINTS = [("x", "DOUBLE"), ("y", "DOUBLE"), ("is_hot", "VARCHAR(4)")]


def points(count: int, hotspot_weight: float, seed: int) -> tuple[list[dict], dict]:
    """The example's generator (doc_source/app-hotspots-prepare.md): a 10 x 10 field, a 1 x 1 hotspot holding 20% of the points."""
    draw = random.Random(seed)
    field = {"left": 0, "width": 10, "top": 0, "height": 10}
    hotspot = {"left": draw.random() * 9, "width": 1, "top": draw.random() * 9, "height": 1}
    records = []
    for i in range(count):
        rectangle = hotspot if draw.random() < hotspot_weight else field
        records.append({"x": rectangle["left"] + draw.random() * rectangle["width"], "y": rectangle["top"] + draw.random() * rectangle["height"],
                        "is_hot": "Y" if rectangle is hotspot else "N", "_arrival_time": at(i / 100)})
    return records, hotspot


def test_hotspots_the_developer_guides_example_finds_the_generated_hotspot(spark):
    records, hotspot = points(1000, 0.2, seed=5)

    rows = run(app(HOTSPOTS_APP, POINTS), records, spark).outputs["DESTINATION_SQL_STREAM"]

    assert [(r["x"], r["y"], r["is_hot"]) for r in rows] == [(r["x"], r["y"], r["is_hot"]) for r in records]
    last = json.loads(rows[-1]["HOTSPOTS_RESULT"])  # the window of the last 1000 rows: all of them
    assert list(last) == ["hotspots"] and last["hotspots"]
    densest = last["hotspots"][0]
    assert list(densest) == ["density", "minValues", "maxValues"]  # the fields AWS's viewer reads
    low, high = densest["minValues"], densest["maxValues"]
    # its box lies on the generated hotspot (within the scan radius), and it is far denser than the window's average
    assert hotspot["left"] - 0.2 <= low[0] < high[0] <= hotspot["left"] + 1.2
    assert hotspot["top"] - 0.2 <= low[1] < high[1] <= hotspot["top"] + 1.2
    assert densest["density"] > 10
    assert json.loads(rows[0]["HOTSPOTS_RESULT"]) == {"hotspots": []}  # one point is no hotspot


def test_hotspots_uniform_points_have_no_hotspot(spark):
    records, _ = points(400, 0.0, seed=6)

    rows = run(app(HOTSPOTS_APP, POINTS), records, spark).outputs["DESTINATION_SQL_STREAM"]

    assert {r["HOTSPOTS_RESULT"] for r in rows} == {'{"hotspots":[]}'}


def test_the_functions_in_micro_batches_equal_one_run(spark):
    from cauce.analytics.streaming import IncrementalRunner

    sql = '''CREATE OR REPLACE STREAM "SCORES" ("TICKER" VARCHAR(4), "PRICE" DOUBLE, "ANOMALY_SCORE" DOUBLE, "ANOMALY_EXPLANATION" VARCHAR(512));
    CREATE OR REPLACE STREAM "TOP" ("TICKER" VARCHAR(4), "MOST_FREQUENT_VALUES" BIGINT);
    CREATE OR REPLACE STREAM "SPOTS" ("PRICE" DOUBLE, "HOTSPOTS_RESULT" VARCHAR(10000));
    CREATE OR REPLACE PUMP "SCORE_PUMP" AS INSERT INTO "SCORES"
        SELECT STREAM "TICKER", "PRICE", ANOMALY_SCORE, ANOMALY_EXPLANATION FROM TABLE(RANDOM_CUT_FOREST_WITH_EXPLANATION(
            CURSOR(SELECT STREAM "TICKER", "PRICE" FROM "SOURCE_SQL_STREAM_001"), 10, 16, 1000, 2, true));
    CREATE OR REPLACE PUMP "TOP_PUMP" AS INSERT INTO "TOP"
        SELECT STREAM * FROM TABLE(TOP_K_ITEMS_TUMBLING(CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001"), 'TICKER', 2, 20));
    CREATE OR REPLACE PUMP "SPOT_PUMP" AS INSERT INTO "SPOTS"
        SELECT STREAM "PRICE", HOTSPOTS_RESULT FROM TABLE(HOTSPOTS(CURSOR(SELECT STREAM "PRICE" FROM "SOURCE_SQL_STREAM_001"), 30, 0.5, 4));'''
    draw = random.Random(2)
    records = [{"TICKER": draw.choice("ABC"), "PRICE": round(draw.gauss(10, 2), 1), "_arrival_time": at(i * 1.5)} for i in range(90)]
    target = app(sql, TICKERS)
    whole = run(target, records, spark).outputs

    runner = IncrementalRunner(target, spark)
    streamed: dict[str, list] = {}
    for start in range(0, len(records), 30):
        outputs, errors = runner.process(records[start:start + 30])
        assert errors == []
        for name, rows in outputs.items():
            streamed.setdefault(name, []).extend(rows)
    for name, rows in runner.finish().items():
        streamed.setdefault(name, []).extend(rows)

    assert set(whole) == {"SCORES", "TOP", "SPOTS"}
    for name, rows in whole.items():
        assert sorted(streamed[name], key=repr) == sorted(rows, key=repr), name
    assert any(r["ANOMALY_SCORE"] > 0 for r in whole["SCORES"]) and any(r["HOTSPOTS_RESULT"] != '{"hotspots":[]}' for r in whole["SPOTS"])


def test_check_with_spark_resolves_table_function_pumps_without_data(spark):
    from cauce.analytics.runtime import analyze

    assert analyze(app(HOTSPOTS_APP, POINTS), spark) == {"DESTINATION_SQL_STREAM": ["x", "y", "is_hot", "HOTSPOTS_RESULT", "ROWTIME"]}
    assert analyze(app(TOP_K_APP, TICKERS), spark) == {"DESTINATION_SQL_STREAM": ["TICKER", "MOST_FREQUENT_VALUES", "ROWTIME"]}
