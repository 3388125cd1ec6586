"""The Firehose API of `cauce up`: the stack's delivery streams, and those created by any client, delivering
through the one emulation (cauce.localstack.firehose.FirehoseDelivery) with the same accounting.

moto's Firehose would be a second registry beside the stack's deliveries, and it never delivers from a
Kinesis source nor honours buffering hints or the Lambda processor. So every Firehose operation is
answered here, following the Amazon Data Firehose API Reference:
- ListDeliveryStreams, DescribeDeliveryStream (AWS's shape: source, ExtendedS3 destination with its
  buffering hints, compression, prefixes, processing configuration), ListTagsForDeliveryStream,
  TagDeliveryStream, UntagDeliveryStream;
- CreateDeliveryStream: DirectPut or KinesisStreamAsSource, to an S3 or ExtendedS3 destination in the lake,
  with a Lambda processor given by ARN (a stack handler, or a function created through the Lambda API),
  resolved through the server's bindings each time it is invoked; DeleteDeliveryStream delivers what is
  buffered first (no record accepted is lost);
- PutRecord and PutRecordBatch for DirectPut streams; a stream that reads a Kinesis stream refuses them,
  as AWS does.
A Kinesis source is read from its LATEST position at creation, as Firehose reads it, by the server's loop
(`step()`), which drives these deliveries as it drives the stack's. Streams created through the API live
as long as the server, like the Kinesis streams moto holds. Other operations and destinations are refused
with InvalidArgumentException naming what is not served.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cauce.core.aws import ACCOUNT, arn
from cauce.localstack.firehose import FirehoseConfigError, FirehoseDelivery
from cauce.localstack.gateway import AwsError, AwsRequest, AwsResponse

MAX_BATCH_RECORDS = 500
MAX_RECORD_BYTES = 1000 * 1024  # 1,000 KiB before base64 (Amazon Data Firehose quota)
MAX_BATCH_BYTES = 4 * 1024 * 1024
DEFAULT_ROLE = arn("iam", "role/firehose-delivery-role", region="")
_NAME = re.compile(r"^[a-zA-Z0-9_.-]{1,64}$")
UNSUPPORTED_DESTINATIONS = ("RedshiftDestinationConfiguration", "ElasticsearchDestinationConfiguration",
                            "AmazonopensearchserviceDestinationConfiguration", "SplunkDestinationConfiguration",
                            "HttpEndpointDestinationConfiguration", "AmazonOpenSearchServerlessDestinationConfiguration",
                            "SnowflakeDestinationConfiguration", "IcebergDestinationConfiguration")


def not_found(name: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"Firehose {name} under account {ACCOUNT} not found.")


SERVED_PROCESSORS = ("Lambda", "MetadataExtraction", "AppendDelimiterToRecord")  # the emulation's (cauce.localstack.firehose)


def invalid(message: str) -> AwsError:
    return AwsError("InvalidArgumentException", message)


class _NoSource:
    """A DirectPut stream's reader in the server's loop: records come through PutRecord, never from a stream."""

    @property
    def last_sequence(self) -> dict[str, str]:
        return {}

    def read(self) -> Iterator[Any]:
        return iter(())


class _KinesisSource:
    """A Kinesis source read from LATEST at creation, as Firehose reads it; a source that went away
    (deleted through the API) stops reading rather than stop the server's loop."""

    def __init__(self, client: Any, stream: str) -> None:
        from cauce.core.kinesis import StreamReader, stream_shards

        self.reader = StreamReader(client, stream)
        for shard in stream_shards(client, stream):  # the position now: records put before creation stay behind
            self.reader._iterators[shard] = client.get_shard_iterator(StreamName=stream, ShardId=shard,
                                                                      ShardIteratorType="LATEST")["ShardIterator"]
        self.last_error: str | None = None

    @property
    def last_sequence(self) -> dict[str, str]:
        return self.reader.last_sequence

    def read(self) -> Iterator[Any]:
        try:
            yield from self.reader.read()
        except Exception as error:  # the source is gone or unreadable: say so in the description, keep the loop going
            self.last_error = f"{type(error).__name__}: {error}"


@dataclass
class DeliveryStream:
    delivery: FirehoseDelivery
    reader: Any
    kind: str  # DirectPut | KinesisStreamAsSource
    source_stream: str | None
    role: str
    created: float
    from_stack: bool
    tags: dict[str, str] = field(default_factory=dict)
    version: int = 1

    @property
    def name(self) -> str:
        return self.delivery.name


class ApiDelivery(FirehoseDelivery):
    """A delivery created through the API: its processor's timeout read from the bindings at each flush
    (a function created through the Lambda API may come, or change, after the delivery stream)."""

    def __init__(self, *args: Any, timeout: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._timeout = timeout

    def flush(self) -> None:
        if self._timeout is not None:
            self.transform_timeout_seconds = self._timeout()
        super().flush()


class FirehoseApi:
    def __init__(self, server: Any) -> None:
        self.server = server
        self.streams: dict[str, DeliveryStream] = {}
        self._lock = threading.RLock()
        self.clock = time.time  # the clock of the deliveries created through the API (tests move it)
        started = dt.datetime.now(dt.timezone.utc).timestamp()
        for delivery, reader in server.deliveries:
            self.streams[delivery.name] = DeliveryStream(delivery, reader, "KinesisStreamAsSource", getattr(reader, "stream_name", None),
                                                         DEFAULT_ROLE, started, from_stack=True)

    def register(self, gateway: Any) -> None:
        gateway.service("firehose", self.handle)

    OPERATIONS = ("ListDeliveryStreams", "DescribeDeliveryStream", "CreateDeliveryStream", "DeleteDeliveryStream", "PutRecord",
                  "PutRecordBatch", "ListTagsForDeliveryStream", "TagDeliveryStream", "UntagDeliveryStream")

    def handle(self, request: AwsRequest) -> AwsResponse:
        if request.operation not in self.OPERATIONS:
            raise invalid(f"{request.operation} is not served by the local stack's Firehose (docs/local-stack.md lists what is).")
        try:
            body = request.json()
        except ValueError:
            raise AwsError("SerializationException", "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise AwsError("SerializationException", "The request body must be a JSON object.")
        try:
            return AwsResponse.json(getattr(self, _snake(request.operation))(body))
        except AwsError:
            raise
        except Exception as error:  # never a traceback to the client
            raise AwsError("ServiceUnavailableException", f"The local Firehose failed: {type(error).__name__}: {error}", 500) from error

    def _stream(self, body: Mapping[str, Any]) -> DeliveryStream:
        name = _name(body)
        stream = self.streams.get(name)
        if stream is None:
            raise not_found(name)
        return stream

    # --- reading --------------------------------------------------------------------------------

    def list_delivery_streams(self, body: Mapping[str, Any]) -> dict[str, Any]:
        limit = body.get("Limit", 10)
        if not isinstance(limit, int) or not 1 <= limit <= 10000:
            raise _validation(limit, "limit", "Member must have value between 1 and 10000")
        kind = body.get("DeliveryStreamType")
        start = body.get("ExclusiveStartDeliveryStreamName") or ""
        names = sorted(name for name, s in self.streams.items() if (kind is None or s.kind == kind) and name > start)
        return {"DeliveryStreamNames": names[:limit], "HasMoreDeliveryStreams": len(names) > limit}

    def describe_delivery_stream(self, body: Mapping[str, Any]) -> dict[str, Any]:
        stream = self._stream(body)
        delivery, created = stream.delivery, dt.datetime.fromtimestamp(stream.created, dt.timezone.utc)
        if stream.kind == "KinesisStreamAsSource":
            source = {"KinesisStreamSourceDescription": {"KinesisStreamARN": arn("kinesis", f"stream/{stream.source_stream}"),
                                                         "RoleARN": stream.role, "DeliveryStartTimestamp": created}}
        else:
            source = {"DirectPutSourceDescription": {}}
        description = {"DeliveryStreamName": stream.name, "DeliveryStreamARN": arn("firehose", f"deliverystream/{stream.name}"),
                       "DeliveryStreamStatus": "ACTIVE", "DeliveryStreamType": stream.kind, "VersionId": str(stream.version),
                       "CreateTimestamp": created, "Source": source,
                       "DeliveryStreamEncryptionConfiguration": {"Status": "DISABLED"},
                       "Destinations": [{"DestinationId": "destinationId-000000000001",
                                         **_destination_description(delivery, stream.role)}],
                       "HasMoreDestinations": False}
        error = getattr(stream.reader, "last_error", None) or delivery.stats.last_error
        if error:
            description["FailureDescription"] = {"Type": "UNKNOWN_ERROR", "Details": error}
        return {"DeliveryStreamDescription": description}

    def list_tags_for_delivery_stream(self, body: Mapping[str, Any]) -> dict[str, Any]:
        stream = self._stream(body)
        return {"Tags": [{"Key": k, "Value": v} for k, v in sorted(stream.tags.items())], "HasMoreTags": False}

    def tag_delivery_stream(self, body: Mapping[str, Any]) -> dict[str, Any]:
        self._stream(body).tags.update(_tags(body.get("Tags")))
        return {}

    def untag_delivery_stream(self, body: Mapping[str, Any]) -> dict[str, Any]:
        stream = self._stream(body)
        for key in body.get("TagKeys") or []:
            stream.tags.pop(key, None)
        return {}

    # --- creating and deleting -----------------------------------------------------------------

    def create_delivery_stream(self, body: Mapping[str, Any]) -> dict[str, Any]:
        name = _name(body)
        kind = body.get("DeliveryStreamType", "DirectPut")
        if kind not in ("DirectPut", "KinesisStreamAsSource"):
            raise invalid(f"DeliveryStreamType {kind} is not served locally: DirectPut and KinesisStreamAsSource are.")
        for unsupported in UNSUPPORTED_DESTINATIONS:
            if body.get(unsupported):
                raise invalid(f"{unsupported} is not served locally: the local stack delivers to S3 (the lake) only.")
        destination = body.get("ExtendedS3DestinationConfiguration") or body.get("S3DestinationConfiguration")
        if not isinstance(destination, Mapping):
            raise invalid("A destination configuration is required: ExtendedS3DestinationConfiguration or S3DestinationConfiguration.")
        if body.get("ExtendedS3DestinationConfiguration") and body.get("S3DestinationConfiguration"):
            raise invalid("Only one destination configuration can be specified.")
        source_stream = None
        if kind == "KinesisStreamAsSource":
            source = body.get("KinesisStreamSourceConfiguration")
            if not isinstance(source, Mapping) or not source.get("KinesisStreamARN"):
                raise invalid("KinesisStreamSourceConfiguration is required when DeliveryStreamType is KinesisStreamAsSource.")
            source_stream = str(source["KinesisStreamARN"]).rsplit("/", 1)[-1]
            role = source.get("RoleARN") or DEFAULT_ROLE
        elif body.get("KinesisStreamSourceConfiguration"):
            raise invalid("KinesisStreamSourceConfiguration is only valid when DeliveryStreamType is KinesisStreamAsSource.")
        else:
            role = destination.get("RoleARN") or DEFAULT_ROLE
        config, bucket, function = _delivery_config(name, destination)
        with self._lock:
            if name in self.streams:
                raise AwsError("ResourceInUseException", f"Firehose {name} under accountId {ACCOUNT} already exists")
            reader = self._source(source_stream) if source_stream else _NoSource()
            delivery = self._delivery(config, bucket, function)
            self.streams[name] = DeliveryStream(delivery, reader, kind, source_stream, role,
                                                dt.datetime.now(dt.timezone.utc).timestamp(), from_stack=False, tags=_tags(body.get("Tags")))
            self.server.deliveries = [*self.server.deliveries, (delivery, reader)]  # a new list: the loop may be iterating the old one
            if source_stream in self.server.readers:  # a stack stream: its records expire once this delivery has read them too
                self.server.readers[source_stream].append(reader)
        return {"DeliveryStreamARN": arn("firehose", f"deliverystream/{name}")}

    def _source(self, stream: str) -> _KinesisSource:
        kinesis = self.server.kinesis
        try:
            kinesis.describe_stream_summary(StreamName=stream)
        except Exception:
            raise invalid(f"Stream {stream} under account {ACCOUNT} not found.") from None
        return _KinesisSource(kinesis, stream)

    def _delivery(self, config: dict[str, Any], bucket: str, function: str | None) -> FirehoseDelivery:
        from cauce.core.lake import LocalLake

        bindings = self.server.bindings
        transform, timeout = None, None
        if function is not None:
            def transform(event: Any, context: Any) -> Any:  # resolved at each invocation: a zip function may come later
                return bindings.handler_for(function)(event, context)

            def timeout() -> float:
                return float(bindings.function_settings(function).timeout)

        try:
            return ApiDelivery(config, LocalLake(self.server.lake_dir), transform=transform, bucket=bucket, clock=self.clock,
                               transform_timeout_seconds=timeout() if timeout else 60, timeout=timeout)
        except FirehoseConfigError as error:
            raise invalid(str(error)) from None

    def delete_delivery_stream(self, body: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            stream = self._stream(body)
            stream.delivery.flush()  # what was accepted is delivered before the stream goes
            del self.streams[stream.name]
            self.server.deliveries = [(d, r) for d, r in self.server.deliveries if d is not stream.delivery]
            consumers = self.server.readers.get(stream.source_stream or "")
            if consumers is not None and stream.reader in consumers:
                consumers.remove(stream.reader)
        return {}

    # --- putting -------------------------------------------------------------------------------

    def _direct_put(self, body: Mapping[str, Any]) -> DeliveryStream:
        stream = self._stream(body)
        if stream.kind != "DirectPut":
            raise invalid(f"This operation is not permitted on {stream.kind} delivery stream type.")
        return stream

    def put_record(self, body: Mapping[str, Any]) -> dict[str, Any]:
        stream = self._direct_put(body)
        record = body.get("Record")
        if not isinstance(record, Mapping):
            raise _validation(None, "record", "Member must not be null")
        data = _data(record, "record.data")
        stream.delivery.put(data)
        return {"RecordId": _record_id(), "Encrypted": False}

    def put_record_batch(self, body: Mapping[str, Any]) -> dict[str, Any]:
        stream = self._direct_put(body)
        records = body.get("Records")
        if not isinstance(records, list) or not 1 <= len(records) <= MAX_BATCH_RECORDS:
            raise _validation(f"[{len(records) if isinstance(records, list) else records} records]", "records",
                              f"Member must have length less than or equal to {MAX_BATCH_RECORDS}")
        decoded = [_data(r if isinstance(r, Mapping) else {}, f"records.{i + 1}.member.data") for i, r in enumerate(records)]
        if sum(len(d) for d in decoded) > MAX_BATCH_BYTES:
            raise invalid(f"Records size exceeds {MAX_BATCH_BYTES // (1024 * 1024)} MB limit")
        stream.delivery.put_records(decoded)
        return {"FailedPutCount": 0, "Encrypted": False, "RequestResponses": [{"RecordId": _record_id()} for _ in decoded]}


def _snake(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


def _name(body: Mapping[str, Any]) -> str:
    name = body.get("DeliveryStreamName")
    if not isinstance(name, str) or not _NAME.match(name):
        raise _validation(name, "deliveryStreamName", "Member must satisfy regular expression pattern: [a-zA-Z0-9._-]+ "
                          "and have length between 1 and 64")
    return name


def _validation(value: Any, member: str, constraint: str) -> AwsError:
    return AwsError("ValidationException", f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}")


def _data(record: Mapping[str, Any], member: str) -> bytes:
    try:
        data = base64.b64decode(record.get("Data", ""), validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise AwsError("SerializationException", f"{member} is not valid base64.") from None
    if len(data) > MAX_RECORD_BYTES:
        raise _validation(f"[{len(data)} bytes]", member, f"Member must have length less than or equal to {MAX_RECORD_BYTES}")
    return data


def _record_id() -> str:
    return uuid.uuid4().hex * 2 + uuid.uuid4().hex[:16]  # 80 characters, as Firehose's record IDs are long opaque strings


def _tags(tags: Any) -> dict[str, str]:
    return {str(t.get("Key")): str(t.get("Value", "")) for t in tags or [] if isinstance(t, Mapping) and t.get("Key")}


def _delivery_config(name: str, destination: Mapping[str, Any]) -> tuple[dict[str, Any], str, str | None]:
    """The emulation's configuration (the stack's `firehose_config` shape) of an S3 destination configuration,
    with Firehose's defaults; the bucket; the processor's function name."""
    bucket_arn = str(destination.get("BucketARN") or "")
    if not bucket_arn.startswith("arn:aws:s3:::") or not bucket_arn.removeprefix("arn:aws:s3:::"):
        raise invalid(f"BucketARN {bucket_arn!r} is not an S3 bucket ARN (arn:aws:s3:::bucket).")
    hints = destination.get("BufferingHints") or {}
    compression = destination.get("CompressionFormat", "UNCOMPRESSED")
    if compression not in ("UNCOMPRESSED", "GZIP"):
        raise invalid(f"CompressionFormat {compression} is not served locally: UNCOMPRESSED and GZIP are.")
    size, interval = hints.get("SizeInMBs", 5), hints.get("IntervalInSeconds", 300)
    if not isinstance(size, int) or not 1 <= size <= 128:
        raise invalid(f"BufferingHints.SizeInMBs must be between 1 and 128, not {size}.")
    if not isinstance(interval, int) or not 0 <= interval <= 900:
        raise invalid(f"BufferingHints.IntervalInSeconds must be between 0 and 900, not {interval}.")
    processing = destination.get("ProcessingConfiguration") or {}
    processors, function = [], None
    for processor in processing.get("Processors") or []:
        kind = processor.get("Type")
        if kind not in SERVED_PROCESSORS:
            raise invalid(f"Processor type {kind} is not served locally: {', '.join(SERVED_PROCESSORS)} are.")
        parameters = [{"parameter_name": p.get("ParameterName"), "parameter_value": str(p.get("ParameterValue"))}
                      for p in processor.get("Parameters") or []]
        if kind == "Lambda":
            function = next((_function_name(p["parameter_value"]) for p in parameters if p["parameter_name"] == "LambdaArn"), None)
        processors.append({"type": kind, "parameters": parameters})
    enabled = bool(processing.get("Enabled", bool(processors)))
    if enabled and function is None and any(p["type"] == "Lambda" for p in processors):
        raise invalid("ProcessingConfiguration is enabled but no Lambda processor with a LambdaArn parameter is given.")
    error_prefix = destination.get("ErrorOutputPrefix")
    prefix = destination.get("Prefix")
    if prefix and "!{" in prefix and not error_prefix:  # Firehose: an expression in Prefix needs an ErrorOutputPrefix
        raise invalid("ErrorOutputPrefix must be specified when Prefix contains expressions.")
    config = {"name": name, "destination": "extended_s3", "buffer_size": size, "buffer_interval": interval,
              "compression_format": compression, "prefix": prefix, "error_output_prefix": error_prefix,
              "s3_backup_mode": destination.get("S3BackupMode", "Disabled"),
              "processing_configuration": {"enabled": enabled, "processors": processors},
              "role_arn": destination.get("RoleARN") or DEFAULT_ROLE}
    return config, bucket_arn.removeprefix("arn:aws:s3:::"), function if enabled else None


def _function_name(value: str) -> str:
    """`arn:aws:lambda:region:account:function:name[:qualifier]`, a partial ARN, or the name itself."""
    parts = value.split(":")
    if "function" in parts:
        return parts[parts.index("function") + 1]
    return parts[-1]


def _destination_description(delivery: FirehoseDelivery, role: str) -> dict[str, Any]:
    config = delivery.config
    processing = config.get("processing_configuration") or {}
    hints = {"SizeInMBs": delivery.buffer_bytes // (1024 * 1024), "IntervalInSeconds": int(delivery.buffer_seconds)}
    s3 = {"RoleARN": config.get("role_arn") or role, "BucketARN": f"arn:aws:s3:::{delivery.bucket}", "Prefix": config.get("prefix") or "",
          "BufferingHints": hints, "CompressionFormat": "GZIP" if delivery.compress else "UNCOMPRESSED",
          "EncryptionConfiguration": {"NoEncryptionConfig": "NoEncryption"},
          "CloudWatchLoggingOptions": {"Enabled": False}}
    if config.get("error_output_prefix"):
        s3["ErrorOutputPrefix"] = config["error_output_prefix"]
    extended = {**s3, "S3BackupMode": "Enabled" if delivery.backup else "Disabled",
                "ProcessingConfiguration": {"Enabled": bool(processing.get("enabled")), "Processors": [
                    {"Type": p.get("type", "Lambda"), "Parameters": [{"ParameterName": q.get("parameter_name"),
                                                                      "ParameterValue": str(q.get("parameter_value"))}
                                                                     for q in p.get("parameters", [])]}
                    for p in processing.get("processors", [])]}}
    return {"S3DestinationDescription": s3, "ExtendedS3DestinationDescription": extended}


def register(server: Any, gateway: Any) -> None:
    """The stack's delivery streams, and those clients create, answered here (server.firehose)."""
    server.firehose = FirehoseApi(server)
    server.firehose.register(gateway)

