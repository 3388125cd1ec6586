"""Start, stop, feed and inspect the long-running local stack (cauce.localstack.server).

The state folder (`.cauce/stack` by default, project-local) holds all that survives between
commands; `down --purge` removes it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

DEFAULT_STATE_DIR = Path(".cauce/stack")
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 60


class StackNotRunning(RuntimeError):
    """No local stack server answers for this state folder."""


class StackStartFailed(RuntimeError):
    """The server process exited or did not answer in time; the message carries its log's tail."""


def running(state_dir: Path) -> dict[str, Any] | None:
    """The server's record (pid, endpoint, ...) if its process is alive, else None."""
    record_path = state_dir / "server.json"
    if not record_path.exists():
        return None
    record = json.loads(record_path.read_text())
    try:
        os.kill(record["pid"], 0)
    except ProcessLookupError:
        record_path.unlink(missing_ok=True)  # left by a server that was killed
        return None
    return record


def up(state_dir: Path, stack_file: Path | None, port: int | None, project_root: Path | None = None) -> dict[str, Any]:
    """Start the server in the background (or return the one already running) and wait until it answers.
    It runs in the project's root, so that it finds the project's handlers and jobs as the commands do."""
    record = running(state_dir)
    if record is not None:
        return {**record, "already_running": True}
    state_dir.mkdir(parents=True, exist_ok=True)
    port = port or _free_port()
    command = [sys.executable, "-m", "cauce.localstack.server", "--state-dir", str(state_dir.resolve()), "--port", str(port)]
    if stack_file is not None:
        command += ["--stack", str(Path(stack_file).resolve())]
    log = open(state_dir / "server.log", "ab")  # the child keeps writing to it after this call
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                               cwd=project_root)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StackStartFailed(f"the local stack server exited with status {process.returncode}:\n{_tail(state_dir / 'server.log')}")
        record = running(state_dir)
        if record is not None and _answers(record["port"]):
            return {**record, "already_running": False}
        time.sleep(0.2)
    process.terminate()
    raise StackStartFailed(f"the local stack server did not answer within {START_TIMEOUT_SECONDS} s:\n{_tail(state_dir / 'server.log')}")


def down(state_dir: Path, purge: bool = False) -> dict[str, Any]:
    """Stop the server (it delivers its buffers first); with `purge`, remove the state folder."""
    import shutil

    record = running(state_dir)
    stopped = False
    if record is not None:
        os.kill(record["pid"], signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while time.monotonic() < deadline and running(state_dir) is not None:
            time.sleep(0.2)
        if running(state_dir) is not None:
            os.kill(record["pid"], signal.SIGKILL)
        stopped = True
    status = read_status(state_dir)
    if purge:
        shutil.rmtree(state_dir, ignore_errors=True)
    return {"stopped": stopped, "purged": purge, "final_status": status}


def read_status(state_dir: Path) -> dict[str, Any]:
    path = state_dir / "status.json"
    return json.loads(path.read_text()) if path.exists() else {}


def status(state_dir: Path) -> dict[str, Any]:
    """The server's endpoint, its streams (shards, records held), Firehose and consumer counts, the lake."""
    from cauce.core.lake import LocalLake

    record = running(state_dir)
    if record is None:
        raise StackNotRunning(f"no local stack is running for {state_dir} (start one with `cauce up`)")
    kinesis = client(record, "kinesis")
    streams = {}
    for name in kinesis.list_streams()["StreamNames"]:
        summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        streams[name] = {"status": summary["StreamStatus"], "shards": summary["OpenShardCount"]}
    lake = LocalLake(Path(record["lake"]))
    objects = [p for p in lake.root.rglob("*") if p.is_file() and lake.state_dir not in p.parents] if lake.root.exists() else []
    return {"endpoint": record["endpoint"], "pid": record["pid"], "region": record["region"], "streams": streams,
            **read_status(state_dir), "lake": {"path": record["lake"], "objects": len(objects),
                                                "bytes": sum(p.stat().st_size for p in objects)}}


def send(state_dir: Path, stream: str, lines: Iterable[str], partition_key_field: str | None = None,
         progress: Callable[[int], None] = lambda _count: None) -> dict[str, Any]:
    """Put each non-empty line as one record (PutRecords, 500 at a time, failed entries retried)."""
    from cauce.core.kinesis import PUT_RECORDS_LIMIT, put_records

    record = running(state_dir)
    if record is None:
        raise StackNotRunning(f"no local stack is running for {state_dir} (start one with `cauce up`)")
    kinesis = client(record, "kinesis")
    sent = 0
    for batch in _batches((line for line in lines if line.strip()), PUT_RECORDS_LIMIT):
        entries = [{"Data": line.rstrip("\n").encode(), "PartitionKey": _partition_key(line, partition_key_field, sent + i)}
                   for i, line in enumerate(batch)]
        put_records(kinesis, stream, entries)
        sent += len(batch)
        progress(len(batch))
    return {"stream": stream, "records": sent, "endpoint": record["endpoint"]}


def client(record: dict[str, Any], service: str) -> Any:
    import boto3

    return boto3.client(service, region_name=record["region"], endpoint_url=record["endpoint"],
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def _partition_key(line: str, field: str | None, index: int) -> str:
    if field:
        try:
            value = json.loads(line).get(field)
        except (json.JSONDecodeError, AttributeError):
            value = None
        if value not in (None, ""):
            return str(value)
    return str(index)


def _batches(items: Iterable[str], size: int) -> Iterator[list[str]]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else "(no log)"
