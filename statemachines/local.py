"""Local execution of state machines on moto's ASL interpreter, with every Task bound through
`TaskBindings` (bindings.py) to the real local thing: the local stack binds Lambda tasks to the
project's handlers in process and Glue tasks to its jobs on local Spark.

    from cauce.localstack.bindings import StackBindings

    with LocalStepFunctions(stack, bindings=StackBindings(stack)) as sfn:
        result = sfn.run("etl-workflow", {"date": "2026-11-26"})
        print(result.status, result.output)

moto has no hook to bind a Task to Python code, so the bindings wrap its internals (pinned
moto 5.2.5; tests/statemachines/test_bindings.py fails loudly if an upgrade moves them):
- Lambda: `LambdaSimpleBackend.invoke` (moto's Lambda without Docker) runs the bound handler with the invocation's payload and a
  realistic context; an exception becomes Lambda's error payload, so `errorType` is the
  exception's class name and Retry/Catch match it.
- Glue crawlers: `GlueBackend.start_crawler` (what `aws-sdk:glue:startCrawler` calls) runs the
  bound crawler (the local stack's runs on the local lake).
- Glue: `GlueBackend.start_job_run` runs the job class to its end (with the stack's
  default_arguments, the Task's Arguments and the job's retry policy) and `get_job_run` answers
  with Glue's JobRun shape. For `startJobRun.sync`, moto's own integration always fails
  (`'NoneType' object has no attribute 'interrupt_all'`: it closes a callback endpoint that
  Glue tasks never have), so the sync step reads the finished run once instead.
- Executions run in the calling thread (moto starts STANDARD executions in a background
  thread), so `run` returns when the execution has ended: no polling, no sleeping.
- Time: Retry intervals and Wait states go through a `VirtualClock` (see clock.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import itertools
import json
import logging
import os
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
from unittest import mock

from cauce.core.aws import ACCOUNT, ENVIRONMENT, REGION
from cauce.statemachines.bindings import FunctionBindings, JobOutcome, TaskBindings
from cauce.statemachines.clock import RealClock, VirtualClock
from cauce.statemachines.definition import StateMachineDefinition, load_definition, parse_json
from cauce.statemachines.integrations import LAMBDA_REQUEST_ID_HEADER, TaskTokens
from cauce.statemachines.integrations import installed as integrations_installed
from cauce.statemachines.distributed_map import for_interpreter
from cauce.statemachines.distributed_map import installed as distributed_map_installed
from cauce.statemachines.jsonata import installed as jsonata_installed
from cauce.statemachines.mocks import load_mock_config
from cauce.statemachines.validate import AslValidationError, KnownTargets, Problem, check

if TYPE_CHECKING:
    from cauce.core.stack import Stack

ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/cauce-local-states"
_MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


@dataclass
class StateRow:
    """One state's visit in an execution, for the history table."""

    state: str
    type: str
    status: str = "RUNNING"
    started: dt.datetime | None = None
    ended: dt.datetime | None = None
    attempts: int = 0
    error: str | None = None
    cause: str | None = None
    exited: bool = field(default=False, repr=False)

    @property
    def duration_seconds(self) -> float | None:
        if self.started is None or self.ended is None:
            return None
        return (self.ended - self.started).total_seconds()

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state, "type": self.type, "status": self.status, "attempts": self.attempts,
                "duration_seconds": self.duration_seconds, "error": self.error, "cause": self.cause}


@dataclass
class ExecutionResult:
    """How an execution ended, with its history: `events` as Step Functions records them, and
    `rows`, one per state visit."""

    name: str
    status: str  # SUCCEEDED, FAILED, TIMED_OUT, ABORTED
    output: Any
    error: str | None
    cause: str | None
    events: list[dict[str, Any]] = field(repr=False)
    skipped_wait_seconds: float = 0.0

    @functools.cached_property
    def rows(self) -> list[StateRow]:
        rows = history_rows(self.events)
        unexplained = [r for r in rows if r.status == "FAILED" and r.error is None and r.type != "Fail"]
        if unexplained:  # a state that failed with no details of its own: the execution's error is its error
            unexplained[-1].error, unexplained[-1].cause = self.error, self.cause
        return rows

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"

    def row(self, state: str) -> StateRow:
        """The last visit of `state`."""
        matches = [r for r in self.rows if r.state == state]
        if not matches:
            raise KeyError(f"state {state!r} was not entered (entered: {', '.join(r.state for r in self.rows)})")
        return matches[-1]

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "output": self.output, "error": self.error, "cause": self.cause,
                "history": [r.as_dict() for r in self.rows], "skipped_wait_seconds": self.skipped_wait_seconds}


@dataclass
class LambdaCall:
    function: str
    event: Any
    response: Any
    error_type: str | None


@dataclass
class LocalGlueRun:
    """A job run in the shape of Glue's GetJobRun `JobRun`."""

    run_id: str
    job_name: str
    arguments: dict[str, str]
    state: str
    started: dt.datetime
    completed: dt.datetime
    error: str | None = None
    result: Any = None

    def as_dict(self) -> dict[str, Any]:
        document = {
            "Id": self.run_id, "Attempt": 0, "JobName": self.job_name, "StartedOn": self.started,
            "LastModifiedOn": self.completed, "CompletedOn": self.completed, "JobRunState": self.state,
            "Arguments": self.arguments, "ExecutionTime": int((self.completed - self.started).total_seconds()),
            "PredecessorRuns": [], "GlueVersion": "5.0",
        }
        if self.error:
            document["ErrorMessage"] = self.error
        return document


class LocalStepFunctions:
    """moto's ASL interpreter with Lambda and Glue tasks bound to local handlers and jobs.

    `bindings` says what each Task runs (cauce.localstack.bindings.StackBindings binds the stack's
    functions, jobs and crawlers); `functions` alone binds Lambda function names to callables.
    """

    def __init__(
        self,
        stack: "Stack | None" = None,
        *,
        bindings: TaskBindings | None = None,
        functions: Mapping[str, Callable[[Any, Any], Any]] | None = None,
        virtual_time: bool = True,
        mock_config: str | Mapping[str, Any] | None = None,
    ) -> None:
        from cauce.core.stack import load_stack

        if bindings is not None and functions:
            raise ValueError("give either bindings or functions, not both")
        self.stack = stack if stack is not None else load_stack(None)
        self.bindings: TaskBindings = bindings if bindings is not None else FunctionBindings(functions)
        self.clock = VirtualClock() if virtual_time else RealClock()
        self.task_tokens = TaskTokens(self.clock, virtual=virtual_time)
        self.subscriptions: dict[str, Callable[[Any, Any], Any]] = {}
        self.lambda_calls: list[LambdaCall] = []
        self.glue_runs: dict[str, LocalGlueRun] = {}
        self._exit_stack: contextlib.ExitStack | None = None
        self._lock = threading.Lock()
        self._names = itertools.count(1)
        self.mock_config = None if mock_config is None else load_mock_config(mock_config)  # Step Functions Local's format (mocks.py)
        self._pending_test_case: Any = None

    @functools.cached_property
    def known_targets(self) -> KnownTargets:
        """What Tasks may call (read once: finding jobs imports the job files)."""
        return self.bindings.known_targets()

    def handler_for(self, function_name: str) -> Callable[[Any, Any], Any]:
        return self.bindings.handler_for(function_name)

    # --- lifecycle ------------------------------------------------------------------------------

    def __enter__(self) -> LocalStepFunctions:
        from moto import mock_aws
        from moto.core.botocore_stubber import BotocoreStubber
        from moto.awslambda_simple.models import LambdaSimpleBackend
        from moto.glue.models import GlueBackend
        from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_glue import (
            StateTaskServiceGlue,
        )
        from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
        from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
        from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
        from moto.stepfunctions.parser.models import StepFunctionsParserBackend

        stack = contextlib.ExitStack()
        stack.enter_context(mock.patch.dict(os.environ, ENVIRONMENT))
        for name in [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL")]:
            del os.environ[name]  # an endpoint exported for `cauce up` or AWS would take the clients past moto (restored on exit)
        stack.enter_context(mock_aws(config=_MOTO_CONFIG))
        lake_s3 = getattr(self.bindings, "lake_s3", None)
        if lake_s3 is not None:  # S3 is the lake, as under `cauce up` (bindings.TaskBindings: optional)
            stack.enter_context(mock.patch.object(BotocoreStubber, "__call__", _s3_answered_by(lake_s3, BotocoreStubber.__call__)))
        runner = self
        def invoke(backend, function_name, qualifier, body, headers, response_headers):
            # with use_docker False, moto serves Lambda from LambdaSimpleBackend, whose own invoke
            # answers any name with a canned payload: an unbound function must fail instead, as on AWS.
            name = _function_name(function_name)
            if name not in runner.known_targets.functions:
                from moto.awslambda.exceptions import UnknownFunctionException

                raise UnknownFunctionException(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name} (no local handler is bound)")
            payload = runner._invoke_handler(name, body, response_headers)
            response_headers["Content-Length"] = str(len(payload))
            return payload

        def start_job_run(backend, name, arguments, *_args, **_kwargs):
            return runner._run_glue_job(name, arguments or {})

        def start_crawler(backend, name):
            runner._run_crawler(name)

        def get_job_run(backend, name, run_id):
            run = runner.glue_runs.get(run_id)
            if run is None or run.job_name != name:
                from moto.glue.exceptions import JobRunNotFoundException

                raise JobRunNotFoundException(run_id)
            return run

        original_integration = StateTaskServiceGlue._eval_integration_pattern

        def glue_integration(service, env, resource_runtime_part, normalised_parameters, state_credentials):
            from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition

            if service.resource.condition != ResourceCondition.Sync:
                return original_integration(service, env, resource_runtime_part, normalised_parameters, state_credentials)
            # The run has already ended (start_job_run runs it through), so one read of it is the outcome;
            # it raises States.TaskFailed for a FAILED, TIMEOUT or ERROR run, as moto's resolver does.
            resolve = service._build_sync_resolver(env, resource_runtime_part, normalised_parameters, state_credentials)
            env.stack.append(_epoch_millis(resolve()))

        clock = self.clock

        def wait_interval(wait_function, env, wait_seconds):
            clock.sleep(wait_seconds)

        parsed: dict[str, Any] = {}

        def validate_definition(definition):
            # moto parses a definition when the machine is created (to validate it) and again when an
            # execution starts; the first execution takes the program the first parse made
            from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser, ASLParserException
            from moto.stepfunctions.parser.models import InvalidDefinition

            try:
                parsed[definition] = AmazonStateLanguageParser.parse(definition)[0]
            except ASLParserException as error:
                raise InvalidDefinition(message=repr(error)) from None
            except Exception as error:  # moto's message for the preprocessor's errors
                raise InvalidDefinition(message=f"Error={type(error).__name__} Args={list(error.args)} in definition '{definition}'.") from None

        def evaluation_entrypoint(worker):
            program = parsed.pop(worker._evaluation_details.state_machine_details.definition, None)
            return program if program is not None else original_entrypoint(worker)

        original_entrypoint = ExecutionWorker._get_evaluation_entrypoint

        def run_in_this_thread(worker):
            if runner._pending_test_case is not None:  # the execution `run` started (not one it starts in turn)
                worker._mock_test_case, runner._pending_test_case = runner._pending_test_case, None
            worker._execution_logic()

        stack.enter_context(mock.patch.object(LambdaSimpleBackend, "invoke", invoke))
        stack.enter_context(mock.patch.object(GlueBackend, "start_job_run", start_job_run))
        stack.enter_context(mock.patch.object(GlueBackend, "get_job_run", get_job_run))
        stack.enter_context(mock.patch.object(GlueBackend, "start_crawler", start_crawler))
        stack.enter_context(mock.patch.object(StateTaskServiceGlue, "_eval_integration_pattern", glue_integration))
        stack.enter_context(mock.patch.object(retrier_decl, "time", SimpleNamespace(sleep=clock.sleep)))
        stack.enter_context(mock.patch.object(WaitFunction, "_wait_interval", wait_interval))
        stack.enter_context(mock.patch.object(EventManager, "_get_current_timestamp", staticmethod(clock.now)))
        stack.enter_context(mock.patch.object(ExecutionWorker, "start", run_in_this_thread))
        stack.enter_context(mock.patch.object(StepFunctionsParserBackend, "_validate_definition", staticmethod(validate_definition)))
        stack.enter_context(mock.patch.object(ExecutionWorker, "_get_evaluation_entrypoint", evaluation_entrypoint))
        stack.enter_context(jsonata_installed())  # JSONata fields, evaluated by jsonatapy (see jsonata.py)
        stack.enter_context(distributed_map_installed())  # Distributed Map's failure thresholds (distributed_map.py)
        stack.enter_context(integrations_installed(self.task_tokens))  # AWS's shapes, task tokens (integrations.py)
        self.task_tokens.responders.append(self._deliver_subscriptions)
        # moto logs each caught or uncaught state error at ERROR level; the history has them all
        stack.enter_context(_quiet(logging.getLogger("moto.stepfunctions")))
        self._exit_stack = stack
        import boto3

        self._client = boto3.client("stepfunctions", region_name=REGION)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self._exit_stack is not None:
            self._exit_stack.close()
            self._exit_stack = None

    # --- running --------------------------------------------------------------------------------

    def definition(self, reference: str | StateMachineDefinition | Mapping[str, Any]) -> StateMachineDefinition:
        if isinstance(reference, StateMachineDefinition):
            return reference
        if isinstance(reference, Mapping):
            return StateMachineDefinition("inline", "STANDARD", dict(reference), "inline definition")
        if reference.lstrip().startswith("{"):
            return StateMachineDefinition("inline", "STANDARD", parse_json(reference, "inline definition"), "inline definition")
        return load_definition(reference, self.stack)

    def run(self, reference: str | StateMachineDefinition | Mapping[str, Any], execution_input: Any = None,
            *, validate: bool = True, test_case: str | None = None) -> ExecutionResult:
        """Run a state machine (stack name, ASL file, or document) to its end and return what happened."""
        if self._exit_stack is None:
            raise RuntimeError("use LocalStepFunctions as a context manager: `with LocalStepFunctions(stack) as sfn:`")
        definition = self.definition(reference)
        if validate:  # moto's own parse comes next, in create_state_machine
            # with a test case, a mocked Task calls nothing, so its target need not be bound locally
            check(definition.document, definition.source, None if test_case else self.known_targets, interpreter=False)
        if test_case is not None:
            if self.mock_config is None:
                raise ValueError("a test case needs a mock configuration: LocalStepFunctions(..., mock_config=FILE)")
            self._pending_test_case = self.mock_config.test_case(definition.name, test_case)
        client = self._client
        machine_name = f"{_safe_name(definition.name)}-{next(self._names)}"
        try:
            arn = client.create_state_machine(name=machine_name, definition=json.dumps(for_interpreter(definition.document, machine_name)), roleArn=ROLE_ARN,
                                              type=definition.type)["stateMachineArn"]
        except client.exceptions.InvalidDefinition as error:
            self._pending_test_case = None
            raise AslValidationError(definition.source, [Problem("(definition)", f"the ASL interpreter refuses it: {error}")]) from None
        skipped_before = self.clock.skipped_seconds
        execution_arn = client.start_execution(stateMachineArn=arn, name=uuid.uuid4().hex,
                                               input=json.dumps(execution_input if execution_input is not None else {}))["executionArn"]
        described = _described(execution_arn)
        output = json.loads(described["output"]) if described["status"] == "SUCCEEDED" else None
        return ExecutionResult(
            name=definition.name, status=described["status"], output=output, error=described.get("error"),
            cause=described.get("cause"), events=_history(execution_arn),
            skipped_wait_seconds=self.clock.skipped_seconds - skipped_before,
        )

    def test_state(self, reference: str | StateMachineDefinition | Mapping[str, Any], state_name: str, execution_input: Any = None,
                   *, mock: Mapping[str, Any] | None = None, variables: Mapping[str, Any] | None = None) -> Any:
        """Run one state, as AWS's TestState API does (see one_state.py): its status, output, error and next state."""
        from cauce.statemachines.one_state import _find_state, isolated_machine, mocked_test_case, outcome_of

        document = self.definition(reference).document
        machine = isolated_machine(document, state_name, dict(variables) if variables else None)
        if mock is not None:
            self._pending_test_case = mocked_test_case(state_name, dict(mock))
        result = self.run(StateMachineDefinition("test-state", "STANDARD", machine, f"state {state_name!r}"), execution_input, validate=False)
        return outcome_of(result, _find_state(document, state_name)[0], state_name, execution_input)

    # --- task tokens --------------------------------------------------------------------------------

    def on_task_token(self, responder: Callable[[str, str], Any]) -> Callable[[str, str], Any]:
        """Call `responder(token, state_name)` when a `.waitForTaskToken` task waits and nothing answered
        yet; it answers with send_task_success/failure/heartbeat. Usable as a decorator."""
        self.task_tokens.responders.append(responder)
        return responder

    def subscribe(self, queue_name: str, handler: Callable[[Any, Any], Any]) -> None:
        """Deliver the messages of an SQS queue to a handler, as Lambda's SQS event source does, whenever
        a task waits for its token (no poller runs beside a local execution, so that is when the
        messages a task sent can be answered)."""
        self.subscriptions[queue_name] = handler

    def send_task_success(self, token: str, output: Any) -> None:
        self._client.send_task_success(taskToken=token, output=json.dumps(output))

    def send_task_failure(self, token: str, error: str = "", cause: str = "") -> None:
        self._client.send_task_failure(taskToken=token, error=error, cause=cause)

    def send_task_heartbeat(self, token: str) -> None:
        self._client.send_task_heartbeat(taskToken=token)

    def _deliver_subscriptions(self, token: str, state: str) -> None:
        import boto3

        from cauce.core.lambda_runtime import lambda_context

        sqs = boto3.client("sqs", region_name=REGION)
        for queue_name, handler in self.subscriptions.items():
            url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                           AttributeNames=["All"]).get("Messages", [])
            if not messages:
                continue
            arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue_name}"
            records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                        "attributes": m.get("Attributes", {}), "messageAttributes": m.get("MessageAttributes", {}),
                        "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": REGION}
                       for m in messages]
            handler({"Records": records}, lambda_context(function_name=f"{queue_name}-subscriber"))
            sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                            for i, m in enumerate(messages)])

    # --- what the bindings do -------------------------------------------------------------------

    def _invoke_handler(self, name: str, body: Any, response_headers: dict) -> bytes:
        from cauce.core.lambda_runtime import error_response, lambda_context, marshal_error

        try:
            event = json.loads(body) if body else {}
        except (TypeError, json.JSONDecodeError):
            event = body
        settings = self.bindings.function_settings(name)
        context = lambda_context(function_name=name, memory_limit_in_mb=settings.memory_size, timeout_seconds=settings.timeout)
        # on Lambda, Invoke's request id is the context's; moto sets its own x-amzn-RequestId, so it goes beside it
        response_headers[LAMBDA_REQUEST_ID_HEADER] = context.aws_request_id
        try:
            handler = self.handler_for(name)
        except Exception as error:  # what Lambda reports when the handler cannot be loaded
            response = {"errorMessage": f"{type(error).__name__}: {error}", "errorType": "Runtime.ImportModuleError",
                        "stackTrace": [], "requestId": context.aws_request_id}
            return self._lambda_error(name, event, response_headers, response)
        try:
            response = handler(event, context)
        except Exception as error:
            return self._lambda_error(name, event, response_headers, error_response(error, context.aws_request_id, skip_frames=1))
        try:
            payload = json.dumps(response).encode()
        except (TypeError, ValueError) as error:  # Lambda does not stringify what JSON cannot hold
            return self._lambda_error(name, event, response_headers, marshal_error(error, context.aws_request_id))
        with self._lock:
            self.lambda_calls.append(LambdaCall(name, event, response, None))
        return payload

    def _lambda_error(self, name: str, event: Any, response_headers: dict, error: dict[str, Any]) -> bytes:
        response_headers["x-amz-function-error"] = "Unhandled"
        with self._lock:
            self.lambda_calls.append(LambdaCall(name, event, error, error["errorType"]))
        return json.dumps(error).encode()

    def _run_glue_job(self, name: str, arguments: Mapping[str, str]) -> str:
        run_id = f"jr_{uuid.uuid4().hex}"
        started = self.clock.now()
        try:
            outcome = self.bindings.run_job(name, dict(arguments), run_id)
        except Exception as exc:  # a binding that cannot run the job: the run fails as on Glue, with the reason
            outcome = JobOutcome("FAILED", f"{type(exc).__name__}: {exc}")
        run = LocalGlueRun(run_id, name, {k if k.startswith("--") else f"--{k}": v for k, v in arguments.items()},
                           outcome.state, started, self.clock.now(), outcome.error, outcome.result)
        with self._lock:
            self.glue_runs[run_id] = run
        return run_id

    def _run_crawler(self, name: str) -> None:
        """glue:StartCrawler: the bound crawler runs now (AWS starts it and returns)."""
        from moto.glue.exceptions import CrawlerNotFoundException

        if name not in self.known_targets.crawlers:
            raise CrawlerNotFoundException(name)
        self.bindings.run_crawler(name)


def _s3_answered_by(answer: Callable[[Any], Any], moto_answer: Callable[..., Any]) -> Callable[..., Any]:
    """moto's in-process stub, with S3's requests answered by `answer` (botocore request -> response)."""
    def stub(stubber: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        if stubber.enabled and event_name.startswith("before-send.s3."):
            return answer(request)
        return moto_answer(stubber, event_name, request, **kwargs)
    return stub


@contextlib.contextmanager
def _quiet(logger: logging.Logger):
    """Silence a logger and its children (they inherit its level) for the duration."""
    saved = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(saved)


def history_rows(events: list[dict[str, Any]]) -> list[StateRow]:
    """One row per state visit, from the execution history: attempts, status, duration, error.

    Status: SUCCEEDED (`error` then shows the last failure a Retry got past), FAILED, or CAUGHT
    (failed, and a Catch sent the execution on).
    """
    by_id = {event["id"]: event for event in events}
    rows: list[StateRow] = []
    open_rows: dict[int, StateRow] = {}  # StateEntered event id -> its row
    failed_last: set[int] = set()  # ids of rows whose latest task outcome is a failure

    def row_of(event: dict[str, Any]) -> StateRow | None:
        current, seen = event, set()
        while current is not None and current["id"] not in seen:
            seen.add(current["id"])
            if current["id"] in open_rows:
                return open_rows[current["id"]]
            current = by_id.get(current.get("previousEventId"))
        return None

    for event in events:
        kind = event["type"]
        if kind.endswith("StateEntered"):
            details = event.get("stateEnteredEventDetails", {})
            row = StateRow(details.get("name", "?"), kind.removesuffix("StateEntered"), started=event["timestamp"])
            rows.append(row)
            open_rows[event["id"]] = row
        elif kind.endswith("StateExited"):
            # by name, not by event chain: a Parallel or Map exits after its branches' events
            name = event.get("stateExitedEventDetails", {}).get("name")
            row = next((r for r in reversed(rows) if r.state == name and not r.exited), None)
            if row is not None:  # left the state after a failure: a Catch took it on
                row.ended, row.exited = event["timestamp"], True
                row.status = "CAUGHT" if id(row) in failed_last else "SUCCEEDED"
        elif kind in ("TaskScheduled", "LambdaFunctionScheduled"):
            row = row_of(event)
            if row is not None:
                row.attempts += 1
        elif (kind.endswith("Failed") or kind.endswith("TimedOut")) and not kind.startswith("Execution"):
            details = next((v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})
            row = row_of(event)
            if row is not None:
                row.error, row.cause, row.ended, row.status = details.get("error"), details.get("cause"), event["timestamp"], "FAILED"
                failed_last.add(id(row))
        elif kind.endswith("Succeeded") and not kind.startswith("Execution"):
            row = row_of(event)
            if row is not None:
                failed_last.discard(id(row))
    for row in rows:
        if row.type == "Fail":
            row.status, row.ended = "FAILED", row.ended or row.started
    return rows


def _history(execution_arn: str) -> list[dict[str, Any]]:
    """The execution's events, read from moto's backend: the same events get_execution_history
    returns, without serializing them to JSON and back (which cost more than running a Pass chain)."""
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    events = stepfunctions_parser_backends[ACCOUNT][REGION].get_execution_history(execution_arn)["events"]
    return [{**event, "timestamp": _as_datetime(event["timestamp"])} for event in events]


def _described(execution_arn: str) -> dict[str, Any]:
    """DescribeExecution, read from moto's backend: moto's HTTP answer writes an output that is a
    string (a JSONata state's `Output` may be one) unquoted, and fails on one holding datetimes (an
    S3 listing's LastModified); the backend's own description writes both as JSON."""
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    described = stepfunctions_parser_backends[ACCOUNT][REGION].describe_execution(execution_arn).to_describe_output()
    status = described["status"]
    return {**described, "status": str(getattr(status, "value", status))}  # moto's ExecutionStatus enum, as its name


def _as_datetime(value: Any) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _epoch_millis(value: Any) -> Any:
    """Timestamps as Step Functions writes them in a .sync task's output: epoch milliseconds."""
    if isinstance(value, dt.datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, dict):
        return {k: _epoch_millis(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_epoch_millis(v) for v in value]
    return value


def _function_name(reference: str) -> str:
    """`name`, `name:qualifier`, or a function ARN -> the function's name."""
    parts = reference.split(":")
    if reference.startswith("arn:") and len(parts) >= 7:
        return parts[6]
    return parts[0]


def _safe_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)[:60] or "state-machine"
