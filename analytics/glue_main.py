"""The Glue 5.0 streaming job that runs one analytics app on AWS (deployed by infra/analytics.tf).

Arguments (set by the Terraform module): --app_name, --sql_location (s3:// of the app's SQL),
--input_stream_arn, --output_stream_arn, --input_schema (the seed's RecordColumns JSON),
--property_groups, --reference_data_sources (the KDA ReferenceDataSource list, as JSON), --TempDir. The job reads the input stream through Glue's Kinesis source
with each record's arrival timestamp, and runs every micro-batch through the same translation
and runtime as `cauce analytics run` (analytics.streaming.IncrementalRunner). It writes the
rows of DESTINATION_SQL_STREAM (or the app's only output) to the output stream as JSON, and
logs the records the schema refused, with their reasons.

It cannot run here (the Glue libraries exist only on AWS Glue). `make_batch_function`, the part
that handles a micro-batch, is tested locally with Spark and moto.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

log = logging.getLogger("cauce.analytics")
ARRIVAL_COLUMN = "__src_timestamp"  # Glue's Kinesis source with addRecordTimestamp=true: epoch milliseconds


def make_batch_function(runner: Any, kinesis: Any, output_stream: str | None, output: str | None = None):
    """What Glue's forEachBatch calls with each micro-batch DataFrame."""
    from cauce.core.kinesis import ARRIVAL_FIELD
    from cauce.core.kinesis import write_stream

    def process_batch(batch: Any, batch_id: int) -> None:
        records = []
        for row in batch.collect():
            record = row.asDict(recursive=True)
            if ARRIVAL_COLUMN in record:
                record[ARRIVAL_FIELD] = record.pop(ARRIVAL_COLUMN)
            records.append(record)
        outputs, errors = runner.process(records)
        for error in errors:
            log.warning(json.dumps({"message": "record refused", "batch": batch_id, "reason": error["reason"]}))
        names = [output] if output else (["DESTINATION_SQL_STREAM"] if "DESTINATION_SQL_STREAM" in outputs else list(outputs))
        for name in names:
            if output_stream and outputs.get(name):
                write_stream(kinesis, output_stream, outputs[name])
        log.info(json.dumps({"message": "batch processed", "batch": batch_id, "records": len(records), "refused": len(errors),
                             "emitted": {name: len(rows) for name, rows in outputs.items()}}))

    return process_batch


class S3Objects:
    """What the runtime reads reference tables through (a lake's `local_path`), on AWS: each object downloaded once."""

    def __init__(self, s3: Any) -> None:
        import tempfile
        from pathlib import Path

        self.s3 = s3
        self.folder = Path(tempfile.mkdtemp(prefix="cauce-reference-"))

    def local_path(self, uri: str) -> Any:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        target = self.folder / bucket / key
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            self.s3.download_file(bucket, key, str(target))
        return target


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - runs on AWS Glue only
    import boto3
    from awsglue.context import GlueContext
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    from cauce.analytics.app import AnalyticsApp, parse_schema
    from cauce.analytics.streaming import IncrementalRunner

    from cauce.analytics.app import reference_data_sources

    args = getResolvedOptions(argv or sys.argv, ["JOB_NAME", "app_name", "sql_location", "input_stream_arn", "output_stream_arn",
                                                 "input_schema", "reference_data_sources", "TempDir"])
    glue_context = GlueContext(SparkContext.getOrCreate())
    spark = glue_context.spark_session
    bucket, _, key = args["sql_location"].removeprefix("s3://").partition("/")
    sql = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    app = AnalyticsApp(args["app_name"], sql, parse_schema(args["input_schema"], "--input_schema"),
                       reference_data=reference_data_sources(json.loads(args["reference_data_sources"]), "--reference_data_sources"))
    runner = IncrementalRunner(app, spark, lake=S3Objects(boto3.client("s3")))
    source = glue_context.create_data_frame.from_options(
        connection_type="kinesis",
        connection_options={"streamARN": args["input_stream_arn"], "startingPosition": "TRIM_HORIZON", "classification": "json",
                            "inferSchema": "true", "addRecordTimestamp": "true"},
    )
    output_stream = args["output_stream_arn"].rsplit("/", 1)[-1]
    glue_context.forEachBatch(
        frame=source,
        batch_function=make_batch_function(runner, boto3.client("kinesis"), output_stream),
        options={"windowSize": "10 seconds", "checkpointLocation": f"{args['TempDir'].rstrip('/')}/checkpoints/{args['app_name']}/"},
    )


if __name__ == "__main__":  # pragma: no cover
    main()
