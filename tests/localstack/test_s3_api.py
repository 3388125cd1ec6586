"""S3 through the endpoint is the lake folder: plain boto3 clients against the gateway with the S3 API
registered, asserting S3's documented behaviour (the page of the S3 API Reference in each comment)."""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import urllib.request
import zlib
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from cauce.localstack.api.s3 import S3Api, S3Store
from cauce.localstack.control import _free_port
from cauce.localstack.gateway import Endpoint


@pytest.fixture
def lake(tmp_path):
    return tmp_path / "lake"


@pytest.fixture
def endpoint(lake):
    endpoint = Endpoint("127.0.0.1", _free_port())
    endpoint.start()
    endpoint.gateway.service("s3", S3Api(S3Store(lake)).handle)
    yield endpoint
    endpoint.stop()


def client(endpoint, **config):
    return boto3.client("s3", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{endpoint.port}",
                        aws_access_key_id="testing", aws_secret_access_key="testing", config=Config(**config))


def code(raised) -> str:
    return raised.value.response["Error"]["Code"]


def test_a_put_object_is_a_file_of_the_lake_and_a_file_of_the_lake_is_an_object(endpoint, lake):
    s3 = client(endpoint)
    s3.create_bucket(Bucket="mi-bucket")
    data = b'{"a": 1}\n'
    put = s3.put_object(Bucket="mi-bucket", Key="raw/2026/a.json", Body=data, ContentType="application/json", Metadata={"source": "client"})
    assert (lake / "mi-bucket" / "raw" / "2026" / "a.json").read_bytes() == b'{"a": 1}\n'
    # PutObject: the ETag of an object uploaded in one part is the MD5 digest of its data, in quotes
    assert put["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    got = s3.get_object(Bucket="mi-bucket", Key="raw/2026/a.json")
    assert (got["Body"].read(), got["ContentType"], got["Metadata"]) == (b'{"a": 1}\n', "application/json", {"source": "client"})
    assert not list((lake / "mi-bucket").rglob("*.json.*"))  # the metadata is not beside the data

    (lake / "mi-bucket" / "curated").mkdir()
    (lake / "mi-bucket" / "curated" / "part-0.parquet").write_bytes(b"PAR1 written by a job")
    listed = s3.list_objects_v2(Bucket="mi-bucket")["Contents"]
    assert [(o["Key"], o["Size"], o["ETag"]) for o in listed] == [
        ("curated/part-0.parquet", 21, f'"{hashlib.md5(b"PAR1 written by a job").hexdigest()}"'),
        ("raw/2026/a.json", 9, put["ETag"])]
    (lake / "elsewhere").mkdir()  # ListBuckets: every bucket you own; the lake's own `_cauce` folder is none
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["elsewhere", "mi-bucket"]


def test_the_store_survives_a_restart_with_its_metadata(endpoint, lake):
    s3 = client(endpoint)
    s3.create_bucket(Bucket="kept")
    s3.put_object(Bucket="kept", Key="k.csv", Body=b"a,b\n", ContentType="text/csv", Metadata={"run": "7"})
    endpoint.stop()
    again = Endpoint("127.0.0.1", _free_port())
    again.start()
    again.gateway.service("s3", S3Api(S3Store(lake)).handle)
    try:
        head = client(again).head_object(Bucket="kept", Key="k.csv")
        assert (head["ContentType"], head["Metadata"], head["ContentLength"]) == ("text/csv", {"run": "7"}, 4)
    finally:
        again.stop()


def test_upload_file_and_download_file_of_9_mb_go_through_multipart_uploads_and_ranges(endpoint, lake, tmp_path):
    s3 = client(endpoint)
    s3.create_bucket(Bucket="big-files")
    source = tmp_path / "nine.bin"
    source.write_bytes(os.urandom(9 * 1024 * 1024))
    s3.upload_file(str(source), "big-files", "in/nine.bin")  # above the 8 MB threshold: two parts
    assert (lake / "big-files" / "in" / "nine.bin").read_bytes() == source.read_bytes()
    # Checking object integrity: a multipart object's ETag is the MD5 of its parts' MD5s, then -<number of parts>
    data = source.read_bytes()
    parts = [hashlib.md5(data[:8 * 1024 * 1024]).digest(), hashlib.md5(data[8 * 1024 * 1024:]).digest()]
    assert s3.head_object(Bucket="big-files", Key="in/nine.bin")["ETag"] == f'"{hashlib.md5(b"".join(parts)).hexdigest()}-2"'
    target = tmp_path / "back.bin"
    s3.download_file("big-files", "in/nine.bin", str(target))
    assert target.read_bytes() == data
    assert not any((lake / "_cauce" / "s3" / "uploads").iterdir())  # a completed upload leaves no parts behind


def test_multipart_refusals_follow_the_api_reference(endpoint):
    s3 = client(endpoint)
    s3.create_bucket(Bucket="parts")
    upload = s3.create_multipart_upload(Bucket="parts", Key="k")["UploadId"]
    first = s3.upload_part(Bucket="parts", Key="k", UploadId=upload, PartNumber=1, Body=b"small")["ETag"]
    second = s3.upload_part(Bucket="parts", Key="k", UploadId=upload, PartNumber=2, Body=b"tail")["ETag"]
    assert [p["PartNumber"] for p in s3.list_parts(Bucket="parts", Key="k", UploadId=upload)["Parts"]] == [1, 2]
    # CompleteMultipartUpload: EntityTooSmall when a part but the last is under 5 MB; InvalidPart for an unknown ETag
    with pytest.raises(ClientError) as small:
        s3.complete_multipart_upload(Bucket="parts", Key="k", UploadId=upload, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": first}, {"PartNumber": 2, "ETag": second}]})
    assert code(small) == "EntityTooSmall"
    with pytest.raises(ClientError) as invalid:
        s3.complete_multipart_upload(Bucket="parts", Key="k", UploadId=upload, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"0"'}]})
    assert code(invalid) == "InvalidPart"
    s3.abort_multipart_upload(Bucket="parts", Key="k", UploadId=upload)
    with pytest.raises(ClientError) as gone:  # AbortMultipartUpload: the upload's parts are gone, the ID with them
        s3.list_parts(Bucket="parts", Key="k", UploadId=upload)
    assert code(gone) == "NoSuchUpload"


def test_listing_pages_delimits_and_starts_after_as_list_objects_v2_documents(endpoint, lake):
    s3 = client(endpoint)
    s3.create_bucket(Bucket="listing")
    keys = ["a-c", "a/b/1", "a/b/2", "a/c", "b", "photos/2026/jan/x.jpg", "photos/2026/feb/y.jpg", "photos/top.jpg"]
    for key in keys:
        s3.put_object(Bucket="listing", Key=key, Body=key.encode())
    # results are in UTF-8 binary order of the keys ("a-c" before "a/b/1": '-' < '/')
    everything = s3.list_objects_v2(Bucket="listing")
    assert [o["Key"] for o in everything["Contents"]] == sorted(keys) and everything["KeyCount"] == len(keys)

    pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket="listing", PaginationConfig={"PageSize": 3}))
    assert [len(p.get("Contents", [])) for p in pages] == [3, 3, 2] and pages[0]["IsTruncated"] and not pages[-1]["IsTruncated"]
    assert [o["Key"] for p in pages for o in p["Contents"]] == sorted(keys)

    top = s3.list_objects_v2(Bucket="listing", Delimiter="/")
    assert [o["Key"] for o in top["Contents"]] == ["a-c", "b"]
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["a/", "photos/"]
    photos = s3.list_objects_v2(Bucket="listing", Prefix="photos/2026/", Delimiter="/")
    assert [p["Prefix"] for p in photos["CommonPrefixes"]] == ["photos/2026/feb/", "photos/2026/jan/"] and "Contents" not in photos
    # a common prefix counts as one key towards MaxKeys; the next page goes on after it
    first = s3.list_objects_v2(Bucket="listing", Delimiter="/", MaxKeys=2)
    assert ([o["Key"] for o in first["Contents"]], [p["Prefix"] for p in first["CommonPrefixes"]]) == (["a-c"], ["a/"])
    rest = s3.list_objects_v2(Bucket="listing", Delimiter="/", ContinuationToken=first["NextContinuationToken"])
    assert ([o["Key"] for o in rest["Contents"]], [p["Prefix"] for p in rest["CommonPrefixes"]]) == (["b"], ["photos/"])
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="listing", StartAfter="a/c")["Contents"]][:2] == ["b", "photos/2026/feb/y.jpg"]
    # ListObjects (v1): Marker, and NextMarker when a delimiter is given
    v1 = s3.list_objects(Bucket="listing", Delimiter="/", MaxKeys=2)
    assert v1["IsTruncated"] and v1["NextMarker"] == "a/"
    assert [o["Key"] for o in s3.list_objects(Bucket="listing", Marker="b")["Contents"]] == sorted(keys)[5:]


def test_get_object_ranges_and_conditions(endpoint):
    s3 = client(endpoint)
    s3.create_bucket(Bucket="ranges")
    etag = s3.put_object(Bucket="ranges", Key="digits", Body=b"0123456789")["ETag"]
    # GetObject: Range (RFC 9110 byte ranges, one per request), 206 with Content-Range
    part = s3.get_object(Bucket="ranges", Key="digits", Range="bytes=2-4")
    assert (part["Body"].read(), part["ContentRange"]) == (b"234", "bytes 2-4/10")
    assert s3.get_object(Bucket="ranges", Key="digits", Range="bytes=-3")["Body"].read() == b"789"
    with pytest.raises(ClientError) as beyond:
        s3.get_object(Bucket="ranges", Key="digits", Range="bytes=20-")
    assert code(beyond) == "InvalidRange"
    # If-None-Match with the current ETag: 304 Not Modified; If-Match with another: 412 Precondition Failed
    with pytest.raises(ClientError) as unchanged:
        s3.get_object(Bucket="ranges", Key="digits", IfNoneMatch=etag)
    assert unchanged.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    with pytest.raises(ClientError) as other:
        s3.get_object(Bucket="ranges", Key="digits", IfMatch='"not-it"')
    assert code(other) == "PreconditionFailed"
    with pytest.raises(ClientError) as exists:  # PutObject: If-None-Match: * refuses to overwrite
        s3.put_object(Bucket="ranges", Key="digits", Body=b"x", IfNoneMatch="*")
    assert code(exists) == "PreconditionFailed"


def test_errors_are_s3s_and_no_key_leaves_its_bucket(endpoint, lake):
    s3 = client(endpoint)
    s3.create_bucket(Bucket="safe")
    s3.create_bucket(Bucket="safe")  # CreateBucket in us-east-1: re-creating a bucket you own answers 200
    with pytest.raises(ClientError) as missing:
        s3.get_object(Bucket="safe", Key="nothing")
    assert code(missing) == "NoSuchKey" and missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as head:
        s3.head_object(Bucket="safe", Key="nothing")
    assert code(head) == "404"
    with pytest.raises(ClientError) as no_bucket:
        s3.list_objects_v2(Bucket="no-such-bucket")
    assert code(no_bucket) == "NoSuchBucket"
    with pytest.raises(ClientError) as invalid:  # Bucket naming rules: lowercase, 3 to 63 characters
        s3.create_bucket(Bucket="Not_Valid")
    assert code(invalid) == "InvalidBucketName"
    for key in ("../escaped", "a/../../escaped", "a//b"):
        with pytest.raises(ClientError) as refused:
            s3.put_object(Bucket="safe", Key=key, Body=b"x")
        assert code(refused) == "InvalidArgument"
    assert not (lake / "escaped").exists() and not (lake.parent / "escaped").exists()
    with pytest.raises(ClientError):
        s3.list_objects_v2(Bucket="_cauce")
    s3.put_object(Bucket="safe", Key="k", Body=b"x")
    with pytest.raises(ClientError) as not_empty:  # DeleteBucket: all objects must be deleted first
        s3.delete_bucket(Bucket="safe")
    assert code(not_empty) == "BucketNotEmpty"
    s3.delete_object(Bucket="safe", Key="k")
    s3.delete_object(Bucket="safe", Key="k")  # DeleteObject: deleting a missing key succeeds
    s3.delete_bucket(Bucket="safe")
    assert not (lake / "safe").exists()
    with pytest.raises(ClientError) as tagging:
        s3.get_bucket_tagging(Bucket="no-such-bucket")
    assert code(tagging) == "NotImplemented"


def test_copy_delete_objects_and_folders(endpoint, lake):
    s3 = client(endpoint)
    s3.create_bucket(Bucket="copies")
    s3.put_object(Bucket="copies", Key="src/a.txt", Body=b"alpha", ContentType="text/plain", Metadata={"m": "1"})
    # CopyObject: the metadata is copied unless the directive is REPLACE
    s3.copy_object(Bucket="copies", Key="dst/a.txt", CopySource={"Bucket": "copies", "Key": "src/a.txt"})
    copied = s3.get_object(Bucket="copies", Key="dst/a.txt")
    assert (copied["Body"].read(), copied["ContentType"], copied["Metadata"]) == (b"alpha", "text/plain", {"m": "1"})
    s3.copy_object(Bucket="copies", Key="dst/a.txt", CopySource="copies/src/a.txt", MetadataDirective="REPLACE", ContentType="text/x")
    assert s3.head_object(Bucket="copies", Key="dst/a.txt")["ContentType"] == "text/x"
    with pytest.raises(ClientError) as itself:
        s3.copy_object(Bucket="copies", Key="src/a.txt", CopySource="copies/src/a.txt")
    assert code(itself) == "InvalidRequest"
    s3.put_object(Bucket="copies", Key="empty-folder/", Body=b"")
    assert "empty-folder/" in [o["Key"] for o in s3.list_objects_v2(Bucket="copies")["Contents"]]
    deleted = s3.delete_objects(Bucket="copies", Delete={"Objects": [{"Key": "src/a.txt"}, {"Key": "dst/a.txt"}, {"Key": "empty-folder/"}]})
    assert sorted(d["Key"] for d in deleted["Deleted"]) == ["dst/a.txt", "empty-folder/", "src/a.txt"]
    assert s3.list_objects_v2(Bucket="copies")["KeyCount"] == 0 and not any((lake / "copies").iterdir())


def signed(endpoint, method, url, body=b"", headers=None, payload_hash=None):
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    request.context["payload_signing_enabled"] = payload_hash is None
    if payload_hash:
        request.headers["X-Amz-Content-SHA256"] = payload_hash
    SigV4Auth(Credentials("testing", "testing"), "s3", "us-east-1").add_auth(request)
    connection = http.client.HTTPConnection("127.0.0.1", endpoint.port)
    url = urlsplit(request.url)
    connection.request(method, url.path or "/", body=body, headers={"Host": url.netloc, **dict(request.headers)})
    response = connection.getresponse()
    return response.status, response.read()


def test_virtual_host_style_and_an_aws_chunked_body_with_a_trailing_checksum(endpoint, lake):
    s3 = client(endpoint)
    s3.create_bucket(Bucket="hosted")
    # Virtual hosting of buckets: the bucket is the first label of the Host header
    status, _ = signed(endpoint, "PUT", f"http://hosted.localhost:{endpoint.port}/v.txt", b"virtual")
    assert status == 200 and (lake / "hosted" / "v.txt").read_bytes() == b"virtual"
    status, body = signed(endpoint, "GET", f"http://hosted.s3.us-east-1.amazonaws.com:{endpoint.port}/v.txt")
    assert (status, body) == (200, b"virtual")

    # SigV4 streaming with a trailer: aws-chunked chunks, then the checksum as a trailing header
    data = b"chunked payload " * 100
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()

    def chunked(checksum):
        return (f"{len(data[:1000]):x}\r\n".encode() + data[:1000] + b"\r\n" + f"{len(data[1000:]):x}\r\n".encode() + data[1000:]
                + b"\r\n0\r\n" + f"x-amz-checksum-crc32:{checksum}\r\n\r\n".encode())

    headers = {"Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": str(len(data)), "X-Amz-Trailer": "x-amz-checksum-crc32"}
    status, _ = signed(endpoint, "PUT", f"http://127.0.0.1:{endpoint.port}/hosted/chunked.bin", chunked(crc), headers,
                       payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    assert status == 200 and (lake / "hosted" / "chunked.bin").read_bytes() == data
    assert s3.head_object(Bucket="hosted", Key="chunked.bin", ChecksumMode="ENABLED")["ChecksumCRC32"] == crc
    status, body = signed(endpoint, "PUT", f"http://127.0.0.1:{endpoint.port}/hosted/bad.bin", chunked("AAAAAA=="), headers,
                          payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    assert status == 400 and b"<Code>BadDigest</Code>" in body and not (lake / "hosted" / "bad.bin").exists()


def test_a_presigned_url_reads_an_object(endpoint):
    s3 = client(endpoint)
    s3.create_bucket(Bucket="shared")
    s3.put_object(Bucket="shared", Key="report.html", Body=b"<html/>", ContentType="text/html")
    for presigner in (s3, client(endpoint, signature_version="s3v4")):  # Signature Version 2 (boto3's default) and 4
        url = presigner.generate_presigned_url("get_object", Params={"Bucket": "shared", "Key": "report.html"}, ExpiresIn=60)
        with urllib.request.urlopen(url) as response:
            assert (response.read(), response.headers["Content-Type"]) == (b"<html/>", "text/html")
