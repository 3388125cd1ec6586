"""Stacks for tests: the module's required variables with nothing in them, and full entries to
add, parsed by cauce.core.stack.parse_stack as a stack file would be."""

from __future__ import annotations

import copy
from typing import Any

from cauce.core.stack import Stack, parse_stack

EMPTY: dict[str, Any] = {
    "project_name": "test-stack", "environment": "dev",
    "glue_config": {"job_config": {}, "crawler_config": {}, "connection_config": {}},
    "lambda_config": {}, "step_functions_config": {},
    "kinesis_config": {"stream_config": {}, "firehose_config": {}, "analytics_config": {}},
}


def empty_stack() -> Stack:
    """A valid stack that defines no resource."""
    return parse_stack(EMPTY)


def stack_with(**sections: Any) -> Stack:
    """The empty stack with `sections` merged in: `stack_with(kinesis_config={"stream_config": {...}})`."""
    values = copy.deepcopy(EMPTY)
    for name, section in sections.items():
        if isinstance(section, dict) and isinstance(values.get(name), dict):
            values[name] = {**values[name], **section}
        else:
            values[name] = section
    return parse_stack(values)


def glue_job(**overrides: Any) -> dict[str, Any]:
    return {"name": "j", "description": "", "role_arn": "arn:aws:iam::123456789012:role/r", "glue_version": "5.0", "worker_type": "G.2X",
            "number_of_workers": 5, "max_retries": 0, "timeout": 60, "script_location": "s3://bucket/scripts/j.py", "default_arguments": {},
            "connections": [], "max_concurrent_runs": 1, "notification_property": {"notify_delay_after": 10},
            "execution_property": {"max_concurrent_runs": 1}, **overrides}


def lambda_function(**overrides: Any) -> dict[str, Any]:
    return {"function_name": "f", "description": "", "handler": "cauce.handlers.data_processor.handler", "runtime": "python3.12",
            "memory_size": 128, "timeout": 3, "role_arn": "arn:aws:iam::123456789012:role/r", "environment": {},
            "vpc_config": {"subnet_ids": [], "security_group_ids": []}, "dead_letter_config": {"target_arn": ""},
            "tracing_config": {"mode": "PassThrough"}, "layers": [], "tags": {}, **overrides}
