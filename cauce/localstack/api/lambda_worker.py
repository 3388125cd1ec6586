"""The process a Lambda function created from a zip runs in (started by cauce.localstack.api.functions).

Run as a script with `python -I`, so that it sees what Lambda's Python runtime gives a function: the
zip's folder first on sys.path (LAMBDA_TASK_ROOT), then the interpreter's libraries (boto3 among them),
and neither the working folder nor the project's code. It imports nothing of Cauce.

    python -I lambda_worker.py TASK_ROOT HANDLER RESPONSE_FD

It imports the handler once (Lambda's init), then reads one invocation per line on stdin and writes
one answer per line on RESPONSE_FD: {"ok": true, "payload": ...} or {"ok": false, "error": Lambda's
error shape}, with the invocation's log lines. What the function prints goes to its log, as on Lambda.
"""

import importlib
import io
import json
import logging
import os
import sys
import time
import traceback


class _Context:
    """The context object Lambda passes a Python handler."""

    def __init__(self, request: dict) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = request["function_arn"]
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.aws_request_id = request["request_id"]
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = request.get("client_context")
        self._deadline = time.monotonic() + float(request["timeout"])

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class _CurrentStdout(io.TextIOBase):
    """The root logger's stream: whatever sys.stdout is during the invocation (its log)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def _error(error: BaseException, error_type: str | None = None, message: str | None = None, skip: int = 0) -> dict:
    frames = traceback.format_list(traceback.extract_tb(error.__traceback__)[skip:])
    return {"errorMessage": message if message is not None else str(error), "errorType": error_type or type(error).__name__,
            "stackTrace": frames}


def _load(handler_name: str):
    """(handler, None) or (None, the error Lambda reports on every invocation)."""
    module_name, _, attribute = handler_name.rpartition(".")
    if not module_name or not attribute:
        return None, {"errorMessage": f"Bad handler '{handler_name}': not enough values to unpack (expected 2, got 1)",
                      "errorType": "Runtime.MalformedHandlerName", "stackTrace": []}
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except SyntaxError as error:
        return None, _error(error, "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {error}")
    except ImportError as error:
        return None, _error(error, "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}")
    except Exception as error:
        return None, _error(error, skip=1)
    handler = getattr(module, attribute, None)
    if handler is None:
        return None, {"errorMessage": f"Handler '{attribute}' missing on module '{module_name}'",
                      "errorType": "Runtime.HandlerNotFound", "stackTrace": []}
    return handler, None


def main() -> None:
    task_root, handler_name, response_fd = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sys.path.insert(0, task_root)
    os.chdir(task_root)
    answers = os.fdopen(response_fd, "w", buffering=1)
    requests = sys.stdin
    real_stdout, real_stderr = sys.stdout, sys.stderr
    request_ids = _RequestIdFilter()
    root = logging.getLogger()
    log_handler = logging.StreamHandler(_CurrentStdout())
    log_handler.setFormatter(logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
                                               "%Y-%m-%dT%H:%M:%S"))
    log_handler.addFilter(request_ids)
    log_handler.terminator = ""
    root.addHandler(log_handler)
    root.setLevel(logging.WARNING)
    init_log = io.StringIO()
    sys.stdout = sys.stderr = init_log
    try:
        handler, init_error = _load(handler_name)
    finally:
        sys.stdout, sys.stderr = real_stdout, real_stderr
    pending_init_log = init_log.getvalue()
    for line in requests:
        request = json.loads(line)
        request_ids.request_id = request["request_id"]
        log = io.StringIO()
        log.write(pending_init_log)
        pending_init_log = ""
        sys.stdout = sys.stderr = log
        try:
            if init_error is not None:
                answer = {"ok": False, "error": init_error}
            else:
                try:
                    result = handler(json.loads(request["event"]), _Context(request))
                    try:
                        answer = {"ok": True, "payload": json.dumps(result)}
                    except (TypeError, ValueError) as error:
                        answer = {"ok": False, "error": {"errorMessage": f"Unable to marshal response: {error}",
                                                         "errorType": "Runtime.MarshalError", "stackTrace": []}}
                except Exception as error:
                    answer = {"ok": False, "error": _error(error, skip=1)}
                    text = "".join(traceback.format_exception_only(type(error), error)).strip()
                    log.write(f"[ERROR] {text}\nTraceback (most recent call last):\n{''.join(answer['error']['stackTrace'])}")
        finally:
            sys.stdout, sys.stderr = real_stdout, real_stderr
        if not answer["ok"]:
            answer["error"]["requestId"] = request["request_id"]
        answer["log"] = log.getvalue()
        try:
            import resource

            answer["max_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        except (ImportError, OSError):
            pass
        answers.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
