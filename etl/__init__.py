"""Cauce ETL: Glue jobs by subclassing, run unchanged on AWS Glue 5.x and on local Spark.

    from etl import GlueJob, S3Source, S3Sink

See docs/etl.md. Names are imported lazily so that `import etl` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cauce.lazy import lazy_exports

_EXPORTS = {
    "GlueJob": "etl.job",
    "JobRunResult": "etl.job",
    "ReconciliationError": "etl.job",
    "QuarantineNotConfigured": "etl.job",
    "JobArgumentError": "etl.arguments",
    "NoArguments": "etl.arguments",
    "S3Source": "etl.sources",
    "CatalogSource": "etl.sources",
    "JdbcSource": "etl.sources",
    "S3Sink": "etl.sinks",
    "CatalogSink": "etl.sinks",
    "LocalLake": "etl.lake",
    "LocalCatalog": "etl.catalog",
    "CatalogError": "etl.catalog",
    "table_input": "etl.catalog",
    "LocalRuntime": "etl.runtimes.local",
    "SourceError": "etl.runtimes.local",
    "JdbcConnectionError": "etl.connections",
    "RunPolicy": "etl.runner",
    "run_job": "etl.runner",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from etl.arguments import JobArgumentError, NoArguments
    from etl.catalog import CatalogError, LocalCatalog, table_input
    from etl.connections import JdbcConnectionError
    from etl.job import GlueJob, JobRunResult, QuarantineNotConfigured, ReconciliationError
    from etl.lake import LocalLake
    from etl.runner import RunPolicy, run_job
    from etl.runtimes.local import LocalRuntime, SourceError
    from etl.sinks import CatalogSink, S3Sink
    from etl.sources import CatalogSource, JdbcSource, S3Source


__getattr__ = lazy_exports(__name__, _EXPORTS)
