"""awsglue.utils: getResolvedOptions, as Glue documents it.

`getResolvedOptions(sys.argv, ["JOB_NAME", "source"])` returns {"JOB_NAME": ..., "source": ...}
from `--JOB_NAME value` (or `--JOB_NAME=value`) in the arguments; a missing one is an error.
"""

from __future__ import annotations


class GlueArgumentError(Exception):
    """A required job argument is missing."""


def getResolvedOptions(args: list[str], options: list[str]) -> dict[str, str]:  # noqa: N802 (Glue's name)
    values: dict[str, str] = {}
    index = 0
    while index < len(args):
        token = args[index]
        if token.startswith("--"):
            key, equals, value = token[2:].partition("=")
            if not equals:
                if index + 1 < len(args):
                    value, index = args[index + 1], index + 1
                else:
                    value = ""
            values[key] = value
        index += 1
    missing = [name for name in options if name not in values]
    if missing:
        raise GlueArgumentError("the following arguments are required: " + ", ".join(f"--{name}" for name in missing))
    return {name: values[name] for name in options}
