"""The endpoint `cauce up` serves: moto's server, with the operations the local stack runs itself
answered first.

moto answers most AWS APIs well, in memory. For a few its answer would contradict the local stack:
its S3 is a second store beside the lake, its Firehose never delivers, its Lambda needs Docker and
its executions do not run the project's Tasks. Those operations are *overridden*: a handler of
this process answers, and every other request reaches moto unchanged. Routing uses what every AWS
client sends: the service is the SigV4 credential scope's signing name (`s3`, `firehose`, `lambda`,
`states`, `glue`, ...), and for the JSON protocols the operation is the `X-Amz-Target` header's tail.
A REST service (S3, Lambda) is overridden as a whole service: its handler reads the method and path,
and returns None for what it leaves to moto.

Why not moto's own extension points: moto's backends keep state per process in module globals and
are rebuilt from responses classes per service; overriding at the HTTP boundary keeps moto's internals
out of the stack's code, and a handler is tested with any client pointed at the endpoint.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

JSON_CONTENT_TYPE = "application/x-amz-json-1.1"


@dataclass(frozen=True)
class AwsRequest:
    """One request, as a handler sees it (the body already read)."""

    service: str
    operation: str | None
    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    environ: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)  # the WSGI request, for `Gateway.forward`

    def json(self) -> Any:
        return json.loads(self.body or b"{}")

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class AwsResponse:
    status: int = 200
    body: bytes | str | Any = b""  # bytes or text as they are; a binary file (with `read`) streamed; anything else as JSON
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: Any, status: int = 200, content_type: str = JSON_CONTENT_TYPE) -> "AwsResponse":
        return cls(status, json.dumps(payload, default=_json_default), {"Content-Type": content_type})


def _json_default(value: Any) -> Any:
    from datetime import datetime

    if isinstance(value, datetime):
        return value.timestamp()  # the JSON protocols carry timestamps as epoch seconds
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class AwsError(Exception):
    """An error in AWS's shape for the JSON protocols: the client raises it as `ClientError` with this code."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status

    def response(self) -> AwsResponse:
        return AwsResponse(self.status, json.dumps({"__type": self.code, "message": self.message}),
                           {"Content-Type": JSON_CONTENT_TYPE, "x-amzn-ErrorType": self.code})


Handler = Callable[[AwsRequest], "AwsResponse | None"]


def signing_service(environ: Mapping[str, Any]) -> str | None:
    """The service named in the request's SigV4 credential scope (`.../region/service/aws4_request`):
    in the Authorization header, or in a presigned URL's `X-Amz-Credential` parameter (Signature Version 2: `s3`)."""
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    try:
        scope = authorization.split(",")[0].split()[1]
        return scope.split("/")[3].lower()
    except IndexError:
        pass
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if authorization.startswith("AWS ") or ("AWSAccessKeyId" in query and "Signature" in query):
        return "s3"  # Signature Version 2 (a header, or a presigned URL's query): only S3 still takes it
    try:
        return query["X-Amz-Credential"][0].split("/")[3].lower() if "X-Amz-Credential" in query else None
    except IndexError:
        return None


class Gateway:
    """A WSGI application: overrides first, moto for the rest."""

    def __init__(self, fallback: Callable[..., Any]) -> None:
        self.fallback = fallback
        self._operations: dict[tuple[str, str], Handler] = {}
        self._services: dict[str, Handler] = {}

    def operation(self, service: str, operation: str, handler: Handler) -> None:
        """Answer one operation of a JSON-protocol service (`firehose`, `PutRecord`)."""
        self._operations[(service, operation)] = handler

    def service(self, service: str, handler: Handler) -> None:
        """See every request of a service first; the handler returns None to leave one to moto."""
        self._services[service] = handler

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        service = signing_service(environ)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        operation = target.rsplit(".", 1)[-1] if target else None
        handler = self._operations.get((service, operation)) if service and operation else None
        handler = handler or (self._services.get(service) if service else None)
        if handler is None:
            return self.fallback(environ, start_response)
        body = _read_body(environ)
        request = AwsRequest(service=service or "", operation=operation, method=environ.get("REQUEST_METHOD", "GET"),
                             path=environ.get("PATH_INFO", "/"), query=parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True),
                             headers=_headers(environ), body=body, environ=environ)
        try:
            response = handler(request)
        except AwsError as error:
            response = error.response()
        except Exception as error:  # a fault of the local stack: AWS's shape for a service error, not a traceback
            import logging

            logging.getLogger("cauce.localstack").exception("%s %s failed", service, operation or request.path)
            response = AwsError("ServiceException", f"the local stack failed: {type(error).__name__}: {error}", 500).response()
        if response is None:
            environ["wsgi.input"] = io.BytesIO(body)  # moto reads the body again
            environ["CONTENT_LENGTH"] = str(len(body))
            return self.fallback(environ, start_response)
        return _respond(response, start_response)


    def forward(self, request: AwsRequest) -> AwsResponse:
        """moto's answer to a request, for a handler that acts on what moto did (a function it created)."""
        environ = {**request.environ, "wsgi.input": io.BytesIO(request.body), "CONTENT_LENGTH": str(len(request.body))}
        started: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            started["status"], started["headers"] = int(status.split()[0]), dict(headers)

        chunks = self.fallback(environ, start_response)
        try:
            body = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        headers = {k: v for k, v in started["headers"].items() if k.lower() != "content-length"}
        return AwsResponse(started["status"], body, headers)


def _read_body(environ: Mapping[str, Any]) -> bytes:
    length = environ.get("CONTENT_LENGTH") or ""
    stream = environ["wsgi.input"]
    if length.isdigit():
        return stream.read(int(length))
    if environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
        return stream.read()
    return b""


def _headers(environ: Mapping[str, Any]) -> dict[str, str]:
    headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = environ[key]
    return headers


def _respond(response: AwsResponse, start_response: Any) -> list[bytes]:
    from http import HTTPStatus

    body = response.body
    if hasattr(body, "read"):  # a binary file: served in chunks (the handler sets Content-Length), then closed
        start_response(f"{response.status} {HTTPStatus(response.status).phrase}", list(response.headers.items()))
        return _chunks_of(body)
    if isinstance(body, str):
        body = body.encode()
    elif not isinstance(body, bytes):
        body = json.dumps(body, default=_json_default).encode()
    headers = {"Content-Length": str(len(body)), **response.headers}
    start_response(f"{response.status} {HTTPStatus(response.status).phrase}", list(headers.items()))
    return [body]


def _chunks_of(stream: Any, size: int = 1024 * 1024) -> Any:
    try:
        while chunk := stream.read(size):
            yield chunk
    finally:
        stream.close()


class PortInUse(OSError):
    def __init__(self, port: int) -> None:
        super().__init__(f"port {port} on 127.0.0.1 is already in use")
        self.port = port


class Endpoint:
    """The gateway served on a port by a threaded WSGI server (in a daemon thread), moto behind it."""

    def __init__(self, host: str, port: int) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        self.host, self.port = host, port
        self.gateway = Gateway(DomainDispatcherApplication(create_backend_app))
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Bind the port (raising PortInUse if it is taken) and serve in the background."""
        from moto.moto_server.werkzeug_app import MotoRequestHandler
        from werkzeug.serving import make_server

        try:
            self._server = make_server(self.host, self.port, self.gateway, threaded=True, request_handler=MotoRequestHandler)
        except SystemExit:  # werkzeug prints "Address already in use" and exits rather than raise
            raise PortInUse(self.port) from None
        self._thread = threading.Thread(target=self._server.serve_forever, name="cauce-endpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
