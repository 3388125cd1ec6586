"""RANDOM_CUT_FOREST through Cauce against the rrcf library called directly, on 100,000 records.

Cauce's side is an app as AWS's anomaly example writes it (one pump, `TABLE(RANDOM_CUT_FOREST(CURSOR(...)))`
with its defaults: 100 trees, samples of 256, shingle 1), run end to end: ingestion, the CURSOR's query,
the forest on the driver, the output rows collected. The direct side is rrcf's own streaming recipe on the
same shingles (the records' numeric values, in order): per point and tree, forget the oldest point once the
tree holds 256, insert the point, read its collusive displacement. Both run in one process, interleaved
ABBA after a warm-up (benchmarks/_measure.py); the figure is Cauce's throughput over the direct one's.

    python benchmarks/analytics_rcf.py [--records 100000] [--repeats 3] [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")

import _measure as measure  # noqa: E402

SQL = '''
CREATE OR REPLACE STREAM "TEMP_STREAM" ("heartRate" INTEGER, "rateType" VARCHAR(20), "ANOMALY_SCORE" DOUBLE);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "TEMP_STREAM"
  SELECT STREAM "heartRate", "rateType", ANOMALY_SCORE
  FROM TABLE(RANDOM_CUT_FOREST(CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001")));
'''
START = dt.datetime(2026, 11, 17, 10, 0, 0)
TREES, SAMPLE = 100, 256  # RANDOM_CUT_FOREST's defaults, on both sides


def records(count: int) -> list[dict]:
    """AWS's heart rate generator (app-anomaly-prepare): 99% NORMAL 60-100, 1% HIGH 150-200; one record every 10 ms."""
    draw = random.Random(16)  # nosec B311: test data
    out = []
    for i in range(count):
        high = draw.random() < 0.01
        out.append({"heartRate": draw.randint(150, 200) if high else draw.randint(60, 100), "rateType": "HIGH" if high else "NORMAL",
                    "_arrival_time": (START + dt.timedelta(milliseconds=10 * i)).isoformat(timespec="milliseconds")})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    measure.options(parser, repeats=3)
    args = parser.parse_args()
    if args.quick:
        args.records, args.repeats = 1_000, 1

    import numpy as np

    from cauce.analytics.app import AnalyticsApp, parse_schema
    from cauce.analytics.runtime import run
    from cauce.analytics.table_functions import load_rrcf
    from cauce.etl.spark import local_spark_session

    spark = local_spark_session(app_name="analytics-rcf-benchmark")
    schema = parse_schema({"RecordColumns": [{"Name": "heartRate", "SqlType": "INTEGER"}, {"Name": "rateType", "SqlType": "VARCHAR(20)"}]},
                          "benchmark")
    app = AnalyticsApp("benchmark", SQL, schema)
    inputs = records(args.records)
    shingles = [np.array([float(r["heartRate"])]) for r in inputs]  # shingle size 1: each record's numeric values
    print(f"input: {args.records:,} records (heart rates, 1% anomalous); {TREES} trees, samples of {SAMPLE}")

    def through_cauce() -> list[float]:
        result = run(app, inputs, spark)
        assert not result.errors, result.errors[:3]
        return [r["ANOMALY_SCORE"] for r in result.outputs["TEMP_STREAM"]]

    rrcf = load_rrcf()

    def rrcf_directly() -> list[float]:
        forest = [rrcf.RCTree(random_state=i) for i in range(TREES)]
        scores = []
        for index, point in enumerate(shingles):
            total = 0.0
            for tree in forest:
                if len(tree.leaves) >= SAMPLE:
                    tree.forget_point(index - SAMPLE)
                tree.insert_point(point, index=index)
                total += tree.codisp(index)
            scores.append(total / TREES)
        return scores

    cauce_scores, direct_scores = through_cauce(), rrcf_directly()
    assert len(cauce_scores) == len(direct_scores) == args.records
    anomalies = [i for i, r in enumerate(inputs) if r["rateType"] == "HIGH" and i >= SAMPLE]
    ranked = sorted(range(SAMPLE, args.records), key=cauce_scores.__getitem__, reverse=True)[:len(anomalies)]
    print(f"output: {len(cauce_scores):,} scores from each; of the {len(anomalies)} HIGH records after the first {SAMPLE}, "
          f"{len(set(ranked) & set(anomalies))} are among Cauce's {len(anomalies)} highest scores")

    sides = measure.compare({"Cauce RANDOM_CUT_FOREST": lambda _: through_cauce(), "rrcf directly": lambda _: rrcf_directly()},
                            args.repeats)
    print(f"{args.repeats} interleaved repeats (ABBA) after a warm-up:")
    sides.print(per=(args.records, "records"))
    results = measure.Results("analytics_rcf")
    results.add("RANDOM_CUT_FOREST (throughput)", f"{args.records:,} records, {TREES} trees",
                "rrcf called directly on the same shingles", sides.speedup("Cauce RANDOM_CUT_FOREST", over="rrcf directly"))
    results.write(args.results)
    spark.stop()


if __name__ == "__main__":
    main()
