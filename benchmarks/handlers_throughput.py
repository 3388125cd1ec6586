"""Firehose transform throughput and handler cold imports.

1. One Firehose batch near Lambda's 6 MB request limit (6,000 JSON records, about 1 KB each once
   base64-encoded) through the same transform written four ways, in one process:
     - Cauce's `firehose_transform` (the framework under test),
     - the reference: the way Powertools' documentation shows it (KinesisFirehoseEvent data
       class, `data_as_json`, `build_data_transformation_response`) with orjson as its
       deserializer and serializer, as a user after speed writes it; goal: Cauce >= 1.5x,
     - the same reference with the json module (a second line, no goal),
     - the floor: a bare loop of base64 and orjson with no framework at all; goal: >= 0.9x.
   The responses are checked equal before timing; the handlers take turns (benchmarks/_measure.py).
2. Cold import of each handler module in a fresh interpreter, timed inside it, against importing
   Powertools' Logger alone; goals: handlers.firehose <= 1.3x, handlers.data_processor <= 2x.

    python benchmarks/handlers_throughput.py [--records 6000] [--repeats 25] [--quick]
"""

from __future__ import annotations

import argparse
import atexit
import base64
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Cauce/Benchmark")

import _measure as measure  # noqa: E402
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


# 2. Reference: Powertools' documented data-class style, with orjson as its (de)serializer, as a
#    user who cares about speed would write it; the json module's version is kept as a second line.
def reference_handler(event: dict, context, loads=orjson.loads, dumps=lambda value: orjson.dumps(value) + b"\n") -> dict:
    from aws_lambda_powertools.utilities.data_classes import KinesisFirehoseDataTransformationResponse, KinesisFirehoseEvent

    firehose = KinesisFirehoseEvent(event, json_deserializer=loads)
    result = KinesisFirehoseDataTransformationResponse()
    for record in firehose.records:
        try:
            payload = record.data_as_json
            if payload["event_type"] == "heartbeat":
                result.add_record(record.build_data_transformation_response(result="Dropped"))
                continue
            data = base64.b64encode(dumps(enrich(payload))).decode()
            result.add_record(record.build_data_transformation_response(result="Ok", data=data))
        except Exception:
            result.add_record(record.build_data_transformation_response(result="ProcessingFailed"))
    return result.asdict()


def reference_json_handler(event: dict, context) -> dict:
    return reference_handler(event, context, json.loads, lambda value: (json.dumps(value, separators=(",", ":")) + "\n").encode())


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


# Bytecode for both sides alike: pip compiles what it installs (Powertools), but this checkout's
# environment may forbid writing bytecode, which would leave Cauce's modules compiling from source
# on every run. A private cache prefix gives both sides compiled bytecode after the warm-up.
BYTECODE = tempfile.mkdtemp(prefix="cauce-bench-pycache-")
atexit.register(shutil.rmtree, BYTECODE, ignore_errors=True)


def import_seconds(statement: str) -> float:
    """Seconds an import statement takes in a fresh interpreter, timed inside it (interpreter start left out)."""
    timed = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"PYTHONPYCACHEPREFIX": BYTECODE}
    run = subprocess.run([sys.executable, "-c", timed], check=True, cwd=ROOT, capture_output=True, text=True, env=environment)
    return float(run.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=6000)
    measure.options(parser, repeats=25)
    args = parser.parse_args()
    if args.quick:
        args.records, args.repeats = 300, 3
    results = measure.Results("handlers_throughput")

    event = make_event(args.records)
    request_bytes = len(json.dumps(event))
    raw_bytes = sum(len(base64.b64decode(r["data"])) for r in event["records"])
    size = f"{args.records:,} records, {request_bytes / 1e6:.1f} MB"
    print(f"input: {args.records:,} records, {raw_bytes / args.records:,.0f} B each decoded, "
          f"request {request_bytes / 1e6:.2f} MB, base64 {request_bytes / args.records:,.0f} B a record (Lambda limit 6.29 MB)")

    handlers = {"cauce": cauce_handler, "powertools+orjson": reference_handler, "powertools+json": reference_json_handler,
                "bare loop": bare_handler}
    quiet = io.StringIO()
    saved, sys.stdout = sys.stdout, quiet  # the EMF metrics of each run
    try:
        responses = [handler(event, lambda_context()) for handler in handlers.values()]
        assert all(response == responses[0] for response in responses), "the handlers must produce the same response"
        sides = measure.compare({name: (lambda _, h=handler: h(event, lambda_context())) for name, handler in handlers.items()},
                                args.repeats)
    finally:
        sys.stdout = saved
    print(f"firehose batch, {args.repeats} interleaved repeats after a warm-up:")
    sides.print(scale=1000, unit="ms", per=(args.records, "records"))
    results.add("Firehose batch: throughput", size, "Powertools data classes + orjson", sides.speedup("cauce", over="powertools+orjson"),
                measure.Goal(">=", 1.5))
    results.add("Firehose batch: throughput", size, "Powertools data classes + json", sides.speedup("cauce", over="powertools+json"))
    results.add("Firehose batch: throughput", size, "bare base64 + orjson loop", sides.speedup("cauce", over="bare loop"),
                measure.Goal(">=", 0.9))

    handler_modules = ["cauce.handlers.firehose", "cauce.handlers.kinesis", "cauce.handlers.tasks", "cauce.handlers.data_processor"]
    statements = {"Powertools Logger": "from aws_lambda_powertools import Logger", **{m: f"import {m}" for m in handler_modules}}
    imports = measure.compare({name: (lambda _, s=statement: import_seconds(s)) for name, statement in statements.items()},
                              3 if args.quick else max(9, args.repeats // 2))
    print("cold import in a fresh interpreter, timed inside it:")
    imports.print(scale=1000, unit="ms")
    for module, goal in (("cauce.handlers.firehose", 1.3), ("cauce.handlers.kinesis", None), ("cauce.handlers.tasks", None),
                         ("cauce.handlers.data_processor", 2.0)):
        results.add(f"cold import {module}", "fresh interpreter", "Powertools Logger alone",
                    imports.ratio(module, over="Powertools Logger"), measure.Goal("<=", goal) if goal else None)
    results.write(args.results)


if __name__ == "__main__":
    main()
