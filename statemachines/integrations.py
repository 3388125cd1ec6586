"""Service integrations for local Step Functions: which Task resources run locally, the request and
response shapes AWS gives them, and task tokens and timeouts in virtual time.

moto's interpreter calls each service through boto3, and under `mock_aws` that is moto's backend in
this process: an `sns:publish` publishes to moto's SNS, a `dynamodb:putItem` writes moto's table.
What is added here (moto 5.2.5, pinned; tests/statemachines/test_bindings.py checks the internals):

- Request and response shapes. moto left `StateTaskService._normalise_parameters` and
  `_normalise_response` empty, so a Task's `StateMachineArn` never reaches boto3's `stateMachineArn`
  and a response keeps the SDK's casing. Both are filled from botocore's service model, as Step
  Functions does: parameter names match the API's members whatever their case, an object given for
  a string member (an SNS `Message`, an SQS `MessageBody`) is sent as its JSON text, and response
  keys come back capitalised (`ExecutionArn`, `StartDate`).
- The `lambda:invoke` result in AWS's shape: `ExecutedVersion`, `Payload`, `SdkHttpMetadata`
  (`AllHttpHeaders`, `HttpHeaders`, `HttpStatusCode`), `SdkResponseMetadata` (`RequestId`) and
  `StatusCode` (moto returns only `StatusCode` and `Payload`).
- Task tokens in virtual time: a `.waitForTaskToken` task waits for SendTaskSuccess, SendTaskFailure
  or SendTaskHeartbeat. Locally the callers run in process while the task is being started (a
  Lambda handler given the token, a queue's subscriber, or a `task_token` responder a test
  registers), so when the wait begins the answer is either there or will never come: without one the
  task fails with States.Timeout after TimeoutSeconds (or States.HeartbeatTimeout after
  HeartbeatSeconds), taken from the virtual clock, not waited for.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import functools
import json
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

# Optimised integrations that run locally (`arn:aws:states:::<service>:<action>[.pattern]`), by
# service, with the integration patterns each accepts ("" is request-response).
OPTIMISED = {
    "lambda:invoke": ("", ".waitForTaskToken"),
    "sns:publish": ("", ".waitForTaskToken"),
    "sqs:sendMessage": ("", ".waitForTaskToken"),
    "dynamodb:getItem": ("",), "dynamodb:putItem": ("",), "dynamodb:updateItem": ("",), "dynamodb:deleteItem": ("",),
    "events:putEvents": ("", ".waitForTaskToken"),
    "states:startExecution": ("", ".sync", ".sync:2", ".waitForTaskToken"),
    "glue:startJobRun": ("", ".sync"),
}
_OPTIMISED_ARN = re.compile(r"^arn:aws[a-z-]*:states:::([a-z0-9-]+:[A-Za-z0-9]+)((?:\.sync(?::2)?)|\.waitForTaskToken)?$")
_SDK_ARN = re.compile(r"^arn:aws[a-z-]*:states:::aws-sdk:([a-z0-9-]+):([A-Za-z0-9]+)(\.waitForTaskToken)?$")
# aws-sdk service names that differ from boto3's
SDK_SERVICE_TO_BOTO = {"sfn": "stepfunctions", "eventbridge": "events", "cloudwatchlogs": "logs"}


def resource_problem(resource: str) -> str | None:
    """Why a Task resource cannot run locally, or None when it can (Lambda function ARNs are checked by the caller)."""
    sdk = _SDK_ARN.match(resource)
    if sdk:
        service, action, _pattern = sdk.groups()
        boto_service = SDK_SERVICE_TO_BOTO.get(service, service)
        model = _service_model(boto_service)
        if model is None:
            return f"aws-sdk:{service} is not an AWS SDK service boto3 knows"
        if _operation_name(boto_service, action) is None:
            return f"aws-sdk:{service}:{action} is not an action of {service} (boto3's model has no {action[:1].upper() + action[1:]})"
        return None
    optimised = _OPTIMISED_ARN.match(resource)
    if optimised:
        integration, pattern = optimised.group(1), optimised.group(2) or ""
        if integration not in OPTIMISED:
            return (f"the {integration} integration does not run locally (supported: {', '.join(sorted(OPTIMISED))}, "
                    "and aws-sdk:* calls to services moto emulates)")
        if pattern not in OPTIMISED[integration]:
            patterns = ", ".join(p or "request-response" for p in OPTIMISED[integration])
            return f"{integration}{pattern}: {pattern} is not a pattern of {integration} (it has: {patterns})"
        return None
    if ":activity:" in resource:
        return "activities do not run locally (moto implements no activity workers)"
    return (f"{resource!r} is not a Task resource that runs locally (Lambda function ARNs, "
            f"arn:aws:states:::{{{', '.join(sorted(OPTIMISED))}}}, arn:aws:states:::aws-sdk:service:action)")


@functools.lru_cache(maxsize=None)
def _service_model(service: str) -> Any:
    import botocore.exceptions
    import botocore.session

    try:
        return botocore.session.get_session().get_service_model(service)
    except botocore.exceptions.UnknownServiceError:
        return None


@functools.lru_cache(maxsize=None)
def _operation_name(service: str, action: str) -> str | None:
    """The API operation an action names (`startExecution`, `start_execution` -> StartExecution)."""
    from botocore import xform_name

    model = _service_model(service)
    if model is None:
        return None
    wanted = xform_name(action)
    return next((name for name in model.operation_names if xform_name(name) == wanted), None)


def _shape(service: str, action: str, direction: str) -> Any:
    operation = _operation_name(service, action)
    if operation is None:
        return None
    model = _service_model(service).operation_model(operation)
    return model.input_shape if direction == "input" else model.output_shape


# --- moto patches ---------------------------------------------------------------------------------

def _normalise_parameters(service: Any, parameters: dict, boto_service_name: str | None = None,
                          service_action_name: str | None = None) -> None:
    boto_service, action = service._get_boto_service_name(boto_service_name), service._get_boto_service_action(service_action_name)
    shape = _shape(boto_service, action, "input")
    if shape is not None and isinstance(parameters, dict):
        service._to_boto_request(parameters, shape)
        if (boto_service, action) == ("stepfunctions", "start_execution") and not parameters.get("name"):
            # Step Functions names an unnamed execution with a UUID (moto would name every one "None")
            parameters["name"] = str(uuid.uuid4())


def _normalise_response(service: Any, response: Any, boto_service_name: str | None = None,
                        service_action_name: str | None = None) -> None:
    shape = _shape(service._get_boto_service_name(boto_service_name), service._get_boto_service_action(service_action_name), "output")
    if shape is not None and isinstance(response, dict):
        service._from_boto_response(response, shape)
    if isinstance(response, (dict, list)):
        _timestamps_to_epoch_millis(response)


def _timestamps_to_epoch_millis(value: Any) -> None:
    """In place: Step Functions writes an API's timestamps (a StartDate) as epoch milliseconds in a task's result."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in list(items):
        if isinstance(item, dt.datetime):
            value[key] = int(item.timestamp() * 1000)
        elif isinstance(item, (dict, list)):
            _timestamps_to_epoch_millis(item)


LAMBDA_REQUEST_ID_HEADER = "x-cauce-lambda-request-id"  # the handler's context request id, set by the local Lambda


def lambda_task_result(response: dict[str, Any], executed_version: str = "$LATEST") -> dict[str, Any]:
    """`lambda:invoke`'s result as Step Functions gives it, from boto3's Invoke response."""
    metadata = response.get("ResponseMetadata") or {}
    request_id = (metadata.get("HTTPHeaders") or {}).get(LAMBDA_REQUEST_ID_HEADER) or metadata.get("RequestId") or ""
    payload_text = json.dumps(response.get("Payload"), separators=(",", ":"))
    headers = {
        "Connection": "keep-alive",
        "Content-Length": str(len(payload_text.encode())),
        "Content-Type": "application/json",
        "Date": email.utils.formatdate(usegmt=True),
        "X-Amz-Executed-Version": executed_version,
        "x-amzn-Remapped-Content-Length": "0",
        "x-amzn-RequestId": request_id,
        "X-Amzn-Trace-Id": f"root=1-{request_id[:8] or '00000000'}-{request_id.replace('-', '')[8:32] or '0' * 24};sampled=0",
    }
    return {
        "ExecutedVersion": response.get("ExecutedVersion") or executed_version,
        "Payload": response.get("Payload"),
        "SdkHttpMetadata": {"AllHttpHeaders": {k: [v] for k, v in headers.items()}, "HttpHeaders": headers,
                            "HttpStatusCode": metadata.get("HTTPStatusCode", 200)},
        "SdkResponseMetadata": {"RequestId": request_id},
        "StatusCode": response.get("StatusCode", 200),
    }


def _lambda_integration(original: Callable) -> Callable:
    def execute(env: Any, parameters: dict, region: str, state_credentials: Any) -> None:
        from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

        if env.is_mocked_mode():  # a mocked response is given whole, as Step Functions Local does
            return original(env=env, parameters=parameters, region=region, state_credentials=state_credentials)
        response = lambda_eval_utils._invoke_lambda_function(parameters=parameters, region=region, state_credentials=state_credentials)
        if response.get("FunctionError"):
            raise lambda_eval_utils.LambdaFunctionErrorException(
                response["FunctionError"], json.dumps(response["Payload"], separators=(",", ":")))
        qualifier = str(parameters.get("Qualifier") or "")
        env.stack.append(lambda_task_result(response, qualifier if qualifier.isdigit() else "$LATEST"))
    return execute


class TaskTokens:
    """Answers to `.waitForTaskToken` tasks given in process, and the virtual-time waits for them.

    `responders` are called with (task token, state name) when a task starts waiting and nothing has
    answered yet; they answer with SendTaskSuccess/Failure/Heartbeat (boto3, or `LocalStepFunctions`'s
    send_task_* methods).
    """

    def __init__(self, clock: Any, virtual: bool) -> None:
        self.clock = clock
        self.virtual = virtual
        self.responders: list[Callable[[str, str], Any]] = []
        self.waited: list[str] = []  # the tokens tasks waited for, in order

    def _respond(self, env: Any, endpoint: Any) -> None:
        token = endpoint.callback_id
        self.waited.append(token)
        state = env.states.context_object.context_object_data.get("State", {}).get("Name", "")
        for responder in list(self.responders):
            if endpoint.get_outcome() is not None:
                break
            responder(token, state)

    def patches(self) -> list[Any]:
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
            StateTaskServiceCallback,
        )
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
        from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackOutcomeTimedOut, HeartbeatTimedOut, HeartbeatTimeoutError

        tokens = self
        original_wait = StateTaskServiceCallback._eval_wait_for_task_token

        def wait_for_task_token(service, env, timeout_seconds, callback_endpoint, heartbeat_endpoint):
            if service.resource.condition != ResourceCondition.WaitForTaskToken:
                # a .sync task listens for a token beside its poll, until the poll ends it: leave that as it is
                return original_wait(service, env, timeout_seconds, callback_endpoint, heartbeat_endpoint)
            tokens._respond(env, callback_endpoint)
            if not tokens.virtual:
                return original_wait(service, env, timeout_seconds, callback_endpoint, heartbeat_endpoint)
            outcome = callback_endpoint.get_outcome()
            if outcome is not None:
                return outcome
            if heartbeat_endpoint is not None:  # no heartbeat will come either: it times out first
                tokens.clock.sleep(heartbeat_endpoint._heartbeat_seconds)
                return HeartbeatTimedOut()
            tokens.clock.sleep(timeout_seconds)
            return CallbackOutcomeTimedOut(callback_id=callback_endpoint.callback_id)

        original_from_error = StateTaskServiceCallback._from_error

        def from_error(service, env, ex):
            if isinstance(ex, HeartbeatTimeoutError):  # moto names every timeout States.Timeout
                return _heartbeat_timed_out(service, env)
            return original_from_error(service, env, ex)

        return [mock.patch.object(StateTaskServiceCallback, "_eval_wait_for_task_token", wait_for_task_token),
                mock.patch.object(StateTaskServiceCallback, "_from_error", from_error)]


def _heartbeat_timed_out(service: Any, env: Any) -> Any:
    from moto.stepfunctions.parser.api import HistoryEventType, TaskTimedOutEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    name = StatesErrorNameType.StatesHeartbeatTimeout
    details = TaskTimedOutEventDetails(resourceType=service._get_sfn_resource_type(), resource=service._get_sfn_resource(),
                                       error=name.to_name())
    return FailureEvent(env=env, error_name=StatesErrorName(typ=name), event_type=HistoryEventType.TaskTimedOut,
                        event_details=EventDetails(taskTimedOutEventDetails=details))


def _send_task_failure(response: Any) -> Any:
    """SendTaskFailure with its cause (moto's handler drops it)."""
    from moto.core.responses import EmptyResult

    response.stepfunction_backend.send_task_failure(response._get_param("taskToken"), error=response._get_param("error"),
                                                    cause=response._get_param("cause"))
    return EmptyResult()


@contextlib.contextmanager
def installed(tokens: TaskTokens) -> Iterator[None]:
    """Service integrations with AWS's shapes, task tokens in virtual time, while the context is open."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import StateTaskService

    from moto.stepfunctions.responses import StepFunctionResponse

    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.object(StepFunctionResponse, "send_task_failure", _send_task_failure))
        stack.enter_context(mock.patch.object(StateTaskService, "_normalise_parameters", _normalise_parameters))
        stack.enter_context(mock.patch.object(StateTaskService, "_normalise_response", _normalise_response))
        stack.enter_context(mock.patch.object(lambda_eval_utils, "execute_lambda_function_integration",
                                              _lambda_integration(lambda_eval_utils.execute_lambda_function_integration)))
        for patch in tokens.patches():
            stack.enter_context(patch)
        yield
