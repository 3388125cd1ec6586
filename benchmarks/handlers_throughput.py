"""Firehose transform throughput and handler cold imports.

1. One Firehose batch near Lambda's 6 MB request limit (6,000 JSON records, about 1 KB each once
   base64-encoded) through the same transform written three ways, in one process:
     - Cauce's `firehose_transform` (the framework under test),
     - the reference: the way Powertools' documentation shows it (KinesisFirehoseEvent data
       class, `data_as_json`, `build_data_transformation_response`, the json module),
     - the floor: a bare loop of base64 and orjson with no framework at all.
   The three responses are checked equal before timing. Targets: Cauce >= 3x the reference,
   and >= 0.8 of the floor.
2. Cold import of each handler module in a fresh interpreter, against importing Powertools'
   Logger alone (median wall time over repeated runs, interpreter start subtracted).

    python benchmarks/handlers_throughput.py [--records 6000] [--repeats 15]
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Cauce/Benchmark")

from cauce.handlers import Drop, firehose_transform  # noqa: E402
from cauce.handlers.testing import firehose_event, lambda_context  # noqa: E402


def make_event(count: int) -> dict:
    rng = random.Random(3)
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
    events = []
    for n in range(count):
        events.append({
            "event_id": f"e-{n:07d}",
            "event_type": "heartbeat" if n % 20 == 0 else rng.choice(["view", "click", "purchase"]),
            "user_id": f"u-{rng.randrange(10**6)}",
            "amount": round(rng.uniform(1, 500), 2),
            "event_time": "2026-11-26T10:00:00Z",
            "tags": [rng.choice(words) for _ in range(8)],
            "attributes": {f"k{i}": rng.choice(words) * 3 for i in range(12)},
            "note": "".join(rng.choice(words) for _ in range(20)),
        })
    return firehose_event(events)


def enrich(event: dict) -> dict:
    return {**event, "amount_cents": int(event["amount"] * 100), "source": "web"}


# 1. Cauce
@firehose_transform(service="bench", log_stream=io.StringIO())
def cauce_handler(event: dict):
    if event["event_type"] == "heartbeat":
        return Drop("heartbeat")
    return enrich(event)


# 2. Reference: Powertools' documented data-class style, json module
def reference_handler(event: dict, context) -> dict:
    from aws_lambda_powertools.utilities.data_classes import KinesisFirehoseDataTransformationResponse, KinesisFirehoseEvent

    firehose = KinesisFirehoseEvent(event)
    result = KinesisFirehoseDataTransformationResponse()
    for record in firehose.records:
        try:
            payload = record.data_as_json
            if payload["event_type"] == "heartbeat":
                result.add_record(record.build_data_transformation_response(result="Dropped"))
                continue
            line = json.dumps(enrich(payload), separators=(",", ":")) + "\n"
            data = base64.b64encode(line.encode()).decode()
            result.add_record(record.build_data_transformation_response(result="Ok", data=data))
        except Exception:
            result.add_record(record.build_data_transformation_response(result="ProcessingFailed"))
    return result.asdict()


# 3. Floor: no framework
def bare_handler(event: dict, context) -> dict:
    import binascii

    import orjson

    out = []
    for record in event["records"]:
        try:
            payload = orjson.loads(binascii.a2b_base64(record["data"]))
            if payload["event_type"] == "heartbeat":
                out.append({"recordId": record["recordId"], "result": "Dropped", "data": ""})
                continue
            data = base64.b64encode(orjson.dumps(enrich(payload)) + b"\n").decode()
            out.append({"recordId": record["recordId"], "result": "Ok", "data": data})
        except Exception:
            out.append({"recordId": record["recordId"], "result": "ProcessingFailed", "data": ""})
    return {"records": out}


def best_of_interleaved(handlers: list, event, repeats: int) -> list[float]:
    """Best time of each handler, taking turns so that machine noise hits all of them alike."""
    timings: list[list[float]] = [[] for _ in handlers]
    for _ in range(repeats):
        for slot, handler in enumerate(handlers):
            context = lambda_context()
            start = time.perf_counter()
            handler(event, context)
            timings[slot].append(time.perf_counter() - start)
    return [min(t) for t in timings]


def cold_import(statement: str, repeats: int) -> float:
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], check=True, cwd=Path(__file__).resolve().parents[1])
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=6000)
    parser.add_argument("--repeats", type=int, default=25)
    args = parser.parse_args()

    event = make_event(args.records)
    request_bytes = len(json.dumps(event))
    raw_bytes = sum(len(base64.b64decode(r["data"])) for r in event["records"])
    print(f"input: {args.records:,} records, {raw_bytes / args.records:,.0f} B each decoded, "
          f"request {request_bytes / 1e6:.2f} MB, base64 {request_bytes / args.records:,.0f} B a record (Lambda limit 6.29 MB)")

    quiet = io.StringIO()
    saved, sys.stdout = sys.stdout, quiet  # the EMF metrics of each run
    try:
        responses = [h(event, lambda_context()) for h in (cauce_handler, reference_handler, bare_handler)]
        assert responses[0] == responses[1] == responses[2], "the three handlers must produce the same response"
        cauce, reference, bare = best_of_interleaved([cauce_handler, reference_handler, bare_handler], event, args.repeats)
    finally:
        sys.stdout = saved
    print(f"firehose batch, best of {args.repeats}:")
    print(f"  cauce      {cauce * 1000:8.1f} ms  {args.records / cauce:>10,.0f} records/s")
    print(f"  reference  {reference * 1000:8.1f} ms  {args.records / reference:>10,.0f} records/s  (Powertools data classes + json)")
    print(f"  bare loop  {bare * 1000:8.1f} ms  {args.records / bare:>10,.0f} records/s  (base64 + orjson, no framework)")
    print(f"  ratio cauce/reference throughput: {reference / cauce:.2f}x  (target >= 3)")
    print(f"  ratio cauce/bare-loop throughput: {bare / cauce:.2f}   (target >= 0.8)")

    repeats = max(5, args.repeats // 2)
    interpreter = cold_import("pass", repeats)
    logger_only = cold_import("from aws_lambda_powertools import Logger", repeats) - interpreter
    print(f"cold import, median of {repeats} fresh interpreters (interpreter start {interpreter * 1000:.0f} ms subtracted):")
    print(f"  {'Powertools Logger alone':<28} {logger_only * 1000:7.1f} ms  1.00x")
    for module in ("cauce.handlers.firehose", "cauce.handlers.kinesis", "cauce.handlers.tasks", "cauce.handlers.data_processor"):
        took = cold_import(f"import {module}", repeats) - interpreter
        print(f"  {module:<28} {took * 1000:7.1f} ms  {took / logger_only:.2f}x")


if __name__ == "__main__":
    main()
