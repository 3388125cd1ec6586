"""Structured JSON logs and job metrics.

ETL logs go through the standard `logging` module with a one-line JSON formatter rather
than Powertools Logger, so that nothing beyond the Glue runtime's own packages has to be
installed on Glue workers. Secrets are masked (cauce.core.redaction). With `--enable-metrics` on Glue, the job's counters are also
published to CloudWatch (namespace `Cauce/Glue`, dimension JobName).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any, Mapping

from cauce.core.redaction import redact

NAMESPACE = "Cauce/Glue"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        document = {
            "timestamp": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        document.update(getattr(record, "fields", {}))
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(redact(document), default=str)


def job_logger(job_name: str) -> logging.Logger:
    logger = logging.getLogger(f"cauce.etl.{job_name}")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.propagate = False
        logger.setLevel(logging.INFO)
    return logger


def log_event(logger: logging.Logger, message: str, level: int = logging.INFO, **fields: Any) -> None:
    logger.log(level, message, extra={"fields": fields})


def publish_cloudwatch(client: Any, job_name: str, counters: Mapping[str, float]) -> None:
    """Put the job's counters as CloudWatch metrics (Count, except *_seconds in Seconds)."""
    data = [
        {
            "MetricName": name,
            "Dimensions": [{"Name": "JobName", "Value": job_name}],
            "Value": float(value),
            "Unit": "Seconds" if name.endswith("_seconds") else "Count",
        }
        for name, value in counters.items()
    ]
    for start in range(0, len(data), 1000):  # PutMetricData takes at most 1000 values
        client.put_metric_data(Namespace=NAMESPACE, MetricData=data[start : start + 1000])
