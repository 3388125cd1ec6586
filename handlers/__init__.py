"""Cauce Lambda handlers on Powertools: a Firehose transform or a Kinesis consumer is one plain
function over one record; workflow tasks are operations on a router.

    from handlers import firehose_transform, kinesis_consumer, TaskRouter, Ok, Drop, Failed, PoisonRecord

See docs/handlers.md. Names are imported lazily so that a handler's cold start pays only for
what it uses.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "firehose_transform": "handlers.firehose",
    "FirehoseTransform": "handlers.firehose",
    "FirehoseRecord": "handlers.firehose",
    "kinesis_consumer": "handlers.kinesis",
    "KinesisConsumer": "handlers.kinesis",
    "SkippedAfterEarlierFailure": "handlers.kinesis",
    "TaskRouter": "handlers.tasks",
    "TaskError": "handlers.tasks",
    "InvalidTaskInput": "handlers.tasks",
    "UnknownOperation": "handlers.tasks",
    "Ok": "handlers.results",
    "Drop": "handlers.results",
    "Failed": "handlers.results",
    "PoisonRecord": "handlers.results",
    "HandlerSettings": "handlers.config",
    "ConfigurationError": "handlers.config",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from handlers.config import ConfigurationError, HandlerSettings
    from handlers.firehose import FirehoseRecord, FirehoseTransform, firehose_transform
    from handlers.kinesis import KinesisConsumer, SkippedAfterEarlierFailure, kinesis_consumer
    from handlers.results import Drop, Failed, Ok, PoisonRecord
    from handlers.tasks import InvalidTaskInput, TaskError, TaskRouter, UnknownOperation


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'handlers' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
