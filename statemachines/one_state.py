"""One-state tests shaped like AWS's TestState API: run one state of a definition with an input,
optionally its variables and a mocked result or error, and get what the state would do.

    with LocalStepFunctions(stack) as sfn:
        outcome = sfn.test_state(definition, "ChargeCard", {"amount": 5}, mock={"result": {"Payload": {"ok": True}}})
    outcome.status, outcome.output, outcome.next_state    # "SUCCEEDED", {...}, "Ship"

`status` is TestState's: SUCCEEDED, FAILED, CAUGHT_ERROR (a Catch took the error: `next_state`
is its target and `output` its output) or RETRIABLE (a retrier matches the error; the retry is
not run). `mock` is TestState's: `{"result": value}` for the task's result, or `{"errorOutput":
{"error": ..., "cause": ...}}` for its failure; without one a Task calls what it is bound to.

The state runs alone on moto's interpreter: a machine of that state, where every state it can go
to is a Succeed state of the same name (so the one reached is the next state), preceded by a Pass
state that assigns the given variables. A mock is played through moto's mocked mode, as mock
files are (mocks.py).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

VARIABLES_STATE = "cauce.variables"  # the Pass state that assigns the test's variables (a name no ASL state takes)


@dataclass
class StateTestOutcome:
    status: str  # SUCCEEDED, FAILED, CAUGHT_ERROR, RETRIABLE
    output: Any
    error: str | None
    cause: str | None
    next_state: str | None
    inspection_data: dict[str, Any]


def isolated_machine(document: dict[str, Any], state_name: str, variables: dict[str, Any] | None) -> dict[str, Any]:
    """A machine that runs `state_name` of `document` (at any depth) once and ends in the state it goes to."""
    found = _find_state(document, state_name)
    if found is None:
        raise KeyError(f"no state {state_name!r} in the definition")
    state, language = found
    state = copy.deepcopy(state)
    state.pop("Retry", None)  # a matching retrier makes the outcome RETRIABLE instead (see test_state)
    targets = [state["Next"]] if isinstance(state.get("Next"), str) else []
    targets += [rule["Next"] for rule in state.get("Choices", []) if isinstance(rule, dict) and isinstance(rule.get("Next"), str)]
    targets += [state["Default"]] if isinstance(state.get("Default"), str) else []
    targets += [c["Next"] for c in state.get("Catch", []) if isinstance(c, dict) and isinstance(c.get("Next"), str)]
    states: dict[str, Any] = {}
    if variables:
        states[VARIABLES_STATE] = {"Type": "Pass", "Assign": variables, "Next": state_name}
    states[state_name] = state
    for target in targets:
        if target != state_name:
            states.setdefault(target, {"Type": "Succeed"})
    machine = {"StartAt": VARIABLES_STATE if variables else state_name, "States": states}
    if language != "JSONPath":
        machine["QueryLanguage"] = language
    return machine


def _find_state(machine: dict[str, Any], name: str, language: str = "JSONPath") -> tuple[dict, str] | None:
    language = machine.get("QueryLanguage", language)
    for state_name, state in (machine.get("States") or {}).items():
        if not isinstance(state, dict):
            continue
        if state_name == name:
            return state, state.get("QueryLanguage", language)
        inner = [*(state.get("Branches") or [])] + [state[k] for k in ("ItemProcessor", "Iterator") if isinstance(state.get(k), dict)]
        for branch in inner:
            found = _find_state(branch, name, state.get("QueryLanguage", language))
            if found:
                return found
    return None


def retrier_matches(state: dict[str, Any], error: str | None) -> bool:
    """Whether a retrier of the state would retry `error` (States.ALL takes any but States.Runtime)."""
    for retrier in state.get("Retry") or []:
        errors = retrier.get("ErrorEquals") or []
        if retrier.get("MaxAttempts", 3) == 0:
            continue
        if error in errors or ("States.ALL" in errors and error != "States.Runtime"):
            return True
    return False


def mocked_test_case(state_name: str, mock: dict[str, Any]) -> Any:
    from moto.stepfunctions.parser.mocking.mock_config import MockedResponseReturn, MockedResponseThrow, MockTestCase, StateMockedResponses

    if set(mock) == {"result"}:
        response = MockedResponseReturn(range_start=0, range_end=0, payload=mock["result"])
    elif set(mock) == {"errorOutput"} and isinstance(mock["errorOutput"], dict) and "error" in mock["errorOutput"]:
        failure = mock["errorOutput"]
        response = MockedResponseThrow(range_start=0, range_end=0, error=failure["error"], cause=failure.get("cause", ""))
    else:
        raise ValueError('a mock is {"result": value} or {"errorOutput": {"error": ..., "cause": ...}}')
    return MockTestCase(state_machine_name="test-state", test_case_name="test-state",
                        state_mocked_responses_list=[StateMockedResponses(state_name=state_name, mocked_response_name="mock",
                                                                          mocked_responses=[response])])


def outcome_of(result: Any, state: dict[str, Any], state_name: str, execution_input: Any) -> StateTestOutcome:
    """TestState's answer from the isolated machine's execution."""
    rows = result.rows
    tested = next((row for row in rows if row.state == state_name), None)
    after = [row.state for row in rows if row.state not in (state_name, VARIABLES_STATE)]
    next_state = after[0] if after else None
    inspection = {"input": execution_input}
    if tested is not None and tested.error and next_state is None:
        if retrier_matches(state, tested.error):
            return StateTestOutcome("RETRIABLE", None, tested.error, tested.cause, None, inspection)
        return StateTestOutcome("FAILED", None, tested.error, tested.cause, None, inspection)
    if result.status != "SUCCEEDED" and next_state is None:
        status = "RETRIABLE" if retrier_matches(state, result.error) else "FAILED"
        return StateTestOutcome(status, None, result.error, result.cause, None, inspection)
    caught = tested is not None and tested.status == "CAUGHT"
    if state.get("Type") in ("Succeed", "Fail") or next_state is None:
        return StateTestOutcome("SUCCEEDED" if result.status == "SUCCEEDED" else "FAILED", result.output, result.error, result.cause,
                                None, inspection)
    return StateTestOutcome("CAUGHT_ERROR" if caught else "SUCCEEDED", result.output, tested.error if caught else None,
                            tested.cause if caught else None, next_state, inspection)
