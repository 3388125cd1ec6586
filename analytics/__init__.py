"""SQL analytics apps: Kinesis Data Analytics (SQL) applications, kept as they are, run on Spark.

    from analytics import load_app, run

See docs/analytics.md for the supported constructs: streams and pumps, filters, scalar functions,
tumbling (STEP, FLOOR ... TO), sliding (OVER) and stagger windows, subqueries, reference data.
Runs are deterministic over finite input (`run`), or continuous (`streaming.IncrementalRunner`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cauce.lazy import lazy_exports

_EXPORTS = {
    "AnalyticsApp": "analytics.app",
    "AppDefinitionError": "analytics.app",
    "load_app": "analytics.app",
    "AnalyticsSqlError": "analytics.dialect",
    "AppResult": "analytics.runtime",
    "check": "analytics.runtime",
    "run": "analytics.runtime",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from analytics.app import AnalyticsApp, AppDefinitionError, load_app
    from analytics.dialect import AnalyticsSqlError
    from analytics.runtime import AppResult, check, run

__getattr__ = lazy_exports(__name__, _EXPORTS)
