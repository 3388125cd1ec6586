"""A SQL app over its stream, as `cauce up` runs it: records read into a micro-batch whose windows
are still open are counted as such, not as nothing (`cauce status` showed "0 events counted" for 50
events waiting in an open one-minute window)."""

from __future__ import annotations

import json

import boto3
from moto import mock_aws

from cauce.analytics.app import load_app
from cauce.core.stack import load_stack
from cauce.localstack.analytics import StreamingApp


def test_events_in_an_open_window_are_counted_as_held_until_the_window_closes(spark):
    with mock_aws():
        kinesis = boto3.client("kinesis", region_name="us-east-1")
        for stream in ("data-ingestion-stream", "processed-data-stream"):
            kinesis.create_stream(StreamName=stream, ShardCount=1)
        app = StreamingApp(load_app("realtime-processing", load_stack(None)), kinesis, "data-ingestion-stream", "processed-data-stream",
                           lambda: spark)
        kinesis.put_records(StreamName="data-ingestion-stream", Records=[
            {"Data": json.dumps({"timestamp": f"2026-11-26 10:00:{second:02d}", "data": "x"}).encode(), "PartitionKey": str(second)}
            for second in range(50)])

        app.read()
        assert (app.stats()["in_open_windows"], len(app.pending)) == (0, 50)  # read, waiting for the next batch
        app.run()
        stats = app.stats()
        assert (stats["events_counted"], stats["in_open_windows"], len(app.pending)) == (0, 50, 0)  # the minute is still open
        app.run(final=True)  # the stream ends: the window closes and is emitted
        stats = app.stats()
        assert (stats["events_counted"], stats["in_open_windows"], stats["rows"]) == (50, 0, 1)
