"""Glue JDBC connections: the stack's `connection_config`, resolved to what Spark needs.

The password may be given as `PASSWORD`, as a dynamic reference
`{{resolve:secretsmanager:SECRET_ID:SecretString:KEY}}`, or through Glue's own `SECRET_ID`
property (a secret holding `username` and `password`). Secrets are read with boto3, so
locally they come from moto and on AWS from Secrets Manager. The password is never logged
and never part of an error message.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from cauce.core.redaction import register_secret

_RESOLVE = re.compile(r"^\{\{resolve:secretsmanager:(?P<secret>[^:}]+(?::[^:}]+)*?)(?::SecretString:(?P<key>[^:}]+))?(?::[^}]*)?\}\}$")
_DRIVERS = {
    "postgresql": "org.postgresql.Driver",
    "mysql": "com.mysql.cj.jdbc.Driver",
    "sqlserver": "com.microsoft.sqlserver.jdbc.SQLServerDriver",
    "oracle": "oracle.jdbc.OracleDriver",
    "redshift": "com.amazon.redshift.jdbc42.Driver",
}


class JdbcConnectionError(RuntimeError):
    """A JDBC connection that is misconfigured or cannot be reached."""


@dataclass(frozen=True)
class JdbcConnection:
    name: str
    url: str
    user: str
    password: str = field(repr=False)

    @property
    def driver(self) -> str:
        engine = self.url.split(":")[1] if self.url.count(":") >= 2 else ""
        if engine not in _DRIVERS:
            raise JdbcConnectionError(f"connection {self.name}: unsupported JDBC URL {self.url!r}")
        return _DRIVERS[engine]

    def spark_options(self, table: str) -> dict[str, str]:
        return {"url": self.url, "user": self.user, "password": self.password, "dbtable": table, "driver": self.driver}


def _secrets_client():
    import boto3

    return boto3.client("secretsmanager")


def resolve_jdbc_connection(definition: dict[str, Any], secrets_client: Callable[[], Any] = _secrets_client) -> JdbcConnection:
    """A `connection_config` entry to a JdbcConnection, reading any referenced secret."""
    name = definition.get("name", "?")
    if definition.get("connection_type", "JDBC").upper() != "JDBC":
        raise JdbcConnectionError(f"connection {name}: connection_type {definition['connection_type']!r} is not JDBC")
    properties = definition.get("connection_properties", {})
    url = properties.get("JDBC_CONNECTION_URL")
    if not url:
        raise JdbcConnectionError(f"connection {name}: connection_properties has no JDBC_CONNECTION_URL")
    user = properties.get("USERNAME")
    password = properties.get("PASSWORD")
    if "SECRET_ID" in properties:
        secret = _read_secret(name, properties["SECRET_ID"], secrets_client)
        try:
            document = json.loads(secret)
        except json.JSONDecodeError:
            raise JdbcConnectionError(f"connection {name}: secret {properties['SECRET_ID']!r} is not a JSON object") from None
        user = user or document.get("username")
        password = document.get("password")
    elif password and password.startswith("{{resolve:"):
        match = _RESOLVE.match(password)
        if not match:
            raise JdbcConnectionError(f"connection {name}: PASSWORD is a dynamic reference Cauce cannot read (only secretsmanager)")
        secret = _read_secret(name, match["secret"], secrets_client)
        if match["key"]:
            try:
                password = json.loads(secret)[match["key"]]
            except (json.JSONDecodeError, KeyError, TypeError):
                raise JdbcConnectionError(f"connection {name}: secret {match['secret']!r} has no key {match['key']!r}") from None
        else:
            password = secret
    if not user or password is None:
        raise JdbcConnectionError(f"connection {name}: needs USERNAME and PASSWORD (or SECRET_ID)")
    register_secret(password)  # masked wherever it would appear in a log line or an error message
    return JdbcConnection(name=name, url=url, user=user, password=password)


def _read_secret(name: str, secret_id: str, secrets_client: Callable[[], Any]) -> str:
    try:
        return secrets_client().get_secret_value(SecretId=secret_id)["SecretString"]
    except Exception as error:  # botocore raises many kinds; name the secret, never its value
        raise JdbcConnectionError(f"connection {name}: cannot read secret {secret_id!r}: {type(error).__name__}") from None
