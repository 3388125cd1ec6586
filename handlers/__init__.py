"""Cauce Lambda handlers on Powertools: a Firehose transform or a Kinesis consumer is one plain
function over one record; workflow tasks are operations on a router.

    from cauce.handlers import firehose_transform, kinesis_consumer, TaskRouter, Ok, Drop, Failed, PoisonRecord

See docs/handlers.md. Names are imported lazily so that a handler's cold start pays only for
what it uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cauce.core.lazy import lazy_exports

_EXPORTS = {
    "firehose_transform": "cauce.handlers.firehose",
    "FirehoseTransform": "cauce.handlers.firehose",
    "FirehoseRecord": "cauce.handlers.firehose",
    "kinesis_consumer": "cauce.handlers.kinesis",
    "KinesisConsumer": "cauce.handlers.kinesis",
    "SkippedAfterEarlierFailure": "cauce.handlers.kinesis",
    "TaskRouter": "cauce.handlers.tasks",
    "TaskError": "cauce.handlers.tasks",
    "InvalidTaskInput": "cauce.handlers.tasks",
    "UnknownOperation": "cauce.handlers.tasks",
    "Ok": "cauce.handlers.results",
    "Drop": "cauce.handlers.results",
    "Failed": "cauce.handlers.results",
    "PoisonRecord": "cauce.handlers.results",
    "InvalidEvent": "cauce.handlers.results",
    "HandlerSettings": "cauce.handlers.config",
    "ConfigurationError": "cauce.handlers.config",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from cauce.handlers.config import ConfigurationError, HandlerSettings
    from cauce.handlers.firehose import FirehoseRecord, FirehoseTransform, firehose_transform
    from cauce.handlers.kinesis import KinesisConsumer, SkippedAfterEarlierFailure, kinesis_consumer
    from cauce.handlers.results import Drop, Failed, InvalidEvent, Ok, PoisonRecord
    from cauce.handlers.tasks import InvalidTaskInput, TaskError, TaskRouter, UnknownOperation


__getattr__ = lazy_exports(__name__, _EXPORTS)
