"""Kinesis streams as an app's input and output (moto locally, Kinesis on AWS, through boto3).

Reading takes every record from every shard (TRIM_HORIZON to the tip), unpacks KPL aggregates,
and gives each record its ApproximateArrivalTimestamp as arrival time (ROWTIME). A record that is
not JSON becomes an error of the run, with its shard and sequence number. Writing sends output
rows as JSON with PutRecords, 500 at a time, and retries what Kinesis reports as failed.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from analytics.app import AnalyticsApp
from analytics.runtime import ARRIVAL_FIELD, AppResult, run

PUT_RECORDS_LIMIT = 500


def shard_records(client: Any, stream_name: str, shard_id: str) -> Iterator[dict[str, Any]]:
    """Every record a shard holds now, in order (GetRecords from TRIM_HORIZON to the tip)."""
    iterator = client.get_shard_iterator(StreamName=stream_name, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    while iterator:
        page = client.get_records(ShardIterator=iterator, Limit=10000)
        yield from page["Records"]
        iterator = page.get("NextShardIterator") if page["Records"] or page.get("MillisBehindLatest", 0) > 0 else None


def stream_shards(client: Any, stream_name: str) -> list[str]:
    return [shard["ShardId"] for shard in client.list_shards(StreamName=stream_name)["Shards"]]


def read_stream(client: Any, stream_name: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(records, unreadable) of everything the stream holds now."""
    from handlers.kpl import deaggregate

    records, unreadable = [], []
    for shard_id in stream_shards(client, stream_name):
        for record in shard_records(client, stream_name, shard_id):
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
                records.append(value)
    return records, unreadable


def write_stream(client: Any, stream_name: str, rows: Iterable[Mapping[str, Any]], partition_column: str | None = None) -> int:
    """Put rows as JSON records; the count written."""
    entries = [{"Data": json.dumps(row, default=_json_default).encode(),
                "PartitionKey": str(row.get(partition_column) if partition_column else stream_name) or stream_name} for row in rows]
    written = 0
    for start in range(0, len(entries), PUT_RECORDS_LIMIT):
        batch = entries[start:start + PUT_RECORDS_LIMIT]
        for _attempt in range(5):
            response = client.put_records(StreamName=stream_name, Records=batch)
            failed = [entry for entry, result in zip(batch, response["Records"], strict=True) if "ErrorCode" in result]
            written += len(batch) - len(failed)
            if not failed:
                break
            batch = failed
        else:
            raise RuntimeError(f"{len(batch)} record(s) could not be written to {stream_name} after 5 attempts")
    return written


def run_on_streams(app: AnalyticsApp, spark: Any, client: Any, input_stream: str, output_stream: str | None = None,
                   output: str = "DESTINATION_SQL_STREAM") -> AppResult:
    """Run the app over what `input_stream` holds; write the `output` stream's rows to `output_stream`."""
    records, unreadable = read_stream(client, input_stream)
    result = run(app, records, spark)
    result.errors[:0] = unreadable
    if output_stream is not None:
        write_stream(client, output_stream, result.outputs.get(output, []))
    return result


def _json_default(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (dt.datetime, dt.date)) else str(value)
