"""Kinesis Data Streams consumer: one plain function over one record, on Powertools batch processing.

    from cauce.handlers import kinesis_consumer, PoisonRecord

    @kinesis_consumer(poison_queue_url="https://sqs.../orders-poison")
    def handler(order: dict) -> None:
        if "order_id" not in order:
            raise PoisonRecord("no order_id")
        save(order)

The response uses ReportBatchItemFailures (deploy the event source mapping with
`function_response_types = ["ReportBatchItemFailures"]`): a record whose function raised is
reported by sequence number and Lambda retries from the lowest one, so the rest of the batch is
not redone in vain and nothing is skipped. KPL aggregates are unpacked, and every user record
goes to the function; a Kinesis record fails when any of its user records fails.

Two kinds of failure:
- Transient (any exception): reported, retried by Lambda, and after the mapping's retries
  and record age, sent to its on-failure destination.
- Poison (bad base64, not JSON, a malformed aggregate, or `PoisonRecord` raised by the function):
  retrying cannot help, so with a poison queue the record (data, reason, shard and sequence
  number) is sent to that SQS queue and the shard moves on. Without a queue, or when sending
  fails, it is reported like a transient failure: never dropped.

`ordered=True` stops at the first failure in a shard: later records of that shard are reported
too, without being processed, so they are retried in order after it.

`idempotency_table="..."` runs the function at most once per record payload (or per
`idempotency_key`, a JMESPath into the JSON payload) through Powertools idempotency on DynamoDB,
which makes Lambda's retries of a partly processed batch harmless.
"""

from __future__ import annotations

import binascii
import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from cauce.handlers import codec
from cauce.handlers.base import RecordHandler
from cauce.handlers.config import callable_name
from cauce.core.kpl import KplFormatError, deaggregate
from cauce.handlers.results import InvalidEvent, PoisonRecord

POISON_QUEUE_ENV = "CAUCE_POISON_QUEUE_URL"
IDEMPOTENCY_TABLE_ENV = "CAUCE_IDEMPOTENCY_TABLE"


class SkippedAfterEarlierFailure(Exception):
    """Ordered mode: an earlier record of the same shard failed, so this one was not processed."""


class _ShardOrderedProcessor(BatchProcessor):
    """Powertools' BatchProcessor that, when ordered, short-circuits a shard after its first failure
    (the same pattern as Powertools' SqsFifoPartialProcessor for message groups)."""

    def __init__(self, ordered: bool, logger: Any) -> None:
        super().__init__(EventType.KinesisDataStreams, raise_on_entire_batch_failure=False, logger=logger)
        self.ordered = ordered
        self._failed_shards: set[str] = set()
        self._shard: str | None = None

    def _process_record(self, record: dict):
        self._shard = _shard_of(record)
        if self.ordered and self._shard in self._failed_shards:
            error = SkippedAfterEarlierFailure(f"an earlier record of {self._shard} failed")
            return self.failure_handler(self._to_batch_type(record, self.event_type), (type(error), error, None))
        return super()._process_record(record)

    def failure_handler(self, record, exception):
        self._failed_shards.add(self._shard or "")
        return super().failure_handler(record, exception)

    def _collect_kinesis_failures(self):
        # A record without a sequence number cannot be named; "" makes Lambda retry the whole
        # batch, which loses nothing.
        return [{"itemIdentifier": m.raw_event.get("kinesis", {}).get("sequenceNumber", "")} for m in self.fail_messages]

    def _clean(self):
        self._failed_shards.clear()
        super()._clean()


class KinesisConsumer(RecordHandler):
    """A Kinesis consumer handler `(event, context) -> {"batchItemFailures": [...]}` around a record function.

    Options: `input` ("json" or "bytes"), `ordered`, `poison_queue_url`, `idempotency_table`,
    `idempotency_key`, `service`, `settings`, `log_stream`.
    """

    def __init__(
        self,
        function: Callable[[Any], Any],
        *,
        ordered: bool = False,
        poison_queue_url: str | None = None,
        idempotency_table: str | None = None,
        idempotency_key: str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(function, **options)
        if idempotency_key and self.input != "json":
            raise ValueError("idempotency_key is a JMESPath into a JSON payload: it needs input='json'")
        self.ordered = ordered
        self.poison_queue_url = poison_queue_url or os.environ.get(POISON_QUEUE_ENV) or None
        self.processor = _ShardOrderedProcessor(ordered, self.telemetry.logger)
        self._sqs: Any = None
        self._idempotency_config: Any = None
        self._call = self._make_idempotent(idempotency_table or os.environ.get(IDEMPOTENCY_TABLE_ENV), idempotency_key)
        self._ok = self._poisoned = self._bytes_in = 0

    def _handle_event(self, event: Any, context: Any):
        logger = self.telemetry.logger
        if not isinstance(event, dict) or not isinstance(event.get("Records"), list):
            # Lambda never sends this: the invocation fails, and the event source mapping retries the batch.
            logger.error("not a Kinesis event: no 'Records' list")
            self.telemetry.publish({"RecordsMalformedEvent": 1})
            raise InvalidEvent.missing("Kinesis event", "Records", event)
        if self._idempotency_config is not None:
            self._idempotency_config.register_lambda_context(context)
        self._ok = self._poisoned = self._bytes_in = 0
        with self.telemetry.traced("## kinesis_consumer"):
            response = process_partial_response(event=event, record_handler=self._record, processor=self.processor, context=context)
        failures = response.get("batchItemFailures", [])
        skipped = sum(1 for e in self.processor.exceptions if e[0] is SkippedAfterEarlierFailure)
        self.telemetry.publish(
            {"RecordsOk": self._ok, "RecordsPoisoned": self._poisoned, "RecordsFailed": len(failures) - skipped, "RecordsSkipped": skipped},
            {"BytesIn": self._bytes_in},
        )
        logger.info("consumed batch", extra={"records": len(event["Records"]), "failed": len(failures), "skipped": skipped})
        return response

    def _record(self, record) -> None:
        raw_event = record.raw_event
        kinesis = raw_event.get("kinesis") or {}
        try:
            data = codec.b64decode(kinesis["data"])
            users = deaggregate(data, kinesis.get("partitionKey"))
        except KeyError:
            return self._poison(raw_event, None, "the record has no kinesis.data")
        except (binascii.Error, ValueError, TypeError) as error:  # KplFormatError is a ValueError
            kind = "malformed KPL aggregate" if isinstance(error, KplFormatError) else "data is not valid base64"
            return self._poison(raw_event, None, f"{kind}: {error}")
        self._bytes_in += len(data)
        for user in users:
            try:
                value = self._decode(user.data)
                self._call(value, user.partition_key)
            except PoisonRecord as error:
                self._poison(raw_event, user.subsequence_number if user.aggregated else None, str(error) or "PoisonRecord")
                continue
            self._ok += 1

    def _decode(self, data: bytes) -> Any:
        if self.input == "bytes":
            return data
        if not data.strip():
            raise PoisonRecord("empty record: expected a JSON document")
        try:
            return codec.loads(data)
        except codec.JSONDecodeError as error:
            raise PoisonRecord(f"not valid JSON: {error}") from None

    def _poison(self, raw_event: dict, subsequence: int | None, reason: str) -> None:
        """Send a record that can never succeed to the poison queue; without one, fail it (it is retried)."""
        kinesis = raw_event.get("kinesis") or {}
        if not self.poison_queue_url:
            raise PoisonRecord(f"{reason} (no poison queue configured: set {POISON_QUEUE_ENV})")
        message = {
            "reason": reason,
            "eventSourceARN": raw_event.get("eventSourceARN"),
            "eventID": raw_event.get("eventID"),
            "shardId": _shard_of(raw_event),
            "sequenceNumber": kinesis.get("sequenceNumber"),
            "subsequenceNumber": subsequence,
            "partitionKey": kinesis.get("partitionKey"),
            "approximateArrivalTimestamp": kinesis.get("approximateArrivalTimestamp"),
            "data": kinesis.get("data"),
        }
        if self._sqs is None:
            import boto3

            self._sqs = boto3.client("sqs")
        self._sqs.send_message(QueueUrl=self.poison_queue_url, MessageBody=codec.dumps(message).decode())
        self._poisoned += 1
        self.telemetry.logger.warning("poison record sent to the poison queue", extra={k: message[k] for k in ("reason", "eventID", "subsequenceNumber")})

    def _make_idempotent(self, table: str | None, key: str | None) -> Callable[[Any, str | None], Any]:
        function = self.function
        if not table:
            return lambda value, _partition_key: function(value)
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function

        self._idempotency_config = IdempotencyConfig(
            event_key_jmespath=f"payload.{key}" if key else "payload",
            raise_on_no_idempotency_key=bool(key),
        )
        bytes_input = self.input == "bytes"

        @idempotent_function(
            data_keyword_argument="envelope",
            persistence_store=DynamoDBPersistenceLayer(table_name=table),
            config=self._idempotency_config,
            key_prefix=f"{self.settings.service}.{callable_name(function)}",
        )
        def once(envelope: dict) -> Any:
            payload = envelope["payload"]
            return function(codec.b64decode(payload) if bytes_input else payload)

        def call(value: Any, _partition_key: str | None) -> Any:
            return once(envelope={"payload": codec.b64encode_text(value) if bytes_input else value})

        return call


def kinesis_consumer(function: Callable[[Any], Any] | None = None, /, **options: Any) -> Any:
    """Turn a record function into a `KinesisConsumer`: `@kinesis_consumer` or `@kinesis_consumer(ordered=True)`."""
    return KinesisConsumer.decorate(function, **options)


def _shard_of(raw_event: dict) -> str:
    event_id = raw_event.get("eventID") or ""
    return event_id.split(":", 1)[0] if ":" in event_id else event_id

