"""Kinesis event source mappings for consumer handlers, the way Lambda documents them.

Lambda reads each shard in order and invokes the function with batches of at most `batch_size`
records. With ReportBatchItemFailures, a response naming failed items makes the mapping retry
from the lowest failed sequence number; a function error retries the whole batch (split in two
with `bisect_batch_on_function_error`). After `maximum_retry_attempts`, the batch's description
(not its data) goes to the on-failure destination and the shard moves on. Records are never
skipped silently: each is processed, or named in a failure record.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cauce.core.aws import REGION, arn

if TYPE_CHECKING:
    from cauce.core.stack import LambdaEventSource, Stack


@dataclass
class MappingStats:
    records_read: int = 0
    invocations: int = 0
    function_errors: int = 0
    records_succeeded: int = 0
    records_sent_to_destination: int = 0
    failure_records: list[dict[str, Any]] = field(default_factory=list)


class KinesisEventSourceMapping:
    def __init__(self, kinesis: Any, stream: str, handler: Callable[[Any, Any], Any], *, function_name: str = "consumer",
                 batch_size: int = 100, maximum_retry_attempts: int = 3, bisect_batch_on_function_error: bool = True,
                 on_failure: Callable[[dict[str, Any]], None] | None = None, region: str = REGION) -> None:
        self.kinesis, self.stream, self.handler = kinesis, stream, handler
        self.function_name = function_name
        self.batch_size = batch_size
        self.retries = maximum_retry_attempts
        self.bisect = bisect_batch_on_function_error
        self.on_failure = on_failure
        self.stream_arn = arn("kinesis", f"stream/{stream}", region)
        self.region = region
        self.stats = MappingStats()
        from cauce.core.kinesis import StreamReader

        self.reader = StreamReader(kinesis, stream)  # the mapping's position in each shard

    @classmethod
    def from_stack(cls, stack: "Stack", source: "LambdaEventSource", kinesis: Any, handler_for: Callable[[str], Any],
                   sqs: Any = None, region: str = REGION) -> KinesisEventSourceMapping:
        """The mapping of one `lambda_event_sources` entry; an SQS on-failure destination is created in `sqs`."""
        function = stack.lambda_config[source.function_key]
        stream = stack.kinesis_config.stream_config[source.stream_key].name
        on_failure = None
        if source.on_failure_destination_arn:
            queue = sqs.create_queue(QueueName=source.on_failure_destination_arn.rsplit(":", 1)[-1])["QueueUrl"]
            on_failure = sqs_destination(sqs, queue)
        return cls(kinesis, stream, handler_for(function.function_name), function_name=function.function_name,
                   batch_size=int(source.batch_size), maximum_retry_attempts=int(source.maximum_retry_attempts),
                   bisect_batch_on_function_error=source.bisect_batch_on_function_error, on_failure=on_failure, region=region)

    def drain(self) -> MappingStats:
        """Process every record put since the last drain, shard by shard, in order."""
        batch: list[dict[str, Any]] = []
        batch_shard = None
        for shard_id, record in self.reader.read():
            self.stats.records_read += 1
            if batch and (shard_id != batch_shard or len(batch) == self.batch_size):
                self._deliver(batch_shard, batch)
                batch = []
            batch_shard = shard_id
            batch.append(record)
        if batch:
            self._deliver(batch_shard, batch)
        return self.stats

    def _deliver(self, shard_id: str, batch: list[dict[str, Any]], attempts_left: int | None = None) -> None:
        attempts_left = self.retries if attempts_left is None else attempts_left
        while batch:
            failed_from, function_error = self._invoke(shard_id, batch)
            if failed_from is None:
                self.stats.records_succeeded += len(batch)
                return
            if function_error and self.bisect and len(batch) > 1 and attempts_left > 0:
                half = len(batch) // 2
                self._deliver(shard_id, batch[:half], attempts_left - 1)
                self._deliver(shard_id, batch[half:], attempts_left - 1)
                return
            self.stats.records_succeeded += failed_from  # records before the lowest failure were processed
            batch = batch[failed_from:]
            if attempts_left == 0:
                self._give_up(shard_id, batch)
                return
            attempts_left -= 1

    def _invoke(self, shard_id: str, batch: list[dict[str, Any]]) -> tuple[int | None, bool]:
        """(index of the lowest failed record, or None; whether the function itself failed)."""
        from cauce.handlers.testing import lambda_context

        event = {"Records": [self._event_record(shard_id, r) for r in batch]}
        self.stats.invocations += 1
        try:
            response = self.handler(event, lambda_context(function_name=self.function_name))
        except Exception:
            self.stats.function_errors += 1
            return 0, True
        failures = {f.get("itemIdentifier") for f in (response or {}).get("batchItemFailures", [])} if isinstance(response, dict) else set()
        if not failures:
            return None, False
        sequence_numbers = [r["SequenceNumber"] for r in batch]
        positions = [sequence_numbers.index(f) for f in failures if f in sequence_numbers]
        # an identifier that is empty or unknown fails the whole batch, as on AWS
        return (min(positions) if positions and len(positions) == len(failures) else 0), False

    def _give_up(self, shard_id: str, batch: list[dict[str, Any]]) -> None:
        failure = {
            "requestContext": {"requestId": str(uuid.uuid4()), "functionArn": arn("lambda", f"function:{self.function_name}", self.region),
                               "condition": "RetryAttemptsExhausted", "approximateInvokeCount": self.retries + 1},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
            "version": "1.0", "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(),
            "KinesisBatchInfo": {"shardId": shard_id, "startSequenceNumber": batch[0]["SequenceNumber"],
                                 "endSequenceNumber": batch[-1]["SequenceNumber"], "batchSize": len(batch),
                                 "approximateArrivalOfFirstRecord": batch[0]["ApproximateArrivalTimestamp"].isoformat(),
                                 "approximateArrivalOfLastRecord": batch[-1]["ApproximateArrivalTimestamp"].isoformat(),
                                 "streamArn": self.stream_arn},
        }
        self.stats.records_sent_to_destination += len(batch)
        self.stats.failure_records.append(failure)
        if self.on_failure is not None:
            self.on_failure(failure)

    def _event_record(self, shard_id: str, record: dict[str, Any]) -> dict[str, Any]:
        return {
            "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": record["PartitionKey"], "sequenceNumber": record["SequenceNumber"],
                        "data": base64.b64encode(record["Data"]).decode(), "approximateArrivalTimestamp": record["ApproximateArrivalTimestamp"].timestamp()},
            "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": f"{shard_id}:{record['SequenceNumber']}",
            "eventName": "aws:kinesis:record", "invokeIdentityArn": arn("iam", "role/local", region=""), "awsRegion": self.region,
            "eventSourceARN": self.stream_arn,
        }


def sqs_destination(sqs: Any, queue_url: str) -> Callable[[dict[str, Any]], None]:
    """An on-failure destination that sends the failure record to an SQS queue."""
    return lambda failure: sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(failure))
