"""Firehose data transformation: one plain function over one record.

    from cauce.handlers import firehose_transform, Drop

    @firehose_transform
    def handler(event: dict):
        if event.get("type") == "heartbeat":
            return Drop("heartbeat")
        return {**event, "source": "web"}

The function gets the record parsed as JSON (or the raw bytes with `input="bytes"`) and
returns the new record (dict or list as JSON, str, bytes), `Ok(data, partition_keys=...)`,
`Drop(reason)` or `Failed(reason)`; raising is `Failed` too. The framework keeps Firehose's
contract: one result per input record with its `recordId`, base64 `data`, newline-delimited
output, `metadata.partitionKeys`, and a response that never exceeds Lambda's 6 MB. Whatever
goes wrong with one record (bad base64, not JSON, over 1,000 KiB, a handler error or a wrong
return type) makes that record ProcessingFailed with the reason logged; Firehose then writes
the original record under the error prefix, so nothing is lost and the batch goes on.

KPL aggregates: Firehose de-aggregates KPL records from a Kinesis source before it invokes
Lambda (each user record arrives with its `subsequenceNumber`). A record that still holds an
aggregate (for example a direct PUT of KPL bytes) is unpacked here; the outputs of its user
records are concatenated into that Firehose record's one result. It is Ok when every user
record is Ok or dropped, Dropped when all are dropped, and ProcessingFailed, keeping the whole
original aggregate for the error prefix, when any fails or they ask for different partitions.
"""

from __future__ import annotations

import binascii
import inspect
import json
import logging
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cauce.handlers import codec
from cauce.handlers.base import RecordHandler
from cauce.core.kpl import MAGIC, KplFormatError, deaggregate, is_aggregated
from cauce.handlers.results import Drop, Failed, InvalidEvent, Ok

MAX_RECORD_BYTES = 1_000 * 1024  # Firehose's record limit, before base64
MAX_RESPONSE_BYTES = 6 * 1024 * 1024  # Lambda's synchronous response limit
# Lambda serializes the response with json.dumps (spaces after separators, non-ASCII escaped).
# Around one result that is at most 58 bytes besides the recordId and data:
# {"recordId": ..., "result": "ProcessingFailed", "data": ...}, plus the separator.
_ENTRY_OVERHEAD = 64
_METADATA_OVERHEAD = 40  # , "metadata": {"partitionKeys": ...}
_RESPONSE_OVERHEAD = 16

OK, DROPPED, FAILED = "Ok", "Dropped", "ProcessingFailed"


@dataclass(frozen=True, slots=True)
class FirehoseRecord:
    """Where a record came from, for functions that take a second argument."""

    record_id: str
    approximate_arrival_timestamp: int | None
    delivery_stream_arn: str | None
    source_stream_arn: str | None
    kinesis_metadata: Mapping[str, Any] | None
    subsequence_number: int


# (result, data, partition keys, reason): plain tuples, because this is built once per record.
_Result = tuple[str, bytes, "dict[str, str] | None", str]


class FirehoseTransform(RecordHandler):
    """A Firehose transformation handler around a record function.

    Options: `input` ("json" or "bytes"), `newline` (end each output with one; default True),
    `service` (the logs' and metrics' service name), `settings`, `log_stream`.
    """

    correlation_id_path = "invocationId"

    def __init__(self, function: Callable[..., Any], *, newline: bool = True, **options: Any) -> None:
        super().__init__(function, **options)
        self.newline = newline
        self._wants_record = _positional_arity(function) >= 2

    def _handle_event(self, event: Any, context: Any) -> dict[str, list[dict[str, Any]]]:
        logger = self.telemetry.logger
        records = event.get("records") if isinstance(event, Mapping) else None
        if not isinstance(records, list):
            # Firehose never sends this: the invocation fails, and Firehose retries the batch.
            logger.error("not a Firehose transformation event: no 'records' list", extra={"event_keys": _keys(event)})
            self.telemetry.publish({"RecordsMalformedEvent": 1})
            raise InvalidEvent.missing("Firehose transformation event", "records", event)
        stream_arn = event.get("deliveryStreamArn")
        source_arn = event.get("sourceKinesisStreamArn")
        with self.telemetry.traced("## firehose_transform") as subsegment:
            results, counts, bytes_in, bytes_out = self._transform_all(records, stream_arn, source_arn)
            if subsegment is not None:
                for name, value in counts.items():
                    subsegment.put_annotation(f"records_{name.lower()}", value)
        self.telemetry.publish(
            {"RecordsOk": counts[OK], "RecordsDropped": counts[DROPPED], "RecordsFailed": counts[FAILED]},
            {"BytesIn": bytes_in, "BytesOut": bytes_out},
        )
        logger.info("transformed batch", extra={"records": len(records), "ok": counts[OK], "dropped": counts[DROPPED], "failed": counts[FAILED]})
        return {"records": results}

    def _transform_all(self, records: list[Any], stream_arn: str | None, source_arn: str | None):
        counts = {OK: 0, DROPPED: 0, FAILED: 0}
        record_ids = [value if type(r) is dict and type(value := r.get("recordId")) is str else "" for r in records]
        results: list[dict[str, Any]] = []
        append = results.append
        self._bytes_in = bytes_out = inline_bytes_in = metadata_bytes = 0
        b2a_base64, a2b_base64, loads, dumps_line = binascii.b2a_base64, binascii.a2b_base64, codec.loads, codec.dumps_line
        function = self.function
        logger = self.telemetry.logger
        log_drops = logger.isEnabledFor(logging.DEBUG)  # once a batch: a disabled debug call still costs microseconds
        # The common case (JSON in, one argument, a dict back, newline-ended JSON out) runs
        # inline: at a few microseconds a record, every call, tuple and check here shows in the
        # batch's time. Anything out of the ordinary (no id, bad base64, not JSON, which a KPL
        # aggregate never is, over the input limit) leaves the inline path before the function
        # is called and takes the general one, _transform_one, so no record is handled twice.
        # The output limits (a record's, the response's) are checked once for the whole batch
        # afterwards (_enforce_limits), in the same order as if record by record.
        inline = self.input == "json" and self.newline and not self._wants_record
        for record, record_id in zip(records, record_ids):
            outcome = None  # None: the general path decides
            if inline and record_id:  # a record id means the record is a dict
                encoded = record.get("data")
                try:
                    raw = a2b_base64(encoded, strict_mode=True) if type(encoded) is str else None
                    value = loads(raw)  # ValueError for bad base64 and bad JSON alike, TypeError for None
                except (ValueError, TypeError):
                    pass  # the general path words the reason
                else:
                    length = len(raw)
                    if length <= MAX_RECORD_BYTES:
                        inline_bytes_in += length
                        try:
                            returned = function(value)
                        except Exception as error:  # one record's failure must not fail the batch
                            outcome = FAILED, b"", None, f"{type(error).__name__}: {error}"
                        else:
                            if type(returned) is dict:
                                try:
                                    data = dumps_line(returned)
                                except TypeError as error:
                                    outcome = FAILED, b"", None, f"the handler's result is not JSON-serializable: {error}"
                                else:
                                    bytes_out += len(data)
                                    append({"recordId": record_id, "result": OK, "data": b2a_base64(data, newline=False).decode("ascii")})
                                    continue
                            else:
                                outcome = self._outcome(returned)
            index = len(results)  # one result a record, in order
            if outcome is None:
                outcome = self._transform_one(index, record, record_id, stream_arn, source_arn)
            result, data, partition_keys, reason = outcome
            counts[result] += 1
            if result == OK:
                bytes_out += len(data)
                encoded = b2a_base64(data, newline=False).decode("ascii")
                if partition_keys:
                    metadata_bytes += len(json.dumps(partition_keys)) + _METADATA_OVERHEAD
                    append({"recordId": record_id, "result": OK, "data": encoded, "metadata": {"partitionKeys": partition_keys}})
                else:
                    append({"recordId": record_id, "result": OK, "data": encoded})
                continue
            append({"recordId": record_id, "result": result, "data": ""})
            if result == FAILED:
                logger.warning("record failed", extra={"record_id": record_id, "record_index": index, "reason": reason})
            elif result == DROPPED and reason and log_drops:
                logger.debug("record dropped", extra={"record_id": record_id, "reason": reason})
        counts[OK] += len(results) - sum(counts.values())  # the inline path counts nothing
        bytes_out -= self._enforce_limits(results, record_ids, counts, metadata_bytes)
        return results, counts, self._bytes_in + inline_bytes_in, bytes_out

    def _enforce_limits(self, results: list[dict[str, Any]], record_ids: list[str], counts: dict[str, int], metadata_bytes: int) -> int:
        """Fail the Ok results over Firehose's record limit, then those that would push the response
        over Lambda's, in order; returns the bytes of data taken out. Every result costs at least
        its envelope, reserved for all of them up front, so the budget left for Ok data can never
        push the response over the limit."""
        reserved = _RESPONSE_OVERHEAD + len(results) * _ENTRY_OVERHEAD + _json_lengths(record_ids)
        lengths = list(map(len, map(operator.itemgetter("data"), results)))
        # base64 is longer than its data: when no encoded result is over the record limit, no data is
        within_records = max(lengths, default=0) <= MAX_RECORD_BYTES
        if within_records and reserved + sum(lengths) + metadata_bytes <= MAX_RESPONSE_BYTES:
            return 0
        size, removed = reserved, 0
        for index, entry in enumerate(results):
            if entry["result"] != OK:
                continue
            length = len(binascii.a2b_base64(entry["data"]))
            if length > MAX_RECORD_BYTES:
                reason = f"the transformed record is {length:,} bytes, over Firehose's {MAX_RECORD_BYTES:,}-byte limit"
            else:
                metadata = entry.get("metadata")
                extra = lengths[index] + (len(json.dumps(metadata["partitionKeys"])) + _METADATA_OVERHEAD if metadata else 0)
                if size + extra <= MAX_RESPONSE_BYTES:
                    size += extra
                    continue
                reason = f"the response would exceed Lambda's {MAX_RESPONSE_BYTES:,}-byte limit"
            results[index] = {"recordId": entry["recordId"], "result": FAILED, "data": ""}
            counts[OK] -= 1
            counts[FAILED] += 1
            removed += length
            self.telemetry.logger.warning("record failed", extra={"record_id": entry["recordId"], "record_index": index, "reason": reason})
        return removed

    def _transform_one(self, index, record, record_id, stream_arn, source_arn) -> _Result:
        """(result, data, partition_keys, reason) of one Firehose record; counts its input bytes."""
        if type(record) is not dict:
            return FAILED, b"", None, f"records[{index}] is {type(record).__name__}, not an object"
        if not record_id:
            return FAILED, b"", None, f"records[{index}] has no recordId"
        encoded = record.get("data")
        if type(encoded) is not str:
            return FAILED, b"", None, f"records[{index}].data is missing or not a base64 string"
        try:
            raw = binascii.a2b_base64(encoded, strict_mode=True)
        except (binascii.Error, ValueError) as error:
            self._bytes_in += len(encoded)
            return FAILED, b"", None, f"data is not valid base64: {error}"
        self._bytes_in += len(raw)
        if len(raw) > MAX_RECORD_BYTES:
            return FAILED, b"", None, f"record is {len(raw):,} bytes, over Firehose's {MAX_RECORD_BYTES:,}-byte limit"
        if not raw.startswith(MAGIC) or not is_aggregated(raw):
            return self._apply(raw, record, record_id, stream_arn, source_arn, 0)
        try:
            users = deaggregate(raw)
        except KplFormatError as error:
            return FAILED, b"", None, f"KPL aggregate is malformed: {error}"
        return _combine([self._apply(u.data, record, record_id, stream_arn, source_arn, u.subsequence_number) for u in users])

    def _apply(self, raw: bytes, record: dict, record_id: str, stream_arn, source_arn, subsequence: int) -> _Result:
        if self.input == "json":
            try:
                value = codec.loads(raw)
            except codec.JSONDecodeError as error:
                if not raw.strip():
                    return FAILED, b"", None, "empty record: expected a JSON document"
                return FAILED, b"", None, f"not valid JSON: {error}"
        else:
            value = raw
        try:
            if self._wants_record:
                info = FirehoseRecord(record_id, record.get("approximateArrivalTimestamp"), stream_arn, source_arn,
                                      record.get("kinesisRecordMetadata"), subsequence)
                returned = self.function(value, info)
            else:
                returned = self.function(value)
        except Exception as error:  # one record's failure must not fail the batch
            return FAILED, b"", None, f"{type(error).__name__}: {error}"
        if type(returned) is dict and self.newline:  # the common case, without the general checks
            try:
                data = codec.dumps_line(returned)
            except TypeError as error:
                return FAILED, b"", None, f"the handler's result is not JSON-serializable: {error}"
            if len(data) <= MAX_RECORD_BYTES:
                return OK, data, None, ""
        return self._outcome(returned)

    def _outcome(self, returned: Any) -> _Result:
        partition_keys = None
        kind = type(returned)
        if kind is Ok:
            partition_keys, returned = returned.partition_keys or None, returned.data
            kind = type(returned)
            if partition_keys is not None:
                problem = _check_partition_keys(partition_keys)
                if problem:
                    return FAILED, b"", None, problem
                partition_keys = {str(k): str(v) for k, v in partition_keys.items()}
        elif kind is Drop:
            return DROPPED, b"", None, returned.reason
        elif kind is Failed:
            return FAILED, b"", None, returned.reason or "the handler returned Failed"
        if kind is dict or kind is list or isinstance(returned, (dict, list)):
            try:
                data = codec.dumps_line(returned) if self.newline else codec.dumps(returned)
            except TypeError as error:
                return FAILED, b"", None, f"the handler's result is not JSON-serializable: {error}"
        elif isinstance(returned, str):
            data = returned.encode()
        elif isinstance(returned, (bytes, bytearray, memoryview)):
            data = bytes(returned)
        elif returned is None:
            return FAILED, b"", None, "the handler returned None: return Drop() to drop a record on purpose"
        else:
            return FAILED, b"", None, f"the handler returned {kind.__name__}: expected dict, list, str, bytes, Ok, Drop or Failed"
        if self.newline and not data.endswith(b"\n"):
            data += b"\n"
        if len(data) > MAX_RECORD_BYTES:
            return FAILED, b"", None, f"the transformed record is {len(data):,} bytes, over Firehose's {MAX_RECORD_BYTES:,}-byte limit"
        return OK, data, partition_keys, ""


def firehose_transform(function: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """Turn a record function into a `FirehoseTransform`: `@firehose_transform` or `@firehose_transform(input="bytes")`."""
    return FirehoseTransform.decorate(function, **options)


def _combine(outcomes: list[_Result]) -> _Result:
    failed = [i for i, (result, *_rest) in enumerate(outcomes) if result == FAILED]
    if failed:
        reason = outcomes[failed[0]][3]
        return FAILED, b"", None, f"{len(failed)} of {len(outcomes)} aggregated user records failed; first, #{failed[0]}: {reason}"
    kept = [o for o in outcomes if o[0] == OK]
    if not kept:
        return DROPPED, b"", None, f"all {len(outcomes)} aggregated user records dropped"
    if len({tuple(sorted((o[2] or {}).items())) for o in kept}) > 1:
        return FAILED, b"", None, "aggregated user records ask for different partition keys; one Firehose record has one partition"
    return OK, b"".join(o[1] for o in kept), kept[0][2], ""


def _check_partition_keys(keys: Any) -> str:
    if not isinstance(keys, Mapping):
        return f"partition_keys must be a mapping, got {type(keys).__name__}"
    for key, value in keys.items():
        if not isinstance(key, str) or not key:
            return f"partition key {key!r} must be a non-empty string"
        if not isinstance(value, (str, int)) or isinstance(value, bool) or value == "":
            return f"partition key {key!r} has value {value!r}: expected a non-empty string or an integer"
    return ""


def _json_lengths(texts: list[str]) -> int:
    """Total length of `texts` as json.dumps writes them; ASCII record ids, the norm, need no escaping."""
    joined = "".join(texts)
    if joined.isascii() and joined.isprintable() and '"' not in joined and "\\" not in joined:
        return len(joined) + 2 * len(texts)
    return sum(len(json.dumps(text)) for text in texts)


def _keys(event: Any) -> list[str]:
    return sorted(map(str, event)) if isinstance(event, Mapping) else [type(event).__name__]


def _positional_arity(function: Callable[..., Any]) -> int:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return 1
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in parameters)

