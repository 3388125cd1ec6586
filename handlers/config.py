"""Handler configuration from the Lambda environment, validated once at cold start.

The seed deploys every function with `STAGE` and `LOG_LEVEL`. A wrong value fails the cold
start with a message naming the variable, instead of surfacing later as odd behaviour.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_STAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


class ConfigurationError(ValueError):
    """An environment variable of the function is missing or invalid."""


@dataclass(frozen=True)
class HandlerSettings:
    stage: str
    log_level: str
    service: str
    metrics_namespace: str

    @classmethod
    def from_environment(
        cls, default_service: str, service: str | None = None, environ: Mapping[str, str] | None = None
    ) -> HandlerSettings:
        """Read the environment; the service name is `service`, else POWERTOOLS_SERVICE_NAME, else the
        function's name on Lambda, else `default_service`."""
        env = os.environ if environ is None else environ
        problems = []
        stage = env.get("STAGE", "dev")
        if not _STAGE.match(stage):
            problems.append(f"STAGE={stage!r}: expected 1-32 letters, digits, '-' or '_' (for example dev, staging, prod)")
        log_level = env.get("LOG_LEVEL", "INFO").upper()
        if log_level not in LOG_LEVELS:
            problems.append(f"LOG_LEVEL={env.get('LOG_LEVEL')!r}: expected one of {', '.join(LOG_LEVELS)}")
        if problems:
            raise ConfigurationError("invalid function environment: " + "; ".join(problems))
        return cls(
            stage=stage,
            log_level=log_level,
            service=service or env.get("POWERTOOLS_SERVICE_NAME") or env.get("AWS_LAMBDA_FUNCTION_NAME") or default_service,
            metrics_namespace=env.get("POWERTOOLS_METRICS_NAMESPACE", "Cauce/Handlers"),
        )


def callable_name(function: object) -> str:
    return getattr(function, "__name__", type(function).__name__)
