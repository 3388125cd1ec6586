"""Where a local Glue script's I/O lands: the lake, the local catalog, bookmarks, and what each
transformation_ctx read and wrote.

One environment is current per process (a Glue job owns its driver the same way). The runner
(`cauce job run`) and the `glue_context` pytest fixture install one on their lake; a script run
any other way gets one on the default lake (`$CAUCE_LAKE`, else `.cauce/lake`).

`s3://bucket/...` in plain Spark calls inside a script reaches the lake through Hadoop's
`ViewFileSystemOverloadScheme` (bundled with pyspark's Hadoop 3.3.4, no extra JAR): each bucket is a
mount table whose fallback link is `file://<lake>/<bucket>`. The FileSystem cache is disabled for
those schemes so that a bucket re-mounted on another lake (the next test's) is not served from a
stale instance.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from cauce.core.lake import S3_SCHEMES, LocalLake, default_lake
from cauce.etl.catalog import LocalCatalog

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from cauce.etl.bookmarks import BookmarkState

_OVERLOAD_SCHEME = "org.apache.hadoop.fs.viewfs.ViewFileSystemOverloadScheme"


@dataclass
class ContextCounts:
    """Rows per transformation_ctx, from Spark Observations evaluated by the script's own actions."""

    reads: dict[str, Any] = field(default_factory=dict)  # ctx -> Observation(rows, errors)
    writes: dict[str, Any] = field(default_factory=dict)  # ctx -> Observation(rows)


class LocalGlueEnvironment:
    def __init__(self, lake: LocalLake | str | Path, spark: "SparkSession | None" = None):
        self.lake = lake if isinstance(lake, LocalLake) else LocalLake(Path(lake))
        self.catalog = LocalCatalog(self.lake)
        self._spark = spark
        self.bookmark: "BookmarkState | None" = None
        self.job_name: str | None = None
        self.run_id: str | None = None
        self.counts = ContextCounts()
        self.pending_marks: list[tuple] = []  # (ctx, keys, Observation of the keys' maxima, to_plain) of JDBC reads
        self._mounted: set[str] = set()

    @property
    def spark(self) -> "SparkSession":
        if self._spark is None:
            from cauce.etl.spark import local_spark_session

            self._spark = local_spark_session()
        return self._spark

    def mount(self, *uris_or_buckets: str) -> None:
        """Map these buckets (or the buckets of these S3 URIs) onto the lake for plain Spark I/O."""
        conf = self.spark.sparkContext._jsc.hadoopConfiguration()
        for scheme in S3_SCHEMES:
            conf.set(f"fs.{scheme}.impl", _OVERLOAD_SCHEME)
            conf.set(f"fs.{scheme}.impl.disable.cache", "true")
        for value in uris_or_buckets:
            parsed = urlparse(value)
            bucket = parsed.netloc if parsed.scheme in S3_SCHEMES else value
            if not bucket or "/" in bucket:
                continue
            folder = self.lake.root / bucket
            folder.mkdir(parents=True, exist_ok=True)
            conf.set(f"fs.viewfs.mounttable.{bucket}.linkFallback", folder.as_uri())
            self._mounted.add(bucket)

    def mount_lake_buckets(self) -> None:
        """Every bucket folder already in the lake."""
        if self.lake.root.exists():
            self.mount(*[p.name for p in self.lake.root.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))])

    def local_path(self, uri: str) -> Path:
        if urlparse(uri).scheme in S3_SCHEMES:
            self.mount(uri)
        return self.lake.local_path(uri)

    def staging_folder(self, staging_path: str | None) -> Path:
        """Where relationalize stages its tables: the given path in the lake, else the lake's state folder."""
        folder = self.local_path(staging_path) if staging_path else self.lake.state_dir / "glue-staging"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    # -- per run ---------------------------------------------------------------------------
    def reset_run(self) -> None:
        self.bookmark = None
        self.job_name = None
        self.run_id = None
        self.counts = ContextCounts()
        self.pending_marks = []


_current: LocalGlueEnvironment | None = None
_lock = threading.Lock()


def current_environment() -> LocalGlueEnvironment:
    """The process's environment, created on the default lake when nothing installed one."""
    global _current
    with _lock:
        if _current is None:
            _current = LocalGlueEnvironment(default_lake())
        return _current


def set_environment(environment: LocalGlueEnvironment | None) -> LocalGlueEnvironment | None:
    """Make `environment` current; returns the one it replaces."""
    global _current
    with _lock:
        previous, _current = _current, environment
        return previous


def drain_listener_bus(spark: Any) -> None:
    """Wait until Spark's listener bus has delivered its events: Observation metrics arrive on it
    after the action that computed them has returned."""
    try:
        spark.sparkContext._jsc.sc().listenerBus().waitUntilEmpty()
    except Exception:  # a Spark without the accessor: metrics not yet delivered read as unknown
        pass


def observed(observation: Any) -> dict[str, Any] | None:
    """An Observation's metrics if an action has evaluated it, else None, without blocking
    (pyspark's `Observation.get` waits forever for a DataFrame never evaluated; Spark 3.5 has no
    non-blocking accessor, so its `metrics` field is read by reflection)."""
    jo = getattr(observation, "_jo", None)
    if jo is None:
        return None
    try:
        metrics = jo.getClass().getDeclaredField("metrics")
        metrics.setAccessible(True)
        if not metrics.get(jo).isDefined():
            return None
        return dict(jo.getAsJava())  # returns at once now that the metrics are there
    except Exception:
        return None
