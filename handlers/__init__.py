"""Cauce Lambda handlers on Powertools: a Firehose transform or a Kinesis consumer is one plain
function over one record; workflow tasks are operations on a router.

    from handlers import firehose_transform, kinesis_consumer, TaskRouter, Ok, Drop, Failed, PoisonRecord

See docs/handlers.md. Names are imported lazily so that a handler's cold start pays only for
what it uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cauce.lazy import lazy_exports

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


__getattr__ = lazy_exports(__name__, _EXPORTS)
