"""The tuned local SparkSession shared by the local runtime, the pytest plugin and `cauce shell`.

Settings are the ones measured fastest for small local work (see docs/etl.md): a loopback
driver, no UI, adaptive execution off, few shuffle partitions, a JVM that favours start-up
time, UTC everywhere, and Arrow for toPandas. The PostgreSQL JDBC driver is put on the
classpath when present, because `spark.jars` cannot be added once the JVM is up.
"""

from __future__ import annotations

import glob
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Where Debian (libpostgresql-jdbc-java) and common distributions put JDBC drivers.
_JDBC_DRIVER_GLOBS = ("/usr/share/java/postgresql.jar",)

_LOG_CONFIGURATION = os.path.join(os.path.dirname(os.path.abspath(__file__)), "log4j2.properties")
_JVM_OPTIONS = f'-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Duser.timezone=UTC "-Dlog4j2.configurationFile={_LOG_CONFIGURATION}"'


def jdbc_driver_jars() -> list[str]:
    """JDBC driver JARs to load: `CAUCE_JDBC_JARS` (colon-separated) or the known system paths."""
    configured = os.environ.get("CAUCE_JDBC_JARS")
    if configured is not None:
        return [jar for jar in configured.split(":") if jar]
    return [jar for pattern in _JDBC_DRIVER_GLOBS for jar in glob.glob(pattern)]


def local_spark_session(
    *,
    cores: int = 2,
    shuffle_partitions: int = 2,
    warehouse_dir: str | None = None,
    app_name: str = "cauce",
) -> "SparkSession":
    """Return the process's SparkSession, creating a tuned local one if none exists yet."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # loopback only, and no hostname warning
    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")  # what pandas-on-Spark asks for with pyarrow>=2
    # Python workers (UDFs, applyInPandas) must run this interpreter, with this environment's packages
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.default.parallelism", str(cores))
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.extraJavaOptions", _JVM_OPTIONS)
        .config("spark.executor.extraJavaOptions", _JVM_OPTIONS)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
    )
    if warehouse_dir:
        builder = builder.config("spark.sql.warehouse.dir", warehouse_dir)
    jars = jdbc_driver_jars()
    if jars:
        builder = builder.config("spark.jars", ",".join(jars))
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
