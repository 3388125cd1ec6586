"""The endpoint's routing: an overridden operation is answered by its handler, in AWS's error shape
when it refuses; every other request reaches moto."""

import boto3
import pytest
from botocore.exceptions import ClientError

from cauce.localstack.control import _free_port
from cauce.localstack.gateway import AwsError, AwsResponse, Endpoint, PortInUse


@pytest.fixture
def endpoint():
    endpoint = Endpoint("127.0.0.1", _free_port())
    endpoint.start()
    yield endpoint
    endpoint.stop()


def client(endpoint, service):
    return boto3.client(service, region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{endpoint.port}",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def test_an_overridden_operation_is_answered_by_its_handler_and_the_rest_by_moto(endpoint):
    seen = []

    def list_delivery_streams(request):
        seen.append((request.service, request.operation, request.json()))
        return AwsResponse.json({"DeliveryStreamNames": ["from-the-override"], "HasMoreDeliveryStreams": False})

    endpoint.gateway.operation("firehose", "ListDeliveryStreams", list_delivery_streams)
    firehose = client(endpoint, "firehose")
    assert firehose.list_delivery_streams(Limit=5)["DeliveryStreamNames"] == ["from-the-override"]
    assert seen == [("firehose", "ListDeliveryStreams", {"Limit": 5})]
    kinesis = client(endpoint, "kinesis")
    kinesis.create_stream(StreamName="s", ShardCount=1)  # not overridden: moto's
    assert kinesis.list_streams()["StreamNames"] == ["s"]


def test_a_refusal_reaches_the_client_as_its_error_code(endpoint):
    def describe(request):
        raise AwsError("ResourceNotFoundException", f"Firehose {request.json()['DeliveryStreamName']} not found.")

    endpoint.gateway.operation("firehose", "DescribeDeliveryStream", describe)
    with pytest.raises(ClientError) as refused:
        client(endpoint, "firehose").describe_delivery_stream(DeliveryStreamName="missing")
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert "missing" in refused.value.response["Error"]["Message"]


def test_a_service_handler_leaves_what_it_returns_none_for_to_moto_with_the_body_intact(endpoint):
    endpoint.gateway.service("s3", lambda request: None)
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket="bucket-b")
    s3.put_object(Bucket="bucket-b", Key="k", Body=b"payload")
    assert s3.get_object(Bucket="bucket-b", Key="k")["Body"].read() == b"payload"


def test_a_taken_port_is_refused_at_start(endpoint):
    with pytest.raises(PortInUse, match=str(endpoint.port)):
        Endpoint("127.0.0.1", endpoint.port).start()
