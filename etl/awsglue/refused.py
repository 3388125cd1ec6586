"""APIs of awsglue that only AWS Glue can serve, refused by name at first use.

They need Glue's service side (ML transforms, Data Quality), AWS-hosted connectors
(marketplace and custom connectors, DynamoDB, Kafka and Kinesis sources in a batch job), or table
formats whose Spark JARs come from Maven, which this machine cannot reach (Hudi, Iceberg, Delta).
"""

from __future__ import annotations

from typing import Any


class NeedsAwsGlue(NotImplementedError):
    """A Glue API with no local equivalent: run the script on AWS Glue."""


def refuse(api: str, reason: str = "") -> NeedsAwsGlue:
    detail = f" ({reason})" if reason else ""
    return NeedsAwsGlue(f"{api} needs AWS Glue{detail}; Cauce's local awsglue does not provide it")


REFUSED_CONNECTION_TYPES = {
    "dynamodb": "reads and exports run through Glue's DynamoDB connector",
    "kafka": "a streaming source; batch scripts cannot read it locally",
    "kinesis": "a streaming source; batch scripts cannot read it locally",
    "documentdb": "Glue's DocumentDB connector", "mongodb": "Glue's MongoDB connector",
    "opensearch": "Glue's OpenSearch connector", "snowflake": "Glue's Snowflake connector",
    "bigquery": "Glue's BigQuery connector", "teradata": "Glue's Teradata connector",
    "marketplace.spark": "an AWS Marketplace connector", "marketplace.jdbc": "an AWS Marketplace connector",
    "marketplace.athena": "an AWS Marketplace connector", "custom.spark": "a custom connector",
    "custom.jdbc": "a custom connector", "custom.athena": "a custom connector",
}
REFUSED_FORMATS = {
    "hudi": "Hudi's Spark JARs", "iceberg": "Iceberg's Spark JARs", "delta": "Delta Lake's Spark JARs",
    "ion": "Glue's Ion reader", "grokLog": "Glue's grok reader", "xml": "Glue's XML reader",
    "avro": "Glue's Avro reader (pyspark ships no spark-avro)",
}


def check_connection_type(connection_type: str) -> None:
    if connection_type in REFUSED_CONNECTION_TYPES:
        raise refuse(f"connection_type={connection_type!r}", REFUSED_CONNECTION_TYPES[connection_type])


def check_format(format: str | None) -> None:
    if format in REFUSED_FORMATS:
        raise refuse(f"format={format!r}", REFUSED_FORMATS[format])


class RefusedTransform:
    """A transform class that can be imported (scripts import them at the top) but not used."""

    api = "transform"
    reason = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise refuse(self.api, self.reason)

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        raise refuse(cls.api, cls.reason)


class FindMatches(RefusedTransform):
    api, reason = "FindMatches (ML transform)", "ML transforms are trained and run by the Glue service"


class FindIncrementalMatches(RefusedTransform):
    api, reason = "FindIncrementalMatches (ML transform)", "ML transforms are trained and run by the Glue service"


class FillMissingValues(RefusedTransform):
    api, reason = "FillMissingValues (ML transform)", "ML transforms are trained and run by the Glue service"


class EvaluateDataQuality(RefusedTransform):
    api, reason = "EvaluateDataQuality", "Data Quality rulesets are evaluated by the Glue service"
