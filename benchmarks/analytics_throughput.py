"""A tumbling-window analytics app over 1,000,000 JSON records, ingestion included: the app's SQL
as Cauce runs it (translation, the JSON records mapped onto the input schema with ROWTIME from
each record's arrival time, misfits refused with their lines, the query, the output rows
collected), against the same work written by hand in PySpark as a user would: the JSON lines
read by Spark against the same schema (PERMISSIVE, with a corrupt-record column), VARCHAR(8)
truncated, ROWTIME from the arrival time, the refused records (corrupt, or with no arrival time)
collected, the same query with the DataFrame API, the rows collected. Both start from the same
JSON lines, as a Kinesis stream delivers them, in one SparkSession; interleaved ABBA after a
warm-up (benchmarks/_measure.py). Goal: at least 0.95 of the hand-written throughput.

    python benchmarks/analytics_throughput.py [--records 1000000] [--repeats 5] [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
# Both sides share one JVM; at Spark's default 1 GB heap its garbage collection, not either side's
# work, decides a 1,000,000-record run (a Glue G.1X driver has about 10 GB).
os.environ.setdefault("PYSPARK_SUBMIT_ARGS", "--driver-memory 4g pyspark-shell")

import _measure as measure  # noqa: E402

SQL = '''
CREATE OR REPLACE STREAM "PER_MINUTE" ("minute" TIMESTAMP, "ticker" VARCHAR(8), "trades" INTEGER, "volume" DOUBLE);
CREATE OR REPLACE PUMP "P" AS INSERT INTO "PER_MINUTE"
  SELECT STREAM STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '1' MINUTE), "ticker", COUNT(*), SUM("price" * "shares")
  FROM "SOURCE_SQL_STREAM_001" WHERE "price" > 0
  GROUP BY STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '1' MINUTE), "ticker";
'''
START = dt.datetime(2026, 11, 17, 10, 0, 0)


def json_lines(count: int) -> list[bytes]:
    """50 tickers, one record every 7 ms, each with its arrival time as the stream gives it."""
    return [orjson.dumps({"ticker": f"T{i % 50}", "price": float(i % 997 - 3), "shares": i % 13 + 1,
                          "_arrival_time": (START + dt.timedelta(milliseconds=7 * i)).isoformat(timespec="milliseconds")})
            for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    measure.options(parser, repeats=5)
    args = parser.parse_args()
    if args.quick:
        args.records, args.repeats = 20_000, 2

    from pyspark.sql import functions as F

    from cauce.analytics.app import AnalyticsApp, parse_schema
    from cauce.analytics.runtime import run
    from cauce.etl.spark import local_spark_session

    spark = local_spark_session(app_name="analytics-benchmark")
    schema = parse_schema({"RecordColumns": [{"Name": "ticker", "SqlType": "VARCHAR(8)"}, {"Name": "price", "SqlType": "DOUBLE"},
                                             {"Name": "shares", "SqlType": "INTEGER"}]}, "benchmark")
    app = AnalyticsApp("benchmark", SQL, schema)
    lines = json_lines(args.records)
    windows = args.records * 7 / 60_000
    print(f"input: {args.records:,} JSON records, {sum(map(len, lines)) / 1e6:.0f} MB (50 tickers, one every 7 ms: "
          f"{windows:,.0f} one-minute windows per ticker)")

    def translated() -> list[tuple]:
        result = run(app, lines, spark)
        assert not result.errors, result.errors[:3]
        return [(r["minute"], r["ticker"], r["trades"], r["volume"], r["ROWTIME"]) for r in result.outputs["PER_MINUTE"]]

    def by_hand() -> list[tuple]:
        text = spark.sparkContext.parallelize([line.decode() for line in lines], 8)
        schema = "ticker string, price double, shares int, _arrival_time timestamp, _corrupt_record string"
        source = (spark.read.schema(schema).option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", "_corrupt_record").json(text)
                  .withColumn("ticker", F.substring("ticker", 1, 8))  # VARCHAR(8): KDA truncates
                  .withColumn("ROWTIME", F.date_trunc("MILLISECOND", "_arrival_time"))
                  .withColumn("refused", F.col("_corrupt_record").isNotNull() | F.col("ROWTIME").isNull())
                  .cache())  # read twice: the refusals, then the query
        try:
            refused = source.where("refused").select("_corrupt_record").collect()
            assert not refused, refused[:3]
            window = F.window("ROWTIME", "1 minute")
            query = (source.where("NOT refused AND price > 0").groupBy(window.alias("w"), "ticker")
                     .agg(F.count("*").cast("int").alias("trades"), F.sum(F.col("price") * F.col("shares")).alias("volume"))
                     .select(F.col("w.start").alias("minute"), "ticker", "trades", "volume", F.col("w.end").alias("ROWTIME")))
            return [tuple(row) for row in query.orderBy("ROWTIME", "minute", "ticker", "trades", "volume").collect()]
        finally:
            source.unpersist()

    a, b = translated(), by_hand()
    assert a == b, "the translated app and the hand-written query must agree"
    print(f"output: {len(a):,} rows, identical from both")

    sides = measure.compare({"translated SQL": lambda _: translated(), "hand-written PySpark": lambda _: by_hand()}, args.repeats)
    print(f"{args.repeats} interleaved repeats (ABBA) after a warm-up (load average before: {measure.load_average()}):")
    sides.print(per=(args.records, "records"))
    results = measure.Results("analytics_throughput")
    results.add("SQL analytics, ingestion included (throughput)", f"{args.records:,} JSON records",
                "hand-written PySpark, same ingestion", sides.speedup("translated SQL", over="hand-written PySpark"),
                measure.Goal(">=", 0.95))
    results.write(args.results)
    spark.stop()


if __name__ == "__main__":
    main()
