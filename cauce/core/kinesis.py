"""Kinesis record I/O through boto3 (moto locally, Kinesis on AWS): read a stream shard by shard,
decode records (KPL aggregates unpacked, JSON parsed, arrival time kept), and put records with
PutRecords, retrying what Kinesis reports as failed.

Reading takes every record from every shard (TRIM_HORIZON to the tip) and gives each JSON object
its ApproximateArrivalTimestamp under `ARRIVAL_FIELD`. A record that is not JSON is returned as
unreadable, with its shard and sequence number. Writing sends rows as JSON, 500 at a time.
"""


from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from cauce.core.kpl import deaggregate

PUT_RECORDS_LIMIT = 500  # entries in one PutRecords call
ARRIVAL_FIELD = "_arrival_time"  # where a decoded record keeps its ApproximateArrivalTimestamp


class StreamReader:
    """A consumer's position in every shard of a stream: each `read` returns only the records put
    since the previous one, shard by shard in order, as a Kinesis consumer holding its shard
    iterators does. The first read starts at TRIM_HORIZON."""

    def __init__(self, client: Any, stream_name: str) -> None:
        self.client = client
        self.stream_name = stream_name
        self._iterators: dict[str, str] = {}
        self.last_sequence: dict[str, str] = {}

    def read(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(shard id, record) for every record that arrived since the last read."""
        for shard_id in stream_shards(self.client, self.stream_name):
            iterator = self._iterators.get(shard_id) or self.client.get_shard_iterator(
                StreamName=self.stream_name, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            while True:
                page = self.client.get_records(ShardIterator=iterator, Limit=10000)
                iterator = page["NextShardIterator"]
                for record in page["Records"]:
                    self.last_sequence[shard_id] = record["SequenceNumber"]
                    yield shard_id, record
                if not page["Records"] and not page.get("MillisBehindLatest", 0):
                    break
            self._iterators[shard_id] = iterator


def stream_shards(client: Any, stream_name: str) -> list[str]:
    return [shard["ShardId"] for shard in client.list_shards(StreamName=stream_name)["Shards"]]


def decode_records(records: Iterable[tuple[str, dict[str, Any]]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(rows, unreadable) of Kinesis records: KPL aggregates unpacked, each JSON object given its
    arrival time as ROWTIME; what is not JSON is named with its shard and sequence number."""
    rows, unreadable = [], []
    for shard_id, record in records:
        arrival = record["ApproximateArrivalTimestamp"]
        for user in deaggregate(record["Data"], record.get("PartitionKey")):
            try:
                value = json.loads(user.data)
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                unreadable.append({"shard": shard_id, "sequence_number": record["SequenceNumber"],
                                   "record": base64.b64encode(user.data).decode(), "reason": f"not valid JSON: {error}"})
                continue
            if isinstance(value, dict):
                value.setdefault(ARRIVAL_FIELD, arrival.isoformat() if isinstance(arrival, dt.datetime) else arrival)
            rows.append(value)
    return rows, unreadable


def read_stream(client: Any, stream_name: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(records, unreadable) of everything the stream holds now."""
    return decode_records(StreamReader(client, stream_name).read())


def write_stream(client: Any, stream_name: str, rows: Iterable[Mapping[str, Any]], partition_column: str | None = None) -> int:
    """Put rows as JSON records; the count written."""
    entries = [{"Data": json.dumps(row, default=_json_default).encode(),
                "PartitionKey": str(row.get(partition_column) if partition_column else stream_name) or stream_name} for row in rows]
    for start in range(0, len(entries), PUT_RECORDS_LIMIT):
        put_records(client, stream_name, entries[start:start + PUT_RECORDS_LIMIT])
    return len(entries)


class PutRecordsFailed(RuntimeError):
    """Kinesis kept refusing some entries of a PutRecords (throttling) after every attempt."""


def put_records(client: Any, stream_name: str, entries: list[dict[str, Any]], attempts: int = 5) -> None:
    """PutRecords of at most 500 entries, putting again the entries Kinesis reports as failed."""
    for _attempt in range(attempts):
        response = client.put_records(StreamName=stream_name, Records=entries)
        entries = [entry for entry, result in zip(entries, response["Records"], strict=True) if "ErrorCode" in result]
        if not entries:
            return
    raise PutRecordsFailed(f"{len(entries)} record(s) could not be written to {stream_name} after {attempts} attempts")


def _json_default(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (dt.datetime, dt.date)) else str(value)
