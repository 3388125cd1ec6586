"""Firehose delivery into the local lake, the way Amazon Data Firehose documents it.

moto's Firehose delivers synchronously, ignores buffering hints and the Lambda processor, and never
reads from a Kinesis stream, so Cauce emulates delivery for the stack's `firehose_config` entries:
- records are buffered until `buffer_size` MB or `buffer_interval` seconds (the clock is injected);
- with processing on, the Lambda processor (the stack's handler, in process) gets the buffered records
  in invocations of at most its BufferSizeInMBs (1 MB by default), and its results are honoured:
  Ok records are delivered, Dropped ones counted, ProcessingFailed ones written under the error prefix
  with `!{firehose:error-output-type}` = processing-failed, in Firehose's error record format;
- an invocation that raises, or outlasts the function's timeout (measured on the injected clock; its
  result is then discarded, as Lambda's would be), is retried (Firehose retries 3 times by default);
  if it keeps failing, its records go to the error prefix as processing-failed with the error, never lost;
- prefixes evaluate `!{timestamp:...}` (each record's arrival time, UTC), `!{partitionKeyFromLambda:k}`
  and `!{firehose:error-output-type}`; objects are named `<stream>-1-<yyyy-MM-dd-HH-mm-ss>-<id>` and
  GZIP-compressed when configured;
- with `s3_backup_mode` Enabled the source records are also written under `backup/<stream>/`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
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
INVOCATION_RETRIES = 3
_JAVA_PATTERNS = {"yyyy": "%Y", "yy": "%y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}
_EXPRESSION = re.compile(r"!\{(timestamp|partitionKeyFromLambda|partitionKeyFromQuery|firehose):([^}]+)\}")


class FirehoseConfigError(ValueError):
    """A Firehose stream configuration the emulation cannot honour; the message names the field."""


class MissingPartitionKey(FirehoseConfigError):
    """The prefix asks for a partition key the processor did not return for a record."""


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
    """One buffered record: a tuple, as there is one a record (the arrival as epoch milliseconds)."""

    data: bytes
    arrival_ms: int


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
        self.transform = transform if processing.get("enabled") else None
        if processing.get("enabled") and transform is None:
            raise FirehoseConfigError(f"firehose {self.name}: processing is enabled but no transform handler is bound")
        self.processor_bytes = PROCESSOR_BUFFER_BYTES
        for processor in processing.get("processors", []):
            for parameter in processor.get("parameters", []):
                if parameter.get("parameter_name") == "BufferSizeInMBs":
                    self.processor_bytes = int(float(parameter["parameter_value"]) * 1024 * 1024)
        self.stats = DeliveryStats()
        self._buffer: list[_Buffered] = []
        self._buffered_bytes = 0
        self._opened_at: float | None = None

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

    def put_records(self, records: Iterable[bytes], arrival: dt.datetime | None = None) -> None:
        """PutRecordBatch (or a Kinesis source's records): buffer, and deliver what the hints say."""
        for data in records:
            self.put(data, arrival)

    def put(self, data: bytes, arrival: dt.datetime | None = None) -> None:
        now = self.clock()
        stats = self.stats
        stats.records_in += 1
        stats.bytes_in += len(data)
        # naive datetimes are local time, as datetime.timestamp() and astimezone() take them
        self._buffer.append(_Buffered(data, int((arrival.timestamp() if arrival is not None else now) * 1000)))
        self._buffered_bytes += len(data)
        if self._opened_at is None:
            self._opened_at = now
        if self._buffered_bytes >= self.buffer_bytes:
            self.flush()

    @property
    def buffered_bytes(self) -> int:
        return self._buffered_bytes

    def tick(self) -> None:
        """Deliver when the buffer has waited `buffer_interval` (call it as time passes)."""
        if self._buffer and self._opened_at is not None and self.clock() - self._opened_at >= self.buffer_seconds:
            self.flush()

    def flush(self) -> None:
        """Deliver the buffer now (as at the buffer hints, or when the stack stops)."""
        buffered, self._buffer, self._buffered_bytes, self._opened_at = self._buffer, [], 0, None
        if not buffered:
            return
        if self.backup:
            self._write_objects(f"backup/{self.name}/", [(b.arrival_ms, b.data, None) for b in buffered], error_type=None)
        if self.transform is None:
            delivered = [(b.arrival_ms, b.data, None) for b in buffered]
            failed: list[tuple[_Buffered, str, str]] = []
        else:
            delivered, failed = self._process(buffered)
        groups: dict[str, list[bytes]] = {}
        unplaced = []
        prefix_of = self._prefixes(self.prefix, None)
        for arrival_ms, data, keys in delivered:
            try:
                prefix = prefix_of(arrival_ms, keys)
            except MissingPartitionKey as error:
                unplaced.append((arrival_ms, self._error_record(_Buffered(data, arrival_ms), "DynamicPartitioning.MissingKey", str(error)), None))
                continue
            group = groups.get(prefix)
            if group is None:
                group = groups[prefix] = []
            group.append(data)
        self.stats.delivered += len(delivered) - len(unplaced)
        self.stats.processing_failed += len(failed)
        self.stats.partitioning_failed += len(unplaced)
        self._put_groups(groups)
        if unplaced:
            self._write_objects(self.error_prefix, unplaced, error_type="partitioning-failed")
        if failed:
            self._write_objects(self.error_prefix, [(b.arrival_ms, self._error_record(b, code, message), None) for b, code, message in failed],
                                error_type="processing-failed")

    # --- processing -----------------------------------------------------------------------------

    def _process(self, buffered: list[_Buffered]):
        from cauce.handlers.testing import lambda_context

        delivered, failed = [], []
        b2a_base64, a2b_base64 = binascii.b2a_base64, binascii.a2b_base64
        stream_arn = arn("firehose", f"deliverystream/{self.name}")
        for chunk in _chunks(buffered, self.processor_bytes):
            record_ids = [f"{n:012d}" for n in range(len(chunk))]  # unique within the invocation, as Firehose's are
            event = {
                "invocationId": str(uuid.uuid4()), "deliveryStreamArn": stream_arn, "region": REGION,
                "records": [{"recordId": record_id, "approximateArrivalTimestamp": b.arrival_ms,
                             "data": b2a_base64(b.data, newline=False).decode("ascii")} for record_id, b in zip(record_ids, chunk)],
            }
            response, error = None, None
            for _attempt in range(1 + INVOCATION_RETRIES):
                self.stats.invocations += 1
                started = self.clock()
                try:
                    response = self.transform(event, lambda_context(function_name=f"{self.name}-processor",
                                                                    timeout_seconds=self.transform_timeout_seconds))
                    if self.clock() - started > self.transform_timeout_seconds:  # Lambda would have stopped it: its result is lost
                        response = None
                        raise TimeoutError(f"Task timed out after {self.transform_timeout_seconds:.2f} seconds")
                    break
                except Exception as exc:  # Firehose retries an invocation that fails, then gives up on its records
                    self.stats.invocation_errors += 1
                    error = self.stats.last_error = f"{type(exc).__name__}: {exc}"
            if response is None:
                failed += [(b, "Lambda.FunctionError", f"the processor failed {1 + INVOCATION_RETRIES} times: {error}") for b in chunk]
                continue
            results = {r.get("recordId"): r for r in response.get("records", [])} if isinstance(response, Mapping) else {}
            for record_id, b in zip(record_ids, chunk):
                result = results.get(record_id)
                if result is None:
                    failed.append((b, "Lambda.MissingRecordId", "the processor's response has no result for this recordId"))
                    continue
                outcome = result.get("result")
                if outcome == "Ok":
                    metadata = result.get("metadata")
                    delivered.append((b.arrival_ms, a2b_base64(result.get("data", "")), (metadata or {}).get("partitionKeys") or None))
                elif outcome == "Dropped":
                    self.stats.dropped += 1
                else:
                    failed.append((b, "Lambda.ProcessingFailedStatus", "the processor returned ProcessingFailed"))
        return delivered, failed

    def _error_record(self, record: _Buffered, code: str, message: str) -> bytes:
        """Firehose's format for a record that failed processing (the raw data kept, base64)."""
        now_ms = int(self.clock() * 1000)
        return (json.dumps({"attemptsMade": 1 + INVOCATION_RETRIES, "arrivalTimestamp": record.arrival_ms,
                            "errorCode": code, "errorMessage": message, "attemptEndingTimestamp": now_ms,
                            "rawData": base64.b64encode(record.data).decode(), "lambdaArn": f"{self.name}-processor"}) + "\n").encode()

    # --- output ---------------------------------------------------------------------------------

    def _write_objects(self, prefix_template: str, records: list[tuple[int, bytes, Mapping[str, str] | None]], error_type: str | None) -> None:
        groups: dict[str, list[bytes]] = {}
        prefix_of = self._prefixes(prefix_template, error_type)
        for arrival_ms, data, keys in records:
            groups.setdefault(prefix_of(arrival_ms, keys), []).append(data)
        self._put_groups(groups)

    def _put_groups(self, groups: Mapping[str, list[bytes]]) -> None:
        """One object for each prefix's records."""
        stamp = dt.datetime.fromtimestamp(self.clock(), dt.timezone.utc).strftime("%Y-%m-%d-%H-%M-%S")
        for prefix, chunks in groups.items():
            body = b"".join(chunks)
            key = f"{prefix}{self.name}-1-{stamp}-{uuid.uuid4()}" + (".gz" if self.compress else "")
            self.lake.put_object(f"s3://{self.bucket}/{key}", body)  # the lake gzips a .gz key, as an upload of it would be
            self.stats.objects += 1
            self.stats.keys.append(key)

    def _prefixes(self, template: str, error_type: str | None) -> Callable[[int, Mapping[str, str] | None], str]:
        """`prefix(arrival_ms, partition keys)` for one template: the template's expressions go down to
        the second, so records of one second and one set of keys share a prefix, evaluated once."""
        cache: dict[Any, str] = {}
        if not _EXPRESSION.search(template):
            return lambda arrival_ms, keys: template

        def prefix(arrival_ms: int, keys: Mapping[str, str] | None) -> str:
            memo = (arrival_ms // 1000, tuple(sorted(keys.items())) if keys else ())
            found = cache.get(memo)
            if found is None:
                arrival = dt.datetime.fromtimestamp(arrival_ms / 1000, dt.timezone.utc)
                found = cache[memo] = self._evaluate(template, arrival, keys or {}, error_type)
            return found

        return prefix

    def _evaluate(self, template: str, arrival: dt.datetime, keys: Mapping[str, str], error_type: str | None) -> str:
        def value(match: re.Match) -> str:
            namespace, argument = match.groups()
            if namespace == "timestamp":
                pattern = argument
                for java, python in sorted(_JAVA_PATTERNS.items(), key=lambda item: -len(item[0])):
                    pattern = pattern.replace(java, python)
                return arrival.astimezone(dt.timezone.utc).strftime(pattern)
            if namespace == "partitionKeyFromLambda":
                if argument not in keys:
                    raise MissingPartitionKey(f"firehose {self.name}: the prefix needs partition key {argument!r}, which the processor did not return")
                return str(keys[argument])
            if namespace == "firehose" and argument == "error-output-type":
                return error_type or ""
            raise FirehoseConfigError(f"firehose {self.name}: the prefix expression {match.group(0)} is not supported locally")

        return _EXPRESSION.sub(value, template)


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
