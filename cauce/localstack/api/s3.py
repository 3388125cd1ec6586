"""S3 through the endpoint `cauce up` serves, and the lake folder, are one store.

Every bucket is a folder of the lake root and every object a file (`s3://bucket/key` is
`ROOT/bucket/key`, as cauce.core.lake maps it): what a client puts, a Glue job on local Spark and the
crawler read; what Firehose delivers or a job writes, a client lists and gets; and it all survives a
restart of the server, because it is files. What S3 keeps beside the bytes (Content-Type,
`x-amz-meta-*`, the other stored headers, the ETag and checksums) is a small JSON sidecar under the
lake's `_cauce/s3/` folder, never beside the data: Spark and the crawler read the data folders, and a
stray file there would be a row or a table. A file written by something else (Spark, Firehose, a
copy into the folder) has no sidecar: its ETag is computed from its bytes once (and cached in the
sidecar, with the file's size and mtime, so a later rewrite is noticed), its Content-Type is
S3's default.

Why this design: moto's S3 is a second store, in memory, that neither Spark (no hadoop-aws here) nor
the crawler can read, and it ends with the process. No S3 server that stores plain files installs
here off the shelf (Debian's rclone 1.60 predates `rclone serve s3`; MinIO is not packaged), and any
of them would be a second process holding the lake's layout. Answering S3 in this process, over the
folder itself, keeps one store with nothing to synchronise.

Served, following the S3 API reference: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
GetBucketLocation, GetBucketVersioning (never versioned), PutObject, GetObject (Range, partNumber,
If-Match / If-None-Match / If-Modified-Since / If-Unmodified-Since, response-* overrides), HeadObject,
DeleteObject, DeleteObjects, CopyObject, ListObjectsV2, ListObjects, and multipart uploads
(CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload, AbortMultipartUpload,
ListParts, ListMultipartUploads). Path-style and virtual-host-style (`bucket.localhost`,
`bucket.s3.<region>.amazonaws.com`) addressing; `aws-chunked` bodies (signed or unsigned, with a
trailing checksum) are decoded; Content-MD5 and CRC32 / SHA-1 / SHA-256 checksums are verified.
Errors are S3's XML. Refused, each with an S3-shaped error: the other bucket and object sub-resources
(NotImplemented), and keys a folder cannot hold (InvalidArgument): a `.` or `..` or empty path
segment, a segment over 255 bytes, a key that is both an object and a folder of other keys
(`a` and `a/b`). No key ever names a path outside its bucket's folder, nor the `_cauce` folder.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import email.utils
import hashlib
import json
import os
import re
import shutil
import threading
import uuid
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from defusedxml import ElementTree as SafeElementTree  # request bodies are untrusted XML: no entity expansion

from cauce.core.aws import REGION
from cauce.localstack.gateway import AwsError, AwsRequest, AwsResponse

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
DEFAULT_CONTENT_TYPE = "binary/octet-stream"  # what S3 gives an object stored without a Content-Type
MIN_PART_BYTES = 5 * 1024 * 1024  # every part but the last (S3 multipart upload limits)
MAX_KEYS = 1000
CACHED_ETAG_BYTES = 256 * 1024  # a smaller file's MD5 costs less than writing its sidecar
OWNER_ID = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
STORED_HEADERS = ("content-encoding", "content-disposition", "content-language", "cache-control", "expires")
CHECKSUMS = {"crc32": lambda data: zlib.crc32(data).to_bytes(4, "big"), "sha1": lambda data: hashlib.sha1(data, usedforsecurity=False).digest(),
             "sha256": lambda data: hashlib.sha256(data).digest()}  # CRC32C and CRC64NVME are kept unverified (no local library)
PRESIGNED = {"AWSAccessKeyId", "Signature", "Expires", "x-amz-security-token"}  # Signature Version 2 query parameters
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP_ADDRESS = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_VIRTUAL_HOST = re.compile(r"^(?P<bucket>.+?)\.(?:s3[.-].*|localhost)$")


class S3Error(AwsError):
    """An error in S3's XML shape (the REST-XML protocol): `<Error><Code>...</Code><Message>...</Message>`."""

    def __init__(self, code: str, message: str, status: int = 400, head: bool = False, **details: str) -> None:
        super().__init__(code, message, status)
        self.details, self.head = details, head

    def response(self) -> AwsResponse:
        request_id = uuid.uuid4().hex[:16].upper()
        headers = {"x-amz-request-id": request_id, "Content-Type": "application/xml"}
        if self.head:  # a HEAD answer has no body: the client reads the status only
            return AwsResponse(self.status, b"", headers)
        fields = "".join(f"<{name}>{escape(str(value))}</{name}>" for name, value in self.details.items())
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{self.code}</Code><Message>{escape(self.message)}</Message>'
                f"{fields}<RequestId>{request_id}</RequestId></Error>")
        return AwsResponse(self.status, body, headers)


def no_such_bucket(bucket: str) -> S3Error:
    return S3Error("NoSuchBucket", "The specified bucket does not exist", 404, BucketName=bucket)


def no_such_key(key: str) -> S3Error:
    return S3Error("NoSuchKey", "The specified key does not exist.", 404, Key=key)


def no_such_upload(upload_id: str) -> S3Error:
    return S3Error("NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have "
                   "been aborted or completed.", 404, UploadId=upload_id)


@dataclass
class ObjectInfo:
    key: str
    size: int
    modified: float
    etag: str  # without quotes
    content_type: str = DEFAULT_CONTENT_TYPE
    metadata: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)
    parts: list[int] = field(default_factory=list)  # part sizes of a multipart upload's object


@dataclass
class Stored:
    """What a put or a copy keeps beside the bytes."""

    content_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)


class S3Store:
    """The lake folder as S3: buckets are the root's folders, objects their files; sidecars in `_cauce/s3`."""

    def __init__(self, root: Path) -> None:
        from cauce.core.lake import LocalLake

        lake = LocalLake(root)
        self.root = lake.root
        self.state = lake.state_dir / "s3"
        self.temporary = self.state / "tmp"
        self._lock = threading.RLock()

    # --- names -----------------------------------------------------------------------------------

    def bucket_dir(self, bucket: str) -> Path:
        if not valid_bucket_name(bucket):
            raise S3Error("InvalidBucketName", "The specified bucket is not valid.", BucketName=bucket)
        return self.root / bucket

    def existing_bucket(self, bucket: str, head: bool = False) -> Path:
        folder = self.bucket_dir(bucket)
        if not folder.is_dir():
            raise S3Error("NoSuchBucket", "The specified bucket does not exist", 404, head=head, BucketName=bucket)
        return folder

    def object_path(self, bucket: str, key: str, head: bool = False) -> Path:
        """The file of `key`, refused when a folder cannot hold that name; never outside the bucket's folder."""
        folder = self.existing_bucket(bucket, head)
        if not key:
            raise S3Error("InvalidArgument", "An object key must not be empty.", head=head)
        if len(key.encode("utf-8", "surrogatepass")) > 1024:
            raise S3Error("KeyTooLongError", "Your key is too long", head=head)
        segments = key.split("/")
        body, last = segments[:-1], segments[-1]
        for segment in segments:
            if segment in (".", "..") or (segment == "" and segment is not last) or "\x00" in segment \
                    or len(segment.encode("utf-8", "surrogatepass")) > 255:
                raise S3Error("InvalidArgument", f"The local lake stores objects as files: the key {key!r} has a path segment "
                              "('.', '..', empty, or over 255 bytes) that a folder cannot hold.", head=head, ArgumentName="key")
        path = folder.joinpath(*body, last) if last else folder.joinpath(*body)
        if not path.resolve().is_relative_to(folder.resolve()):  # a symbolic link out of the bucket
            raise S3Error("InvalidArgument", f"The key {key!r} leaves its bucket's folder.", head=head, ArgumentName="key")
        return path

    def _sidecar(self, bucket: str, key: str) -> Path:
        digest = hashlib.sha1(key.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()
        return self.state / "objects" / bucket / digest[:2] / f"{digest}.json"

    # --- buckets ---------------------------------------------------------------------------------

    def buckets(self) -> list[tuple[str, float, str]]:
        """(name, creation time, region) of every bucket: the root's folders that are valid bucket names."""
        found = []
        for entry in sorted(os.scandir(self.root), key=lambda e: e.name) if self.root.is_dir() else []:
            if entry.is_dir(follow_symlinks=False) and valid_bucket_name(entry.name):
                record = self._bucket_record(entry.name)
                found.append((entry.name, record.get("created", entry.stat().st_mtime), record.get("region", REGION)))
        return found

    def _bucket_record(self, bucket: str) -> dict[str, Any]:
        try:
            return json.loads((self.state / "buckets" / f"{bucket}.json").read_text())
        except (OSError, ValueError):
            return {}

    def bucket_region(self, bucket: str) -> str:
        self.existing_bucket(bucket)
        return self._bucket_record(bucket).get("region", REGION)

    def create_bucket(self, bucket: str, region: str = REGION) -> bool:
        """Create the bucket's folder; False if it already existed."""
        folder = self.bucket_dir(bucket)
        with self._lock:
            if folder.is_dir():
                return False
            folder.mkdir(parents=True)
            _write_json(self.state / "buckets" / f"{bucket}.json", {"created": dt.datetime.now(dt.timezone.utc).timestamp(),
                                                                    "region": region})
        return True

    def delete_bucket(self, bucket: str) -> None:
        folder = self.existing_bucket(bucket)
        with self._lock:
            if any(folder.iterdir()):
                raise S3Error("BucketNotEmpty", "The bucket you tried to delete is not empty", 409, BucketName=bucket)
            folder.rmdir()
            (self.state / "buckets" / f"{bucket}.json").unlink(missing_ok=True)
            shutil.rmtree(self.state / "objects" / bucket, ignore_errors=True)
            for upload in self.uploads(bucket):
                shutil.rmtree(self.state / "uploads" / upload["id"], ignore_errors=True)

    # --- objects ---------------------------------------------------------------------------------

    def head(self, bucket: str, key: str, head: bool = False) -> tuple[ObjectInfo, Path]:
        path = self.object_path(bucket, key, head)
        try:
            stat = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise S3Error("NoSuchKey", "The specified key does not exist.", 404, head=head, Key=key) from None
        marker = key.endswith("/")
        if marker != path.is_dir() or (marker and not self._is_marker(bucket, key, path)):
            raise S3Error("NoSuchKey", "The specified key does not exist.", 404, head=head, Key=key)
        return self._info(bucket, key, path, stat), path

    def _is_marker(self, bucket: str, key: str, path: Path) -> bool:
        """A folder is listed as an object `key/` when a client put that key, or when it is empty."""
        return self._sidecar(bucket, key).exists() or not any(path.iterdir())

    def _info(self, bucket: str, key: str, path: Path, stat: os.stat_result) -> ObjectInfo:
        size = 0 if key.endswith("/") else stat.st_size
        sidecar = self._sidecar(bucket, key)
        try:
            record = json.loads(sidecar.read_text())
        except (OSError, ValueError):
            record = None
        if record is not None and (key.endswith("/") or (record.get("size"), record.get("mtime_ns")) == (size, stat.st_mtime_ns)):
            return ObjectInfo(key, size, stat.st_mtime, record["etag"], record.get("content_type") or DEFAULT_CONTENT_TYPE,
                              record.get("metadata", {}), record.get("headers", {}), record.get("checksums", {}), record.get("parts", []))
        etag = _md5_of(path) if not key.endswith("/") else hashlib.md5(b"", usedforsecurity=False).hexdigest()
        with self._lock:  # a large file written by another (Spark, Firehose): its ETag cached, unless it changed meanwhile
            if size >= CACHED_ETAG_BYTES and path.exists() and path.stat().st_mtime_ns == stat.st_mtime_ns:
                _write_json(sidecar, {"key": key, "etag": etag, "size": size, "mtime_ns": stat.st_mtime_ns})
        return ObjectInfo(key, size, stat.st_mtime, etag)

    def new_temporary(self) -> Path:
        self.temporary.mkdir(parents=True, exist_ok=True)
        return self.temporary / uuid.uuid4().hex

    def put(self, bucket: str, key: str, data: bytes | Path, stored: Stored, etag: str | None = None,
            parts: list[int] | None = None, if_none_match: str | None = None, if_match: str | None = None) -> ObjectInfo:
        """Store an object (bytes, or a temporary file of this store moved into place) atomically."""
        path = self.object_path(bucket, key)
        if key.endswith("/") and (data if isinstance(data, bytes) else data.stat().st_size):
            raise S3Error("InvalidArgument", f"The local lake stores a key ending in '/' ({key!r}) as a folder: it cannot hold data.",
                          ArgumentName="key")
        if isinstance(data, bytes):
            source = self.new_temporary()
            source.write_bytes(data)
            etag = etag or hashlib.md5(data, usedforsecurity=False).hexdigest()
        else:
            source, etag = data, etag or _md5_of(data)
        try:
            with self._lock:
                self._check_conditions(bucket, key, if_none_match, if_match)
                self._make_parents(bucket, key, path)
                if key.endswith("/"):
                    path.mkdir(exist_ok=True)
                    source.unlink()
                elif path.is_dir():
                    raise S3Error("InvalidArgument", f"The local lake stores objects as files: {key!r} is already a folder of "
                                  f"other keys ({key}/...), so it cannot also be an object.", ArgumentName="key")
                stat = source.stat() if not key.endswith("/") else path.stat()
                size = 0 if key.endswith("/") else stat.st_size
                _write_json(self._sidecar(bucket, key), {"key": key, "etag": etag, "size": size, "mtime_ns": stat.st_mtime_ns,
                                                         "content_type": stored.content_type, "metadata": stored.metadata,
                                                         "headers": stored.headers, "checksums": stored.checksums, "parts": parts or []})
                if not key.endswith("/"):
                    os.replace(source, path)
        finally:
            if source.exists():
                source.unlink()
        return ObjectInfo(key, size, stat.st_mtime, etag, stored.content_type or DEFAULT_CONTENT_TYPE, stored.metadata,
                          stored.headers, stored.checksums, parts or [])

    def _check_conditions(self, bucket: str, key: str, if_none_match: str | None, if_match: str | None) -> None:
        """Conditional writes: If-None-Match: * refuses to overwrite, If-Match needs the current ETag."""
        if if_none_match is None and if_match is None:
            return
        try:
            current = self.head(bucket, key)[0]
        except S3Error:
            current = None
        if if_none_match is not None and current is not None:
            raise S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412, Condition="If-None-Match")
        if if_match is not None:
            if current is None:
                raise no_such_key(key)
            if not _etag_matches(if_match, current.etag):
                raise S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412, Condition="If-Match")

    def _make_parents(self, bucket: str, key: str, path: Path) -> None:
        folder = self.root / bucket
        for parent in reversed(path.parents):
            if parent.is_relative_to(folder) and parent != folder and parent.is_file():
                prefix = parent.relative_to(folder).as_posix()
                raise S3Error("InvalidArgument", f"The local lake stores objects as files: {prefix!r} is an object, so {key!r} "
                              "cannot be stored under it as a folder.", ArgumentName="key")
        path.parent.mkdir(parents=True, exist_ok=True)

    def delete(self, bucket: str, key: str) -> None:
        """Delete an object (a missing one is no error, as on S3); folders left empty go with it."""
        path = self.object_path(bucket, key)
        with self._lock:
            sidecar = self._sidecar(bucket, key)
            if key.endswith("/"):
                sidecar.unlink(missing_ok=True)
                if path.is_dir() and not any(path.iterdir()):
                    path.rmdir()
            elif path.is_file():
                path.unlink()
                sidecar.unlink(missing_ok=True)
            else:
                return
            folder, parent = self.root / bucket, path.parent
            while parent != folder and parent.is_relative_to(folder) and not any(parent.iterdir()) \
                    and not self._sidecar(bucket, parent.relative_to(folder).as_posix() + "/").exists():
                parent.rmdir()
                parent = parent.parent

    def list(self, bucket: str, prefix: str = "", delimiter: str | None = None, after: str = "",
             max_keys: int = MAX_KEYS) -> tuple[list[ObjectInfo], list[str], bool, str | None]:
        """(objects, common prefixes, truncated, the last item returned), in S3's order (UTF-8 byte order of keys).
        `after` is a key, or a common prefix returned before (whose keys are then all skipped)."""
        folder = self.existing_bucket(bucket)
        rest = after[len(prefix):] if delimiter and after.startswith(prefix) else ""
        skip = after if delimiter and rest and rest.find(delimiter) == len(rest) - len(delimiter) else None
        objects, prefixes, last, last_prefix = [], [], None, None
        for kind, key, path in self._walk(bucket, folder, "", prefix, after, skip, delimiter):
            common = key if kind == "prefix" else _common_prefix(key, prefix, delimiter)
            if common is not None and common == last_prefix:
                continue
            if len(objects) + len(prefixes) >= max_keys:
                return objects, prefixes, True, last
            if common is not None:
                prefixes.append(common)
                last = last_prefix = common
            else:
                try:
                    objects.append(self._info(bucket, key, path, path.stat()))
                except FileNotFoundError:  # deleted meanwhile
                    continue
                last = key
        return objects, prefixes, False, last

    def _walk(self, bucket: str, directory: Path, base: str, prefix: str, after: str, skip: str | None,
              delimiter: str | None) -> Iterator[tuple[str, str, Path]]:
        """("object", key, path) for every object under `directory` in key order, or ("prefix", common prefix, path)
        for a folder whose keys all roll up into one common prefix (it is not read further)."""
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            return
        named = []
        for entry in entries:
            try:
                entry.name.encode("utf-8")
            except UnicodeEncodeError:  # a file name no key can spell
                continue
            if entry.is_dir(follow_symlinks=False):
                named.append((entry.name + "/", entry, True))
            elif entry.is_file(follow_symlinks=False):
                named.append((entry.name, entry, False))
        for name, entry, is_dir in sorted(named, key=lambda item: item[0]):
            key, path = base + name, Path(entry.path)
            if not is_dir:
                if key.startswith(prefix) and key > after and not (skip and key.startswith(skip)):
                    yield "object", key, path
                continue
            if not (key.startswith(prefix) or prefix.startswith(key)) or (key < after and not after.startswith(key)) \
                    or (skip and key.startswith(skip)):
                continue  # no key of this folder is listed
            common = _common_prefix(key, prefix, delimiter) if key.startswith(prefix) else None
            if common is not None:  # every key of the folder rolls up into one prefix: is there one to list?
                if key > after or next(self._walk(bucket, path, key, prefix, after, skip, None), None) is not None:
                    yield "prefix", common, path
                continue
            if key.startswith(prefix) and key > after and self._is_marker(bucket, key, path):
                yield "object", key, path
            yield from self._walk(bucket, path, key, prefix, after, skip, delimiter)

    def copy_source(self, bucket: str, key: str, byte_range: tuple[int, int] | None = None) -> tuple[ObjectInfo, Path]:
        """A temporary copy of an object (or of a range of it) to put elsewhere."""
        info, path = self.head(bucket, key)
        target = self.new_temporary()
        with path.open("rb") as source, target.open("wb") as out:
            if byte_range is None:
                shutil.copyfileobj(source, out, 1024 * 1024)
            else:
                source.seek(byte_range[0])
                remaining = byte_range[1] - byte_range[0] + 1
                while remaining > 0 and (chunk := source.read(min(remaining, 1024 * 1024))):
                    out.write(chunk)
                    remaining -= len(chunk)
        return info, target

    # --- multipart uploads -----------------------------------------------------------------------

    def create_upload(self, bucket: str, key: str, stored: Stored) -> str:
        self.object_path(bucket, key)
        upload_id = uuid.uuid4().hex
        _write_json(self.state / "uploads" / upload_id / "upload.json",
                    {"id": upload_id, "bucket": bucket, "key": key, "initiated": dt.datetime.now(dt.timezone.utc).timestamp(),
                     "content_type": stored.content_type, "metadata": stored.metadata, "headers": stored.headers})
        return upload_id

    def upload(self, bucket: str, key: str, upload_id: str) -> dict[str, Any]:
        try:
            record = json.loads((self.state / "uploads" / upload_id / "upload.json").read_text()) if upload_id.isalnum() else None
        except (OSError, ValueError):
            record = None
        if record is None or (record["bucket"], record["key"]) != (bucket, key):
            raise no_such_upload(upload_id)
        return record

    def uploads(self, bucket: str) -> list[dict[str, Any]]:
        found = []
        for path in (self.state / "uploads").glob("*/upload.json"):
            try:
                record = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if record.get("bucket") == bucket:
                found.append(record)
        return sorted(found, key=lambda r: (r["key"], r["initiated"]))

    def put_part(self, bucket: str, key: str, upload_id: str, number: int, data: bytes | Path) -> str:
        self.upload(bucket, key, upload_id)
        folder = self.state / "uploads" / upload_id
        if isinstance(data, bytes):
            etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
            temporary = self.new_temporary()
            temporary.write_bytes(data)
        else:
            temporary, etag = data, _md5_of(data)
        size = temporary.stat().st_size
        os.replace(temporary, folder / f"{number:05d}.part")
        _write_json(folder / f"{number:05d}.json", {"number": number, "etag": etag, "size": size,
                                                     "modified": dt.datetime.now(dt.timezone.utc).timestamp()})
        return etag

    def parts(self, bucket: str, key: str, upload_id: str) -> list[dict[str, Any]]:
        self.upload(bucket, key, upload_id)
        return [json.loads(path.read_text()) for path in sorted((self.state / "uploads" / upload_id).glob("*.json"))
                if path.name != "upload.json"]

    def complete(self, bucket: str, key: str, upload_id: str, requested: list[tuple[int, str]]) -> ObjectInfo:
        record = self.upload(bucket, key, upload_id)
        if not requested:
            raise _malformed_xml()
        uploaded = {part["number"]: part for part in self.parts(bucket, key, upload_id)}
        numbers = [number for number, _ in requested]
        if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
            raise S3Error("InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be specified in order by part number.")
        for index, (number, etag) in enumerate(requested):
            part = uploaded.get(number)
            if part is None or part["etag"] != etag.strip('"'):
                raise S3Error("InvalidPart", "One or more of the specified parts could not be found. The part might not have been "
                              "uploaded, or the specified entity tag might not have matched the part's entity tag.",
                              UploadId=upload_id, PartNumber=str(number), ETag=etag)
            if index < len(requested) - 1 and part["size"] < MIN_PART_BYTES:
                raise S3Error("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.",
                              ProposedSize=str(part["size"]), MinSizeAllowed=str(MIN_PART_BYTES), PartNumber=str(number))
        folder = self.state / "uploads" / upload_id
        target = self.new_temporary()
        with target.open("wb") as out:
            for number in numbers:
                with (folder / f"{number:05d}.part").open("rb") as part:
                    shutil.copyfileobj(part, out, 1024 * 1024)
        etag = hashlib.md5(b"".join(bytes.fromhex(uploaded[n]["etag"]) for n in numbers), usedforsecurity=False).hexdigest() + f"-{len(numbers)}"
        stored = Stored(record.get("content_type"), record.get("metadata", {}), record.get("headers", {}))
        info = self.put(bucket, key, target, stored, etag=etag, parts=[uploaded[n]["size"] for n in numbers])
        shutil.rmtree(folder, ignore_errors=True)
        return info

    def abort(self, bucket: str, key: str, upload_id: str) -> None:
        self.upload(bucket, key, upload_id)
        shutil.rmtree(self.state / "uploads" / upload_id, ignore_errors=True)


def valid_bucket_name(name: str) -> bool:
    """S3's general purpose bucket naming rules (3-63 characters of a-z 0-9 . -, a letter or digit at both ends,
    no `..`, not an IP address, none of the reserved prefixes and suffixes)."""
    return bool(_BUCKET_NAME.match(name)) and ".." not in name and not _IP_ADDRESS.match(name) \
        and not name.startswith(("xn--", "sthree-", "amzn-s3-demo-")) \
        and not name.endswith(("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"))


def _common_prefix(key: str, prefix: str, delimiter: str | None) -> str | None:
    if not delimiter:
        return None
    index = key.find(delimiter, len(prefix))
    return key[: index + len(delimiter)] if index >= 0 else None


def _md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as stream:
        while chunk := stream.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    temporary.write_text(json.dumps(value))
    os.replace(temporary, path)


def _etag_matches(condition: str, etag: str) -> bool:
    return any(tag.strip().strip('"') in ("*", etag) for tag in condition.split(","))


# --- the REST API ------------------------------------------------------------------------------------


class S3Api:
    """S3's REST operations over an S3Store: `handle` is the gateway's handler for the `s3` service."""

    BUCKET_SUBRESOURCES = {"location", "versioning", "uploads", "delete", "list-type"}
    OBJECT_SUBRESOURCES = {"uploads", "uploadId", "partNumber"}
    IGNORED = {"x-id", "encoding-type", "prefix", "delimiter", "marker", "max-keys", "continuation-token", "start-after",
               "fetch-owner", "max-uploads", "key-marker", "upload-id-marker", "max-parts", "part-number-marker", "versionId",
               "bucket-region", "max-buckets", "continuation-token"}

    def __init__(self, store: S3Store) -> None:
        self.store = store

    def handle(self, request: AwsRequest) -> AwsResponse:
        head = request.method == "HEAD"
        try:
            bucket, key = self._address(request)
            return self._dispatch(request, bucket, key)
        except S3Error as error:
            error.head = error.head or head
            raise
        except Exception as exc:  # never a traceback to the client: S3's InternalError, with the reason
            raise S3Error("InternalError", f"We encountered an internal error: {type(exc).__name__}: {exc}", 500, head=head) from exc

    @staticmethod
    def _address(request: AwsRequest) -> tuple[str | None, str]:
        """(bucket, key) from a path-style or a virtual-host-style request."""
        try:
            path = request.path.encode("latin-1").decode("utf-8")  # WSGI hands the path over as latin-1
        except UnicodeError:
            path = request.path
        host = request.headers.get("host", "").rsplit(":", 1)[0].lower() if not request.headers.get("host", "").startswith("[") else ""
        match = _VIRTUAL_HOST.match(host) if host and not _IP_ADDRESS.match(host) else None
        if match:
            return match.group("bucket"), path[1:]
        bucket, _, key = path[1:].partition("/")
        return bucket or None, key

    def _dispatch(self, request: AwsRequest, bucket: str | None, key: str) -> AwsResponse:
        method, query = request.method, request.query
        if bucket is None:
            if method == "GET":
                return self.list_buckets(request)
            raise S3Error("MethodNotAllowed", "The specified method is not allowed against this resource.", 405)
        if not key:
            unknown = _subresources(query) - self.BUCKET_SUBRESOURCES
            if unknown:
                raise _not_implemented(sorted(unknown)[0])
            if method == "PUT" and not query.keys() - {"x-id"}:
                return self.create_bucket(request, bucket)
            if method == "HEAD":
                return self.head_bucket(bucket)
            if method == "DELETE" and not query.keys() - {"x-id"}:
                self.store.delete_bucket(bucket)
                return AwsResponse(204)
            if method == "GET" and "location" in query:
                return _xml(f'<LocationConstraint xmlns="{NAMESPACE}">{_location(self.store.bucket_region(bucket))}</LocationConstraint>')
            if method == "GET" and "versioning" in query:
                self.store.existing_bucket(bucket)
                return _xml(f'<VersioningConfiguration xmlns="{NAMESPACE}"/>')
            if method == "GET" and "uploads" in query:
                return self.list_uploads(request, bucket)
            if method == "GET":
                return self.list_objects(request, bucket, version=2 if request.param("list-type") == "2" else 1)
            if method == "POST" and "delete" in query:
                return self.delete_objects(request, bucket)
            raise S3Error("MethodNotAllowed", "The specified method is not allowed against this resource.", 405)
        unknown = _subresources(query) - self.OBJECT_SUBRESOURCES
        if unknown:
            raise _not_implemented(sorted(unknown)[0])
        upload_id = request.param("uploadId")
        if method == "PUT" and upload_id is not None:
            return self.upload_part(request, bucket, key, upload_id)
        if method == "PUT" and "x-amz-copy-source" in request.headers:
            return self.copy_object(request, bucket, key)
        if method == "PUT":
            return self.put_object(request, bucket, key)
        if method == "POST" and "uploads" in query:
            upload_id = self.store.create_upload(bucket, key, _stored(request))
            return _xml(f'<InitiateMultipartUploadResult xmlns="{NAMESPACE}"><Bucket>{escape(bucket)}</Bucket><Key>{escape(key)}</Key>'
                        f"<UploadId>{upload_id}</UploadId></InitiateMultipartUploadResult>")
        if method == "POST" and upload_id is not None:
            return self.complete_upload(request, bucket, key, upload_id)
        if method == "DELETE" and upload_id is not None:
            self.store.abort(bucket, key, upload_id)
            return AwsResponse(204)
        if method == "GET" and upload_id is not None:
            return self.list_parts(request, bucket, key, upload_id)
        if method in ("GET", "HEAD"):
            return self.get_object(request, bucket, key, head=method == "HEAD")
        if method == "DELETE":
            self.store.delete(bucket, key)
            return AwsResponse(204)
        raise S3Error("MethodNotAllowed", "The specified method is not allowed against this resource.", 405)

    # --- buckets ---------------------------------------------------------------------------------

    def list_buckets(self, request: AwsRequest) -> AwsResponse:
        prefix = request.param("prefix") or ""
        buckets = "".join(f"<Bucket><Name>{name}</Name><CreationDate>{_iso(created)}</CreationDate><BucketRegion>{region}</BucketRegion></Bucket>"
                          for name, created, region in self.store.buckets() if name.startswith(prefix))
        return _xml(f'<ListAllMyBucketsResult xmlns="{NAMESPACE}">{_owner()}<Buckets>{buckets}</Buckets>'
                    f"<Prefix>{escape(prefix)}</Prefix></ListAllMyBucketsResult>")

    def create_bucket(self, request: AwsRequest, bucket: str) -> AwsResponse:
        region = _signing_region(request)
        constraint = None
        if request.body.strip():
            try:
                constraint = _text(SafeElementTree.fromstring(request.body), "LocationConstraint", required=False)
            except (ElementTree.ParseError, ValueError):  # defusedxml's refusals are ValueErrors
                raise _malformed_xml() from None
        if constraint == "us-east-1":
            raise S3Error("InvalidLocationConstraint", "The specified location-constraint is not valid", LocationConstraint=constraint)
        if (constraint or "us-east-1") != region:
            raise S3Error("IllegalLocationConstraintException", f"The {constraint or 'unspecified'} location constraint is incompatible "
                          "for the region specific endpoint this request was sent to.")
        if not self.store.create_bucket(bucket, constraint or region) and region != "us-east-1":
            raise S3Error("BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.",
                          409, BucketName=bucket)  # us-east-1 answers 200 for a bucket you own (legacy behaviour)
        return AwsResponse(200, b"", {"Location": f"/{bucket}"})

    def head_bucket(self, bucket: str) -> AwsResponse:
        self.store.existing_bucket(bucket, head=True)
        return AwsResponse(200, b"", {"x-amz-bucket-region": self.store.bucket_region(bucket), "Content-Type": "application/xml"})

    # --- listing ---------------------------------------------------------------------------------

    def list_objects(self, request: AwsRequest, bucket: str, version: int) -> AwsResponse:
        prefix, delimiter = request.param("prefix") or "", request.param("delimiter") or None
        try:
            max_keys = int(request.param("max-keys") or MAX_KEYS)
        except ValueError:
            raise S3Error("InvalidArgument", "Provided max-keys not an integer or within integer range", ArgumentName="max-keys") from None
        if max_keys < 0:
            raise S3Error("InvalidArgument", "Argument maxKeys must be an integer between 0 and 2147483647", ArgumentName="maxKeys")
        token = request.param("continuation-token")
        start_after = request.param("start-after") or ""
        if version == 2:
            after = _decode_token(token) if token is not None else start_after
        else:
            after = request.param("marker") or ""
        objects, prefixes, truncated, last = self.store.list(bucket, prefix, delimiter, after, min(max_keys, MAX_KEYS))
        encode = (lambda text: quote(text, safe="/")) if request.param("encoding-type") == "url" else escape
        contents = "".join(f"<Contents><Key>{encode(o.key)}</Key><LastModified>{_iso(o.modified)}</LastModified>"
                           f"<ETag>&quot;{o.etag}&quot;</ETag><Size>{o.size}</Size>"
                           + (_owner() if version == 1 or request.param("fetch-owner") == "true" else "")
                           + "<StorageClass>STANDARD</StorageClass></Contents>" for o in objects)
        common = "".join(f"<CommonPrefixes><Prefix>{encode(p)}</Prefix></CommonPrefixes>" for p in prefixes)
        fields = [f"<Name>{bucket}</Name>", f"<Prefix>{encode(prefix)}</Prefix>", f"<MaxKeys>{max_keys}</MaxKeys>"]
        if delimiter:
            fields.append(f"<Delimiter>{encode(delimiter)}</Delimiter>")
        if request.param("encoding-type") == "url":
            fields.append("<EncodingType>url</EncodingType>")
        fields.append(f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>")
        if version == 2:
            fields.append(f"<KeyCount>{len(objects) + len(prefixes)}</KeyCount>")
            if token is not None:
                fields.append(f"<ContinuationToken>{escape(token)}</ContinuationToken>")
            if start_after:
                fields.append(f"<StartAfter>{encode(start_after)}</StartAfter>")
            if truncated and last is not None:
                fields.append(f"<NextContinuationToken>{_encode_token(last)}</NextContinuationToken>")
            root = "ListBucketResult"
        else:
            fields.append(f"<Marker>{encode(after)}</Marker>")
            if truncated and delimiter and last is not None:  # NextMarker is returned only with a delimiter
                fields.append(f"<NextMarker>{encode(last)}</NextMarker>")
            root = "ListBucketResult"
        return _xml(f'<{root} xmlns="{NAMESPACE}">{"".join(fields)}{contents}{common}</{root}>')

    def list_uploads(self, request: AwsRequest, bucket: str) -> AwsResponse:
        self.store.existing_bucket(bucket)
        prefix = request.param("prefix") or ""
        uploads = "".join(f"<Upload><Key>{escape(u['key'])}</Key><UploadId>{u['id']}</UploadId>{_owner('Initiator')}{_owner()}"
                          f"<StorageClass>STANDARD</StorageClass><Initiated>{_iso(u['initiated'])}</Initiated></Upload>"
                          for u in self.store.uploads(bucket) if u["key"].startswith(prefix))
        return _xml(f'<ListMultipartUploadsResult xmlns="{NAMESPACE}"><Bucket>{bucket}</Bucket><KeyMarker></KeyMarker>'
                    f"<UploadIdMarker></UploadIdMarker><Prefix>{escape(prefix)}</Prefix><MaxUploads>1000</MaxUploads>"
                    f"<IsTruncated>false</IsTruncated>{uploads}</ListMultipartUploadsResult>")

    def list_parts(self, request: AwsRequest, bucket: str, key: str, upload_id: str) -> AwsResponse:
        parts = "".join(f"<Part><PartNumber>{p['number']}</PartNumber><LastModified>{_iso(p['modified'])}</LastModified>"
                        f"<ETag>&quot;{p['etag']}&quot;</ETag><Size>{p['size']}</Size></Part>" for p in self.store.parts(bucket, key, upload_id))
        return _xml(f'<ListPartsResult xmlns="{NAMESPACE}"><Bucket>{bucket}</Bucket><Key>{escape(key)}</Key><UploadId>{upload_id}</UploadId>'
                    f"{_owner('Initiator')}{_owner()}<StorageClass>STANDARD</StorageClass><PartNumberMarker>0</PartNumberMarker>"
                    f"<MaxParts>1000</MaxParts><IsTruncated>false</IsTruncated>{parts}</ListPartsResult>")

    # --- objects ---------------------------------------------------------------------------------

    def put_object(self, request: AwsRequest, bucket: str, key: str) -> AwsResponse:
        data, checksums = _payload(request)
        info = self.store.put(bucket, key, data, _stored(request, checksums),
                              if_none_match=request.headers.get("if-none-match"), if_match=request.headers.get("if-match"))
        return AwsResponse(200, b"", {"ETag": f'"{info.etag}"', **_checksum_headers(checksums)})

    def upload_part(self, request: AwsRequest, bucket: str, key: str, upload_id: str) -> AwsResponse:
        try:
            number = int(request.param("partNumber") or "")
        except ValueError:
            number = 0
        if not 1 <= number <= 10000:
            raise S3Error("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive", ArgumentName="partNumber")
        if "x-amz-copy-source" in request.headers:
            source_bucket, source_key = _copy_source(request.headers["x-amz-copy-source"])
            byte_range = None
            if request.headers.get("x-amz-copy-source-range"):
                size = self.store.head(source_bucket, source_key)[0].size
                byte_range = _parse_range(request.headers["x-amz-copy-source-range"], size)
                if byte_range is None:
                    raise S3Error("InvalidArgument", "The x-amz-copy-source-range value must be of the form bytes=first-last where "
                                  "first and last are the zero-based offsets of the first and last bytes to copy", ArgumentName="x-amz-copy-source-range")
            _, temporary = self.store.copy_source(source_bucket, source_key, byte_range)
            etag = self.store.put_part(bucket, key, upload_id, number, temporary)
            return _xml(f'<CopyPartResult xmlns="{NAMESPACE}"><LastModified>{_iso(dt.datetime.now(dt.timezone.utc).timestamp())}'
                        f"</LastModified><ETag>&quot;{etag}&quot;</ETag></CopyPartResult>")
        data, checksums = _payload(request)
        etag = self.store.put_part(bucket, key, upload_id, number, data)
        return AwsResponse(200, b"", {"ETag": f'"{etag}"', **_checksum_headers(checksums)})

    def complete_upload(self, request: AwsRequest, bucket: str, key: str, upload_id: str) -> AwsResponse:
        try:
            document = SafeElementTree.fromstring(request.body)
            requested = [(int(_text(part, "PartNumber")), _text(part, "ETag")) for part in document if part.tag.endswith("Part")]
        except (ElementTree.ParseError, TypeError, ValueError):
            raise _malformed_xml() from None
        info = self.store.complete(bucket, key, upload_id, requested)
        return _xml(f'<CompleteMultipartUploadResult xmlns="{NAMESPACE}"><Location>/{bucket}/{escape(key)}</Location>'
                    f"<Bucket>{bucket}</Bucket><Key>{escape(key)}</Key><ETag>&quot;{info.etag}&quot;</ETag></CompleteMultipartUploadResult>")

    def copy_object(self, request: AwsRequest, bucket: str, key: str) -> AwsResponse:
        source_bucket, source_key = _copy_source(request.headers["x-amz-copy-source"])
        replace = request.headers.get("x-amz-metadata-directive", "COPY").upper() == "REPLACE"
        if (source_bucket, source_key) == (bucket, key) and not replace:
            raise S3Error("InvalidRequest", "This copy request is illegal because it is trying to copy an object to itself without "
                          "changing the object's metadata, storage class, website redirect location or encryption attributes.")
        info, temporary = self.store.copy_source(source_bucket, source_key)
        if_match = request.headers.get("x-amz-copy-source-if-match")
        if_none_match = request.headers.get("x-amz-copy-source-if-none-match")
        if (if_match and not _etag_matches(if_match, info.etag)) or (if_none_match and _etag_matches(if_none_match, info.etag)):
            temporary.unlink()
            raise S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412)
        stored = _stored(request) if replace else Stored(info.content_type, info.metadata, info.headers, info.checksums)
        copied = self.store.put(bucket, key, temporary, stored, etag=info.etag if not info.parts else None)
        return _xml(f'<CopyObjectResult xmlns="{NAMESPACE}"><LastModified>{_iso(copied.modified)}</LastModified>'
                    f"<ETag>&quot;{copied.etag}&quot;</ETag></CopyObjectResult>")

    def get_object(self, request: AwsRequest, bucket: str, key: str, head: bool) -> AwsResponse:
        info, path = self.store.head(bucket, key, head)
        headers = {"ETag": f'"{info.etag}"', "Last-Modified": email.utils.formatdate(info.modified, usegmt=True),
                   "Content-Type": info.content_type, "Accept-Ranges": "bytes", **info.headers,
                   **{f"x-amz-meta-{name}": value for name, value in info.metadata.items()}}
        status = _preconditions(request.headers, info)
        if status == 304:
            return AwsResponse(304, b"", {"ETag": headers["ETag"], "Last-Modified": headers["Last-Modified"]})
        if status == 412:
            raise S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412, head=head)
        for name, header in (("response-content-type", "Content-Type"), ("response-content-language", "Content-Language"),
                             ("response-expires", "Expires"), ("response-cache-control", "Cache-Control"),
                             ("response-content-disposition", "Content-Disposition"), ("response-content-encoding", "Content-Encoding")):
            if request.param(name):
                headers[header] = request.param(name)
        start, end, status = 0, info.size - 1, 200
        part_number = request.param("partNumber")
        if part_number is not None:
            sizes = info.parts or [info.size]
            if not part_number.isdigit() or not 1 <= int(part_number) <= len(sizes):
                raise S3Error("InvalidPartNumber", "The requested partnumber is not satisfiable", 416, head=head)
            start = sum(sizes[: int(part_number) - 1])
            end, status = start + sizes[int(part_number) - 1] - 1, 206
            headers["x-amz-mp-parts-count"] = str(len(sizes))
        elif request.headers.get("range"):
            byte_range = _parse_range(request.headers["range"], info.size)
            if byte_range == "unsatisfiable":
                raise S3Error("InvalidRange", "The requested range is not satisfiable", 416, head=head,
                              RangeRequested=request.headers["range"], ActualObjectSize=str(info.size))
            if byte_range is not None:
                start, end, status = byte_range[0], byte_range[1], 206
        if status == 206:
            headers["Content-Range"] = f"bytes {start}-{end}/{info.size}"
        elif request.headers.get("x-amz-checksum-mode", "").upper() == "ENABLED":
            headers.update(_checksum_headers(info.checksums))
        headers["Content-Length"] = str(max(end - start + 1, 0))
        if head or info.size == 0:
            return AwsResponse(status, b"", headers)
        stream = path.open("rb")
        stream.seek(start)
        return AwsResponse(status, _Limited(stream, end - start + 1), headers)

    def delete_objects(self, request: AwsRequest, bucket: str) -> AwsResponse:
        self.store.existing_bucket(bucket)
        try:
            document = SafeElementTree.fromstring(request.body)
            keys = [_text(item, "Key") for item in document if item.tag.endswith("Object")]
            quiet = (_text(document, "Quiet", required=False) or "").lower() == "true"
        except (ElementTree.ParseError, TypeError, ValueError):
            raise _malformed_xml() from None
        if not keys or len(keys) > 1000:
            raise _malformed_xml()
        results = []
        for key in keys:
            try:
                self.store.delete(bucket, key)
                if not quiet:
                    results.append(f"<Deleted><Key>{escape(key)}</Key></Deleted>")
            except S3Error as error:
                results.append(f"<Error><Key>{escape(key)}</Key><Code>{error.code}</Code><Message>{escape(error.message)}</Message></Error>")
        return _xml(f'<DeleteResult xmlns="{NAMESPACE}">{"".join(results)}</DeleteResult>')


def _subresources(query: Mapping[str, Any]) -> set[str]:
    """The query's names that are not parameters of the operations served (a presigned URL's, response-* overrides)."""
    return {name for name in query if name not in S3Api.IGNORED and not name.startswith(("response-", "X-Amz-"))} - PRESIGNED


class _Limited:
    """`length` bytes of an open file, from where it stands (a Range answer)."""

    def __init__(self, stream: Any, length: int) -> None:
        self.stream, self.remaining = stream, length

    def read(self, size: int = -1) -> bytes:
        size = self.remaining if size < 0 else min(size, self.remaining)
        chunk = self.stream.read(size) if size > 0 else b""
        self.remaining -= len(chunk)
        return chunk

    def close(self) -> None:
        self.stream.close()


def _payload(request: AwsRequest) -> tuple[bytes, dict[str, str]]:
    """The object's bytes (an `aws-chunked` body decoded) and its checksums, each verified when it can be."""
    headers, body = request.headers, request.body
    trailers: dict[str, str] = {}
    if "aws-chunked" in headers.get("content-encoding", "") or headers.get("x-amz-content-sha256", "").startswith("STREAMING-"):
        body, trailers = _decode_aws_chunked(body)
        declared = headers.get("x-amz-decoded-content-length")
        if declared is not None and declared.isdigit() and int(declared) != len(body):
            raise S3Error("IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header")
    if headers.get("content-md5"):
        try:
            expected = base64.b64decode(headers["content-md5"], validate=True)
        except binascii.Error:
            expected = b""
        if len(expected) != 16:
            raise S3Error("InvalidDigest", "The Content-MD5 you specified was invalid.", **{"Content-MD5": headers["content-md5"]})
        if hashlib.md5(body, usedforsecurity=False).digest() != expected:
            raise S3Error("BadDigest", "The Content-MD5 you specified did not match what we received.")
    checksums = {}
    for name, value in {**headers, **trailers}.items():
        if name.startswith("x-amz-checksum-") and name not in ("x-amz-checksum-mode", "x-amz-checksum-type", "x-amz-checksum-algorithm"):
            algorithm = name.removeprefix("x-amz-checksum-")
            calculate = CHECKSUMS.get(algorithm)
            if calculate is not None and base64.b64encode(calculate(body)).decode() != value:
                raise S3Error("BadDigest", f"The {algorithm.upper()} you specified did not match the calculated checksum.")
            checksums[algorithm] = value
    return body, checksums


def _decode_aws_chunked(body: bytes) -> tuple[bytes, dict[str, str]]:
    """`hex-size[;chunk-signature=...]\\r\\n data \\r\\n` ... `0\\r\\n` then trailing headers (SigV4 streaming)."""
    out, position, trailers = bytearray(), 0, {}
    while True:
        line_end = body.find(b"\r\n", position)
        if line_end < 0:
            raise S3Error("IncompleteBody", "The aws-chunked request body ends inside a chunk header.")
        try:
            size = int(body[position:line_end].split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise S3Error("InvalidRequest", "The aws-chunked request body has a malformed chunk header.") from None
        position = line_end + 2
        if size == 0:
            break
        if position + size > len(body):
            raise S3Error("IncompleteBody", "The aws-chunked request body ends inside a chunk.")
        out += body[position:position + size]
        position += size + 2
    for line in body[position:].split(b"\r\n"):
        name, colon, value = line.decode("latin-1").partition(":")
        if colon and name.strip().lower() != "x-amz-trailer-signature":
            trailers[name.strip().lower()] = value.strip()
    return bytes(out), trailers


def _stored(request: AwsRequest, checksums: Mapping[str, str] | None = None) -> Stored:
    headers = request.headers
    content_type = headers.get("content-type")
    encoding = ",".join(part for part in headers.get("content-encoding", "").split(",") if part.strip() and part.strip() != "aws-chunked")
    stored = {name: headers[name] for name in STORED_HEADERS if headers.get(name) and name != "content-encoding"}
    if encoding:
        stored["content-encoding"] = encoding
    metadata = {name.removeprefix("x-amz-meta-"): value for name, value in headers.items() if name.startswith("x-amz-meta-")}
    return Stored(content_type, metadata, stored, dict(checksums or {}))


def _checksum_headers(checksums: Mapping[str, str]) -> dict[str, str]:
    return {f"x-amz-checksum-{algorithm}": value for algorithm, value in checksums.items()}


def _preconditions(headers: Mapping[str, str], info: ObjectInfo) -> int | None:
    """RFC 7232 as S3 applies it to GET and HEAD: 412 for If-Match / If-Unmodified-Since, 304 for If-None-Match /
    If-Modified-Since (If-Match true makes If-Unmodified-Since moot; If-None-Match false makes If-Modified-Since moot)."""
    modified = int(info.modified)
    if "if-match" in headers:
        if not _etag_matches(headers["if-match"], info.etag):
            return 412
    elif "if-unmodified-since" in headers:
        since = _http_date(headers["if-unmodified-since"])
        if since is not None and modified > since:
            return 412
    if "if-none-match" in headers:
        if _etag_matches(headers["if-none-match"], info.etag):
            return 304
    elif "if-modified-since" in headers:
        since = _http_date(headers["if-modified-since"])
        if since is not None and modified <= since:
            return 304
    return None


def _http_date(value: str) -> int | None:
    try:
        return int(email.utils.parsedate_to_datetime(value).timestamp())
    except (TypeError, ValueError):
        return None


def _parse_range(value: str, size: int) -> tuple[int, int] | str | None:
    """(first, last) of one `bytes=` range; "unsatisfiable"; None when the header is ignored (malformed, several ranges)."""
    match = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", value)
    if not match or not (match.group(1) or match.group(2)):
        return None
    first, last = match.groups()
    if not first:  # the last N bytes
        length = int(last)
        if length == 0:
            return "unsatisfiable"
        return max(size - length, 0), size - 1
    start = int(first)
    if start >= size:
        return "unsatisfiable"
    end = min(int(last), size - 1) if last else size - 1
    return (start, end) if end >= start else None


def _copy_source(header: str) -> tuple[str, str]:
    source = unquote(header.split("?", 1)[0]).lstrip("/")
    bucket, _, key = source.partition("/")
    if not bucket or not key:
        raise S3Error("InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
                      ArgumentName="x-amz-copy-source", ArgumentValue=header)
    return bucket, key


def _text(element: Any, name: str, required: bool = True) -> str | None:
    for child in element:
        if child.tag == name or child.tag.endswith("}" + name):
            return child.text or ""
    if required:
        raise TypeError(f"missing {name}")
    return None


def _signing_region(request: AwsRequest) -> str:
    authorization = request.headers.get("authorization", "")
    try:
        return authorization.split("Credential=", 1)[1].split("/")[2]
    except IndexError:
        credential = request.param("X-Amz-Credential") or ""
        parts = credential.split("/")
        return parts[2] if len(parts) > 2 else REGION


def _location(region: str) -> str:
    return "" if region == "us-east-1" else region  # us-east-1 buckets have no location constraint


def _encode_token(last: str) -> str:
    return base64.urlsafe_b64encode(last.encode("utf-8", "surrogatepass")).decode()


def _decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise S3Error("InvalidArgument", "The continuation token provided is incorrect", ArgumentName="continuation-token") from None


def _iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _owner(tag: str = "Owner") -> str:
    return f"<{tag}><ID>{OWNER_ID}</ID><DisplayName>cauce</DisplayName></{tag}>"


def _malformed_xml() -> S3Error:
    return S3Error("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")


def _not_implemented(subresource: str) -> S3Error:
    return S3Error("NotImplemented", f"A header you provided implies functionality that is not implemented: the local stack's S3 "
                   f"does not serve the {subresource!r} sub-resource (docs/local-stack.md lists what it serves).", 501)


def _xml(document: str, status: int = 200) -> AwsResponse:
    return AwsResponse(status, '<?xml version="1.0" encoding="UTF-8"?>\n' + document, {"Content-Type": "application/xml"})


def register(server: Any, gateway: Any) -> None:
    """Answer S3 over the server's lake folder; the lake bucket exists from the start (moto's S3 is not used)."""
    from cauce.localstack.pipeline import lake_bucket

    store = S3Store(server.lake_dir)
    store.create_bucket(lake_bucket(server.stack))
    server.s3 = store
    gateway.service("s3", S3Api(store).handle)
