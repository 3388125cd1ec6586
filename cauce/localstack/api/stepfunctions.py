"""Step Functions through the endpoint of `cauce up`: executions that any client starts run, with
the stack's bindings, in real time, and their histories are the runs'.

moto's server keeps state machines and executions in its parser backend (the LocalStack-derived
ASL interpreter) once `stepfunctions.execute_state_machine` is on, which this module turns on; left
off, moto answers with a canned history that says SUCCEEDED for executions that never ran. Each
execution runs in its own background thread (moto's ExecutionWorker), so StartExecution returns at
once and DescribeExecution, GetExecutionHistory and ListExecutions show it as it goes; StopExecution
interrupts a Wait.

What Tasks reach: moto's interpreter calls each service with boto3 at this very endpoint (MOTO_PORT),
so a Lambda Task goes through cauce.localstack.api.functions (the stack's handlers in process, zip
functions in their workers), a `glue:startJobRun(.sync)` Task through cauce.localstack.api.glue (the
project's jobs on local Spark), any other service to moto. JSONata states are evaluated by
cauce.statemachines.jsonata, and the request and response shapes of the service integrations are
AWS's (cauce.statemachines.integrations), as `cauce sfn run` has them.

Time is real: a Wait state waits, a Retry waits its interval, a `.waitForTaskToken` Task waits for a
client's SendTaskSuccess/Failure. CAUCE_TIME_SCALE (default 1) multiplies the waits (0.01: a 5 s Wait
takes 50 ms); the history's timestamps are then the compressed times the run really took.

The stack's state machines (step_functions_config) are created, by name, with the first Step Functions
request (moto's interpreter takes seconds to import: a server that never runs a state machine never
loads it).
DescribeExecution is answered from the backend (moto's own answer writes a JSON string output
unquoted); StartExecution without a name gets a UUID, as on AWS. StartSyncExecution is moto's: EXPRESS
machines only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import logging
import os
import sys
import threading
import time
import uuid
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
from unittest import mock

from cauce.core.aws import ACCOUNT, REGION
from cauce.localstack.api.functions import time_scale
from cauce.localstack.gateway import AwsError, AwsRequest, AwsResponse

if TYPE_CHECKING:
    from cauce.localstack.server import LocalStackServer

SYNC_POLL_SECONDS = 0.2  # how often a `.sync` Task reads the run it waits for (Step Functions polls too)


def _backend() -> Any:
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    return stepfunctions_parser_backends[ACCOUNT][REGION]


def describe_execution(request: AwsRequest) -> AwsResponse | None:
    """DescribeExecution as the API reference has it: `output` is the output's JSON text."""
    from moto.stepfunctions.exceptions import ExecutionDoesNotExist

    arn = request.json().get("executionArn")
    if not isinstance(arn, str):
        return None  # moto's validation error
    try:
        described = dict(_backend().describe_execution(arn).to_describe_output())
    except ExecutionDoesNotExist as error:
        raise AwsError("ExecutionDoesNotExist", error.message) from None
    except Exception:  # moto's other refusals (an invalid ARN): its own answer
        return None
    status = described["status"]
    described["status"] = str(getattr(status, "value", status))
    return AwsResponse.json({k: v for k, v in described.items() if v is not None})


def _interpreter_patches(scale: float) -> list[Any]:
    """Real-time waits (scaled), and a `.sync` Glue Task that polls its run (moto's own integration
    always fails: it interrupts a callback endpoint that Glue Tasks do not have)."""
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_glue import StateTaskServiceGlue
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    from cauce.statemachines.local import _epoch_millis

    def wait_interval(wait_function: Any, env: Any, wait_seconds: float) -> None:
        deadline = time.monotonic() + max(0.0, float(wait_seconds)) * scale
        while env.is_running():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if env.program_state_event.wait(left):  # StopExecution sets it; anything else: wait on
                time.sleep(min(left, 0.01))

    original_integration = StateTaskServiceGlue._eval_integration_pattern

    def glue_integration(service: Any, env: Any, resource_runtime_part: Any, normalised_parameters: Any, state_credentials: Any) -> None:
        if service.resource.condition != ResourceCondition.Sync:
            return original_integration(service, env, resource_runtime_part, normalised_parameters, state_credentials)
        resolve = service._build_sync_resolver(env, resource_runtime_part, normalised_parameters, state_credentials)
        while env.is_running():
            run = resolve()  # raises States.TaskFailed for a FAILED, TIMEOUT or ERROR run
            if run is not None:
                env.stack.append(_epoch_millis(run))
                return
            time.sleep(SYNC_POLL_SECONDS)

    return [mock.patch.object(WaitFunction, "_wait_interval", wait_interval),
            mock.patch.object(retrier_decl, "time", SimpleNamespace(sleep=lambda seconds: time.sleep(max(0.0, seconds) * scale))),
            mock.patch.object(StateTaskServiceGlue, "_eval_integration_pattern", glue_integration)]


def _create_stack_machines(server: "LocalStackServer") -> None:
    """The stack's state machines, in moto's backend (this runs inside a request: no call back to the endpoint)."""
    from cauce.statemachines.definition import load_definition
    from cauce.statemachines.distributed_map import for_interpreter

    backend = _backend()
    existing = {m.name for m in backend.state_machines}
    for key, machine in server.stack.step_functions_config.items():
        if machine.name in existing:
            continue
        try:
            definition = load_definition(key, server.stack)
            backend.create_state_machine(name=machine.name, definition=json.dumps(for_interpreter(definition.document, machine.name)), roleArn=machine.role_arn,
                                         sm_type=machine.type or "STANDARD")
        except Exception as error:  # a definition the interpreter refuses: the server runs on without it
            print(f"cauce up: state machine {machine.name} not created: {error}", file=sys.stderr)


def _name_of(body: dict) -> str | None:
    """An UpdateStateMachine's machine name, from its ARN (`...:stateMachine:NAME`)."""
    arn = body.get("stateMachineArn")
    return arn.rsplit(":", 1)[-1] if isinstance(arn, str) else None


class StepFunctionsService:
    """Every Step Functions request of the endpoint: the interpreter is made ready by the first one
    (moto's parser takes seconds to import), then DescribeExecution is answered here, the rest by moto."""

    def __init__(self, server: "LocalStackServer", gateway: Any) -> None:
        self.server, self.gateway = server, gateway
        self._lock = threading.Lock()
        self._undo: Any = None

    def __call__(self, request: AwsRequest) -> AwsResponse | None:
        self.ready()
        if request.operation == "DescribeExecution":
            return describe_execution(request)
        if request.operation in ("CreateStateMachine", "UpdateStateMachine"):
            body = request.json()
            if isinstance(body, dict) and isinstance(body.get("definition"), str):  # ItemBatcher and the rest moto's grammar lacks
                from cauce.statemachines.distributed_map import for_interpreter

                try:
                    definition = json.dumps(for_interpreter(json.loads(body["definition"]), body.get("name") or _name_of(body)))
                except json.JSONDecodeError:
                    return None  # moto refuses it as AWS does (InvalidDefinition)
                return self.gateway.forward(dataclasses.replace(request, body=json.dumps({**body, "definition": definition}).encode()))
        if request.operation in ("StartExecution", "StartSyncExecution"):
            body = request.json()
            if isinstance(body, dict) and not body.get("name"):  # Step Functions names it with a UUID (moto would use "None")
                return self.gateway.forward(dataclasses.replace(request, body=json.dumps({**body, "name": str(uuid.uuid4())}).encode()))
        return None

    def ready(self) -> None:
        with self._lock:
            if self._undo is None:
                self._undo = _install(self.server)

    def close(self) -> None:
        with self._lock:
            if self._undo is not None:
                self._undo()
                self._undo = None


def _install(server: "LocalStackServer") -> Any:
    from moto.core.config import default_user_config

    from cauce.statemachines.clock import RealClock
    from cauce.statemachines.integrations import TaskTokens
    from cauce.statemachines.integrations import installed as integrations_installed
    from cauce.statemachines.distributed_map import installed as distributed_map_installed
    from cauce.statemachines.jsonata import installed as jsonata_installed

    saved_config = dict(default_user_config.get("stepfunctions", {}))
    default_user_config["stepfunctions"] = {**saved_config, "execute_state_machine": True}
    saved_port = os.environ.get("MOTO_PORT")
    os.environ["MOTO_PORT"] = str(server.port)  # where moto's interpreter sends the Tasks' calls: this endpoint
    patches = contextlib.ExitStack()
    patches.enter_context(jsonata_installed())
    patches.enter_context(distributed_map_installed())
    patches.enter_context(integrations_installed(TaskTokens(RealClock(), virtual=False)))
    for patch in _interpreter_patches(time_scale()):
        patches.enter_context(patch)
    logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)  # each caught state error is in the history
    _create_stack_machines(server)

    def undo() -> None:
        for execution in list(_backend()._get_executions()):
            with contextlib.suppress(Exception):
                if str(getattr(execution.exec_status, "value", execution.exec_status)) == "RUNNING":
                    execution.stop(stop_date=datetime.datetime.now(datetime.timezone.utc), error="States.Aborted",
                                   cause="the local stack stopped")
        patches.close()
        default_user_config["stepfunctions"] = saved_config
        if saved_port is None:
            os.environ.pop("MOTO_PORT", None)
        else:
            os.environ["MOTO_PORT"] = saved_port

    return undo


def register(server: "LocalStackServer", gateway: Any) -> Any:
    """Run executions on the server with the stack's bindings (from the first Step Functions request);
    returns what undoes it at stop."""
    service = StepFunctionsService(server, gateway)
    gateway.service("states", service)
    return service.close
