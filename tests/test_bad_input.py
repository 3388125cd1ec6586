"""Every command's answer to bad input: a non-zero exit (2 for input refused before any work), a
message that names the input and what is wrong with it, and no Python traceback (the command
handled it: nothing escapes to click). docs/reliability.md lists what this sweep covers."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cauce.cli import cli

BAD_FILES = {  # kind -> contents (None: the path does not exist; "/": it is a folder)
    "missing": None,
    "a directory": "/",
    "empty": "",
    "malformed JSON": "{not json",
    "JSON of the wrong type": "[1, 2]",
}

# Commands that read a file: arguments with FILE in the file's place (the message must name the file)
FILE_READERS = [
    (["sfn", "list", "--stack", "FILE"], "FILE"),
    (["cost", "FILE"], "FILE"),
    (["cost", "--assumptions", "FILE"], "FILE"),
    (["cost", "--prices", "FILE"], "FILE"),
    (["invoke", "cauce.handlers.data_processor:handler", "--event", "FILE"], "FILE"),
    (["sfn", "validate", "etl-workflow", "--vars", "FILE"], "FILE"),
    (["sfn", "run", "etl-workflow", "--mock-config", "FILE", "--test-case", "x"], "FILE"),
    (["sfn", "validate", "FILE"], "FILE"),
    (["sfn", "diagram", "FILE"], "FILE"),
    (["sfn", "test-state", "FILE", "Start"], "FILE"),
    (["analytics", "check", "FILE"], "FILE"),
    (["analytics", "run", "realtime-processing", "--input", "FILE"], "FILE"),
    (["job", "run", "FILE"], "FILE"),
]
# Not bad input there: an empty vars file is no values; the analytics input is JSON lines (a bad line is
# refused as a record, tested elsewhere); a list is a valid Lambda event (the handler's error is Lambda's).
NOT_BAD = {("sfn validate --vars", "empty"), ("analytics run", "JSON of the wrong type"), ("analytics run", "malformed JSON"),
           ("invoke", "JSON of the wrong type")}


def key(arguments: list[str]) -> str:
    return "sfn validate --vars" if "--vars" in arguments else "invoke" if arguments[0] == "invoke" else " ".join(arguments[:2])

UNKNOWN_NAMES = [
    (["job", "run", "no-such-job"], 2, "no job named 'no-such-job'"),
    (["sfn", "run", "no-such-flow"], 2, "no state machine 'no-such-flow'"),
    (["sfn", "test-state", "etl-workflow", "NoSuchState"], 2, "no state 'NoSuchState'"),
    (["analytics", "run", "no-such-app", "--input", "FILE"], 2, "no analytics app 'no-such-app'"),
    (["invoke", "no_such_module:handler", "--event", "FILE"], 2, "no_such_module"),
    (["cost", "--region", "mars-1"], 2, "no price table for region 'mars-1'"),
    (["cost", "--assume", "nonsense"], 2, "--assume 'nonsense': expected NAME=VALUE"),
    (["job", "run", "etl-proceso-principal", "--number-of-workers", "-3"], 2, "number_of_workers must be at least 1, got -3"),
    (["job", "run", "etl-proceso-principal", "--sourcepath", "s3://x/"], 2, "--sourcepath"),
    (["up", "--port", "80"], 2, "80 is not in the range 1024<=x<=65535"),
    (["status", "--state", "NOSTATE"], 1, "no local stack is running for"),
    (["send", "data-ingestion-stream", "FILE", "--state", "NOSTATE"], 1, "no local stack is running for"),
]


def commands(group=cli, path=()):
    import click

    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))
        else:
            yield (*path, name)


def run(*args: str):
    result = CliRunner().invoke(cli, list(args))
    escaped = result.exception if result.exception is not None and not isinstance(result.exception, SystemExit) else None
    assert escaped is None, f"cauce {' '.join(args)}: {type(escaped).__name__} escaped: {escaped}"
    assert "Traceback" not in result.output, result.output
    return result


@pytest.fixture
def bad_file(tmp_path):
    def make(kind: str):
        path = tmp_path / f"{kind.replace(' ', '-')}.json"
        contents = BAD_FILES[kind]
        if contents == "/":
            path.mkdir()
        elif contents is not None:
            path.write_text(contents)
        return str(path)

    return make


BAD_FILE_CASES = [(arguments, kind) for arguments, _ in FILE_READERS for kind in BAD_FILES if (key(arguments), kind) not in NOT_BAD]


@pytest.mark.parametrize("arguments,kind", BAD_FILE_CASES, ids=[f"{' '.join(a[:3])}: {kind}" for a, kind in BAD_FILE_CASES])
def test_a_bad_file_is_refused_naming_it(arguments, kind, bad_file):
    path = bad_file(kind)
    result = run(*[path if a == "FILE" else a for a in arguments])
    assert result.exit_code != 0, f"cauce {' '.join(arguments)} with a {kind} file exited 0:\n{result.output}"
    assert path in result.output or path.rsplit("/", 1)[-1] in result.output, result.output


@pytest.mark.parametrize("arguments,code,message", UNKNOWN_NAMES, ids=[" ".join(a[:3]) for a, _, _ in UNKNOWN_NAMES])
def test_an_unknown_name_or_a_wrong_value_is_refused_saying_what_is_wrong(arguments, code, message, tmp_path):
    events = tmp_path / "events.json"
    events.write_text(json.dumps({"records": []}))
    result = run(*[str(events) if a == "FILE" else str(tmp_path / "state") if a == "NOSTATE" else a for a in arguments])
    assert result.exit_code == code, result.output
    assert message in result.output


@pytest.mark.parametrize("path", list(commands()), ids=" ".join)
def test_every_command_refuses_an_unknown_option_and_has_help(path):
    refused = run(*path, "--no-such-option")
    # `job run` passes unknown options to the job as its arguments (checked against the job's, below)
    expected = "no job named '--no-such-option'" if path == ("job", "run") else "No such option '--no-such-option'"
    assert refused.exit_code == 2 and expected in refused.output
    helped = run(*path, "--help")
    assert helped.exit_code == 0 and "Usage:" in helped.output
