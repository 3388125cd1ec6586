"""Framework overhead: etl-proceso-principal through Cauce against a plain PySpark script
doing the same work (schema check, rules, quarantine, dedupe, partitioned parquet) on the
same input, in one process and one SparkSession. Prints the input size and the ratio.

Interleaved ABBA after a warm-up (benchmarks/_measure.py); the goal is a median ratio of at most 1.05.

    python benchmarks/etl_overhead.py [--rows 1000000] [--repeats 5] [--quick]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from pathlib import Path

import _measure as measure


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


def plain_pyspark(spark, source: str, target: str, quarantine: str) -> dict[str, int]:
    """What a careful data engineer writes by hand for the same job: each bad row quarantined with the
    names of the checks it fails, the rows read, quarantined and written counted (Observations, as a
    run report needs them), and the output written to a staging folder, then moved into place, so that a
    failed run leaves nothing half-written. Cauce does each of these; a baseline without them is not
    the same work."""
    import os
    import uuid

    from pyspark.sql import Observation, Window
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    from cauce.etl.jobs.etl_main import EVENT_TYPES, RAW_EVENT

    schema = StructType(RAW_EVENT.fields + [StructField("_corrupt_record", StringType())])
    read, quarantined, written = Observation("read"), Observation("quarantined"), Observation("written")
    raw = (spark.read.schema(schema).option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", "_corrupt_record")
           .json(source).withColumn("input_file", F.input_file_name()).observe(read, F.count(F.lit(1)).alias("rows")))
    checks = {
        "not valid JSON": F.col("_corrupt_record").isNotNull(),
        "missing required field(s)": F.col("event_id").isNull() | F.col("event_type").isNull() | F.col("event_time").isNull(),
        "known event_type": ~F.coalesce(F.col("event_type").isin(*EVENT_TYPES), F.lit(False)),
        "amount is not negative": ~F.coalesce(F.col("amount").isNull() | (F.col("amount") >= 0), F.lit(False)),
        "purchase has an amount": ~F.coalesce((F.col("event_type") != "purchase") | F.col("amount").isNotNull(), F.lit(False)),
    }
    flagged = raw.withColumn("reason", F.concat_ws("; ", *[F.when(failed, F.lit(name)) for name, failed in checks.items()]))
    staging = f"{target}/_staging-{uuid.uuid4().hex}"
    (flagged.filter("reason <> ''").observe(quarantined, F.count(F.lit(1)).alias("rows"))
     .select("reason", "input_file", F.coalesce("_corrupt_record", F.to_json(F.struct(*[c.name for c in RAW_EVENT.fields]))).alias("record"))
     .write.mode("append").json(f"{quarantine}/_staging-{uuid.uuid4().hex}"))
    latest = Window.partitionBy("event_id").orderBy(F.col("event_time").desc())
    (flagged.filter("reason = ''").drop("reason", "_corrupt_record", "input_file")
     .withColumn("_rank", F.row_number().over(latest)).filter("_rank = 1").drop("_rank")
     .withColumn("currency", F.upper(F.coalesce("currency", F.lit("EUR"))))
     .withColumn("year", F.date_format("event_time", "yyyy")).withColumn("month", F.date_format("event_time", "MM"))
     .observe(written, F.count(F.lit(1)).alias("rows"))
     .write.mode("append").partitionBy("year", "month").parquet(staging))
    for folder, _dirs, files in os.walk(staging):  # the commit: every file moved into place
        destination = os.path.join(target, os.path.relpath(folder, staging))
        os.makedirs(destination, exist_ok=True)
        for name in files:
            if not name.startswith(("_", ".")):
                os.replace(os.path.join(folder, name), os.path.join(destination, name))
    return {"read": read.get["rows"], "quarantined": quarantined.get["rows"], "written": written.get["rows"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    measure.options(parser, repeats=5)
    options = parser.parse_args()
    if options.quick:
        options.rows, options.repeats = 20_000, 2

    from cauce.etl.jobs.etl_main import EtlProcesoPrincipal
    from cauce.core.lake import LocalLake
    from cauce.etl.runner import RunPolicy, run_job
    from cauce.etl.runtimes.local import LocalRuntime

    root = Path(tempfile.mkdtemp(prefix="cauce-bench-"))
    results = measure.Results("etl_overhead")
    try:
        lake = LocalLake(root)
        started = time.perf_counter()
        generate(lake, options.rows)
        size_mb = sum(p.stat().st_size for p in lake.local_path("s3://bench/raw/").iterdir()) / 1e6
        print(f"input: {options.rows:,} JSON lines, {size_mb:.0f} MB, generated in {time.perf_counter() - started:.1f}s")
        runtime = LocalRuntime(lake)
        spark = runtime.spark
        arguments = {"source_path": "s3://bench/raw/", "quarantine_path": "s3://bench/q-cauce/"}

        counts: dict[str, set] = {"plain PySpark": set(), "Cauce": set()}

        def plain(repeat: int) -> None:
            done = plain_pyspark(spark, str(lake.local_path("s3://bench/raw/")), str(lake.local_path(f"s3://bench/plain-{repeat}/")),
                                 str(lake.local_path(f"s3://bench/q-plain-{repeat}/")))
            counts["plain PySpark"].add((done["read"], done["quarantined"], done["written"]))

        def cauce(repeat: int) -> None:
            result = run_job(EtlProcesoPrincipal, {**arguments, "target_path": f"s3://bench/cauce-{repeat}/"}, runtime, RunPolicy())
            assert result.succeeded, result.error
            counts["Cauce"].add((sum(result.rows_read.values()), result.rows_quarantined, sum(result.rows_written.values())))

        sides = measure.compare({"plain PySpark": plain, "Cauce": cauce}, options.repeats)
        print(f"{options.repeats} interleaved repeats (ABBA) after a warm-up of each:")
        sides.print(per=(options.rows, "rows"))
        if counts["plain PySpark"] != counts["Cauce"]:  # not the same work: the ratio would mean nothing
            raise SystemExit(f"the two sides disagree (read, quarantined, written): {counts}")
        print(f"same work on both sides: (read, quarantined, written) = {counts['Cauce'].pop()}")
        results.add("ETL framework overhead (time)", f"{options.rows:,} JSON lines, {size_mb:.0f} MB", "plain PySpark, same work",
                    sides.ratio("Cauce", over="plain PySpark"), measure.Goal("<=", 1.05))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    results.write(options.results)


if __name__ == "__main__":
    main()
