"""`cauce up`: the local stack as a long-running server on 127.0.0.1.

moto's server answers every AWS API at one endpoint, so separate commands and any boto3 client
with `endpoint_url` share the stack. Around it, this process keeps the stack's resources (the
Kinesis streams with their shard counts, the lake bucket, the crawlers' Glue databases, the SQS
on-failure queues) and runs what AWS would run on its own as records arrive:
- each Firehose stream reads its source stream and delivers into the lake with the stack's
  buffering hints (real time here), through its transform handler (cauce.localstack.firehose);
- each Kinesis event source mapping invokes its consumer handler (cauce.localstack.event_source);
- each SQL analytics app runs over its input stream in micro-batches (every 10 s, or 50,000
  records) into its output stream (cauce.localstack.analytics; Spark starts with the first batch).
Records every consumer has read expire (cauce.localstack.kinesis). These consumers call moto's
backends in this process (cauce.localstack.backends), not the endpoint through boto3 clients,
which would hold a botocore service model each.

Crawlers and the state machines run on demand against the same lake
(`cauce sfn run etl-workflow --lake <state>/lake`).

Everything that must outlive the process is in the state folder: the lake (with its catalog and
bookmarks), `server.json` (pid, endpoint), `status.json` (counts, rewritten every second) and
`server.log`. On SIGTERM (`cauce down`) the Firehose buffers are delivered and the analytics apps emit their
open windows before exiting.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cauce.core.aws import ENVIRONMENT, REGION

if TYPE_CHECKING:
    from cauce.core.stack import Stack

POLL_SECONDS = 1.0
ANALYTICS_INTERVAL_SECONDS = 10.0  # an app runs its micro-batch at least this often while records arrive

# Each registers the operations one API module answers itself: `register(server, gateway)` (a module's
# name: its `register`), which may return a callable that undoes it when the server stops.
OVERRIDES: list[Any] = [
    "cauce.localstack.api.s3",
    "cauce.localstack.api.firehose",
    "cauce.localstack.api.functions",
    "cauce.localstack.api.stepfunctions",
    "cauce.localstack.api.glue",
]


class LocalStackServer:
    def __init__(self, stack: "Stack", state_dir: Path, port: int) -> None:
        self.stack = stack
        self.state_dir = state_dir
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"
        self.stopping = threading.Event()
        self.deliveries: list[tuple[Any, Any]] = []
        self.mappings: list[tuple[str, Any]] = []
        self.readers: dict[str, list[Any]] = {}
        self.apps: list[Any] = []
        self._runtime: Any = None
        self._last_batch = time.monotonic()
        self._closers: list[Any] = []

    def client(self, service: str) -> Any:
        """A boto3 client of this endpoint, for calls made rarely (a function's destinations). The
        consumers that poll use `kinesis`, in process: each botocore client holds its service model."""
        import boto3

        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint)

    def start(self) -> None:
        from cauce.localstack.gateway import Endpoint

        self._write_record("starting")  # from here `cauce down` finds this process
        self.endpoint_server = Endpoint("127.0.0.1", self.port)
        self.endpoint_server.start()
        self._create_resources()
        self._register_overrides()
        self._write_status()
        self._write_record("running")

    def _write_record(self, state: str) -> None:
        record = {"pid": os.getpid(), "port": self.port, "endpoint": self.endpoint, "region": REGION, "lake": str(self.lake_dir),
                  "state": state}
        temporary = self.state_dir / "server.json.tmp"
        temporary.write_text(json.dumps(record))
        temporary.replace(self.state_dir / "server.json")

    @property
    def lake_dir(self) -> Path:
        return self.state_dir / "lake"

    def _create_resources(self) -> None:
        from cauce.analytics.app import load_app
        from cauce.core.kinesis import StreamReader
        from cauce.localstack.analytics import StreamingApp
        from cauce.localstack.bindings import StackBindings
        from cauce.localstack.event_source import KinesisEventSourceMapping
        from cauce.localstack.firehose import FirehoseDelivery
        from cauce.localstack.backends import InProcessKinesis, InProcessSqs
        from cauce.localstack.kinesis import create_streams
        from cauce.localstack.pipeline import lake_bucket
        from cauce.core.lake import LocalLake

        kinesis_config = self.stack.kinesis_config
        kinesis = self.kinesis = InProcessKinesis(REGION)
        streams = create_streams(kinesis, self.stack)
        self.readers = {name: [] for name in streams.values()}
        bucket = lake_bucket(self.stack)
        lake = LocalLake(self.lake_dir)
        (self.lake_dir / bucket).mkdir(parents=True, exist_ok=True)  # S3 through the endpoint is the lake (api/s3.py)
        self.bindings = StackBindings(self.stack, lake=self.lake_dir)  # API modules bind functions created through the API here
        handler_for = self.bindings.handler_for

        sources = self.stack.firehose_sources
        ingest = next(iter(streams.values()), None)
        for key, firehose in kinesis_config.firehose_config.items():
            source = streams.get(sources.get(key), ingest)
            if source is None:
                continue
            reader = StreamReader(kinesis, source)
            self.readers[source].append(reader)
            self.deliveries.append((FirehoseDelivery.from_stack(self.stack, firehose, lake, handler_for, bucket), reader))
        for key, source in self.stack.lambda_event_sources.items():
            mapping = KinesisEventSourceMapping.from_stack(self.stack, source, kinesis, handler_for, InProcessSqs(REGION, self.endpoint), region=REGION)
            self.readers[mapping.stream].append(mapping.reader)
            self.mappings.append((key, mapping))
        for key, config in kinesis_config.analytics_config.items():
            source = config.input_stream_arn.rsplit("/", 1)[-1]
            if source in self.readers:
                app = StreamingApp(load_app(key, self.stack), kinesis, source, config.output_stream_arn.rsplit("/", 1)[-1], self._spark,
                                   checked=True)  # by `cauce up` (control.check_apps), before it started this process
                self.readers[source].append(app.reader)
                self.apps.append(app)

    def _register_overrides(self) -> None:
        """The APIs the local stack answers itself (cauce.localstack.gateway); the rest is moto's."""
        import importlib

        for register in OVERRIDES:
            if isinstance(register, str):  # a module's `register`, imported when the server starts
                register = importlib.import_module(register).register
            closer = register(self, self.endpoint_server.gateway)
            if callable(closer):
                self._closers.append(closer)

    def _spark(self) -> Any:
        """Spark for the analytics apps, started with the first batch (on the state folder's lake)."""
        if self._runtime is None:
            from cauce.etl.runtimes.local import LocalRuntime

            self._runtime = LocalRuntime(self.lake_dir, cores=1)
        return self._runtime.spark

    def step(self) -> None:
        """One pass: consumers read what is new, buffers deliver when their hints say, reads expire."""
        from cauce.localstack.kinesis import expire_read_records

        for delivery, reader in self.deliveries:
            for _shard, record in reader.read():
                delivery.put(record["Data"], record["ApproximateArrivalTimestamp"])
            delivery.tick()
        for _key, mapping in self.mappings:
            mapping.drain()
        for app in self.apps:
            app.read()
            if app.due or (app.pending and time.monotonic() - self._last_batch >= ANALYTICS_INTERVAL_SECONDS):
                app.run()
                self._last_batch = time.monotonic()
        for stream, consumers in self.readers.items():
            if consumers:
                expire_read_records(stream, [c.last_sequence for c in consumers], REGION)
        self._write_status()

    def _write_status(self) -> None:
        status = {
            "updated": time.time(),
            "firehose": {d.name: {"records_in": d.stats.records_in, "buffered": d.stats.records_in - d.stats.delivered - d.stats.dropped
                                  - d.stats.processing_failed - d.stats.partitioning_failed, "delivered": d.stats.delivered,
                                  "processing_failed": d.stats.processing_failed, "dropped": d.stats.dropped, "objects": d.stats.objects,
                                  "buffer_interval": d.buffer_seconds}
                         for d, _ in self.deliveries},
            "event_sources": {key: {"records_read": m.stats.records_read, "succeeded": m.stats.records_succeeded,
                                    "to_destination": m.stats.records_sent_to_destination} for key, m in self.mappings},
            "analytics": {app.name: {**app.stats(), "pending": len(app.pending)} for app in self.apps},
        }
        temporary = self.state_dir / "status.json.tmp"
        temporary.write_text(json.dumps(status))
        temporary.replace(self.state_dir / "status.json")

    def serve(self) -> None:
        while not self.stopping.wait(POLL_SECONDS):
            self.step()

    def stop(self) -> None:
        """Deliver what is buffered, then stop: records accepted before `down` reach the lake."""
        self.step()
        for delivery, _reader in self.deliveries:
            delivery.flush()
        self._write_status()  # the deliveries' counts are final now, whatever the apps' last run takes
        for app in self.apps:
            app.run(final=True)  # the stream ends here: its open windows are emitted
        self._write_status()
        self.endpoint_server.stop()
        for close in reversed(self._closers):
            close()


def main() -> None:
    parser = argparse.ArgumentParser(description="The Cauce local stack server (started by `cauce up`).")
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stack", type=Path, default=None)
    parser.add_argument("--starter-holds-input", action="store_true",
                        help="stop if standard input ends before `detach` is read on it (used by `cauce up`)")
    args = parser.parse_args()
    for name, value in ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    from cauce.core.project import find_project
    from cauce.core.stack import load_stack
    from cauce.localstack.gateway import PortInUse

    project = find_project()
    if project is not None:
        project.make_importable()
    server = LocalStackServer(load_stack(args.stack), args.state_dir, args.port)
    signal.signal(signal.SIGTERM, lambda *_: server.stopping.set())
    signal.signal(signal.SIGINT, lambda *_: server.stopping.set())
    if args.starter_holds_input:
        threading.Thread(target=_stop_if_starter_dies, args=(server.stopping,), name="starter-watch", daemon=True).start()
    phase = "start"
    try:
        server.start()
        phase = "run"
        server.serve()
        server.stop()
    except PortInUse as error:
        print(f"cauce up: {error}", file=sys.stderr, flush=True)
        raise SystemExit(3) from None
    except Exception as error:
        traceback.print_exc()  # for the log; its last line is the reason `cauce up` shows
        print(f"cauce up: the server could not {phase}: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    finally:
        (server.state_dir / "server.json").unlink(missing_ok=True)


def _stop_if_starter_dies(stopping: threading.Event) -> None:
    """`cauce up` holds this process's input open until the server answers, then writes `detach`.
    End-of-file before that means it died mid-start (Ctrl-C, kill -9): stop rather than be orphaned."""
    from cauce.localstack.control import DETACH

    # Read the descriptor, not sys.stdin: a daemon thread blocked inside the buffered reader holds its
    # lock, and a server that exits meanwhile aborts at interpreter shutdown (status -6, no message).
    line = b""
    while not line.endswith(b"\n"):
        chunk = os.read(0, 64)
        if not chunk:
            break
        line += chunk
    if line != DETACH:
        stopping.set()


if __name__ == "__main__":
    main()
