"""A Lambda function called in process as Lambda calls it: a realistic context object, and the
outcome as Lambda reports it (the response, or its error shape), shared by `cauce invoke`, the
handler tests, the Step Functions bindings and the local stack."""

from __future__ import annotations

import json
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cauce.core.aws import REGION, arn


@dataclass
class LambdaContext:
    """The context object Lambda passes to a Python handler; time left counts down from `timeout_seconds`."""

    function_name: str = "cauce-function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    timeout_seconds: float = 300
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    region: str = REGION
    clock: Callable[[], float] = time.monotonic
    identity: Any = None
    client_context: Any = None

    def __post_init__(self) -> None:
        self._deadline = self.clock() + self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        return arn("lambda", f"function:{self.function_name}", self.region)

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"2026/01/01/[{self.function_version}]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - self.clock()) * 1000))


def lambda_context(**overrides: Any) -> LambdaContext:
    return LambdaContext(**overrides)


def error_response(error: BaseException, request_id: str | None = None, skip_frames: int = 0) -> dict[str, Any]:
    """Lambda's error shape for an exception a handler raised (as AWS's Python runtime writes it)."""
    frames = traceback.format_tb(error.__traceback__)[skip_frames:]
    response = {"errorMessage": str(error), "errorType": type(error).__name__, "stackTrace": frames}
    if request_id:
        response["requestId"] = request_id
    return response


def marshal_error(error: Exception, request_id: str | None = None) -> dict[str, Any]:
    """Lambda's answer when a handler returns what JSON cannot hold (a datetime, a set, bytes)."""
    response = {"errorMessage": f"Unable to marshal response: {error}", "errorType": "Runtime.MarshalError", "stackTrace": []}
    if request_id:
        response["requestId"] = request_id
    return response


def invoke(handler: Callable[[Any, Any], Any], event: Any, context: LambdaContext | None = None) -> dict[str, Any]:
    """Call a handler as Lambda does: {"ok": True, "response": ...}, or {"ok": False, "response": Lambda's error shape},
    a response JSON cannot hold included (Runtime.MarshalError, as on AWS: it is not stringified)."""
    context = context or lambda_context(function_name=getattr(handler, "__name__", "cauce-function"))
    try:
        response = handler(event, context)
    except Exception as error:
        return {"ok": False, "response": error_response(error, context.aws_request_id, skip_frames=1)}
    try:
        json.dumps(response)
    except (TypeError, ValueError) as error:
        return {"ok": False, "response": marshal_error(error, context.aws_request_id)}
    return {"ok": True, "response": response}
