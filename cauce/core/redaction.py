"""Keep secrets out of logs and error messages.

Two nets, applied by the ETL jobs' JSON formatter, the handlers' Powertools formatter and the
job runner's error messages:
- by key: the value of any key named like a secret (password, secret, token, api key,
  credential, authorization, private key), at any depth, is masked;
- by value: secrets resolved at run time (a JDBC connection's password from its properties or
  from Secrets Manager) are registered, and masked wherever they appear in text.

Powertools has no log redaction of its own (its data masking utility erases fields of a payload
the caller names, not what a formatter emits), so this is a formatter hook rather than a library.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

MASK = "*****"
SENSITIVE_KEY = re.compile(r"pass(word|wd|phrase)?$|^pwd$|secret|token|api[_-]?key|credential|authorization|private[_-]?key", re.I)
MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words

_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Mask `value` wherever it appears in logs and error messages from now on."""
    if value and len(value) >= MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(value)


def redact_text(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):  # longest first: one secret may contain another
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact(value: Any) -> Any:
    """A copy of `value` with sensitive keys' values masked and registered secrets removed from text."""
    if isinstance(value, Mapping):
        return {key: (MASK if isinstance(key, str) and SENSITIVE_KEY.search(key) and value[key] not in (None, "")
                      else redact(value[key])) for key in value}
    if isinstance(value, (list, tuple)):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return redact_text(value) if _secrets else value
    return value
