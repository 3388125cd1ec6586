"""The Kinesis Producer Library's aggregated record format: unpack (and pack, for tests).

A KPL-aggregated Kinesis record is the magic `F3 89 9A C2`, a protobuf `AggregatedRecord`
(partition key table, explicit hash key table, records of data plus key indices), and the
MD5 of that protobuf. AWS's own Python module (aws-kinesis-agg) needs protobuf and six at run
time and was last released in 2022; the format is three small messages, so this module reads
and writes it directly and keeps the Lambda layer free of protobuf. The tests check it against
AWS's module.

As the KCL does, data that starts with the magic but whose checksum does not match is not an
aggregate: it is returned as one plain record.
"""

from __future__ import annotations

from dataclasses import dataclass

MAGIC = b"\xf3\x89\x9a\xc2"
_DIGEST_SIZE = 16


class KplFormatError(ValueError):
    """An aggregated record whose checksum matches but whose protobuf body is malformed."""


@dataclass(frozen=True, slots=True)
class UserRecord:
    """One user record: its data, partition key, and position in the aggregate (subsequence number)."""

    data: bytes
    partition_key: str | None
    explicit_hash_key: str | None
    subsequence_number: int
    aggregated: bool


def is_aggregated(data: bytes) -> bool:
    if len(data) <= len(MAGIC) + _DIGEST_SIZE or not data.startswith(MAGIC):
        return False
    return _digest(data[len(MAGIC):-_DIGEST_SIZE]) == data[-_DIGEST_SIZE:]


def deaggregate(data: bytes, partition_key: str | None = None) -> list[UserRecord]:
    """The user records inside `data`, or `data` itself as the only record when it is not an aggregate."""
    if not is_aggregated(data):
        return [UserRecord(data, partition_key, None, 0, aggregated=False)]
    body = memoryview(data)[len(MAGIC):-_DIGEST_SIZE]
    partition_keys: list[str] = []
    hash_keys: list[str] = []
    raw_records: list[memoryview] = []
    for field, value in _fields(body, "AggregatedRecord"):
        if field == 1:
            partition_keys.append(bytes(value).decode())
        elif field == 2:
            hash_keys.append(bytes(value).decode())
        elif field == 3:
            raw_records.append(value)
    records = []
    for index, raw in enumerate(raw_records):
        key_index = hash_index = None
        payload = b""
        for field, value in _fields(raw, f"Record {index}"):
            if field == 1:
                key_index = value
            elif field == 2:
                hash_index = value
            elif field == 3:
                payload = bytes(value)
        if key_index is None or key_index >= len(partition_keys):
            raise KplFormatError(f"aggregated record {index}: partition key index {key_index} is not in the table of {len(partition_keys)}")
        if hash_index is not None and hash_index >= len(hash_keys):
            raise KplFormatError(f"aggregated record {index}: explicit hash key index {hash_index} is not in the table")
        records.append(
            UserRecord(payload, partition_keys[key_index], hash_keys[hash_index] if hash_index is not None else None, index, aggregated=True)
        )
    return records


def aggregate(records: list[tuple[str, bytes]]) -> bytes:
    """Pack (partition_key, data) pairs into one KPL aggregated record, as the KPL does."""
    keys: dict[str, int] = {}
    body = bytearray()
    for key, _ in records:
        keys.setdefault(key, len(keys))
    for key in keys:
        body += _length_delimited(1, key.encode())
    for key, data in records:
        record = _tag(1, 0) + _varint(keys[key]) + _length_delimited(3, data)
        body += _length_delimited(3, record)
    return MAGIC + bytes(body) + _digest(body)


def _digest(body: bytes | bytearray) -> bytes:
    import hashlib  # here, not at the top: most batches hold no aggregate, and hashlib is 4 ms of a cold start

    return hashlib.md5(body, usedforsecurity=False).digest()


def _fields(buffer: memoryview, where: str):
    """(field number, value) pairs of a protobuf message: ints for varints, memoryviews for bytes."""
    position, end = 0, len(buffer)
    while position < end:
        key, position = _read_varint(buffer, position, where)
        field, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, position = _read_varint(buffer, position, where)
        elif wire_type == 2:
            length, position = _read_varint(buffer, position, where)
            if position + length > end:
                raise KplFormatError(f"{where}: field {field} runs past the end of the message")
            value, position = buffer[position:position + length], position + length
        elif wire_type in (1, 5):  # fixed 64 / 32 bits: not in the KPL schema, skipped
            value, position = None, position + (8 if wire_type == 1 else 4)
        else:
            raise KplFormatError(f"{where}: unsupported protobuf wire type {wire_type} in field {field}")
        yield field, value


def _read_varint(buffer: memoryview, position: int, where: str) -> tuple[int, int]:
    result = shift = 0
    while True:
        if position >= len(buffer) or shift > 63:
            raise KplFormatError(f"{where}: truncated or oversized varint")
        byte = buffer[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _tag(field: int, wire_type: int) -> bytes:
    return _varint(field << 3 | wire_type)


def _length_delimited(field: int, payload: bytes) -> bytes:
    return _tag(field, 2) + _varint(len(payload)) + payload
