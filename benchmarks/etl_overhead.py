"""Framework overhead: etl-proceso-principal through Cauce against a plain PySpark script
doing the same work (schema check, rules, quarantine, dedupe, partitioned parquet) on the
same input, in one process and one SparkSession. Prints the input size and the ratio.

    python benchmarks/etl_overhead.py [--rows 1000000] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path


def generate(lake, rows: int, files: int = 8) -> None:
    rng = random.Random(1)
    per_file = rows // files
    for index in range(files):
        lines = []
        for n in range(per_file):
            i = index * per_file + n
            if i % 50 == 0:
                lines.append('{"event_id": broken')
                continue
            lines.append(json.dumps({
                "event_id": f"e{i if i % 100 else i - 1}", "event_type": rng.choice(("view", "click", "purchase")),
                "user_id": f"u{i % 997}", "amount": round(rng.uniform(-1, 300), 2), "currency": "eur",
                "event_time": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00Z",
            }))
        lake.put_object(f"s3://bench/raw/part-{index}.json", "\n".join(lines) + "\n")


def plain_pyspark(spark, source: str, target: str, quarantine: str) -> None:
    """What a data engineer writes by hand for the same job."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    from cauce.etl.jobs.etl_main import EVENT_TYPES, RAW_EVENT

    schema = StructType(RAW_EVENT.fields + [StructField("_corrupt_record", StringType())])
    raw = (spark.read.schema(schema).option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", "_corrupt_record")
           .json(source).withColumn("input_file", F.input_file_name()))
    bad_schema = F.col("_corrupt_record").isNotNull() | F.col("event_id").isNull() | F.col("event_type").isNull() | F.col("event_time").isNull()
    bad_rules = ~F.coalesce(F.col("event_type").isin(*EVENT_TYPES) & (F.col("amount").isNull() | (F.col("amount") >= 0))
                            & ((F.col("event_type") != "purchase") | F.col("amount").isNotNull()), F.lit(False))
    flagged = raw.withColumn("bad", bad_schema | bad_rules)
    flagged.filter("bad").select(F.lit("invalid").alias("reason"), "input_file",
                                 F.coalesce("_corrupt_record", F.to_json(F.struct(*[c.name for c in RAW_EVENT.fields]))).alias("record")
                                 ).write.mode("append").json(quarantine)
    latest = Window.partitionBy("event_id").orderBy(F.col("event_time").desc())
    (flagged.filter(~F.col("bad")).drop("bad", "_corrupt_record", "input_file")
     .withColumn("_rank", F.row_number().over(latest)).filter("_rank = 1").drop("_rank")
     .withColumn("currency", F.upper(F.coalesce("currency", F.lit("EUR"))))
     .withColumn("year", F.date_format("event_time", "yyyy")).withColumn("month", F.date_format("event_time", "MM"))
     .write.mode("append").partitionBy("year", "month").parquet(target))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    options = parser.parse_args()

    from cauce.etl.jobs.etl_main import EtlProcesoPrincipal
    from cauce.core.lake import LocalLake
    from cauce.etl.runner import RunPolicy, run_job
    from cauce.etl.runtimes.local import LocalRuntime

    root = Path(tempfile.mkdtemp(prefix="cauce-bench-"))
    try:
        lake = LocalLake(root)
        started = time.perf_counter()
        generate(lake, options.rows)
        size_mb = sum(p.stat().st_size for p in lake.local_path("s3://bench/raw/").iterdir()) / 1e6
        print(f"input: {options.rows:,} JSON lines, {size_mb:.0f} MB, generated in {time.perf_counter() - started:.1f}s")
        runtime = LocalRuntime(lake)
        spark = runtime.spark
        arguments = {"source_path": "s3://bench/raw/", "quarantine_path": "s3://bench/q-cauce/"}
        timings = {"plain": [], "cauce": []}
        # warm-up both paths once (JIT, file cache), then alternate so drift hits both equally
        for repeat in range(options.repeats + 1):
            out = f"s3://bench/plain-{repeat}/"
            t = time.perf_counter()
            plain_pyspark(spark, str(lake.local_path("s3://bench/raw/")), str(lake.local_path(out)),
                          str(lake.local_path(f"s3://bench/q-plain-{repeat}/")))
            plain = time.perf_counter() - t
            t = time.perf_counter()
            result = run_job(EtlProcesoPrincipal, {**arguments, "target_path": f"s3://bench/cauce-{repeat}/"}, runtime, RunPolicy())
            cauce = time.perf_counter() - t
            assert result.succeeded, result.error
            if repeat:
                timings["plain"].append(plain)
                timings["cauce"].append(cauce)
            print(f"  run {repeat}{' (warm-up)' if not repeat else ''}: plain {plain:.2f}s, cauce {cauce:.2f}s, "
                  f"cauce wrote {result.rows_written['curated_events']:,} and quarantined {result.rows_quarantined:,}")
        plain, cauce = statistics.median(timings["plain"]), statistics.median(timings["cauce"])
        print(f"median over {options.repeats}: plain PySpark {plain:.2f}s, Cauce {cauce:.2f}s, "
              f"ratio {cauce / plain:.3f} (target <= 1.05)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
