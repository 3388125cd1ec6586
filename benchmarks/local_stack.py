"""The local stack's stages: events per second through each, end to end, and peak memory; and
Firehose delivery's overhead against calling the transform handler directly on the same batches.

    python benchmarks/local_stack.py [--events 100000]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
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
    from etl.lake import LocalLake
    from handlers.testing import lambda_context

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()

    from cauce.localstack.pipeline import run_pipeline

    logs = io.StringIO()
    with tempfile.TemporaryDirectory() as folder, contextlib.redirect_stdout(logs):
        start = time.perf_counter()
        report = run_pipeline(Path(folder) / "lake", args.events, 0.02, 0.01, 7)
        total = time.perf_counter() - start
    stages = report["stages"]
    records = report["records_put"]
    print(f"input: {args.events:,} events ({records:,} records with re-deliveries), reconciled: {report['reconciled']}")
    for name, seconds in (("kinesis put", stages["kinesis"]["seconds"]), ("firehose", stages["firehose"]["seconds"]),
                          ("crawler", stages["crawler"]["seconds"]), ("workflow (Glue job + tasks)", stages["workflow"]["seconds"]),
                          ("analytics app", stages["analytics_seconds"])):
        print(f"  {name:<28} {seconds:7.2f} s  {records / seconds:>10,.0f} records/s")
    print(f"  {'end to end':<28} {total:7.2f} s  {records / total:>10,.0f} records/s")
    print(f"peak memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB (the JVM's is separate)")

    from handlers.data_processor import handler

    sample = [f'{{"event_id": "e{i}", "event_type": "view", "event_time": "2026-11-26T10:00:00"}}'.encode() for i in range(50_000)]
    with contextlib.redirect_stdout(io.StringIO()):
        emulated, direct = firehose_overhead(sample, handler)
    print(f"firehose emulation on {len(sample):,} records: {emulated:.2f} s against {direct:.2f} s calling the transform directly "
          f"(ratio {emulated / direct:.2f}: buffering, result routing, prefixes and GZIP objects on top)")


if __name__ == "__main__":
    main()
