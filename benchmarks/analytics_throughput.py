"""A tumbling-window analytics app over 1,000,000 records: the app's SQL as Cauce translates it,
against the same query written by hand with Spark's DataFrame API, on the same input DataFrame
in one SparkSession. Best of N, interleaved. Target: at least 0.95 of the hand-written throughput.

    python benchmarks/analytics_throughput.py [--records 1000000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")

SQL = '''
CREATE OR REPLACE STREAM "PER_MINUTE" ("minute" TIMESTAMP, "ticker" VARCHAR(8), "trades" INTEGER, "volume" DOUBLE);
CREATE OR REPLACE PUMP "P" AS INSERT INTO "PER_MINUTE"
  SELECT STREAM STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '1' MINUTE), "ticker", COUNT(*), SUM("price" * "shares")
  FROM "SOURCE_SQL_STREAM_001" WHERE "price" > 0
  GROUP BY STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '1' MINUTE), "ticker";
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    from pyspark.sql import functions as F

    from cauce.analytics.app import AnalyticsApp, parse_schema
    from cauce.analytics.runtime import check, execute
    from cauce.etl.spark import local_spark_session

    spark = local_spark_session(app_name="analytics-benchmark")
    schema = parse_schema({"RecordColumns": [{"Name": "ticker", "SqlType": "VARCHAR(8)"}, {"Name": "price", "SqlType": "DOUBLE"},
                                             {"Name": "shares", "SqlType": "INTEGER"}]}, "benchmark")
    app = AnalyticsApp("benchmark", SQL, schema)
    program, plans = check(app)
    source = (
        spark.range(args.records)
        .select(
            F.concat(F.lit("T"), (F.col("id") % 50).cast("string")).alias("ticker"),
            ((F.col("id") % 997) - 3).cast("double").alias("price"),
            (F.col("id") % 13 + 1).cast("int").alias("shares"),
            F.timestamp_micros(F.lit(1_795_000_000_000_000) + F.col("id") * 7_000).alias("ROWTIME"),
        )
        .withColumn("APPROXIMATE_ARRIVAL_TIME", F.col("ROWTIME"))
        .cache()
    )
    print(f"input: {source.count():,} records (50 tickers, one every 7 ms: {args.records * 7 / 60_000:,.0f} one-minute windows per ticker)")

    def translated():
        return execute(program, plans, source, spark)["PER_MINUTE"]

    def by_hand():
        window = F.window("ROWTIME", "1 minute")
        return (source.where("price > 0").groupBy(window.alias("w"), "ticker")
                .agg(F.count("*").cast("int").alias("trades"), F.sum(F.col("price") * F.col("shares")).alias("volume"))
                .select(F.col("w.start").alias("minute"), "ticker", "trades", "volume", F.col("w.end").alias("ROWTIME")))

    a = translated().orderBy("minute", "ticker").collect()
    b = by_hand().orderBy("minute", "ticker").collect()
    assert [tuple(r) for r in a] == [tuple(r) for r in b], "the translated app and the hand-written query must agree"
    print(f"output: {len(a):,} rows, identical from both")

    timings = {"translated": [], "by_hand": []}
    for _ in range(args.repeats):
        for name, build in (("translated", translated), ("by_hand", by_hand)):
            start = time.perf_counter()
            build().write.format("noop").mode("overwrite").save()
            timings[name].append(time.perf_counter() - start)
    best = {name: min(values) for name, values in timings.items()}
    print(f"best of {args.repeats}: translated SQL {best['translated']:.2f} s, hand-written DataFrame {best['by_hand']:.2f} s")
    print(f"throughput ratio translated/hand-written: {best['by_hand'] / best['translated']:.2f} (target >= 0.95)")
    spark.stop()


if __name__ == "__main__":
    main()
