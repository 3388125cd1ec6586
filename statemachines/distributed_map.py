"""Distributed Map's failure thresholds and ItemBatcher, which moto's interpreter (5.2.5) lacks: it
reads the thresholds but never applies them (a child execution that fails leaves `null` in the
results and the Map Run succeeds anyway), and its ASL grammar has no ItemBatcher at all.

ItemReader from an S3 inventory (`InputType: MANIFEST`, Developer Guide "ItemReader (Map)"), which
moto's reader lacks: the Resource's getObject reads the inventory's `manifest.json`; its `files`
(gzipped CSV in the `destinationBucket`) are read, and each row is an item whose fields are the
manifest's `fileSchema` names, values as strings. Only CSV inventories, as Step Functions takes.

ItemBatcher (Developer Guide, "ItemBatcher (Map)"): each child execution gets `{"Items": [...],
"BatchInput": ...}` with at most MaxItemsPerBatch items and MaxInputBytesPerBatch bytes of JSON.
`for_interpreter` takes the field out of the definition moto parses and keeps it by the state
machine's name and the Map state's; the Map Run then groups the items it read (ItemsPath or
ItemReader) before the child executions start. The Path forms
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
import json
from collections.abc import Iterator
from typing import Any
from unittest import mock

THRESHOLD_ERROR = "States.ExceedToleratedFailureThreshold"
MANIFEST = "MANIFEST"
_BATCHERS: dict[tuple[str, str], dict[str, Any]] = {}  # (state machine name, Map state name) -> its ItemBatcher
THRESHOLD_CAUSE = "The specified tolerated failure threshold for the Map Run has been exceeded"


def for_interpreter(document: Any, machine: str | None = None) -> Any:
    """The definition as moto's grammar takes it: whole-number ToleratedFailurePercentage values written
    as floats (AWS takes `50`, moto only `50.0`), and ItemBatcher kept aside for the state machine
    named `machine` (see above; without a name, as for validation, it is only taken out)."""
    if isinstance(document, dict):
        states = document.get("States")
        if isinstance(states, dict) and machine is not None:
            for name, state in states.items():
                if isinstance(state, dict) and state.get("Type") == "Map":
                    if isinstance(state.get("ItemBatcher"), dict):
                        _BATCHERS[(machine, name)] = state["ItemBatcher"]
                    else:  # a machine of this name defined again without it
                        _BATCHERS.pop((machine, name), None)
        return {key: float(value) if key == "ToleratedFailurePercentage" and isinstance(value, int) and not isinstance(value, bool)
                else for_interpreter(value, machine) for key, value in document.items() if key != "ItemBatcher"}
    if isinstance(document, list):
        return [for_interpreter(value, machine) for value in document]
    return document


def batches(items: list[Any], batcher: dict[str, Any]) -> list[dict[str, Any]]:
    """Items grouped as ItemBatcher groups them: at most MaxItemsPerBatch items and MaxInputBytesPerBatch
    bytes of JSON a batch (each limit only when given), BatchInput in each."""
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

    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader import item_reader_decl
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.reader_config.input_type import InputType

    original = DistributedIterationComponent._map_run
    original_input_type, original_transformer_for = InputType.__init__, item_reader_decl.resource_output_transformer_for

    def input_type(self: Any, input_type: str) -> None:  # moto passes it by name
        if input_type == MANIFEST:
            self.input_type_value = MANIFEST
        else:
            original_input_type(self, input_type)

    def transformer_for(input_type: Any) -> Any:
        if input_type.input_type_value == MANIFEST:
            return _manifest_transformer()
        return original_transformer_for(input_type)

    def map_run(self: Any, env: Any, eval_input: Any) -> None:
        context = env.states.context_object.context_object_data
        batcher = _BATCHERS.get((context["StateMachine"]["Name"], context["State"]["Name"]))
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

    with mock.patch.object(DistributedIterationComponent, "_map_run", map_run), \
            mock.patch.object(InputType, "__init__", input_type), \
            mock.patch.object(item_reader_decl, "resource_output_transformer_for", transformer_for):
        yield


def _manifest_transformer() -> Any:
    """moto's ItemReader output step for an S3 inventory manifest (see the module docstring)."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_output_transformer.transformer import (
        ResourceOutputTransformer,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.credentials import StateCredentials
    from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for

    from cauce.core.aws import REGION

    class ManifestTransformer(ResourceOutputTransformer):
        def _eval_body(self, env: Any) -> None:
            reader_config = env.stack.pop()
            manifest = json.loads(env.stack.pop())
            s3 = boto_client_for(region=REGION, service="s3", state_credentials=StateCredentials(role_arn=env.aws_execution_details.role_arn))
            env.stack.append(inventory_items(manifest, lambda bucket, key: s3.get_object(Bucket=bucket, Key=key)["Body"].read(),
                                             reader_config.get("MaxItemsValue") or 0))

    return ManifestTransformer()


def inventory_items(manifest: dict[str, Any], read: Any, max_items: int = 0) -> list[dict[str, str]]:
    """The rows of an S3 inventory's CSV files as items named by its fileSchema (AWS's inventory
    manifest: sourceBucket, destinationBucket ARN, fileFormat, fileSchema, files[].key)."""
    import csv
    import gzip
    import io

    if str(manifest.get("fileFormat", "CSV")).upper() != "CSV":
        raise ValueError(f"an S3 inventory in {manifest.get('fileFormat')} format: Step Functions reads CSV inventories")
    names = [name.strip() for name in str(manifest["fileSchema"]).split(",")]
    bucket = str(manifest["destinationBucket"]).removeprefix("arn:aws:s3:::")
    items: list[dict[str, str]] = []
    for entry in manifest.get("files", []):
        data = read(bucket, entry["key"])
        text = (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode("utf-8")
        for row in csv.reader(io.StringIO(text)):
            items.append(dict(zip(names, row)))
            if max_items and len(items) >= max_items:
                return items
    return items
