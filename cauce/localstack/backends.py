"""In-process clients of moto's backends, for the calls the server's own consumers make: the
Firehose sources, the event source mappings and the analytics apps read and write Kinesis; an
event source mapping's on-failure destination sends to SQS.

Why not boto3 clients at the server's own endpoint: each botocore client holds its service model,
and the server's four (Kinesis, S3, Glue, SQS) came to about 30 MB of an idle server's memory
(issue 18 asks for at most 100 MB); each call also went through HTTP, moto's request parsing and
its IAM bookkeeping. These answer with boto3's response shapes (Data as bytes, times as aware
datetimes), so `cauce.core.kinesis` and `cauce.localstack.event_source` take either. A refusal is
moto's own exception, which names the stream or queue as the API would.

They call moto's backend methods directly; tests/localstack/test_backends.py asserts the
signatures and model attributes used here, so that a moto upgrade that changes them fails there.
"""

from __future__ import annotations

from typing import Any

from cauce.core.aws import ACCOUNT


class InProcessKinesis:
    """Kinesis in this process: create a stream, list its shards, read them, put records."""

    def __init__(self, region: str, account: str = ACCOUNT) -> None:
        self.region, self.account = region, account

    @property
    def _backend(self) -> Any:
        from moto.kinesis.models import kinesis_backends

        return kinesis_backends[self.account][self.region]

    def create_stream(self, StreamName: str, ShardCount: int) -> dict[str, Any]:  # noqa: N803 (boto3's parameter names)
        self._backend.create_stream(stream_name=StreamName, shard_count=ShardCount)
        return {}

    def describe_stream_summary(self, StreamName: str) -> dict[str, Any]:  # noqa: N803
        return self._backend.describe_stream_summary(stream_arn=None, stream_name=StreamName).to_json_summary()

    def list_shards(self, StreamName: str) -> dict[str, Any]:  # noqa: N803
        shards = self._backend.describe_stream(stream_arn=None, stream_name=StreamName).shards
        return {"Shards": [{"ShardId": shard_id} for shard_id in sorted(shards)]}

    def get_shard_iterator(self, StreamName: str, ShardId: str, ShardIteratorType: str,  # noqa: N803
                           StartingSequenceNumber: str | None = None) -> dict[str, Any]:  # noqa: N803
        iterator = self._backend.get_shard_iterator(stream_arn=None, stream_name=StreamName, shard_id=ShardId,
                                                    shard_iterator_type=ShardIteratorType,
                                                    starting_sequence_number=StartingSequenceNumber, at_timestamp=None)
        return {"ShardIterator": iterator}

    def get_records(self, ShardIterator: str, Limit: int | None = None) -> dict[str, Any]:  # noqa: N803
        import binascii
        import datetime as dt

        next_iterator, records, millis_behind = self._backend.get_records(stream_arn=None, shard_iterator=ShardIterator, limit=Limit)
        return {"Records": [{"Data": binascii.a2b_base64(record.data), "PartitionKey": record.partition_key,
                             "SequenceNumber": str(record.sequence_number),
                             "ApproximateArrivalTimestamp": record.created_at_datetime.replace(tzinfo=dt.timezone.utc)}
                            for record in records],
                "NextShardIterator": next_iterator, "MillisBehindLatest": millis_behind}

    def put_records(self, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        import base64

        entries = [{**entry, "Data": base64.b64encode(entry["Data"]).decode()} for entry in Records]  # moto keeps Data as the API sends it
        return self._backend.put_records(stream_arn=None, stream_name=StreamName, records=entries)


class InProcessSqs:
    """SQS in this process: create a queue, send a message. Queue URLs are the endpoint's, as a
    client of the server sees them."""

    def __init__(self, region: str, endpoint: str, account: str = ACCOUNT) -> None:
        self.region, self.endpoint, self.account = region, endpoint, account

    @property
    def _backend(self) -> Any:
        from moto.sqs.models import sqs_backends

        return sqs_backends[self.account][self.region]

    def create_queue(self, QueueName: str) -> dict[str, Any]:  # noqa: N803
        queue = self._backend.create_queue(QueueName)
        return {"QueueUrl": f"{self.endpoint}/{self.account}/{queue.name}"}

    def get_queue_url(self, QueueName: str) -> dict[str, Any]:  # noqa: N803
        queue = self._backend.get_queue_url(QueueName)
        return {"QueueUrl": f"{self.endpoint}/{self.account}/{queue.name}"}

    def send_message(self, QueueUrl: str, MessageBody: str) -> dict[str, Any]:  # noqa: N803
        message = self._backend.send_message(QueueUrl.rsplit("/", 1)[-1], MessageBody)
        return {"MessageId": message.id, "MD5OfMessageBody": message.body_md5}
