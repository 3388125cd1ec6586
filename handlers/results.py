"""What a record function returns: the new record, a deliberate drop, or a failure with a reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Ok:
    """The transformed record. `data` is a dict or list (written as JSON), str, or bytes.

    `partition_keys` feed Firehose dynamic partitioning (`!{partitionKeyFromLambda:name}`).
    """

    data: Any
    partition_keys: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Drop:
    """Drop the record on purpose; Firehose counts it as processed. The reason is logged."""

    reason: str = ""


@dataclass(frozen=True, slots=True)
class Failed:
    """The record cannot be processed: Firehose writes the original to its processing-failed prefix."""

    reason: str


class PoisonRecord(Exception):
    """Raised by a record function for a record that will never succeed (bad content, not a transient fault).

    A Kinesis consumer sends it to the poison queue, if one is configured, and moves on; any
    other exception is retried by the event source mapping.
    """


class InvalidEvent(ValueError):
    """The event is not of the kind the handler is for (a Firehose transformation event, a Kinesis
    event). Raised, so that the invocation fails as on AWS (Firehose and the event source mapping
    retry the batch) and `cauce invoke` exits non-zero naming what was wrong."""

    @classmethod
    def missing(cls, kind: str, key: str, event: Any) -> InvalidEvent:
        if isinstance(event, dict):
            got = "an object with keys " + (", ".join(sorted(map(str, event))[:10]) or "none")
        else:
            got = f"a {type(event).__name__}"
        return cls(f"not a {kind}: expected an object with a {key!r} list, got {got}")
