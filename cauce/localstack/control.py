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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cauce.core.stack import Stack

DEFAULT_STATE_DIR = Path(".cauce/stack")
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 60


class StackNotRunning(RuntimeError):
    """No local stack server answers for this state folder."""


class StackStartFailed(RuntimeError):
    """The server process exited or did not answer in time; the message carries its log's tail."""


class PortBusy(StackStartFailed):
    def __init__(self, port: int, holder: tuple[int, str] | None) -> None:
        held_by = f" by pid {holder[0]} ({holder[1][:120]})" if holder else ""
        super().__init__(f"port {port} on 127.0.0.1 is already in use{held_by}: choose another with --port, or omit it for a free one")
        self.port, self.holder = port, holder


DETACH = b"detach\n"  # written to the server's input once it answers (see `up`)


def running(state_dir: Path) -> dict[str, Any] | None:
    """The server's record (pid, endpoint, ...) if its process is alive, else None."""
    record_path = state_dir / "server.json"
    if not record_path.exists():
        return None
    try:
        record = json.loads(record_path.read_text())
    except (OSError, json.JSONDecodeError):  # being rewritten, or removed meanwhile
        return None
    if not _is_server(record["pid"]):
        record_path.unlink(missing_ok=True)  # left by a server that was killed
        return None
    return record


def _is_server(pid: int) -> bool:
    """Whether the pid is a live local stack server: not gone, not a zombie, not a reused pid."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc here: whether the pid exists is all that can be told
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return b"cauce.localstack.server" in command  # a zombie's command line is empty


def up(state_dir: Path, stack_file: Path | None, port: int | None, project_root: Path | None = None,
       stack: "Stack | None" = None) -> dict[str, Any]:
    """Start the server in the background (or return the one already running) and wait until it answers.
    It runs in the project's root, so that it finds the project's handlers and jobs as the commands do.

    The server holds its standard input open on this process until it answers: if this process dies
    first (Ctrl-C, kill -9), the server sees end-of-file and stops, so a failed start leaves no server.
    The `stack`'s SQL analytics apps are checked here first (AnalyticsAppRefused), not in the server."""
    record = running(state_dir)
    if record is not None:
        return {**record, "already_running": True}
    if port is not None:
        refuse_busy_port(port)
    if stack is not None:
        check_apps(stack)
    state_dir.mkdir(parents=True, exist_ok=True)
    port = port or _free_port()
    command = [sys.executable, "-m", "cauce.localstack.server", "--state-dir", str(state_dir.resolve()), "--port", str(port),
               "--starter-holds-input"]
    if stack_file is not None:
        command += ["--stack", str(Path(stack_file).resolve())]
    with open(state_dir / "server.log", "ab") as log:  # the child keeps its own descriptor
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.PIPE, start_new_session=True,
                                   cwd=project_root)
    try:
        record = _wait_until_answering(process, state_dir)
        process.stdin.write(DETACH)  # started: from here the server outlives this command
        process.stdin.close()
        return {**record, "already_running": False}
    except BaseException:
        _stop_child(process)
        raise


class AnalyticsAppRefused(ValueError):
    """A SQL analytics app of the stack cannot run: its definition or its SQL is refused."""


def check_apps(stack: "Stack") -> None:
    """Check every analytics app of the stack (definition, then SQL), as the server would on its first
    batch. Done by `cauce up` before the server starts, so that the long-running server never holds the
    SQL translator (sqlglot, about 10 MB) before an app has records to run."""
    if not stack.kinesis_config.analytics_config:
        return
    from cauce.analytics.app import AppDefinitionError, load_app
    from cauce.analytics.dialect import AnalyticsSqlError
    from cauce.analytics.runtime import check

    for key in stack.kinesis_config.analytics_config:
        try:
            check(load_app(key, stack))
        except (AppDefinitionError, AnalyticsSqlError) as error:
            raise AnalyticsAppRefused(f"the analytics app {key} cannot run: {error}") from None


def _wait_until_answering(process: subprocess.Popen, state_dir: Path) -> dict[str, Any]:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StackStartFailed(f"the local stack server exited with status {process.returncode}: {_last_line(state_dir / 'server.log')}\n"
                                   f"  its log: {state_dir / 'server.log'}")
        record = running(state_dir)
        if record is not None and record.get("state") == "running" and _answers(record["port"]):
            return record
        time.sleep(0.05)
    raise StackStartFailed(f"the local stack server did not answer within {START_TIMEOUT_SECONDS} s: {_last_line(state_dir / 'server.log')}\n"
                           f"  its log: {state_dir / 'server.log'}")


def _stop_child(process: subprocess.Popen) -> None:
    """End a server that failed to start: end-of-file on its input, then SIGTERM, then SIGKILL."""
    if process.stdin is not None and not process.stdin.closed:
        process.stdin.close()
    for stop in (process.terminate, process.kill):
        if process.poll() is not None:
            return
        stop()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            continue


def refuse_busy_port(port: int) -> None:
    """Raise PortBusy, naming the process that listens on the port when it can be found."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
            return
        except OSError:
            pass
    raise PortBusy(port, port_holder(port))


def port_holder(port: int) -> tuple[int, str] | None:
    """(pid, command line) of the process listening on a TCP port, read from Linux's /proc.
    Written here rather than depending on psutil for this one lookup; None where /proc cannot tell."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    for process in Path("/proc").glob("[0-9]*"):
        try:
            if any(os.readlink(fd) in inodes for fd in (process / "fd").iterdir()):
                command = (process / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
                return int(process.name), command
        except OSError:
            continue
    return None


def down(state_dir: Path, purge: bool = False) -> dict[str, Any]:
    """Stop the server (it delivers its buffers first); with `purge`, remove the state folder."""
    import shutil

    record = running(state_dir)
    stopped = killed = False
    if record is not None:
        os.kill(record["pid"], signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while time.monotonic() < deadline and _is_server(record["pid"]):  # until the process is gone, not only its record
            time.sleep(0.05)
        if _is_server(record["pid"]):
            os.kill(record["pid"], signal.SIGKILL)
            killed = True
        (state_dir / "server.json").unlink(missing_ok=True)
        stopped = True
    status = read_status(state_dir)
    if purge:
        shutil.rmtree(state_dir, ignore_errors=True)
    return {"stopped": stopped, "killed": killed, "purged": purge, "final_status": status}


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


def _last_line(path: Path) -> str:
    """The log's last line: the server ends its log with a one-line reason when it cannot start."""
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()] if path.exists() else []
    return lines[-1].strip() if lines else "(nothing in its log)"
