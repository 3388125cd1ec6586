"""etl-proceso-principal: the seed's main ETL job (script `etl-main.py`).

Raw JSON events from the ingestion stream's Firehose delivery (`raw-data/`, one JSON object a
line, gzip or not) become curated parquet partitioned by year and month. Rows that do not
parse, miss required fields, or break a business rule go to the quarantine with the reason.
Deployed to AWS Glue as it is; run locally with `cauce job run etl-proceso-principal`.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, StringType, StructField, StructType, TimestampType

from cauce.etl import GlueJob, S3Sink, S3Source

RAW_EVENT = StructType(
    [
        StructField("event_id", StringType(), nullable=False),
        StructField("event_type", StringType(), nullable=False),
        StructField("user_id", StringType()),
        StructField("amount", DoubleType()),
        StructField("currency", StringType()),
        StructField("event_time", TimestampType(), nullable=False),
    ]
)
EVENT_TYPES = ("view", "click", "purchase", "refund")


@dataclass(frozen=True)
class Arguments:
    source_path: str = "s3://mi-bucket/raw-data/"
    target_path: str = "s3://mi-bucket/curated/events/"
    quarantine_path: str = "s3://mi-bucket/quarantine/etl-proceso-principal/"


class EtlProcesoPrincipal(GlueJob):
    name = "etl-proceso-principal"
    description = "Job ETL para procesamiento principal: raw JSON events to curated parquet"
    Arguments = Arguments

    def extract(self) -> DataFrame:
        return self.read(S3Source(self.args.source_path, format="json", schema=RAW_EVENT), ctx="raw_events")

    def transform(self, events: DataFrame) -> DataFrame:
        valid = self.expect(
            events,
            {
                "known event_type": F.col("event_type").isin(*EVENT_TYPES),
                "amount is not negative": "amount IS NULL OR amount >= 0",
                "purchase has an amount": "event_type <> 'purchase' OR amount IS NOT NULL",
            },
        )
        # Firehose delivers at least once: keep one row per event_id, the latest seen
        latest_first = Window.partitionBy("event_id").orderBy(F.col("event_time").desc())
        return (
            valid.withColumn("_rank", F.row_number().over(latest_first))
            .filter("_rank = 1")
            .drop("_rank")
            .withColumn("currency", F.upper(F.coalesce("currency", F.lit("EUR"))))
            .withColumn("year", F.date_format("event_time", "yyyy"))
            .withColumn("month", F.date_format("event_time", "MM"))
        )

    def load(self, curated: DataFrame) -> None:
        self.write(curated, S3Sink(self.args.target_path, format="parquet", partition_by=("year", "month")), ctx="curated_events")


if __name__ == "__main__":
    EtlProcesoPrincipal.main()
