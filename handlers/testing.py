"""Realistic Lambda events and context for tests and `cauce invoke`, in AWS's documented shapes.

    from cauce.handlers.testing import firehose_event, kinesis_event, lambda_context

    response = handler(firehose_event([{"event_id": "1"}]), lambda_context())
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterable
from typing import Any

from cauce.core.aws import ACCOUNT, REGION
from cauce.core.lambda_runtime import LambdaContext, invoke, lambda_context  # noqa: F401 (part of this module's API)
from cauce.core.kpl import aggregate

_BASE_MS = 1_764_115_200_000  # 2025-11-26T00:00:00Z: fixed, so built events are reproducible


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return json.dumps(value).encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def firehose_event(
    records: Iterable[Any],
    *,
    delivery_stream: str = "s3-data-delivery",
    source_stream: str | None = None,
    shard_id: str = "shardId-000000000000",
    partition_key: str = "pk",
    region: str = REGION,
) -> dict[str, Any]:
    """A Firehose transformation event. Records are bytes, str, or JSON values.

    With `source_stream`, the event is what Firehose sends when it reads a Kinesis stream:
    `sourceKinesisStreamArn` and each record's `kinesisRecordMetadata`.
    """
    event: dict[str, Any] = {
        "invocationId": str(uuid.uuid4()),
        "deliveryStreamArn": f"arn:aws:firehose:{region}:{ACCOUNT}:deliverystream/{delivery_stream}",
        "region": region,
        "records": [],
    }
    if source_stream:
        event["sourceKinesisStreamArn"] = f"arn:aws:kinesis:{region}:{ACCOUNT}:stream/{source_stream}"
    for index, value in enumerate(records):
        arrival = _BASE_MS + index
        record: dict[str, Any] = {
            "recordId": f"{index:056d}{uuid.uuid4().hex[:8]}",
            "approximateArrivalTimestamp": arrival,
            "data": _b64(_bytes(value)),
        }
        if source_stream:
            record["kinesisRecordMetadata"] = {
                "shardId": shard_id,
                "partitionKey": partition_key,
                "approximateArrivalTimestamp": arrival,
                "sequenceNumber": _sequence_number(index),
                "subsequenceNumber": 0,
            }
        event["records"].append(record)
    return event


def kinesis_event(
    records: Iterable[Any],
    *,
    stream: str = "data-ingestion-stream",
    shard_id: str = "shardId-000000000000",
    partition_key: str = "pk",
    aggregate_per_record: int = 1,
    region: str = REGION,
) -> dict[str, Any]:
    """A Kinesis event as an event source mapping delivers it (`Records`, base64 `kinesis.data`).

    `aggregate_per_record=N` packs every N user records into one KPL aggregate, as the KPL does.
    """
    values = [_bytes(v) for v in records]
    if aggregate_per_record > 1:
        payloads = [
            aggregate([(partition_key, v) for v in values[i:i + aggregate_per_record]])
            for i in range(0, len(values), aggregate_per_record)
        ]
    else:
        payloads = values
    stream_arn = f"arn:aws:kinesis:{region}:{ACCOUNT}:stream/{stream}"
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": partition_key,
                    "sequenceNumber": _sequence_number(index),
                    "data": _b64(payload),
                    "approximateArrivalTimestamp": (_BASE_MS + index) / 1000,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard_id}:{_sequence_number(index)}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT}:role/lambda-kinesis-role",
                "awsRegion": region,
                "eventSourceARN": stream_arn,
            }
            for index, payload in enumerate(payloads)
        ]
    }


def step_functions_task_event(operation: str, **payload: Any) -> dict[str, Any]:
    """The payload `arn:aws:states:::lambda:invoke` passes as the event: `{"operation": ..., ...}`."""
    return {"operation": operation, **payload}


def decode_firehose_response(response: dict[str, Any]) -> list[tuple[str, str, bytes]]:
    """(recordId, result, decoded data) for each result of a Firehose transformation response."""
    return [(r["recordId"], r["result"], base64.b64decode(r["data"])) for r in response["records"]]


def _sequence_number(index: int) -> str:
    return str(49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898 + index * 2)
