"""Firehose delivery into the local lake, the way Amazon Data Firehose documents it.

moto's Firehose delivers synchronously, ignores buffering hints and the Lambda processor, and never
reads from a Kinesis stream, so Cauce emulates delivery for the stack's `firehose_config` entries:
- records are buffered until `buffer_size` MB or `buffer_interval` seconds (the clock is injected);
- with processing on, records wait for the Lambda processor (the stack's handler, in process) until
  its BufferSizeInMBs (1 MB by default) or BufferIntervalInSeconds (60 s) is reached, and go to it
  in invocations of at most BufferSizeInMBs; its results are honoured:
  Ok records are delivered, Dropped ones counted, ProcessingFailed ones written under the error prefix
  with `!{firehose:error-output-type}` = processing-failed, in Firehose's error record format;
- an invocation that raises, or outlasts the function's timeout (measured on the injected clock; its
  result is then discarded, as Lambda's would be), is retried (the processor's NumberOfRetries, 3 by
  default); if it keeps failing, its records go to the error prefix as processing-failed with the
  error and the attempts made, never lost;
- prefixes evaluate `!{timestamp:...}` (the approximate arrival of the oldest record in the object,
  UTC), `!{partitionKeyFromLambda:k}`, `!{firehose:error-output-type}` and `!{firehose:random-string}`;
  objects are named `<stream>-1-<yyyy-MM-dd-HH-mm-ss>-<id>` and GZIP-compressed when configured;
- with `s3_backup_mode` Enabled the source records are also written under `backup/<stream>/`, GZIP
  as the module configures the backup;
- what is to be delivered (the processed records) is buffered until `buffer_size` MB, counted on
  the records as delivered, or `buffer_interval` seconds from the first record's arrival (the
  clock is injected);
- dynamic partitioning by inline parsing: the MetadataExtraction processor's JQ query gives the keys
  of `!{partitionKeyFromQuery:k}` (after the Lambda processor, when there is one); a record it cannot
  read, or missing a key, goes to the error prefix as partitioning-failed; AppendDelimiterToRecord
  adds a newline to each delivered record.
Not done: RecordDeAggregation.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import functools
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from cauce.core.aws import REGION, arn

if TYPE_CHECKING:
    from cauce.core.stack import FirehoseConfig, Stack

DEFAULT_PREFIX = "!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/!{timestamp:HH}/"
PROCESSOR_BUFFER_BYTES = 1024 * 1024
PROCESSOR_BUFFER_SECONDS = 60.0  # the Lambda processor's BufferIntervalInSeconds by default
INVOCATION_RETRIES = 3
_JAVA_PATTERNS = {"yyyy": "%Y", "yy": "%y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}
KEY_NAMESPACES = {"partitionKeyFromLambda": "lambda", "partitionKeyFromQuery": "query"}  # prefix namespace -> where its keys come from
_EXPRESSION = re.compile(r"!\{(timestamp|partitionKeyFromLambda|partitionKeyFromQuery|firehose):([^}]+)\}")


class FirehoseConfigError(ValueError):
    """A Firehose stream configuration the emulation cannot honour; the message names the field."""


class MissingPartitionKey(FirehoseConfigError):
    """The prefix asks for a partition key the processor (or the JQ query) did not return for a record."""

    code = "DynamicPartitioning.MissingKey"


class MetadataExtractionFailed(MissingPartitionKey):
    """A record the JQ query cannot read: not JSON, or the query fails on it."""

    code = "DynamicPartitioning.MetadataExtractionFailed"


@dataclass
class DeliveryStats:
    records_in: int = 0
    bytes_in: int = 0
    delivered: int = 0
    dropped: int = 0
    processing_failed: int = 0
    partitioning_failed: int = 0
    objects: int = 0
    invocations: int = 0
    invocation_errors: int = 0
    last_error: str | None = None
    keys: list[str] = field(default_factory=list)

    def reconciles(self) -> bool:
        return self.records_in == self.delivered + self.dropped + self.processing_failed + self.partitioning_failed


class _Buffered(NamedTuple):
    """One buffered record (a tuple: there is one a record): its bytes and approximate arrival, epoch ms."""

    data: bytes
    arrival_ms: int


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    """One caller at a time: the server's loop ticks a delivery while API requests put records into it."""
    @functools.wraps(method)
    def locked(self: "FirehoseDelivery", *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)
    return locked


class FirehoseDelivery:
    def __init__(self, config: Mapping[str, Any], lake: Any, transform: Callable[[Any, Any], Any] | None = None,
                 clock: Callable[[], float] = time.time, bucket: str = "mi-bucket", transform_timeout_seconds: float = 60) -> None:
        self.name = config["name"]
        self.config = config
        self.lake = lake
        self.bucket = bucket
        self.clock = clock
        self.transform_timeout_seconds = transform_timeout_seconds
        self.buffer_bytes = int(config.get("buffer_size", 5)) * 1024 * 1024
        self.buffer_seconds = float(config.get("buffer_interval", 300))
        self.compress = config.get("compression_format", "UNCOMPRESSED") == "GZIP"
        self.prefix = config.get("prefix") or DEFAULT_PREFIX
        self.error_prefix = config.get("error_output_prefix") or "errors/!{firehose:error-output-type}/" + DEFAULT_PREFIX
        self.backup = config.get("s3_backup_mode") == "Enabled"
        processing = config.get("processing_configuration") or {}
        enabled = bool(processing.get("enabled"))
        types = {processor.get("type", "Lambda") for processor in processing.get("processors", [])} if enabled else set()
        self.transform = transform if enabled else None
        if enabled and transform is None and (not types or "Lambda" in types):
            raise FirehoseConfigError(f"firehose {self.name}: processing is enabled but no transform handler is bound")
        self.query = None  # the MetadataExtraction processor's compiled JQ query
        self.append_delimiter = "AppendDelimiterToRecord" in types
        self.processor_bytes = PROCESSOR_BUFFER_BYTES
        self.processor_seconds = PROCESSOR_BUFFER_SECONDS
        self.invocation_retries = INVOCATION_RETRIES
        self.processor_arn = arn("lambda", f"function:{self.name}-processor")  # the processor's LambdaArn, when given
        for processor in processing.get("processors", []):
            for parameter in processor.get("parameters", []):
                if parameter.get("parameter_name") == "BufferSizeInMBs":
                    self.processor_bytes = int(float(parameter["parameter_value"]) * 1024 * 1024)
                if parameter.get("parameter_name") == "BufferIntervalInSeconds":
                    self.processor_seconds = float(parameter["parameter_value"])
                if parameter.get("parameter_name") == "LambdaArn" and str(parameter.get("parameter_value", "")).startswith("arn:"):
                    self.processor_arn = str(parameter["parameter_value"])
                if parameter.get("parameter_name") == "NumberOfRetries":
                    self.invocation_retries = int(parameter["parameter_value"])
                if parameter.get("parameter_name") == "MetadataExtractionQuery" and enabled:
                    self.query = _compile_query(self.name, str(parameter["parameter_value"]))
        self._needed_keys = [(KEY_NAMESPACES[namespace], argument) for namespace, argument in _EXPRESSION.findall(self.prefix)
                             if namespace in KEY_NAMESPACES]
        if "!{partitionKeyFromQuery:" in self.prefix and self.query is None:
            raise FirehoseConfigError(f"firehose {self.name}: the prefix uses !{{partitionKeyFromQuery:...}} but no MetadataExtraction "
                                      "processor gives a MetadataExtractionQuery")
        self.stats = DeliveryStats()
        # with a Lambda processor, records wait for it first (its BufferSizeInMBs / BufferIntervalInSeconds) ...
        self._pending: list[_Buffered] = []
        self._pending_bytes = 0
        self._pending_since: float | None = None
        # ... then, processed, for the destination's hints: sources (for the backup), placed and failed records
        self._sources: list[_Buffered] = []
        self._placed: list[tuple[int, bytes, dict]] = []
        self._unplaced: list[tuple[int, bytes, dict]] = []
        self._failed: list[tuple[_Buffered, str, str, int]] = []
        self._buffered_bytes = 0
        self._opened_at: float | None = None
        self._lock = threading.RLock()

    @classmethod
    def from_stack(cls, stack: "Stack", config: "FirehoseConfig", lake: Any, handler_for: Callable[[str], Any],
                   bucket: str) -> FirehoseDelivery:
        """The delivery of one `firehose_config` entry, its processor bound by `handler_for(function name)`
        and given the timeout of that function's `lambda_config` entry."""
        transform, timeout = None, 60.0
        for processor in config.processing_configuration.processors:
            for parameter in processor.parameters:
                if parameter.parameter_name == "LambdaArn":
                    function_name = parameter.parameter_value.rsplit(":", 1)[-1]
                    transform = handler_for(function_name)
                    timeout = next((float(f.timeout) for f in stack.lambda_config.values() if f.function_name == function_name), timeout)
        return cls(config.document, lake, transform=transform, bucket=bucket, transform_timeout_seconds=timeout)

    # --- input --------------------------------------------------------------------------------

    @_locked
    def put_records(self, records: Iterable[bytes], arrival: dt.datetime | None = None) -> None:
        """PutRecordBatch (or a Kinesis source's records): buffer, and deliver what the hints say."""
        arrival_ms = None if arrival is None else _epoch_ms(arrival)
        for data in records:
            self._put(data, arrival_ms)

    @_locked
    def put(self, data: bytes, arrival: dt.datetime | None = None) -> None:
        self._put(data, None if arrival is None else _epoch_ms(arrival))

    def _put(self, data: bytes, arrival_ms: int | None) -> None:
        now = self.clock()
        stats = self.stats
        stats.records_in += 1
        stats.bytes_in += len(data)
        record = _Buffered(data, int(now * 1000) if arrival_ms is None else arrival_ms)
        if self.transform is None:
            self._route([record], [(record.arrival_ms, data, {})], [], now)
            return
        self._pending.append(record)
        self._pending_bytes += len(data)
        if self._pending_since is None:
            self._pending_since = now
        if self._pending_bytes >= self.processor_bytes:
            self._invoke_pending()

    @property
    def buffered_bytes(self) -> int:
        return self._pending_bytes + self._buffered_bytes

    @_locked
    def tick(self) -> None:
        """Invoke the processor, and deliver, when their buffers have waited their intervals (call it as time passes)."""
        now = self.clock()
        if self._pending and self._pending_since is not None and now - self._pending_since >= self.processor_seconds:
            self._invoke_pending()
        if self._opened_at is not None and now - self._opened_at >= self.buffer_seconds:
            self._deliver()

    @_locked
    def flush(self) -> None:
        """Process and deliver everything buffered now (as when the stack stops)."""
        self._invoke_pending()
        self._deliver()

    def _invoke_pending(self) -> None:
        """The processor's buffer to the processor (in invocations of at most its BufferSizeInMBs)."""
        batch, since = self._pending, self._pending_since
        self._pending, self._pending_bytes, self._pending_since = [], 0, None
        if batch:
            delivered, failed = self._process(batch)
            self._route(batch, delivered, failed, since)

    def _route(self, sources: list[_Buffered], delivered: list[tuple[int, bytes, dict]], failed: list[tuple[_Buffered, str, str, int]],
               since: float) -> None:
        """Processed records into the destination's buffer, placed by their keys or failed, delivered at its hints.
        Its interval runs from when the first of them was put (`since`): the processor's wait is part of it."""
        if self.backup:
            self._sources += sources
        for arrival, data, keys in delivered:
            try:
                if self.query is not None:
                    keys = {**keys, **self._query_keys(data)}
                self._check_keys(keys)
                data = data + b"\n" if self.append_delimiter else data
                self._placed.append((arrival, data, keys))
                self._buffered_bytes += len(data)
            except MissingPartitionKey as error:
                self._unplaced.append((arrival, self._error_record(_Buffered(data, arrival), error.code, str(error), 1), {}))
        self._failed += failed
        if self._opened_at is None and (self._placed or self._unplaced or self._failed or self._sources):
            self._opened_at = since
        if self._buffered_bytes >= self.buffer_bytes:
            self._deliver()

    def _deliver(self) -> None:
        """Write the destination's buffer: one object per prefix, the errors, the backup."""
        sources, placed, unplaced, failed = self._sources, self._placed, self._unplaced, self._failed
        self._sources, self._placed, self._unplaced, self._failed, self._buffered_bytes, self._opened_at = [], [], [], [], 0, None
        if sources:  # the module configures the backup with GZIP, whatever the main destination's compression
            self._write_objects(f"backup/{self.name}/", [(b.arrival_ms, b.data, {}) for b in sources], error_type=None, compress=True)
        self.stats.delivered += len(placed)
        self.stats.processing_failed += len(failed)
        self.stats.partitioning_failed += len(unplaced)
        if placed:
            self._write_objects(self.prefix, placed, error_type=None)
        if unplaced:
            self._write_objects(self.error_prefix, unplaced, error_type="partitioning-failed")
        if failed:
            self._write_objects(self.error_prefix, [(b.arrival_ms, self._error_record(b, code, message, attempts), {})
                                                    for b, code, message, attempts in failed], error_type="processing-failed")

    # --- processing -----------------------------------------------------------------------------

    def _process(self, buffered: list[_Buffered]):
        from cauce.handlers.testing import lambda_context

        delivered, failed = [], []
        b2a_base64, a2b_base64, no_keys = binascii.b2a_base64, binascii.a2b_base64, {}
        stream_arn = arn("firehose", f"deliverystream/{self.name}")
        for chunk in _chunks(buffered, self.processor_bytes):
            event = {
                "invocationId": str(uuid.uuid4()), "deliveryStreamArn": stream_arn, "region": REGION,
                "records": [{"recordId": f"{n:012d}", "approximateArrivalTimestamp": b.arrival_ms,  # ids unique in the invocation
                             "data": b2a_base64(b.data, newline=False).decode("ascii")} for n, b in enumerate(chunk)],
            }
            response, error, attempts = None, None, 0
            for _attempt in range(1 + self.invocation_retries):
                attempts += 1
                self.stats.invocations += 1
                started = self.clock()
                try:
                    response = self.transform(event, lambda_context(function_name=self.processor_arn.split(":")[6],
                                                                    timeout_seconds=self.transform_timeout_seconds))
                    if self.clock() - started > self.transform_timeout_seconds:  # Lambda would have stopped it: its result is lost
                        response = None
                        raise TimeoutError(f"Task timed out after {self.transform_timeout_seconds:.2f} seconds")
                    break
                except Exception as exc:  # Firehose retries an invocation that fails, then gives up on its records
                    self.stats.invocation_errors += 1
                    error = self.stats.last_error = f"{type(exc).__name__}: {exc}"
            if response is None:
                failed += [(b, "Lambda.FunctionError", f"the processor failed {attempts} times: {error}", attempts) for b in chunk]
                continue
            results = {r.get("recordId"): r for r in response.get("records", [])} if isinstance(response, Mapping) else {}
            for n, b in enumerate(chunk):
                result = results.get(f"{n:012d}")
                if result is None:
                    failed.append((b, "Lambda.MissingRecordId", "the processor's response has no result for this recordId", attempts))
                    continue
                outcome = result.get("result")
                if outcome == "Ok":
                    metadata = result.get("metadata")
                    partition_keys = metadata.get("partitionKeys") if metadata else None
                    keys = {f"lambda:{k}": v for k, v in partition_keys.items()} if partition_keys else no_keys
                    delivered.append((b.arrival_ms, a2b_base64(result.get("data", "")), keys))
                elif outcome == "Dropped":
                    self.stats.dropped += 1
                else:
                    failed.append((b, "Lambda.ProcessingFailedStatus", "the processor returned ProcessingFailed", attempts))
        return delivered, failed

    def _check_keys(self, keys: Mapping[str, Any]) -> None:
        """Refuse a record missing a partition key its prefix needs (one dict look-up a key, not the
        whole prefix: the prefix itself is evaluated once an object)."""
        for source, argument in self._needed_keys:
            if keys.get(f"{source}:{argument}") is None:
                who = "the processor" if source == "lambda" else "the MetadataExtractionQuery"
                raise MissingPartitionKey(f"firehose {self.name}: the prefix needs partition key {argument!r}, which {who} did not return")

    def _query_keys(self, data: bytes) -> dict[str, Any]:
        """The JQ query's keys for one record (Firehose's inline parsing): `query:<key>` -> value."""
        try:
            result = self.query.input_text(data.decode("utf-8")).first()
        except (UnicodeDecodeError, ValueError, StopIteration) as error:
            raise MetadataExtractionFailed(f"firehose {self.name}: the MetadataExtractionQuery cannot read the record: {error}") from None
        if not isinstance(result, Mapping):
            raise MetadataExtractionFailed(f"firehose {self.name}: the MetadataExtractionQuery gave {type(result).__name__}, not an object of keys")
        return {f"query:{k}": v for k, v in result.items()}

    def _error_record(self, record: _Buffered, code: str, message: str, attempts: int) -> bytes:
        """Firehose's format for a record that failed processing (the raw data kept, base64); attemptsMade
        is the invocations made for its batch."""
        now_ms = int(self.clock() * 1000)
        return (json.dumps({"attemptsMade": attempts, "arrivalTimestamp": record.arrival_ms,
                            "errorCode": code, "errorMessage": message, "attemptEndingTimestamp": now_ms,
                            "rawData": base64.b64encode(record.data).decode(), "lambdaArn": self.processor_arn}) + "\n").encode()

    # --- output ---------------------------------------------------------------------------------

    def _write_objects(self, prefix_template: str, records: list[tuple[int, bytes, dict]], error_type: str | None,
                       compress: bool | None = None) -> None:
        """One object per partition-key set. Its prefix's `!{timestamp:...}` is the approximate arrival of
        the oldest record in it, every use of it the same instant (Firehose: "Custom prefixes for Amazon
        S3 objects"); `!{firehose:random-string}` is drawn once per object."""
        compress = self.compress if compress is None else compress
        groups: dict[tuple, list[tuple[dt.datetime, bytes, dict]]] = {}
        for record in records:
            groups.setdefault(tuple(sorted(record[2].items())) if record[2] else (), []).append(record)
        stamp = dt.datetime.fromtimestamp(self.clock(), dt.timezone.utc).strftime("%Y-%m-%d-%H-%M-%S")
        for group in groups.values():
            oldest = dt.datetime.fromtimestamp(min(arrival_ms for arrival_ms, _, _ in group) / 1000, dt.timezone.utc)
            prefix = self._evaluate(prefix_template, oldest, group[0][2], error_type)
            body = b"".join(data for _, data, _ in group)
            key = f"{prefix}{self.name}-1-{stamp}-{uuid.uuid4()}" + (".gz" if compress else "")
            self.lake.put_object(f"s3://{self.bucket}/{key}", body)  # the lake gzips a .gz key, as an upload of it would be
            self.stats.objects += 1
            self.stats.keys.append(key)

    def _evaluate(self, template: str, arrival: dt.datetime, keys: Mapping[str, str], error_type: str | None) -> str:
        random_string = uuid.uuid4().hex[:11]  # Firehose: an 11-character random string, one per evaluation
        def value(match: re.Match) -> str:
            namespace, argument = match.groups()
            if namespace == "timestamp":
                pattern = argument
                for java, python in sorted(_JAVA_PATTERNS.items(), key=lambda item: -len(item[0])):
                    pattern = pattern.replace(java, python)
                return arrival.astimezone(dt.timezone.utc).strftime(pattern)
            if namespace in KEY_NAMESPACES:
                self._check_keys(keys)
                return str(keys[f"{KEY_NAMESPACES[namespace]}:{argument}"])
            if namespace == "firehose" and argument == "error-output-type":
                return error_type or ""
            if namespace == "firehose" and argument == "random-string":
                return random_string

            raise FirehoseConfigError(f"firehose {self.name}: the prefix expression {match.group(0)} is not supported locally")

        return _EXPRESSION.sub(value, template)


def _epoch_ms(arrival: dt.datetime) -> int:
    return int(arrival.timestamp() * 1000)  # a naive datetime is local time, as datetime.timestamp() takes it


def _compile_query(stream: str, query: str) -> Any:
    """A MetadataExtractionQuery, compiled by the jq library (Firehose runs JQ 1.6; the library binds a
    later jq, the same language for the object constructions these queries are)."""
    import jq

    try:
        return jq.compile(query)
    except ValueError as error:
        raise FirehoseConfigError(f"firehose {stream}: MetadataExtractionQuery {query!r} is not valid JQ: {error}") from None


def _chunks(buffered: list[_Buffered], limit: int) -> Iterable[list[_Buffered]]:
    chunk, size = [], 0
    for record in buffered:
        if chunk and size + len(record.data) > limit:
            yield chunk
            chunk, size = [], 0
        chunk.append(record)
        size += len(record.data)
    if chunk:
        yield chunk
