"""Lambda through the endpoint of `cauce up`: Invoke runs the function, in process for the stack's
handlers and in a worker process for functions created from a zip.

moto keeps the functions (CreateFunction, GetFunction, ListFunctions, UpdateFunctionCode, the event
invoke configs, the event source mappings): its answers are AWS's shapes. What it cannot do without
Docker is run them, so these requests are answered here:

- Invoke (`POST /2015-03-31/functions/{name}/invocations`), as the Invoke API reference describes:
  RequestResponse returns the payload, or Lambda's error shape (`errorMessage`, `errorType`,
  `stackTrace`) with `X-Amz-Function-Error: Unhandled`; `X-Amz-Executed-Version`; with `LogType: Tail`,
  the last 4 KB of the invocation's log, base64, in `X-Amz-Log-Result`. Event answers 202 and runs in
  the background with the function's retries (MaximumRetryAttempts, default 2; one then two minutes
  apart, scaled by CAUCE_TIME_SCALE), then the on-success or on-failure destination (SQS, SNS,
  Lambda, EventBridge) and the dead-letter queue. DryRun answers 204.
- A function created from a zip (python3.x runtime, `Handler` module.function) is unzipped into the
  state folder and runs in a long-lived worker process (lambda_worker.py): only the zip's code and
  the interpreter's libraries (boto3 among them) are importable, its environment is Lambda's
  reserved variables, its Variables and the endpoint (AWS_ENDPOINT_URL, so its boto3 calls reach the
  stack), its Timeout ends a run that exceeds it (the worker is killed and restarted), and a worker
  that dies is restarted by the next invocation. One invocation at a time per function.
  CreateFunction also binds the function in the stack's bindings, so Firehose processors and
  Step Functions Tasks that name it reach it.
- The stack's functions (lambda_config) run their handlers in this process; ListFunctions,
  GetFunction and GetFunctionConfiguration show them beside moto's, and their event invoke configs
  are kept here (moto does not know them).
- CreateEventSourceMapping from a Kinesis stream runs like the stack's mappings
  (cauce.localstack.event_source), driven by the server's poll loop; moto's own per-record
  invocation inside PutRecord is taken off. Invocations moto makes itself (an SQS mapping, an SNS
  subscription) run the function too.

Errors reach the client in Lambda's REST shape (`x-amzn-ErrorType`): ResourceNotFoundException for
an unknown function, InvalidRequestContentException for a payload that is not JSON,
RequestTooLargeException above 6 MB (1 MB for Event).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import io
import json
import os
import select
import shutil
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from cauce.core.aws import ACCOUNT, CREDENTIALS, REGION, arn
from cauce.localstack.gateway import AwsError, AwsRequest, AwsResponse

if TYPE_CHECKING:
    from cauce.localstack.server import LocalStackServer

PREFIX = "/2015-03-31/functions"
SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024  # Invoke: 6 MB for synchronous invocations
ASYNC_PAYLOAD_LIMIT = 1024 * 1024  # 1 MB for asynchronous ones
LOG_TAIL_BYTES = 4096
RETRY_DELAYS_SECONDS = (60, 120)  # async invocations: one minute before the first retry, two before the second
UNBOUNDED_RETRIES = 100  # a mapping's MaximumRetryAttempts -1 (until the record expires), bounded locally
WORKER = Path(__file__).with_name("lambda_worker.py")
JSON = "application/json"


def time_scale() -> float:
    """CAUCE_TIME_SCALE: the factor real waits of the server are multiplied by (Wait states, Retry
    intervals, async retries); 1 by default, 0.01 makes a 5 s Wait take 50 ms."""
    try:
        return max(0.0, float(os.environ.get("CAUCE_TIME_SCALE", "1")))
    except ValueError:
        return 1.0


class LambdaFunctionError(Exception):
    """A function's error, raised to in-process callers of a zip function (Firehose, bindings)."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("errorMessage", ""))
        self.error = error
        self.error_type = error.get("errorType", "")


@dataclass
class Outcome:
    request_id: str
    ok: bool
    payload: bytes  # the response's JSON, or the error shape's
    log: str
    version: str = "$LATEST"
    error_type: str | None = None

    @property
    def function_error(self) -> str | None:
        return None if self.ok else "Unhandled"


def not_found(name: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"Function not found: {arn('lambda', f'function:{name}')}", 404)


def function_name(reference: str) -> tuple[str, str | None]:
    """A name, `name:qualifier`, a partial ARN (`123456789012:function:name`) or an ARN -> (name, qualifier)."""
    reference = unquote(reference)
    parts = reference.split(":")
    if reference.startswith("arn:") and len(parts) >= 7:
        return parts[6], parts[7] if len(parts) > 7 else None
    if len(parts) >= 3 and parts[1] == "function":
        return parts[2], parts[3] if len(parts) > 3 else None
    return parts[0], parts[1] if len(parts) > 1 else None


class _ThreadLogs:
    """sys.stdout and sys.stderr while the server runs: what a thread writes during an invocation
    goes to that invocation's log as well (in-process handlers share one process)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.local = threading.local()

    def write(self, text: str) -> int:
        buffer = getattr(self.local, "buffer", None)
        if buffer is not None:
            buffer.write(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


class ZipWorker:
    """One function's worker process, for one version of its code and configuration."""

    def __init__(self, name: str, task_root: Path, handler: str, environment: dict[str, str], timeout: float, log: Path) -> None:
        self.name, self.task_root, self.handler, self.environment, self.timeout = name, task_root, handler, environment, timeout
        self.log_path = log
        self.lock = threading.Lock()
        self.process: subprocess.Popen | None = None
        self._answers: Any = None

    def _start(self) -> None:
        read_end, write_end = os.pipe()
        log = self.log_path.open("ab")
        try:
            self.process = subprocess.Popen([sys.executable, "-I", str(WORKER), str(self.task_root), self.handler, str(write_end)],
                                            stdin=subprocess.PIPE, stdout=log, stderr=log, pass_fds=(write_end,),
                                            cwd=self.task_root, env=self.environment)
        finally:
            os.close(write_end)
            log.close()
        self._answers = os.fdopen(read_end, "rb")

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            self.process = None
        if self._answers is not None:
            self._answers.close()
            self._answers = None

    def invoke(self, event: bytes, request_id: str, client_context: Any = None) -> dict[str, Any]:
        """The worker's answer ({"ok", "payload" | "error", "log"}), or Lambda's error for a timeout or a crash."""
        with self.lock:
            if self.process is None or self.process.poll() is not None:
                self.stop()
                self._start()
            request = {"event": event.decode(), "request_id": request_id, "timeout": self.timeout,
                       "function_arn": arn("lambda", f"function:{self.name}"), "client_context": client_context}
            try:
                self.process.stdin.write(json.dumps(request).encode() + b"\n")
                self.process.stdin.flush()
            except (BrokenPipeError, OSError):
                pass  # the worker died: its exit status is read below
            ready, _, _ = select.select([self._answers], [], [], self.timeout)
            line = self._answers.readline() if ready else b""
            if line:
                return json.loads(line)
            if not ready:
                self.stop()
                return _runtime_error("Sandbox.Timedout", f"RequestId: {request_id} Error: Task timed out after {self.timeout:.2f} seconds")
            status = self.process.wait()
            self.stop()
            reason = f"signal: {-status}" if status < 0 else f"exit status {status}"
            return _runtime_error("Runtime.ExitError", f"RequestId: {request_id} Error: Runtime exited with error: {reason}")


def _runtime_error(error_type: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"errorType": error_type, "errorMessage": message}, "log": ""}


class LambdaService:
    """The Lambda requests `cauce up` answers itself (see the module docstring)."""

    def __init__(self, server: "LocalStackServer", gateway: Any) -> None:
        self.server, self.gateway = server, gateway
        self.functions_dir = server.state_dir / "functions"
        self.logs_dir = server.state_dir / "logs" / "lambda"
        self.workers: dict[str, tuple[tuple, ZipWorker]] = {}
        self.event_configs: dict[str, dict[str, Any]] = {}  # of the stack's functions (moto keeps the others')
        self.mappings: dict[str, Any] = {}  # event source mapping UUID -> KinesisEventSourceMapping
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._stack_configs = {f.function_name: f for f in server.stack.lambda_config.values()}

    # --- routing ------------------------------------------------------------------------------

    def __call__(self, request: AwsRequest) -> AwsResponse | None:
        path, method = request.path, request.method
        if path.startswith(PREFIX + "/") and path.endswith("/invocations") and method == "POST":
            return self.invoke(request, unquote(path[len(PREFIX) + 1:-len("/invocations")]))
        if path.rstrip("/") == PREFIX and method == "POST":
            return self.create_function(request)
        if path.rstrip("/") == PREFIX and method == "GET":
            return self.list_functions(request)
        if path.startswith(PREFIX + "/"):
            rest = path[len(PREFIX) + 1:].split("/")
            name = function_name(rest[0])[0]
            if len(rest) == 1 and method == "GET" or rest[1:] == ["configuration"] and method == "GET":
                return self.get_function(request, name, configuration_only=len(rest) > 1)
            if len(rest) == 1 and method == "DELETE":
                return self.delete_function(request, name)
        if path.startswith("/2019-09-25/functions/") and path.rstrip("/").endswith("/event-invoke-config"):
            return self.event_invoke_config(request, function_name(path.split("/")[3])[0])
        if path.startswith("/2015-03-31/event-source-mappings"):
            return self.event_source_mapping(request)
        return None

    # --- what moto keeps, and what is added to it ------------------------------------------------

    def moto_function(self, name: str, qualifier: str | None = None) -> Any:
        """The function moto keeps under this name (created through the API), or None."""
        from moto.awslambda.utils import get_backend
        from moto.core.exceptions import JsonRESTError

        try:
            return get_backend(ACCOUNT, REGION).get_function(name, qualifier)
        except (JsonRESTError, KeyError):
            return None

    def create_function(self, request: AwsRequest) -> AwsResponse:
        response = self.gateway.forward(request)
        if response.status == 201:
            name = json.loads(response.body)["FunctionName"]
            self.server.bindings.bind_function(name, _BoundFunction(self, name))
        return response

    def delete_function(self, request: AwsRequest, name: str) -> AwsResponse | None:
        if self.moto_function(name) is None:
            return None  # moto's answer: ResourceNotFoundException (a stack function is not deleted through the API)
        response = self.gateway.forward(request)
        if response.status == 204:
            self.server.bindings.unbind_function(name)
            with self._lock:
                _key, worker = self.workers.pop(name, (None, None))
            if worker is not None:
                worker.stop()
        return response

    def list_functions(self, request: AwsRequest) -> AwsResponse:
        response = self.gateway.forward(request)
        if response.status != 200 or request.param("Marker"):
            return response
        listed = json.loads(response.body)
        names = {f["FunctionName"] for f in listed.get("Functions", [])}
        listed["Functions"] = [self.stack_configuration(name) for name in self._stack_configs if name not in names] + listed.get("Functions", [])
        return AwsResponse.json(listed, content_type=JSON)

    def get_function(self, request: AwsRequest, name: str, configuration_only: bool) -> AwsResponse | None:
        if name not in self._stack_configs or self.moto_function(name) is not None:
            return None
        configuration = self.stack_configuration(name)
        if configuration_only:
            return AwsResponse.json(configuration, content_type=JSON)
        return AwsResponse.json({"Configuration": configuration, "Code": {"RepositoryType": "S3", "Location": ""},
                                 "Tags": dict(self._stack_configs[name].tags)}, content_type=JSON)

    def stack_configuration(self, name: str) -> dict[str, Any]:
        """GetFunctionConfiguration's shape for a function of the stack (its handler runs in process)."""
        config = self._stack_configs[name]
        document = {"FunctionName": name, "FunctionArn": arn("lambda", f"function:{name}"), "Runtime": config.runtime,
                    "Role": config.role_arn, "Handler": config.handler, "CodeSize": 0, "Description": config.description,
                    "Timeout": int(config.timeout), "MemorySize": int(config.memory_size), "Version": "$LATEST",
                    "LastModified": "1970-01-01T00:00:00.000+0000", "PackageType": "Zip", "State": "Active",
                    "LastUpdateStatus": "Successful", "TracingConfig": {"Mode": config.tracing_config.mode or "PassThrough"},
                    "Architectures": ["x86_64"], "Environment": {"Variables": dict(config.environment)}}
        if config.dead_letter_config.target_arn:
            document["DeadLetterConfig"] = {"TargetArn": config.dead_letter_config.target_arn}
        return document

    def event_invoke_config(self, request: AwsRequest, name: str) -> AwsResponse | None:
        """Put/Update/Get/DeleteFunctionEventInvokeConfig for the stack's functions (moto keeps the others')."""
        if self.moto_function(name) is not None or name not in self._stack_configs:
            return None
        if request.method == "GET":
            if name not in self.event_configs:
                raise AwsError("ResourceNotFoundException", f"The function {arn('lambda', f'function:{name}')} doesn't have an EventInvokeConfig", 404)
            return AwsResponse.json(self.event_configs[name], content_type=JSON)
        if request.method == "DELETE":
            self.event_configs.pop(name, None)
            return AwsResponse(204)
        body = request.json()
        current = self.event_configs.get(name, {}) if request.method == "POST" else {}
        document = {**current, **{k: v for k, v in body.items() if k in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")}}
        document.update(FunctionArn=arn("lambda", f"function:{name}:$LATEST"), LastModified=time.time())
        self.event_configs[name] = document
        return AwsResponse.json(document, content_type=JSON)

    def _event_config(self, name: str) -> dict[str, Any]:
        function = self.moto_function(name)
        if function is None:
            return self.event_configs.get(name, {})
        return function.event_invoke_config[0].response() if function.event_invoke_config else {}

    def _dead_letter_arn(self, name: str) -> str | None:
        function = self.moto_function(name)
        if function is not None:
            return (getattr(function, "dead_letter_config", None) or {}).get("TargetArn")
        config = self._stack_configs.get(name)
        return config.dead_letter_config.target_arn or None if config is not None else None

    # --- Invoke -------------------------------------------------------------------------------

    def invoke(self, request: AwsRequest, reference: str) -> AwsResponse:
        name, qualifier = function_name(reference)
        qualifier = request.param("Qualifier") or qualifier
        invocation_type = request.headers.get("x-amz-invocation-type", "RequestResponse")
        if invocation_type not in ("RequestResponse", "Event", "DryRun"):
            raise AwsError("InvalidParameterValueException", f"Unsupported InvocationType: {invocation_type}")
        limit = ASYNC_PAYLOAD_LIMIT if invocation_type == "Event" else SYNC_PAYLOAD_LIMIT
        if len(request.body) > limit:
            raise AwsError("RequestTooLargeException", f"Request must be smaller than {limit} bytes for the InvokeFunction operation", 413)
        event = _event(request.body)
        self._resolve(name, qualifier)  # ResourceNotFoundException before anything runs
        if invocation_type == "DryRun":
            return AwsResponse(204)
        if invocation_type == "Event":
            request_id = str(uuid.uuid4())
            threading.Thread(target=self._invoke_async, args=(name, qualifier, event, request_id), daemon=True,
                             name=f"lambda-event-{name}").start()
            return AwsResponse(202, b"", {"x-amzn-RequestId": request_id})
        client_context = request.headers.get("x-amz-client-context")
        outcome = self.run(name, event, qualifier, client_context=_client_context(client_context))
        headers = {"Content-Type": JSON, "x-amzn-RequestId": outcome.request_id, "X-Amz-Executed-Version": outcome.version}
        if outcome.function_error:
            headers["X-Amz-Function-Error"] = outcome.function_error
        if request.headers.get("x-amz-log-type") == "Tail":
            headers["X-Amz-Log-Result"] = base64.b64encode(outcome.log.encode()[-LOG_TAIL_BYTES:]).decode()
        return AwsResponse(200, outcome.payload, headers)

    def _resolve(self, name: str, qualifier: str | None) -> Any:
        """The moto function (a zip), or the stack's handler's name; ResourceNotFoundException if neither."""
        function = self.moto_function(name, qualifier)
        if function is not None:
            return function
        if name in self._stack_configs or self.server.bindings.has_function(name):
            if qualifier not in (None, "$LATEST"):
                raise not_found(f"{name}:{qualifier}")
            return name
        raise not_found(name)

    def run(self, name: str, event: bytes, qualifier: str | None = None, client_context: Any = None) -> Outcome:
        """One synchronous invocation, logged as Lambda logs it (START, the function's output, END, REPORT)."""
        target = self._resolve(name, qualifier)
        request_id = str(uuid.uuid4())
        started = time.perf_counter()
        if isinstance(target, str):
            answer, memory = self._run_in_process(name, event, request_id, client_context), self._stack_memory(name)
            version = "$LATEST"
        else:
            answer, memory = self._worker(target).invoke(event, request_id, client_context), int(target.memory_size)
            version = target.version
        duration = (time.perf_counter() - started) * 1000
        report = (f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\tBilled Duration: {max(1, int(duration + 0.999))} ms\t"
                  f"Memory Size: {memory} MB" + (f"\tMax Memory Used: {answer['max_memory_mb']} MB" if answer.get("max_memory_mb") else "") + "\t\n")
        log = f"START RequestId: {request_id} Version: {version}\n{answer.get('log', '')}END RequestId: {request_id}\n{report}"
        self._append_log(name, log)
        if answer["ok"]:
            payload = answer["payload"].encode() if isinstance(answer["payload"], str) else answer["payload"]
            return Outcome(request_id, True, payload, log, version)
        error = answer["error"]
        return Outcome(request_id, False, json.dumps(error).encode(), log, version, error.get("errorType"))

    def _run_in_process(self, name: str, event: bytes, request_id: str, client_context: Any) -> dict[str, Any]:
        from cauce.core.lambda_runtime import error_response, lambda_context, marshal_error

        settings = self.server.bindings.function_settings(name)
        context = lambda_context(function_name=name, memory_limit_in_mb=int(settings.memory_size), timeout_seconds=settings.timeout,
                                 aws_request_id=request_id, client_context=client_context)
        with self._captured() as log:
            try:
                handler = self.server.bindings.handler_for(name)
            except Exception as error:  # what Lambda reports when the handler cannot be loaded
                return {"ok": False, "log": log.getvalue(), "error": {"errorMessage": f"Unable to import module: {type(error).__name__}: {error}",
                                                                     "errorType": "Runtime.ImportModuleError", "stackTrace": []}}
            try:
                result = handler(json.loads(event), context)
            except Exception as error:
                shape = error_response(error, request_id, skip_frames=1)
                print(f"[ERROR] {shape['errorType']}: {shape['errorMessage']}")
                return {"ok": False, "error": shape, "log": log.getvalue()}
        try:
            return {"ok": True, "payload": json.dumps(result), "log": log.getvalue()}
        except (TypeError, ValueError) as error:
            return {"ok": False, "log": log.getvalue(), "error": marshal_error(error, request_id)}

    @contextlib.contextmanager
    def _captured(self) -> Iterator[io.StringIO]:
        buffer = io.StringIO()
        tees = [stream for stream in (sys.stdout, sys.stderr) if isinstance(stream, _ThreadLogs)]
        for tee in tees:
            tee.local.buffer = buffer
        try:
            yield buffer
        finally:
            for tee in tees:
                tee.local.buffer = None

    def _stack_memory(self, name: str) -> int:
        return int(self.server.bindings.function_settings(name).memory_size)

    def _worker(self, function: Any) -> ZipWorker:
        """The function's worker, started again when its code or configuration changed."""
        name = function.function_name
        if not str(function.run_time or "").startswith("python3") or function.package_type != "Zip":
            raise AwsError("InvalidRuntimeException", f"cauce up runs Python zip functions only, not {function.run_time or function.package_type}", 502)
        environment = self._environment(function)
        key = (function.code_sha_256, function.handler, float(function.timeout), tuple(sorted(environment.items())))
        with self._lock:
            current = self.workers.get(name)
            if current is not None and current[0] == key:
                return current[1]
            task_root = self.functions_dir / name / function.code_sha_256.replace("/", "_").replace("+", "-").rstrip("=")
            if not task_root.exists():
                staging = task_root.with_name(task_root.name + ".tmp")
                shutil.rmtree(staging, ignore_errors=True)
                with zipfile.ZipFile(io.BytesIO(function.code_bytes)) as archive:
                    archive.extractall(staging)  # zipfile drops absolute paths and `..`
                staging.replace(task_root)
            self.logs_dir.mkdir(parents=True, exist_ok=True)
            environment["AWS_LAMBDA_LOG_STREAM_NAME"] = f"{dt.date.today():%Y/%m/%d}/[{function.version}]{uuid.uuid4().hex}"
            environment["LAMBDA_TASK_ROOT"] = str(task_root)
            worker = ZipWorker(name, task_root, function.handler or "", environment, float(function.timeout), self.logs_dir / f"{name}.worker.log")
            self.workers[name] = (key, worker)
        if current is not None:
            current[1].stop()
        return worker

    def _environment(self, function: Any) -> dict[str, str]:
        name = function.function_name
        reserved = {
            "AWS_LAMBDA_FUNCTION_NAME": name, "AWS_LAMBDA_FUNCTION_VERSION": function.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size), "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
            "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.run_time}",
            "_HANDLER": function.handler or "", "TZ": ":UTC", "LANG": "en_US.UTF-8",
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), **CREDENTIALS, "AWS_SESSION_TOKEN": "testing",
        }
        return {"AWS_ENDPOINT_URL": self.server.endpoint, **{k: str(v) for k, v in (function.environment_vars or {}).items()}, **reserved}

    def _append_log(self, name: str, text: str) -> None:
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        with (self.logs_dir / f"{name}.log").open("a") as log:
            log.write(text)

    # --- asynchronous invocations ---------------------------------------------------------------

    def _invoke_async(self, name: str, qualifier: str | None, event: bytes, request_id: str) -> None:
        config = self._event_config(name)
        retries = int(config.get("MaximumRetryAttempts", 2))
        outcome = None
        for attempt in range(retries + 1):
            if attempt and self.stopping.wait(RETRY_DELAYS_SECONDS[min(attempt - 1, 1)] * time_scale()):
                return
            try:
                outcome = self.run(name, event, qualifier)
            except AwsError:
                return  # the function was deleted meanwhile
            if outcome.ok:
                break
        destinations = config.get("DestinationConfig") or {}
        condition = "Success" if outcome.ok else "RetriesExhausted"
        destination = (destinations.get("OnSuccess") if outcome.ok else destinations.get("OnFailure")) or {}
        record = {
            "version": "1.0", "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "requestContext": {"requestId": request_id, "functionArn": arn("lambda", f"function:{name}:{outcome.version}"),
                               "condition": condition, "approximateInvokeCount": attempt + 1},
            "requestPayload": json.loads(event),
            "responseContext": {"statusCode": 200, "executedVersion": outcome.version,
                                **({"functionError": outcome.function_error} if outcome.function_error else {})},
            "responsePayload": json.loads(outcome.payload),
        }
        if destination.get("Destination"):
            self._send(destination["Destination"], record, outcome.ok)
        dead_letter = None if outcome.ok else self._dead_letter_arn(name)
        if dead_letter:
            error = json.loads(outcome.payload)
            attributes = {"RequestID": request_id, "ErrorCode": "200", "ErrorMessage": str(error.get("errorMessage", ""))[:256]}
            self._send_dead_letter(dead_letter, event.decode(), attributes)

    def _send(self, target: str, record: dict[str, Any], succeeded: bool) -> None:
        """An invocation record to a destination (Lambda's documented destinations: SQS, SNS, Lambda, EventBridge)."""
        service = target.split(":")[2]
        body = json.dumps(record)
        try:
            if service == "sqs":
                sqs = self.server.client("sqs")
                sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=target.rsplit(":", 1)[-1])["QueueUrl"], MessageBody=body)
            elif service == "sns":
                self.server.client("sns").publish(TopicArn=target, Message=body)
            elif service == "lambda":
                self.server.client("lambda").invoke(FunctionName=target, InvocationType="Event", Payload=body.encode())
            elif service == "events":
                kind = "Success" if succeeded else "Failure"
                self.server.client("events").put_events(Entries=[{"Source": "lambda", "DetailType": f"Lambda Function Invocation Result - {kind}",
                                                                  "Detail": body, "EventBusName": target}])
        except Exception as error:  # a destination that does not exist: the record is dropped, as AWS drops it
            print(f"cauce up: destination {target} refused the invocation record: {error}", file=sys.stderr)

    def _send_dead_letter(self, target: str, event: str, attributes: dict[str, str]) -> None:
        message_attributes = {k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()}
        try:
            if ":sqs:" in target:
                sqs = self.server.client("sqs")
                sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=target.rsplit(":", 1)[-1])["QueueUrl"], MessageBody=event,
                                 MessageAttributes=message_attributes)
            elif ":sns:" in target:
                self.server.client("sns").publish(TopicArn=target, Message=event, MessageAttributes=message_attributes)
        except Exception as error:
            print(f"cauce up: dead-letter queue {target} refused the event: {error}", file=sys.stderr)

    # --- event source mappings -------------------------------------------------------------------

    def event_source_mapping(self, request: AwsRequest) -> AwsResponse | None:
        if request.method == "POST" and request.path.rstrip("/") == "/2015-03-31/event-source-mappings":
            return self.create_event_source_mapping(request)
        if request.method == "DELETE":
            response = self.gateway.forward(request)
            if response.status in (200, 202):
                self._stop_mapping(request.path.rstrip("/").rsplit("/", 1)[-1])
            return response
        return None

    def create_event_source_mapping(self, request: AwsRequest) -> AwsResponse:
        spec = request.json()
        source = str(spec.get("EventSourceArn", ""))
        if ":kinesis:" not in source:
            return self.gateway.forward(request)  # moto's (an SQS queue's mapping runs inside moto, through run())
        name = function_name(str(spec.get("FunctionName", "")))[0]
        if self.moto_function(name) is None and name in self._stack_configs:
            raise AwsError("InvalidParameterValueException", f"{name} is one of the stack's functions: map it in the stack's lambda_event_sources")
        response = self.gateway.forward(request)
        if response.status != 201:
            return response
        created = json.loads(response.body)
        self._start_mapping(created, spec)
        return response

    def _start_mapping(self, created: dict[str, Any], spec: dict[str, Any]) -> None:
        from moto.kinesis.models import kinesis_backends

        from cauce.localstack.backends import InProcessSqs
        from cauce.localstack.event_source import KinesisEventSourceMapping, sqs_destination

        stream = created["EventSourceArn"].rsplit("/", 1)[-1]
        for moto_stream in kinesis_backends[ACCOUNT][REGION].streams.values():  # moto would invoke once per record, inside PutRecord
            moto_stream.lambda_event_source_mappings.pop(created["EventSourceArn"], None)
        name = function_name(created["FunctionArn"])[0]
        on_failure = ((spec.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        destination = None
        if on_failure and ":sqs:" in on_failure:
            sqs = InProcessSqs(REGION, self.server.endpoint)
            destination = sqs_destination(sqs, sqs.get_queue_url(QueueName=on_failure.rsplit(":", 1)[-1])["QueueUrl"])
        retries = int(spec.get("MaximumRetryAttempts", -1))
        mapping = KinesisEventSourceMapping(self.server.kinesis, stream, _BoundFunction(self, name), function_name=name,
                                            batch_size=int(spec.get("BatchSize", 100)),
                                            maximum_retry_attempts=UNBOUNDED_RETRIES if retries < 0 else retries,
                                            bisect_batch_on_function_error=bool(spec.get("BisectBatchOnFunctionError", False)),
                                            on_failure=destination, region=REGION)
        if spec.get("StartingPosition") == "LATEST":
            for _record in mapping.reader.read():  # what is in the stream already is not for this mapping
                pass
        self.mappings[created["UUID"]] = mapping
        self.server.readers.setdefault(stream, []).append(mapping.reader)
        self.server.mappings.append((created["UUID"], mapping))

    def _stop_mapping(self, mapping_id: str) -> None:
        mapping = self.mappings.pop(mapping_id, None)
        if mapping is None:
            return
        self.server.mappings[:] = [(key, m) for key, m in self.server.mappings if m is not mapping]
        readers = self.server.readers.get(mapping.stream, [])
        if mapping.reader in readers:
            readers.remove(mapping.reader)

    # --- life -----------------------------------------------------------------------------------

    def close(self) -> None:
        self.stopping.set()
        with self._lock:
            workers, self.workers = list(self.workers.values()), {}
        for _key, worker in workers:
            worker.stop()


class _BoundFunction:
    """A function created through the API, as the stack's bindings call a handler: the response, or
    LambdaFunctionError with Lambda's error shape."""

    def __init__(self, service: LambdaService, name: str) -> None:
        self.service, self.name = service, name
        self.__name__ = name

    def __call__(self, event: Any, context: Any = None) -> Any:
        outcome = self.service.run(self.name, json.dumps(event, default=str).encode())
        if not outcome.ok:
            raise LambdaFunctionError(json.loads(outcome.payload))
        return json.loads(outcome.payload)


def _event(body: bytes) -> bytes:
    """The payload as the function gets it: JSON (an empty payload is `{}`)."""
    if not body.strip():
        return b"{}"
    try:
        json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AwsError("InvalidRequestContentException", f"Could not parse request body into json: {error}") from None
    return body


def _client_context(header: str | None) -> Any:
    if not header:
        return None
    try:
        return json.loads(base64.b64decode(header))
    except (ValueError, json.JSONDecodeError):
        raise AwsError("InvalidRequestContentException", "Client context must be a valid Base64-encoded JSON object.") from None


def register(server: "LocalStackServer", gateway: Any) -> Any:
    """Serve Lambda: Invoke and what moto cannot run; returns what undoes it when the server stops."""
    service = LambdaService(server, gateway)
    streams = (sys.stdout, sys.stderr)
    sys.stdout, sys.stderr = _ThreadLogs(sys.stdout), _ThreadLogs(sys.stderr)
    undo_moto: list[Any] = []
    patching = threading.Lock()

    def first_request(request: AwsRequest) -> AwsResponse | None:
        # moto's Lambda (with its ECR and IAM models) is imported with the first Lambda request, not at
        # start: only a function created through this API can be invoked by moto itself
        if not undo_moto:
            with patching:
                if not undo_moto:
                    undo_moto.append(_run_moto_invocations_here(service))
        return service(request)

    gateway.service("lambda", first_request)
    server.lambda_service = service

    def close() -> None:
        service.close()
        for undo in undo_moto:
            undo()
        if isinstance(sys.stdout, _ThreadLogs):
            sys.stdout = streams[0]
        if isinstance(sys.stderr, _ThreadLogs):
            sys.stderr = streams[1]

    return close


def _run_moto_invocations_here(service: LambdaService) -> Any:
    """What moto invokes itself (an SQS mapping, an SNS subscription) runs the function through
    `service`, with moto keeping functions without Docker; returns what undoes it."""
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.core.config import default_user_config

    saved_config = dict(default_user_config.get("lambda", {}))
    default_user_config["lambda"] = {**saved_config, "use_docker": False}
    original_invoke = LambdaSimpleBackend.invoke

    def invoke(backend, function_name_or_arn, qualifier, body, headers, response_headers):
        payload = body if isinstance(body, bytes) else (body or "{}").encode()
        outcome = service.run(function_name(function_name_or_arn)[0], _event(payload), qualifier)
        if not outcome.ok:
            response_headers["x-amz-function-error"] = "Unhandled"
        return outcome.payload

    LambdaSimpleBackend.invoke = invoke

    def undo() -> None:
        LambdaSimpleBackend.invoke = original_invoke
        default_user_config["lambda"] = saved_config

    return undo
