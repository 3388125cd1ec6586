"""Retention for the local Kinesis streams, so that a long run holds a bounded number of records.

On AWS a stream keeps each record for its retention period (24 hours by default), however many
consumers have read it. moto keeps every record for the life of the process, and its PutRecords
reads the whole shard on each record, so a million-record run slows to a crawl and holds the
whole stream in memory. The local stack therefore expires a record as soon as every one of its
consumers (the Firehose source, the analytics apps, the event source mappings) has read it:
the same as a retention period that ends at the slowest consumer's position. The newest record
of each shard is always kept, because moto numbers the next record from it.

This reaches into moto's Kinesis backend (`Shard.records`, an ordered dict by sequence number,
and `Record.instances_tracked`, where moto keeps every record it ever created);
tests/localstack/test_kinesis_retention.py asserts the internals it relies on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from cauce.core.aws import ACCOUNT

if TYPE_CHECKING:
    from cauce.core.stack import Stack


def expire_read_records(stream_name: str, positions: Iterable[Mapping[str, str]], region: str,
                        account: str = ACCOUNT) -> int:
    """Drop the records of `stream_name` (moto, in process) that every consumer has read.

    `positions` holds each consumer's last sequence number read per shard; a shard some consumer
    has not read at all keeps all its records. Returns how many records were dropped.
    """
    from moto.kinesis.models import Record, kinesis_backends

    positions = list(positions)
    stream = kinesis_backends[account][region].streams[stream_name]
    dropped: set[int] = set()
    for shard_id, shard in stream.shards.items():
        read = [int(p[shard_id]) for p in positions if shard_id in p]
        if not read or len(read) < len(positions) or not shard.records:
            continue
        upto = min(min(read), next(reversed(shard.records)) - 1)  # keep the newest record
        while shard.records:
            oldest = next(iter(shard.records))
            if oldest > upto:
                break
            dropped.add(id(shard.records.pop(oldest)))
    if dropped:  # moto also keeps every model instance it creates (for its dashboard): let those go too
        Record.instances_tracked[:] = [r for r in Record.instances_tracked if id(r) not in dropped]
    return len(dropped)


def held_records(stream_name: str, region: str, account: str = ACCOUNT) -> int:
    """How many records the stream (moto, in process) holds now, over all its shards."""
    from moto.kinesis.models import kinesis_backends

    return sum(len(shard.records) for shard in kinesis_backends[account][region].streams[stream_name].shards.values())


def create_streams(kinesis: Any, stack: "Stack") -> dict[str, str]:
    """Create the stack's streams with their shard counts, and the analytics apps' output streams
    the stack does not declare; stream_config key -> name of the declared ones."""
    streams = {key: config.name for key, config in stack.kinesis_config.stream_config.items()}
    for key, config in stack.kinesis_config.stream_config.items():
        kinesis.create_stream(StreamName=streams[key], ShardCount=int(config.shard_count))
    for app in stack.kinesis_config.analytics_config.values():
        output = app.output_stream_arn.rsplit("/", 1)[-1]
        if output not in streams.values():
            kinesis.create_stream(StreamName=output, ShardCount=1)
    return streams

