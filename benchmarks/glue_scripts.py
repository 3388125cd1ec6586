"""A plain Glue script on the local awsglue against the same work in plain PySpark, on 1,000,000 rows:
JSON lines read from the lake, fields renamed and cast (ApplyMapping), a cast resolved
(ResolveChoice), written as parquet. Same SparkSession, same input, interleaved ABBA after a
warm-up (benchmarks/_measure.py). Target: the script takes at most 1.10 times as long.

    python benchmarks/glue_scripts.py [--rows 1000000] [--repeats 5] [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")

import _measure as measure  # noqa: E402

SCRIPT = '''import sys
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job

args = getResolvedOptions(sys.argv, ["JOB_NAME", "target"])
glueContext = GlueContext(SparkContext.getOrCreate())
job = Job(glueContext)
job.init(args["JOB_NAME"], args)
events = glueContext.create_dynamic_frame.from_options(
    connection_type="s3", connection_options={"paths": ["s3://bench/events/"]}, format="json", transformation_ctx="events")
mapped = ApplyMapping.apply(frame=events, mappings=[
    ("id", "long", "event_id", "long"), ("user", "string", "user_id", "string"),
    ("amount", "double", "amount", "double"), ("country", "string", "country", "string"), ("ts", "string", "event_time", "timestamp"),
], transformation_ctx="mapped")
resolved = ResolveChoice.apply(frame=mapped, specs=[("amount", "cast:decimal(12,2)")], transformation_ctx="resolved")
glueContext.write_dynamic_frame.from_options(frame=resolved, connection_type="s3", format="parquet",
    connection_options={"path": args["target"]}, transformation_ctx="sink")
job.commit()
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    measure.options(parser, repeats=5)
    args = parser.parse_args()
    if args.quick:
        args.rows, args.repeats = 20_000, 2

    from pyspark.sql import functions as F

    from cauce.core.lake import LocalLake
    from cauce.etl.glue_scripts import run_glue_script
    from cauce.etl.spark import local_spark_session

    spark = local_spark_session(app_name="glue-scripts-benchmark")
    folder = Path(tempfile.mkdtemp(prefix="cauce-glue-bench-"))
    lake = LocalLake(folder / "lake")
    script = folder / "job.py"
    script.write_text(SCRIPT)
    source = lake.local_path("s3://bench/events/")
    (spark.range(args.rows)
     .select(F.col("id"), F.concat(F.lit("u"), (F.col("id") % 5000).cast("string")).alias("user"),
             ((F.col("id") % 10007) / 100.0).alias("amount"), F.element_at(F.array(*[F.lit(c) for c in ("ES", "FR", "PT", "DE")]), (F.col("id") % 4 + 1).cast("int")).alias("country"),
             F.date_format(F.timestamp_seconds(F.lit(1_700_000_000) + F.col("id")), "yyyy-MM-dd'T'HH:mm:ss").alias("ts"))
     .write.json(str(source)))

    def plain(target: Path) -> int:
        events = spark.read.json(str(source))
        out = events.select(F.col("id").cast("long").alias("event_id"), F.col("user").cast("string").alias("user_id"),
                            F.col("amount").cast("double").cast("decimal(12,2)").alias("amount"), F.col("country").cast("string").alias("country"),
                            F.col("ts").cast("timestamp").alias("event_time"))
        out.write.mode("append").parquet(str(target))
        return args.rows

    def glue(target: Path) -> int:
        result = run_glue_script(script, {"JOB_NAME": "bench", "target": f"s3://bench/out/{target.name}/"}, lake, spark)
        if not result.succeeded:
            raise SystemExit(f"the Glue script failed: {result.error}")
        return result.rows_written["sink"]

    def side(run, label: str):
        def once(repeat: int) -> None:
            target = lake.local_path(f"s3://bench/out/{label}-{repeat + 1}")
            written = run(target)
            assert written == args.rows, (label, written)
            shutil.rmtree(target, ignore_errors=True)  # inside the timing on both sides alike
        return once

    sides = measure.compare({"plain PySpark": side(plain, "plain"), "Glue script": side(glue, "glue")}, args.repeats)
    print(f"{args.rows:,} rows, {args.repeats} interleaved repeats (ABBA) after a warm-up:")
    sides.print(per=(args.rows, "rows"))
    results = measure.Results("glue_scripts")
    results.add("Glue script on the local awsglue (time)", f"{args.rows:,} JSON rows", "plain PySpark, same work",
                sides.ratio("Glue script", over="plain PySpark"), measure.Goal("<=", 1.10))
    results.write(args.results)
    shutil.rmtree(folder, ignore_errors=True)

if __name__ == "__main__":
    main()
