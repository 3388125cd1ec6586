"""`cauce up` / `down` leave no server behind in any failure path: a busy port is refused before a
server is spawned, a server that crashes at start is reported with its log, a server whose starter
dies mid-start stops itself, and `down` is safe to repeat."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cauce.cli import cli

DEADLINE_SECONDS = 60  # bounded polling of another process, never a fixed sleep


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def servers_for(state_dir: Path) -> list[int]:
    """Live (non-zombie) local stack server processes started for this state folder."""
    found = []
    for process in Path("/proc").glob("[0-9]*"):
        try:
            command = (process / "cmdline").read_bytes()
        except OSError:
            continue
        if b"cauce.localstack.server" in command and str(state_dir.resolve()).encode() in command:
            found.append(int(process.name))
    return found


def wait_for(condition, what: str):
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.005)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def state_dir(tmp_path):
    state = tmp_path / "stack"
    yield state
    invoke("down", "--state", str(state))
    for pid in servers_for(state):  # a failing test must not leave one either
        os.kill(pid, signal.SIGKILL)


def test_a_busy_port_is_refused_naming_the_process_that_holds_it_and_no_server_is_spawned(state_dir):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = invoke("up", "--state", str(state_dir), "--port", str(port))
    assert result.exit_code == 2
    assert f"port {port} on 127.0.0.1 is already in use by pid {os.getpid()}" in result.output
    assert "Traceback" not in result.output
    assert servers_for(state_dir) == [] and not (state_dir / "server.json").exists()


def test_a_server_that_crashes_at_start_is_reported_with_its_log_and_leaves_nothing(state_dir):
    state_dir.mkdir()
    (state_dir / "server.json.tmp").mkdir()  # where the server first writes its record: it fails at once
    result = invoke("up", "--state", str(state_dir))
    assert result.exit_code == 1
    assert "the local stack server exited with status 1: cauce up: the server could not start: IsADirectoryError" in result.output
    assert "server.json.tmp" in result.output and "Traceback" not in result.output
    assert servers_for(state_dir) == [] and not (state_dir / "server.json").exists()
    assert invoke("status", "--state", str(state_dir)).exit_code == 1


def test_a_server_whose_starter_is_killed_mid_start_stops_itself(state_dir):
    starter = subprocess.Popen([sys.executable, "-m", "cauce", "up", "--state", str(state_dir)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    record = wait_for(lambda: (state_dir / "server.json").exists() and json.loads((state_dir / "server.json").read_text() or "{}"),
                      "the server to record itself")
    assert record["state"] == "starting"  # the server is not yet answering: the starter still holds it
    starter.send_signal(signal.SIGKILL)
    starter.wait()
    wait_for(lambda: servers_for(state_dir) == [], "the server to stop after its starter died")
    assert not (state_dir / "server.json").exists()


def test_down_twice_stops_once_and_then_says_nothing_runs(state_dir):
    assert invoke("up", "--state", str(state_dir)).exit_code == 0
    assert len(servers_for(state_dir)) == 1
    first = json.loads(invoke("down", "--state", str(state_dir), "--json").output)
    second = invoke("down", "--state", str(state_dir))
    assert first["stopped"] is True
    assert second.exit_code == 0 and "no local stack was running" in second.output
    assert servers_for(state_dir) == []


def test_a_server_killed_outright_is_not_taken_for_running(state_dir):
    assert invoke("up", "--state", str(state_dir)).exit_code == 0
    (pid,) = servers_for(state_dir)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: servers_for(state_dir) == [], "the killed server to go")
    assert invoke("status", "--state", str(state_dir)).exit_code == 1
    assert invoke("up", "--state", str(state_dir)).exit_code == 0  # and a new one starts in its place


def test_an_analytics_app_whose_sql_is_refused_stops_up_before_a_server_is_spawned(state_dir, tmp_path, monkeypatch):
    repository = Path(__file__).parents[2]
    app = tmp_path / "apps" / "realtime-analytics"  # the stack's app key: its folder here is found before the stack's definition
    app.mkdir(parents=True)
    (app / "app.json").write_text((repository / "analytics" / "apps" / "realtime-processing" / "app.json").read_text())
    (app / "app.sql").write_text('CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (n INTEGER);\n'
                                 'CREATE OR REPLACE PUMP "P" AS INSERT INTO "DESTINATION_SQL_STREAM"\n'
                                 'SELECT STREAM (n FROM "SOURCE_SQL_STREAM_001";\n')
    monkeypatch.chdir(tmp_path / "apps")
    result = invoke("up", "--state", str(state_dir), "--stack", str(repository / "infra" / "examples" / "complete" / "stack.tfvars.json"))
    assert result.exit_code == 1
    assert "the analytics app realtime-analytics cannot run: pump P (line 2): Expecting ) near 'FROM'" in result.output
    assert "Traceback" not in result.output
    assert servers_for(state_dir) == [] and not (state_dir / "server.json").exists()


def test_a_server_that_does_not_stop_in_time_is_killed_and_down_says_so(state_dir, monkeypatch):
    import cauce.localstack.control as control

    # a process that takes itself for a server (its command line says so) and ignores SIGTERM
    stubborn = subprocess.Popen([sys.executable, "-c", "import signal, sys; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                                 "print('ready', flush=True); sys.stdin.read()", "cauce.localstack.server", str(state_dir.resolve())],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert stubborn.stdout.readline() == "ready\n"  # SIGTERM is ignored from here
        state_dir.mkdir()
        (state_dir / "server.json").write_text(json.dumps({"pid": stubborn.pid, "port": 1, "endpoint": "http://127.0.0.1:1"}))
        (state_dir / "status.json").write_text(json.dumps({"firehose": {"f": {"delivered": 3, "processing_failed": 1}}, "analytics": {}}))
        monkeypatch.setattr(control, "STOP_TIMEOUT_SECONDS", 0.2)
        result = invoke("down", "--state", str(state_dir))
        assert result.exit_code == 1
        assert "firehose f: 3 delivered, 1 processing-failed" in result.output
        assert "had not stopped 0.2 s after SIGTERM and was killed" in result.output and "Traceback" not in result.output
        assert stubborn.wait(timeout=DEADLINE_SECONDS) == -signal.SIGKILL
    finally:
        if stubborn.poll() is None:
            stubborn.kill()


WATCHER_THEN_EXIT = """
import sys, threading, time
from pathlib import Path
from cauce.localstack import server

watcher = threading.Thread(target=server._stop_if_starter_dies, args=(threading.Event(),), daemon=True)
watcher.start()
deadline = time.monotonic() + {deadline}
while time.monotonic() < deadline:  # until the watcher sleeps in its read of the starter's pipe
    frame = sys._current_frames().get(watcher.ident)
    state = Path(f"/proc/self/task/{{watcher.native_id}}/stat").read_text().rsplit(")", 1)[1].split()[0]
    if frame is not None and frame.f_code.co_name == "_stop_if_starter_dies" and state == "S":
        break
    time.sleep(0.005)
else:
    raise SystemExit("the watcher never blocked in its read: nothing was tested")
raise SystemExit(1)
""".format(deadline=DEADLINE_SECONDS)


def test_a_server_exiting_while_its_starter_watch_reads_exits_with_its_own_status():
    # The crash-at-start path under load: the watcher thread is already blocked reading standard input
    # when the server gives up. Reading through sys.stdin's buffer made Python abort at shutdown (-6).
    starter = subprocess.Popen([sys.executable, "-c", WATCHER_THEN_EXIT], stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:  # its input stays open, as `cauce up` holds it while the server starts
        starter.wait(timeout=DEADLINE_SECONDS)
        stderr = starter.stderr.read().decode()
    finally:
        starter.kill()
        starter.stdin.close()
    assert stderr == "" and starter.returncode == 1, stderr
