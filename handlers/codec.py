"""JSON and base64 for record payloads: orjson when it is installed (it is in the layer), else json.

orjson parses and serializes a 1 KB record several times faster than the json module, which is
most of a transform's cost; the fallback keeps handlers working where only the standard library is.
"""

from __future__ import annotations

import binascii
import functools
from collections.abc import Callable
from typing import Any

try:
    import orjson

    loads: Callable[[bytes | str], Any] = orjson.loads
    dumps: Callable[[Any], bytes] = orjson.dumps

    # JSON and a newline in one C call (a partial, not a Python function: this runs once a record)
    dumps_line: Callable[[Any], bytes] = functools.partial(orjson.dumps, option=orjson.OPT_APPEND_NEWLINE)

    JSONDecodeError: type[Exception] = orjson.JSONDecodeError
except ImportError:  # pragma: no cover - exercised where orjson is absent
    import json

    loads = json.loads

    def dumps(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()

    def dumps_line(value: Any) -> bytes:
        return dumps(value) + b"\n"

    JSONDecodeError = json.JSONDecodeError


def b64decode(data: str) -> bytes:
    """Strict base64: characters outside the alphabet are an error, not silently skipped."""
    return binascii.a2b_base64(data, strict_mode=True)


def b64encode_text(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii")
