"""What every record handler shares: the user's function, how records are decoded, settings
read at cold start, Powertools telemetry, and the Lambda context on every log line."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Literal

from cauce.handlers.config import HandlerSettings, callable_name
from cauce.handlers.observability import Telemetry


class RecordHandler:
    """A Lambda handler `(event, context) -> response` around a function over one record."""

    #: JMESPath into the event for the logs' correlation id (None: the Lambda request id only).
    correlation_id_path: str | None = None

    def __init__(
        self,
        function: Callable[..., Any],
        *,
        input: Literal["json", "bytes"] = "json",
        service: str | None = None,
        settings: HandlerSettings | None = None,
        log_stream: Any = None,
    ) -> None:
        if input not in ("json", "bytes"):
            raise ValueError(f"input must be 'json' or 'bytes', got {input!r}")
        self.function = function
        self.input = input
        self.settings = settings or HandlerSettings.from_environment(default_service=callable_name(function), service=service)
        self.telemetry = Telemetry(self.settings, stream=log_stream)
        self._handle = self.telemetry.logger.inject_lambda_context(correlation_id_path=self.correlation_id_path)(self._handle_event)
        functools.update_wrapper(self, function)

    def __call__(self, event: Any, context: Any) -> Any:
        return self._handle(event, context)

    def _handle_event(self, event: Any, context: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def decorate(cls, function: Callable[..., Any] | None = None, /, **options: Any) -> Any:
        """`@decorator` and `@decorator(option=...)` alike."""
        return cls(function, **options) if function is not None else functools.partial(cls, **options)
