"""The local stack's stages: records per second through each and end to end, peak memory of this
process and of the Spark JVM; and Firehose delivery's overhead against calling the transform
handler directly on the same batches.

Goals: >= 8,000 events/s end to end on 100,000 events (memory bounded on 1,000,000), and the
emulation at most 1.5 times the transform alone (interleaved ABBA, benchmarks/_measure.py).

    python benchmarks/local_stack.py [--events 100000] [--events 1000000 --skip-overhead] [--quick]
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

import _measure as measure

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")


def firehose_overhead(records: list[bytes], transform, repeats: int) -> measure.Sides:
    """Seconds of the emulated delivery (buffering, the processor's invocations and results, prefixes,
    GZIP objects in the lake) against the transform called directly on the same 1 MB batches."""
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

    def emulated(_repeat: int) -> float:
        with tempfile.TemporaryDirectory() as folder:
            delivery = FirehoseDelivery(config, LocalLake(Path(folder)), transform=transform)
            start = time.perf_counter()
            delivery.put_records(records)
            delivery.flush()
            return time.perf_counter() - start

    def direct(_repeat: int) -> None:
        for batch in batches:
            transform({"invocationId": str(uuid.uuid4()), "records": [{"recordId": str(i), "data": base64.b64encode(d).decode()}
                                                                      for i, d in enumerate(batch)]}, lambda_context())

    return measure.compare({"emulated delivery": emulated, "transform alone": direct}, repeats)


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
    parser.add_argument("--end-to-end-repeats", type=int, default=1, help="end-to-end runs (each a fresh lake); default 1")
    parser.add_argument("--skip-overhead", action="store_true", help="Only the end-to-end run.")
    measure.options(parser, repeats=9)
    args = parser.parse_args()
    if args.quick:
        args.events, args.repeats = 5_000, 3
    results = measure.Results("local_stack")

    from cauce.localstack.pipeline import run_pipeline

    # the handlers' loggers keep the stream they were created with: logs go to one file for the whole run
    logs = open(os.devnull, "w")  # open until the process exits
    reports = []

    def end_to_end(_repeat: int) -> float:
        with tempfile.TemporaryDirectory() as folder, contextlib.redirect_stdout(logs), contextlib.redirect_stderr(logs):
            reports.append(run_pipeline(Path(folder) / "lake", args.events, 0.02, 0.01, 7))
        return reports[-1]["seconds"]

    seconds = measure.repeat(end_to_end, args.end_to_end_repeats, warmup=0)
    jvm_peak = child_peak_mb()
    report = reports[-1]
    stages = report["stages"]
    records = report["records_put"]
    print(f"input: {args.events:,} events ({records:,} records with re-deliveries), reconciled: {report['reconciled']}")
    for name, label in (("kinesis", "kinesis put (moto)"), ("firehose", "firehose + transform"), ("analytics", "analytics app (Spark)"),
                        ("crawler", "crawler"), ("workflow", "workflow (Glue job + tasks)")):
        stage_seconds = stages[name]["seconds"]
        print(f"  {label:<28} {stage_seconds:7.2f} s  {records / stage_seconds:>10,.0f} records/s")
    print(f"  {'end to end':<28} {report['seconds']:7.2f} s  {records / report['seconds']:>10,.0f} records/s")
    print(f"peak memory: this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB, "
          f"Spark JVM {jvm_peak:,.0f} MB")
    results.add("local stack end to end (events/s)", f"{args.events:,} events", "-",
                measure.Spread.of(args.events / s for s in seconds), measure.Goal(">=", 8000, " ev/s"),
                note=f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB, JVM {jvm_peak:,.0f} MB")
    if not args.skip_overhead:
        from cauce.handlers.data_processor import handler

        count = 5_000 if args.quick else 50_000
        sample = [f'{{"event_id": "e{i}", "event_type": "view", "event_time": "2026-11-26T10:00:00"}}'.encode() for i in range(count)]
        with contextlib.redirect_stdout(logs):
            sides = firehose_overhead(sample, handler, args.repeats)
        print(f"firehose emulation on {count:,} records, {args.repeats} interleaved repeats after a warm-up:")
        sides.print(per=(count, "records"))
        results.add("Firehose emulation overhead (time)", f"{count:,} records", "the transform called directly",
                    sides.ratio("emulated delivery", over="transform alone"), measure.Goal("<=", 1.5))
    results.write(args.results)


if __name__ == "__main__":
    main()
