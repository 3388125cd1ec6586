"""SQL analytics apps: Kinesis Data Analytics (SQL) applications, kept as they are, run on Spark.

    from cauce.analytics import load_app, run

See docs/analytics.md for the supported constructs: streams and pumps, filters, scalar functions,
tumbling (STEP, FLOOR ... TO), sliding (OVER) and stagger windows, subqueries, stream-to-stream
joins over windows, reference data.
Runs are deterministic over finite input (`run`), or continuous (`streaming.IncrementalRunner`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cauce.core.lazy import lazy_exports

_EXPORTS = {
    "AnalyticsApp": "cauce.analytics.app",
    "AppDefinitionError": "cauce.analytics.app",
    "load_app": "cauce.analytics.app",
    "AnalyticsSqlError": "cauce.analytics.dialect",
    "AppResult": "cauce.analytics.runtime",
    "check": "cauce.analytics.runtime",
    "run": "cauce.analytics.runtime",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from cauce.analytics.app import AnalyticsApp, AppDefinitionError, load_app
    from cauce.analytics.dialect import AnalyticsSqlError
    from cauce.analytics.runtime import AppResult, check, run

__getattr__ = lazy_exports(__name__, _EXPORTS)
