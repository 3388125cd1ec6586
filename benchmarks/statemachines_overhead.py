"""Per-state overhead of Cauce's local runner over moto's bare ASL interpreter.

Three workflows, each 50 states long:
  - a chain of 50 Pass states;
  - a chain of 50 Lambda tasks (`arn:aws:states:::lambda:invoke`);
  - a chain of 50 JSONata Pass states (Output with two expressions each), which moto alone cannot
    run: it is timed against Cauce's JSONPath Pass chain instead, interleaved. Target: at most 2x.
The baseline is moto's interpreter as it comes (mock_aws with execute_state_machine; Lambda
without Docker answers with a canned payload), timed from create_state_machine until its
execution thread ends and the execution is described. Cauce runs the same definitions through `LocalStepFunctions.run`, which also
validates them, runs them in the calling thread, calls a real (trivial) Python handler for each
task, and reads back the history. Both in one process, interleaved ABBA after a warm-up
(benchmarks/_measure.py). Target: at most 1.2x.

    python benchmarks/statemachines_overhead.py [--states 50] [--repeats 9] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path

import _measure as measure

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
for key, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1"}.items():
    os.environ.setdefault(key, value)

ROLE = "arn:aws:iam::123456789012:role/r"


def pass_chain(count: int) -> dict:
    return {"StartAt": "S0", "States": {
        f"S{i}": {"Type": "Pass", "Result": {"i": i}, "ResultPath": f"$.s{i % 5}", **({"Next": f"S{i + 1}"} if i < count - 1 else {"End": True})}
        for i in range(count)}}


def jsonata_pass_chain(count: int) -> dict:
    return {"QueryLanguage": "JSONata", "StartAt": "S0", "States": {
        f"S{i}": {"Type": "Pass", "Output": {"i": i, "keys": "{% $count($keys($states.input)) %}", "tag": "{% 's' & $string($states.input.i) %}"},
                  **({"Next": f"S{i + 1}"} if i < count - 1 else {"End": True})}
        for i in range(count)}}


def lambda_chain(count: int) -> dict:
    return {"StartAt": "T0", "States": {
        f"T{i}": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                  "Parameters": {"FunctionName": "step", "Payload": {"i": i}}, "ResultPath": "$.last",
                  **({"Next": f"T{i + 1}"} if i < count - 1 else {"End": True})}
        for i in range(count)}}


def step(event, context):
    return {"i": event["i"] + 1}


def bare_run(document: dict) -> float:
    """moto's interpreter as it comes: the execution runs in its own thread, which we join."""
    import boto3
    from moto import mock_aws
    from moto.stepfunctions.parser.utils import TMP_THREADS

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}):
        client = boto3.client("stepfunctions", region_name="us-east-1")
        if any(s.get("Type") == "Task" for s in document["States"].values()):
            _create_function()
        start = time.perf_counter()
        arn = client.create_state_machine(name=f"m{uuid.uuid4().hex[:8]}", definition=json.dumps(document), roleArn=ROLE)["stateMachineArn"]
        execution = client.start_execution(stateMachineArn=arn, name=uuid.uuid4().hex, input="{}")["executionArn"]
        TMP_THREADS[-1].join()
        status = client.describe_execution(executionArn=execution)["status"]
        elapsed = time.perf_counter() - start
    assert status == "SUCCEEDED", status
    return elapsed


def _create_function() -> None:
    import io
    import zipfile

    import boto3

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    boto3.client("iam", region_name="us-east-1").create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    boto3.client("lambda", region_name="us-east-1").create_function(
        FunctionName="step", Runtime="python3.12", Role=ROLE, Handler="index.handler", Code={"ZipFile": buffer.getvalue()})


# a stack that defines no resource: the workflows here bind their one function directly
EMPTY_STACK = {"project_name": "bench", "environment": "dev", "glue_config": {"job_config": {}, "crawler_config": {}, "connection_config": {}},
               "lambda_config": {}, "step_functions_config": {},
               "kinesis_config": {"stream_config": {}, "firehose_config": {}, "analytics_config": {}}}


def cauce_run(document: dict) -> float:
    from cauce.core.stack import parse_stack
    from cauce.statemachines.local import LocalStepFunctions

    with LocalStepFunctions(stack=parse_stack(EMPTY_STACK), functions={"step": step}) as local:
        start = time.perf_counter()
        result = local.run(document, {})
        elapsed = time.perf_counter() - start
    assert result.status == "SUCCEEDED", result.cause
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--states", type=int, default=50)
    measure.options(parser, repeats=9)
    args = parser.parse_args()
    if args.quick:
        args.states, args.repeats = 5, 3
    results = measure.Results("statemachines_overhead")
    size = f"{args.states} states"
    print(f"input: chains of {args.states} states, {args.repeats} interleaved repeats (ABBA) after a warm-up")
    for label, document in (("Pass chain", pass_chain(args.states)), ("Lambda task chain", lambda_chain(args.states))):
        sides = measure.compare({"moto bare": lambda _, d=document: bare_run(d), "cauce": lambda _, d=document: cauce_run(d)}, args.repeats)
        print(f"  {label}:")
        sides.print(scale=1000, unit="ms", per=(args.states, "states"))
        results.add(f"Step Functions {label} (time)", size, "moto's bare ASL interpreter", sides.ratio("cauce", over="moto bare"),
                    measure.Goal("<=", 1.2))
    jsonpath_document, jsonata_document = pass_chain(args.states), jsonata_pass_chain(args.states)
    sides = measure.compare({"cauce JSONPath": lambda _: cauce_run(jsonpath_document), "cauce JSONata": lambda _: cauce_run(jsonata_document)},
                            args.repeats)
    print("  JSONata Pass chain:")
    sides.print(scale=1000, unit="ms", per=(args.states, "states"))
    results.add("Step Functions JSONata Pass chain (time)", size, "Cauce's JSONPath Pass chain", sides.ratio("cauce JSONata", over="cauce JSONPath"),
                measure.Goal("<=", 2))
    results.write(args.results)


if __name__ == "__main__":
    main()
