"""Local execution on moto's ASL interpreter with handlers and jobs bound, in virtual time."""

from __future__ import annotations

import json

import pytest

from cauce.etl.testing import put_json_lines
from cauce.statemachines import AslValidationError, LocalStepFunctions
from tests.stacks import empty_stack

LAMBDA = "arn:aws:states:::lambda:invoke"


class Flaky(Exception):
    pass


class Rejected(Exception):
    pass


class Counter:
    """A handler failing with Flaky for its first `failures` calls."""

    def __init__(self, failures: int = 0):
        self.failures = failures
        self.events = []
        self.contexts = []

    def __call__(self, event, context):
        self.events.append(event)
        self.contexts.append(context)
        if len(self.events) <= self.failures:
            raise Flaky(f"attempt {len(self.events)} failed")
        return {"seen": event, "attempt": len(self.events)}


def task(function: str, **extra):
    return {"Type": "Task", "Resource": LAMBDA, "Parameters": {"FunctionName": function, "Payload.$": "$"},
            "ResultSelector": {"value.$": "$.Payload"}, **extra}


def run(document, execution_input=None, **functions):
    with LocalStepFunctions(stack=empty_stack(), functions=functions) as sfn:
        return sfn.run(document, execution_input or {}), sfn


def test_pass_choice_wait_succeed_with_paths_and_intrinsics():
    document = {"StartAt": "Shape", "States": {
        "Shape": {"Type": "Pass", "Parameters": {"size.$": "$.size", "id.$": "States.Format('order-{}', $.n)"}, "Next": "Big?"},
        "Big?": {"Type": "Choice", "Choices": [{"Variable": "$.size", "NumericGreaterThan": 10, "Next": "Hold"}], "Default": "Done"},
        "Hold": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
        "Done": {"Type": "Succeed"},
    }}

    big, _ = run(document, {"size": 11, "n": 7})
    small, _ = run(document, {"size": 1, "n": 8})

    assert big.status == "SUCCEEDED" and big.output == {"size": 11, "id": "order-7"}
    assert [r.state for r in big.rows] == ["Shape", "Big?", "Hold", "Done"]
    assert big.row("Hold").duration_seconds == pytest.approx(3600, abs=1)  # the history keeps the wait
    assert big.skipped_wait_seconds == 3600  # ...but the test did not wait for it
    assert [r.state for r in small.rows] == ["Shape", "Big?", "Done"]


def test_fail_state_ends_the_execution_with_its_error():
    result, _ = run({"StartAt": "No", "States": {"No": {"Type": "Fail", "Error": "Custom.Stop", "Cause": "because"}}})
    assert (result.status, result.error, result.cause) == ("FAILED", "Custom.Stop", "because")
    assert result.row("No").status == "FAILED"


def test_lambda_task_runs_the_handler_in_process_with_lambdas_payload_and_context():
    worker = Counter()
    document = {"StartAt": "Work", "States": {"Work": task("worker", End=True)}}

    result, sfn = run(document, {"order": 1}, worker=worker)

    assert result.output == {"value": {"seen": {"order": 1}, "attempt": 1}}
    assert worker.events == [{"order": 1}]
    assert worker.contexts[0].function_name == "worker" and worker.contexts[0].get_remaining_time_in_millis() > 0
    assert sfn.lambda_calls[0].function == "worker"


def test_plain_function_arns_run_the_handler_too():
    worker = Counter()
    document = {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:worker", "End": True}}}

    result, _ = run(document, {"a": 1}, worker=worker)

    assert result.output == {"seen": {"a": 1}, "attempt": 1}


@pytest.mark.reliability
def test_retry_with_backoff_takes_virtual_time_and_succeeds_on_the_third_attempt():
    worker = Counter(failures=2)
    document = {"StartAt": "Work", "States": {"Work": task("worker", End=True, Retry=[
        {"ErrorEquals": ["Flaky"], "IntervalSeconds": 10, "BackoffRate": 3.0, "MaxAttempts": 5}])}}

    result, sfn = run(document, worker=worker)

    work = result.row("Work")
    assert (result.status, work.status, work.attempts, work.error) == ("SUCCEEDED", "SUCCEEDED", 3, "Flaky")
    assert sfn.clock.waits == [10.0, 30.0]
    assert work.duration_seconds >= 40


def test_retries_stop_at_max_attempts_and_the_error_name_is_the_exception_class():
    worker = Counter(failures=10)
    document = {"StartAt": "Work", "States": {"Work": task("worker", End=True, Retry=[
        {"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "BackoffRate": 2.0, "MaxAttempts": 3}])}}

    result, sfn = run(document, worker=worker)

    assert (result.status, result.error) == ("FAILED", "Flaky")
    assert json.loads(result.cause)["errorMessage"] == "attempt 4 failed"
    assert len(worker.events) == 4 and sfn.clock.waits == [1.0, 2.0, 4.0]
    assert result.row("Work").status == "FAILED"


def test_catch_by_exception_name_puts_the_error_at_result_path():
    def reject(event, context):
        raise Rejected("no stock")

    document = {"StartAt": "Work", "States": {
        "Work": task("reject", Next="Done", Catch=[{"ErrorEquals": ["Flaky"], "Next": "Done"},
                                                   {"ErrorEquals": ["Rejected"], "ResultPath": "$.failure", "Next": "Handle"}]),
        "Handle": {"Type": "Pass", "Next": "Done"},
        "Done": {"Type": "Succeed"},
    }}

    result, _ = run(document, {"order": 5}, reject=reject)

    assert result.status == "SUCCEEDED"
    assert result.output["order"] == 5 and result.output["failure"]["Error"] == "Rejected"
    assert json.loads(result.output["failure"]["Cause"])["errorMessage"] == "no stock"
    assert [(r.state, r.status) for r in result.rows] == [("Work", "CAUGHT"), ("Handle", "SUCCEEDED"), ("Done", "SUCCEEDED")]


def test_parallel_and_map_results():
    worker = Counter()
    document = {"StartAt": "Both", "States": {
        "Both": {"Type": "Parallel", "ResultPath": "$.both", "Next": "Each", "Branches": [
            {"StartAt": "Call", "States": {"Call": task("worker", End=True)}},
            {"StartAt": "Tag", "States": {"Tag": {"Type": "Pass", "Result": "tagged", "End": True}}},
        ]},
        "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "ResultPath": "$.doubled",
                 "ItemProcessor": {"StartAt": "Double", "States": {
                     "Double": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, $.n)"}, "End": True}}},
                 "End": True},
    }}

    result, _ = run(document, {"items": [{"n": 1}, {"n": 2}, {"n": 3}]}, worker=worker)

    assert result.status == "SUCCEEDED"
    assert result.output["both"] == [{"value": {"seen": {"items": [{"n": 1}, {"n": 2}, {"n": 3}]}, "attempt": 1}}, "tagged"]
    assert result.output["doubled"] == [{"n": 2}, {"n": 4}, {"n": 6}]
    assert result.row("Both").status == "SUCCEEDED" and result.row("Each").status == "SUCCEEDED"


def test_invalid_or_unbound_definitions_are_refused_before_running():
    document = {"StartAt": "Work", "States": {"Work": task("nobody", End=True)}}
    with LocalStepFunctions(stack=empty_stack()) as sfn, pytest.raises(AslValidationError) as error:
        sfn.run(document)
    assert "States.Work.Parameters.FunctionName: no local handler for Lambda function 'nobody'" in str(error.value)
    assert sfn.lambda_calls == []


def test_an_unbound_task_run_without_validation_fails_fast_naming_the_function():
    document = {"StartAt": "Work", "States": {"Work": task("nobody", End=True)}}
    with LocalStepFunctions(stack=empty_stack()) as sfn:
        result = sfn.run(document, validate=False)
    assert result.status == "FAILED"
    assert "nobody" in (result.cause or "")


def test_run_needs_the_context_manager():
    with pytest.raises(RuntimeError, match="context manager"):
        LocalStepFunctions(stack=empty_stack()).run({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})


# The seed's workflow, end to end: the Glue job on local Spark, then the data-processor.

@pytest.fixture
def raw_events(cauce_lake):
    put_json_lines(cauce_lake, "s3://mi-bucket/raw-data/year=2026/month=11/part-0.json", [
        {"event_id": "e1", "event_type": "view", "event_time": "2026-11-01T10:00:00Z"},
        {"event_id": "e2", "event_type": "purchase", "amount": 12.5, "event_time": "2026-11-02T10:00:00Z"},
        "not json",
    ])
    return cauce_lake


def test_the_seed_workflow_runs_the_glue_job_then_the_data_processor(step_functions, local_runtime, raw_events):
    with step_functions() as sfn:
        result = sfn.run("etl-workflow", {})

    assert result.status == "SUCCEEDED", result.cause
    [run] = sfn.glue_runs.values()
    assert (run.job_name, run.state, run.result.rows_written) == ("etl-proceso-principal", "SUCCEEDED", {"curated_events": 2})
    assert run.arguments == {} and run.result.rows_quarantined == 1
    report, completion = result.output["post_process"]
    assert report["report"] == {"stage": "dev", "job_name": "etl-proceso-principal", "job_run_id": run.run_id,
                                "status": "SUCCEEDED", "execution_seconds": report["report"]["execution_seconds"]}
    assert completion["summary"] == f"etl-proceso-principal run {run.run_id} ended SUCCEEDED"
    assert [c.event["operation"] for c in sfn.lambda_calls] == ["process-results"]
    assert sorted((r.state, r.status) for r in result.rows) == [
        ("PostProcess", "SUCCEEDED"), ("ProcessResults", "SUCCEEDED"), ("RecordCompletion", "SUCCEEDED"),
        ("StartETLProcess", "SUCCEEDED"), ("Succeeded", "SUCCEEDED")]
    assert isinstance(result.output["job_run"]["StartedOn"], int)  # epoch milliseconds, as Step Functions writes them


@pytest.mark.reliability
def test_a_failing_glue_job_is_caught_notified_and_reported(step_functions, local_runtime):
    with step_functions() as sfn:  # no raw data: the job fails
        result = sfn.run("etl-workflow", {})

    assert (result.status, result.error) == ("FAILED", "ETLWorkflowFailed")
    start = result.row("StartETLProcess")
    assert (start.status, start.error) == ("CAUGHT", "States.TaskFailed")
    job_run = json.loads(start.cause)
    assert job_run["JobRunState"] == "FAILED" and "no data at s3://mi-bucket/raw-data/" in job_run["ErrorMessage"]
    [notification] = sfn.lambda_calls
    assert notification.event["operation"] == "notify-failure"
    assert notification.event["error"]["Error"] == "States.TaskFailed"
    assert notification.response["notified"] is True
    assert [r.state for r in result.rows] == ["StartETLProcess", "NotifyFailure", "WorkflowFailed"]


def test_glue_start_job_run_without_sync_returns_the_run_id_and_arguments_reach_the_job(step_functions, local_runtime, raw_events):
    document = {"StartAt": "Start", "States": {"Start": {
        "Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun", "End": True,
        "Parameters": {"JobName": "etl-proceso-principal", "Arguments": {"--target_path": "s3://mi-bucket/other/"}}}}}

    with step_functions() as sfn:
        result = sfn.run(document)

    [run] = sfn.glue_runs.values()
    assert result.output["JobRunId"] == run.run_id and result.output["JobName"] == "etl-proceso-principal"
    assert run.arguments == {"--target_path": "s3://mi-bucket/other/"}
    assert raw_events.local_path("s3://mi-bucket/other/").exists()


def test_start_crawler_runs_the_stacks_crawler_on_the_local_lake(step_functions, local_runtime, raw_events):
    document = {"StartAt": "Crawl", "States": {"Crawl": {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:glue:startCrawler", "Parameters": {"Name": "raw-data-crawler"}, "End": True}}}

    with step_functions() as sfn:
        result = sfn.run(document)

    assert result.status == "SUCCEEDED", result.cause
    [crawl] = sfn.bindings.crawls
    assert crawl.tables_created == ["raw_raw_data"]
    assert local_runtime.catalog.tables("raw_data") == ["raw_raw_data"]


def test_an_unknown_crawler_is_refused_before_running(step_functions):
    document = {"StartAt": "Crawl", "States": {"Crawl": {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:glue:startCrawler", "Parameters": {"Name": "nope"}, "End": True}}}
    with step_functions() as sfn, pytest.raises(AslValidationError, match="States.Crawl.Parameters.Name: no crawler 'nope' in the stack"):
        sfn.run(document)


def test_an_exported_aws_endpoint_does_not_take_the_local_run_past_moto(monkeypatch):
    """`cauce up` tells users to export AWS_ENDPOINT_URL; a local run in process must still use its own moto."""
    import os

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", "http://127.0.0.1:9")
    machine = {"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                                                       "Parameters": {"FunctionName": "echo", "Payload.$": "$"}, "End": True}}}
    with LocalStepFunctions(stack=empty_stack(), functions={"echo": lambda event, context: event}) as sfn:
        result = sfn.run(machine, {"n": 1})
    assert result.status == "SUCCEEDED" and result.output["Payload"] == {"n": 1}
    assert os.environ["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9"  # restored for the user's own clients


def test_a_handler_result_json_cannot_hold_fails_as_lambdas_marshal_error_everywhere(tmp_path):
    """AWS's Python runtime does not stringify a datetime in a response: the invocation fails with
    Runtime.MarshalError ("Unable to marshal response: ..."). Locally it must not succeed either."""
    import datetime as dt

    from click.testing import CliRunner

    from cauce.cli import cli
    from cauce.core.lambda_runtime import invoke

    def stamp(event, context):
        return {"at": dt.datetime(2026, 11, 26)}

    outcome = invoke(stamp, {})
    assert outcome["ok"] is False and outcome["response"]["errorType"] == "Runtime.MarshalError"
    assert "Unable to marshal response: Object of type datetime is not JSON serializable" in outcome["response"]["errorMessage"]

    machine = {"StartAt": "Stamp", "States": {"Stamp": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                                                         "Parameters": {"FunctionName": "stamp", "Payload.$": "$"}, "End": True}}}
    with LocalStepFunctions(stack=empty_stack(), functions={"stamp": stamp}) as sfn:
        result = sfn.run(machine, {})
    assert result.status == "FAILED" and result.error == "Runtime.MarshalError"

    (tmp_path / "stamping.py").write_text("import datetime\n\ndef handler(event, context):\n    return {'at': datetime.datetime.now()}\n")
    (tmp_path / "event.json").write_text("{}")
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        ran = CliRunner().invoke(cli, ["invoke", "stamping:handler", "--event", str(tmp_path / "event.json")])
    finally:
        sys.path.remove(str(tmp_path))
    assert ran.exit_code == 1 and "Runtime.MarshalError" in ran.output


DISTRIBUTED_CHECK = {"StartAt": "Each", "States": {"Each": {
    "Type": "Map", "ItemsPath": "$.items", "End": True,
    "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "Check", "States": {
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "Bad"}], "Default": "Good"},
        "Bad": {"Type": "Fail", "Error": "Two"}, "Good": {"Type": "Succeed"}}}}}}


@pytest.mark.parametrize("thresholds,status", [
    ({}, "FAILED"),  # none set: one failed item fails the Map Run
    ({"ToleratedFailureCount": 1}, "SUCCEEDED"),
    ({"ToleratedFailureCount": 0}, "FAILED"),
    ({"ToleratedFailurePercentage": 50}, "SUCCEEDED"),  # 1 of 3 is 33%; a whole number, as AWS takes it
    ({"ToleratedFailurePercentage": 20.5}, "FAILED"),
])
def test_distributed_maps_failure_thresholds_decide_whether_the_map_run_fails(thresholds, status):
    """Step Functions Developer Guide, "Setting failure thresholds for Distributed Map states": beyond the
    tolerated failures the Map Run fails with States.ExceedToleratedFailureThreshold (moto let it succeed
    with null results)."""
    each = {**DISTRIBUTED_CHECK["States"]["Each"], **thresholds}
    with LocalStepFunctions(stack=empty_stack()) as sfn:
        result = sfn.run({"StartAt": "Each", "States": {"Each": each}}, {"items": [1, 2, 3]})
    assert result.status == status
    if status == "FAILED":
        assert result.error == "States.ExceedToleratedFailureThreshold" and "1 of 3 items failed" in result.cause
    else:
        assert (result.output[0], result.output[2]) == (1, 3)  # the items that succeeded (moto puts null in the failed one's place)


def test_item_batcher_gives_each_child_execution_a_batch_of_items_and_the_batch_input():
    """Step Functions Developer Guide, "ItemBatcher (Map)": a child execution's input is
    {"Items": [...], "BatchInput": ...}, with at most MaxItemsPerBatch items (moto's grammar has no
    ItemBatcher: it ran nowhere locally)."""
    each = {"Type": "Map", "ItemsPath": "$.items", "End": True,
            "ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"run": "nightly"}},
            "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "Count", "States": {
                "Count": {"Type": "Pass", "Parameters": {"n.$": "States.ArrayLength($.Items)", "run.$": "$.BatchInput.run",
                                                         "first.$": "$.Items[0]"}, "End": True}}}}
    with LocalStepFunctions(stack=empty_stack()) as sfn:
        result = sfn.run({"StartAt": "Each", "States": {"Each": each}}, {"items": [1, 2, 3, 4, 5]})
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == [{"n": 2, "run": "nightly", "first": 1}, {"n": 2, "run": "nightly", "first": 3},
                             {"n": 1, "run": "nightly", "first": 5}]


def test_item_batcher_also_bounds_a_batchs_bytes():
    from cauce.statemachines.distributed_map import batches

    items = [{"id": i, "pad": "x" * 40} for i in range(5)]  # 60 bytes of JSON each, and {"Items": []} is 13
    grouped = batches(items, {"MaxInputBytesPerBatch": 140})
    assert [len(batch["Items"]) for batch in grouped] == [2, 2, 1] and all("BatchInput" not in batch for batch in grouped)
    assert [len(batch["Items"]) for batch in batches(items, {})] == [5]


def test_an_item_batcher_applies_to_its_own_machine_only():
    """A later machine with a Map state of the same name and no ItemBatcher gets its items one by one
    (the batcher is kept by the state machine's name and the Map state's)."""
    batched = {"Type": "Map", "ItemsPath": "$.items", "End": True, "ItemBatcher": {"MaxItemsPerBatch": 2},
               "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "Keep",
                                 "States": {"Keep": {"Type": "Pass", "End": True}}}}
    plain = {key: value for key, value in batched.items() if key != "ItemBatcher"}
    with LocalStepFunctions(stack=empty_stack()) as sfn:
        first = sfn.run({"StartAt": "Each", "States": {"Each": batched}}, {"items": [1, 2, 3]})
        second = sfn.run({"StartAt": "Each", "States": {"Each": plain}}, {"items": [1, 2, 3]})
    assert first.output == [{"Items": [1, 2]}, {"Items": [3]}]
    assert second.output == [1, 2, 3]
