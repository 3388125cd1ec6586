"""Cauce ETL: Glue jobs by subclassing, run unchanged on AWS Glue 5.x and on local Spark.

    from cauce.etl import GlueJob, S3Source, S3Sink

See docs/etl.md. Names are imported lazily so that `import etl` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cauce.core.lazy import lazy_exports

_EXPORTS = {
    "GlueJob": "cauce.etl.job",
    "JobRunResult": "cauce.etl.job",
    "ReconciliationError": "cauce.etl.job",
    "QuarantineNotConfigured": "cauce.etl.job",
    "JobArgumentError": "cauce.etl.arguments",
    "NoArguments": "cauce.etl.arguments",
    "S3Source": "cauce.etl.sources",
    "CatalogSource": "cauce.etl.sources",
    "JdbcSource": "cauce.etl.sources",
    "S3Sink": "cauce.etl.sinks",
    "CatalogSink": "cauce.etl.sinks",
    "LocalLake": "cauce.core.lake",
    "LocalCatalog": "cauce.etl.catalog",
    "CatalogError": "cauce.etl.catalog",
    "table_input": "cauce.etl.catalog",
    "LocalRuntime": "cauce.etl.runtimes.local",
    "SourceError": "cauce.etl.runtimes.local",
    "JdbcConnectionError": "cauce.etl.connections",
    "RunPolicy": "cauce.etl.runner",
    "run_job": "cauce.etl.runner",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from cauce.etl.arguments import JobArgumentError, NoArguments
    from cauce.etl.catalog import CatalogError, LocalCatalog, table_input
    from cauce.etl.connections import JdbcConnectionError
    from cauce.etl.job import GlueJob, JobRunResult, QuarantineNotConfigured, ReconciliationError
    from cauce.core.lake import LocalLake
    from cauce.etl.runner import RunPolicy, run_job
    from cauce.etl.runtimes.local import LocalRuntime, SourceError
    from cauce.etl.sinks import CatalogSink, S3Sink
    from cauce.etl.sources import CatalogSource, JdbcSource, S3Source


__getattr__ = lazy_exports(__name__, _EXPORTS)
