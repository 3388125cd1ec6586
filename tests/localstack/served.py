"""A real local stack server in this process on a free port (its state in a temporary folder), and
plain boto3 clients pointed at it: what any AWS client of `cauce up` sees.

    from tests.localstack.served import api_client, stack_server  # noqa: F401 (fixtures)
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from unittest import mock

import boto3
import pytest


@pytest.fixture(scope="module")
def stack_server(tmp_path_factory):
    from cauce.core.aws import ENVIRONMENT
    from cauce.core.stack import load_stack
    from cauce.localstack.control import _free_port
    from cauce.localstack.server import LocalStackServer

    with mock.patch.dict("os.environ", {**ENVIRONMENT, "CAUCE_TIME_SCALE": "0.01"}):
        server = LocalStackServer(load_stack(None), tmp_path_factory.mktemp("stack"), _free_port())
        server.start()
        try:
            yield server
        finally:
            server.stop()
            reset_moto()


def reset_moto() -> None:
    """moto's backends are this process's: the next server starts from nothing, as a new `cauce up` does."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


@pytest.fixture(scope="module")
def api_client(stack_server):
    """`api_client("lambda")`: a plain boto3 client of the server."""
    return lambda service: boto3.client(service, region_name="us-east-1", endpoint_url=stack_server.endpoint,
                                        aws_access_key_id="testing", aws_secret_access_key="testing")


def zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def lambda_role(client) -> str:
    iam = client("iam")
    try:
        return iam.get_role(RoleName="lambda-role")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                          "Action": "sts:AssumeRole"}]}
        return iam.create_role(RoleName="lambda-role", AssumeRolePolicyDocument=json.dumps(policy))["Role"]["Arn"]


def create_zip_function(client, name: str, code: str, **settings) -> dict:
    return client("lambda").create_function(FunctionName=name, Runtime="python3.12", Role=lambda_role(client), Handler="app.handler",
                                         Code={"ZipFile": zip_of({"app.py": code})}, **settings)


def eventually(read, done, seconds: float = 20.0, every: float = 0.05):
    """Poll `read()` until `done(value)`, for at most `seconds`; the last value either way."""
    deadline = time.monotonic() + seconds
    value = read()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(every)
        value = read()
    return value
