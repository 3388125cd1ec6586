"""Mocked service integrations in Step Functions Local's mock configuration format, so existing
mock files run unchanged:

    {"StateMachines": {"<machine>": {"TestCases": {"<case>": {"<state>": "<mocked response>"}}}},
     "MockedResponses": {"<mocked response>": {"0": {"Return": {...}}, "1-2": {"Throw": {"Error": "...", "Cause": "..."}}}}}

A test case names, per Task state, a mocked response; each response is a sequence numbered by
attempt ("0", "1-2", ...: the first try, then retries), each a Return (the task's result) or a
Throw (its error and cause). States a test case does not name run for real. Step Functions Local
picks the case from the execution's ARN (`...:stateMachine:<machine>#<case>`); here
`LocalStepFunctions(mock_config=...).run(definition, input, test_case="<case>")` or
`cauce sfn run NAME --mock-config FILE --test-case CASE` (SFN_MOCK_CONFIG, Step Functions Local's
variable, names the file by default).

The responses are played by moto's interpreter, which kept Step Functions Local's mocked mode from
LocalStack but not a reader for the file: this module reads and checks the file, and hands moto
its MockTestCase.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


class MockConfigError(ValueError):
    """A mock configuration that cannot be used; the message names where."""


@dataclass(frozen=True)
class MockConfig:
    document: dict[str, Any]
    source: str

    def test_cases(self, machine: str) -> list[str]:
        return sorted(((self.document.get("StateMachines") or {}).get(machine) or {}).get("TestCases") or {})

    def test_case(self, machine: str, case: str) -> Any:
        """moto's MockTestCase for `case` of state machine `machine`."""
        from moto.stepfunctions.parser.mocking.mock_config import (
            MockedResponseReturn,
            MockedResponseThrow,
            MockTestCase,
            StateMockedResponses,
        )

        machines = self.document.get("StateMachines") or {}
        if machine not in machines:
            raise MockConfigError(f"{self.source}: no state machine {machine!r} in StateMachines (it has: {', '.join(sorted(machines)) or 'none'})")
        cases = (machines[machine] or {}).get("TestCases") or {}
        if case not in cases:
            raise MockConfigError(f"{self.source}: no test case {case!r} for {machine!r} (it has: {', '.join(sorted(cases)) or 'none'})")
        responses = self.document.get("MockedResponses") or {}
        per_state = []
        for state, response_name in cases[case].items():
            where = f"{self.source}: StateMachines.{machine}.TestCases.{case}.{state}"
            if response_name not in responses:
                raise MockConfigError(f"{where}: no mocked response {response_name!r} in MockedResponses")
            sequence = []
            for attempts, outcome in responses[response_name].items():
                at = f"{self.source}: MockedResponses.{response_name}.{attempts}"
                match = _RANGE.match(str(attempts))
                if not match:
                    raise MockConfigError(f"{at}: attempts are a number (\"0\") or a range (\"1-2\")")
                start, end = int(match.group(1)), int(match.group(2) or match.group(1))
                if end < start:
                    raise MockConfigError(f"{at}: the range ends before it starts")
                if not isinstance(outcome, dict) or len(outcome) != 1 or next(iter(outcome)) not in ("Return", "Throw"):
                    raise MockConfigError(f"{at}: exactly one of Return (the result) or Throw (Error and Cause)")
                if "Return" in outcome:
                    sequence.append(MockedResponseReturn(range_start=start, range_end=end, payload=outcome["Return"]))
                else:
                    throw = outcome["Throw"] or {}
                    if "Error" not in throw:
                        raise MockConfigError(f"{at}.Throw: Error is required")
                    sequence.append(MockedResponseThrow(range_start=start, range_end=end, error=throw["Error"], cause=throw.get("Cause", "")))
            try:
                per_state.append(StateMockedResponses(state_name=state, mocked_response_name=response_name, mocked_responses=sequence))
            except RuntimeError as error:  # attempts not numbered 0, 1, 2... without gaps
                raise MockConfigError(f"{where}: {error}") from None
        return MockTestCase(state_machine_name=machine, test_case_name=case, state_mocked_responses_list=per_state)


def load_mock_config(source: str | Path | Mapping[str, Any]) -> MockConfig:
    """A mock configuration from a file or a document, its shape checked."""
    if isinstance(source, Mapping):
        document, where = dict(source), "mock configuration"
    else:
        where = str(source)
        try:
            document = json.loads(Path(source).read_text())
        except OSError as error:
            raise MockConfigError(f"{where}: {error.strerror or error}") from None
        except json.JSONDecodeError as error:
            raise MockConfigError(f"{where}: not valid JSON at line {error.lineno} column {error.colno}: {error.msg}") from None
    if not isinstance(document, dict) or not isinstance(document.get("StateMachines"), dict) \
            or not isinstance(document.get("MockedResponses"), dict):
        raise MockConfigError(f"{where}: a mock configuration is an object with StateMachines and MockedResponses")
    return MockConfig(document, where)
