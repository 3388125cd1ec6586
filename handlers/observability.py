"""Logger, Metrics and Tracer from Powertools, set up the same way for every Cauce handler.

Logs are Powertools' structured JSON with the Lambda context and a correlation id, secrets
masked (cauce.core.redaction); metrics go
out as CloudWatch EMF once per invocation; traces are recorded only where X-Ray is (Powertools'
Tracer disables itself outside Lambda), and the X-Ray SDK is imported on the first traced
invocation, not at cold import.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import MetricUnit

from cauce.core.redaction import redact

from cauce.handlers.config import HandlerSettings


def _tracing_wanted() -> bool:
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() in ("1", "true", "yes", "on")
    return bool(os.environ.get("LAMBDA_TASK_ROOT")) and not disabled


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON, with secrets masked (cauce.core.redaction) in every key, appended ones included."""

    def serialize(self, log: Any) -> str:
        return super().serialize(redact(log))


class Telemetry:
    """What one handler uses to log, count and trace."""

    def __init__(self, settings: HandlerSettings, stream: Any = None) -> None:
        self.settings = settings
        self.logger = Logger(service=settings.service, level=settings.log_level, stream=stream, stage=settings.stage,
                             logger_formatter=RedactingFormatter())
        self.metrics = Metrics(namespace=settings.metrics_namespace, service=settings.service)
        self._tracer: Any = None

    @property
    def tracer(self):
        if self._tracer is None:
            from aws_lambda_powertools import Tracer

            self._tracer = Tracer(service=self.settings.service)
        return self._tracer

    @contextlib.contextmanager
    def traced(self, name: str) -> Iterator[Any]:
        """A subsegment around the batch where tracing is on; nothing (and no X-Ray import) elsewhere."""
        if not _tracing_wanted():
            yield None
            return
        with self.tracer.provider.in_subsegment(name) as subsegment:
            yield subsegment

    def publish(self, counts: Mapping[str, int], byte_counts: Mapping[str, int] = {}) -> None:
        """One EMF document per invocation: counts of records by outcome, and bytes."""
        for name, value in counts.items():
            self.metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
        for name, value in byte_counts.items():
            self.metrics.add_metric(name=name, unit=MetricUnit.Bytes, value=value)
        self.metrics.flush_metrics()
