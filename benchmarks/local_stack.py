"""The local stack's stages: records per second through each and end to end, peak memory of this
process and of the Spark JVM; and Firehose delivery's overhead against calling the transform
handler directly on the same batches.

    python benchmarks/local_stack.py [--events 100000] [--events 1000000 --skip-overhead]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")


def firehose_overhead(records: list[bytes], transform, repeats: int = 3) -> tuple[float, float]:
    """Best seconds of (the emulated delivery, the transform called directly on the same 1 MB batches)."""
    from cauce.localstack.firehose import PROCESSOR_BUFFER_BYTES, FirehoseDelivery
    from cauce.core.lake import LocalLake
    from cauce.handlers.testing import lambda_context

    config = {"name": "bench", "buffer_size": 128, "buffer_interval": 900, "compression_format": "GZIP", "prefix": "raw/",
              "error_output_prefix": "errors/!{firehose:error-output-type}/", "s3_backup_mode": "Disabled",
              "processing_configuration": {"enabled": True, "processors": []}}
    batches, current, size = [], [], 0
    for data in records:
        if current and size + len(data) > PROCESSOR_BUFFER_BYTES:
            batches.append(current)
            current, size = [], 0
        current.append(data)
        size += len(data)
    batches.append(current)
    emulated, direct = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as folder:
            delivery = FirehoseDelivery(config, LocalLake(Path(folder)), transform=transform)
            start = time.perf_counter()
            delivery.put_records(records)
            delivery.flush()
            emulated.append(time.perf_counter() - start)
        start = time.perf_counter()
        for batch in batches:
            transform({"invocationId": str(uuid.uuid4()), "records": [{"recordId": str(i), "data": base64.b64encode(d).decode()}
                                                                      for i, d in enumerate(batch)]}, lambda_context())
        direct.append(time.perf_counter() - start)
    return min(emulated), min(direct)


def child_peak_mb() -> float:
    """The largest peak resident size among this process's children (the Spark JVM), from /proc."""
    peak = 0.0
    me = str(os.getpid())
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError):
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
            if fields.get("PPid", "").strip() == me and "VmHWM" in fields:
                peak = max(peak, int(fields["VmHWM"].split()[0]) / 1024)
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--skip-overhead", action="store_true", help="Only the end-to-end run.")
    args = parser.parse_args()

    from cauce.localstack.pipeline import run_pipeline

    # the handlers' loggers keep the stream they were created with: logs go to one file for the whole run
    logs = open(os.devnull, "w")  # open until the process exits
    with tempfile.TemporaryDirectory() as folder, contextlib.redirect_stdout(logs), contextlib.redirect_stderr(logs):
        report = run_pipeline(Path(folder) / "lake", args.events, 0.02, 0.01, 7)
        jvm_peak = child_peak_mb()
    stages = report["stages"]
    records = report["records_put"]
    print(f"input: {args.events:,} events ({records:,} records with re-deliveries), reconciled: {report['reconciled']}")
    for name, label in (("kinesis", "kinesis put (moto)"), ("firehose", "firehose + transform"), ("analytics", "analytics app (Spark)"),
                        ("crawler", "crawler"), ("workflow", "workflow (Glue job + tasks)")):
        seconds = stages[name]["seconds"]
        print(f"  {label:<28} {seconds:7.2f} s  {records / seconds:>10,.0f} records/s")
    print(f"  {'end to end':<28} {report['seconds']:7.2f} s  {records / report['seconds']:>10,.0f} records/s")
    print(f"peak memory: this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB, "
          f"Spark JVM {jvm_peak:,.0f} MB")
    if args.skip_overhead:
        return

    from cauce.handlers.data_processor import handler

    sample = [f'{{"event_id": "e{i}", "event_type": "view", "event_time": "2026-11-26T10:00:00"}}'.encode() for i in range(50_000)]
    with contextlib.redirect_stdout(logs):
        emulated, direct = firehose_overhead(sample, handler)
    print(f"firehose emulation on {len(sample):,} records: {emulated:.2f} s against {direct:.2f} s calling the transform directly "
          f"(ratio {emulated / direct:.2f}: buffering, result routing, prefixes and GZIP objects on top)")


if __name__ == "__main__":
    main()
