"""Distributed Map's failure thresholds and ItemBatcher, which moto's interpreter (5.2.5) lacks: it
reads the thresholds but never applies them (a child execution that fails leaves `null` in the
results and the Map Run succeeds anyway), and its ASL grammar has no ItemBatcher at all.

ItemBatcher (Developer Guide, "ItemBatcher (Map)"): each child execution gets `{"Items": [...],
"BatchInput": ...}` with at most MaxItemsPerBatch items and MaxInputBytesPerBatch bytes of JSON.
`for_interpreter` takes the field out of the definition moto parses and keeps it by the Map state's
name; the Map Run then groups the items it read (ItemsPath or ItemReader) before the child
executions start. Kept by name for the machine prepared last: two machines run side by side in one
process with one Map state name and different batchers would share one. The Path forms
(MaxItemsPerBatchPath, MaxInputBytesPerBatchPath) and ItemBatcher with an ItemSelector are refused
by validation.

As the Step Functions Developer Guide's "Setting failure thresholds for Distributed Map states"
and the MapRun API (`toleratedFailureCount`: "the maximum number of failed items before the Map
Run fails"; `toleratedFailurePercentage` likewise) give it: the Map Run fails with
States.ExceedToleratedFailureThreshold when more items failed (timed-out and aborted ones
included) than a threshold the state sets; with neither set, one failed item fails it. moto gives
an unset threshold as 0, so a 0 beside a non-zero other threshold is taken as unset.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from unittest import mock

THRESHOLD_ERROR = "States.ExceedToleratedFailureThreshold"
_BATCHERS: dict[str, dict[str, Any]] = {}  # Map state name -> its ItemBatcher (see the module docstring)
THRESHOLD_CAUSE = "The specified tolerated failure threshold for the Map Run has been exceeded"


def for_interpreter(document: Any) -> Any:
    """The definition as moto's grammar takes it: whole-number ToleratedFailurePercentage values written
    as floats (AWS takes `50`, moto only `50.0`), and ItemBatcher kept aside by state name (see above)."""
    if isinstance(document, dict):
        states = document.get("States")
        if isinstance(states, dict):
            for name, state in states.items():
                if isinstance(state, dict) and isinstance(state.get("ItemBatcher"), dict):
                    _BATCHERS[name] = state["ItemBatcher"]
        return {key: float(value) if key == "ToleratedFailurePercentage" and isinstance(value, int) and not isinstance(value, bool)
                else for_interpreter(value) for key, value in document.items() if key != "ItemBatcher"}
    if isinstance(document, list):
        return [for_interpreter(value) for value in document]
    return document


def batches(items: list[Any], batcher: dict[str, Any]) -> list[dict[str, Any]]:
    """Items grouped as ItemBatcher groups them: at most MaxItemsPerBatch items and MaxInputBytesPerBatch
    bytes of JSON a batch (each limit only when given), BatchInput in each."""
    import json

    most_items = int(batcher.get("MaxItemsPerBatch") or 0) or len(items) or 1
    most_bytes = int(batcher.get("MaxInputBytesPerBatch") or 0)
    extra = {"BatchInput": batcher["BatchInput"]} if "BatchInput" in batcher else {}
    grouped: list[dict[str, Any]] = []
    current: list[Any] = []
    size = len(json.dumps({"Items": [], **extra}))
    for item in items:
        item_size = len(json.dumps(item)) + 1
        if current and (len(current) >= most_items or (most_bytes and size + item_size > most_bytes)):
            grouped.append({"Items": current, **extra})
            current, size = [], len(json.dumps({"Items": [], **extra}))
        current.append(item)
        size += item_size
    if current:
        grouped.append({"Items": current, **extra})
    return grouped


def exceeded(failed: int, total: int, count: int, percentage: float) -> bool:
    """Whether `failed` of `total` items breaks the state's thresholds (0 meaning unset, see above)."""
    if not count and not percentage:
        return failed > 0
    over_count = bool(count) and failed > count
    over_percentage = bool(percentage) and total > 0 and failed * 100.0 / total > percentage
    return over_count or over_percentage


@contextlib.contextmanager
def installed() -> Iterator[None]:
    """Apply the thresholds while the context is open (moto's DistributedIterationComponent._map_run)."""
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent, FailureEventException
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (
        DistributedIterationComponent,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    original = DistributedIterationComponent._map_run

    def map_run(self: Any, env: Any, eval_input: Any) -> None:
        batcher = _BATCHERS.get(env.states.context_object.context_object_data["State"]["Name"])
        if batcher is not None:  # the child executions get batches of the items read
            env.stack.append(batches(env.stack.pop(), batcher))
        original(self, env, eval_input)
        items = eval_input.map_run_record.item_counter
        failed = items.failed.get() + items.timed_out.get() + items.aborted.get()
        if exceeded(failed, items.total.get(), eval_input.tolerated_failure_count or 0, eval_input.tolerated_failure_percentage or 0.0):
            env.stack.pop()  # the results _map_run left: the Map Run fails instead
            raise FailureEventException(failure_event=FailureEvent(
                env=env, error_name=StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold),
                event_type=HistoryEventType.ExecutionFailed,
                event_details=EventDetails(executionFailedEventDetails=ExecutionFailedEventDetails(
                    error=THRESHOLD_ERROR, cause=f"{THRESHOLD_CAUSE}: {failed} of {items.total.get()} items failed"))))

    with mock.patch.object(DistributedIterationComponent, "_map_run", map_run):
        yield
