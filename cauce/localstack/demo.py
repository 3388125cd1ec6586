"""`cauce demo`: the README's main job on embedded defaults.

Generates raw events the way Firehose would deliver them (gzip JSON lines under
`raw-data/year=YYYY/month=MM/`), with a share of malformed and re-delivered events, runs
`etl-proceso-principal` twice (a second batch arrives between runs, so the bookmark must
read only it), and reconciles every generated event against the output and quarantine.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from cauce.core.lake import LocalLake

EVENT_TYPES = ("view", "click", "purchase", "refund")


def new_expectation() -> dict[str, int]:
    return {"valid": 0, "malformed": 0, "duplicates": 0}


def generate_events(count: int, malformed_share: float, duplicate_share: float, rng: random.Random, start: dt.datetime,
                    prefix: str, expected: dict[str, int]) -> Iterator[str]:
    """Event lines, one at a time (a long run never holds them all); `expected` counts, as they are
    generated, what each should become (see `new_expectation`)."""
    for index in range(count):
        if rng.random() < malformed_share:
            kind = rng.choice(("not-json", "bad-type", "missing-id", "negative"))
            if kind == "not-json":
                line = '{"event_id": "broken", '
            elif kind == "bad-type":
                line = json.dumps({"event_id": f"{prefix}-{index}", "event_type": "click", "amount": "n/a", "event_time": start.isoformat()})
            elif kind == "missing-id":
                line = json.dumps({"event_type": "view", "event_time": start.isoformat()})
            else:
                line = json.dumps({"event_id": f"{prefix}-{index}", "event_type": "purchase", "amount": -5.0, "event_time": start.isoformat()})
            expected["malformed"] += 1
            yield line
            continue
        event_type = rng.choice(EVENT_TYPES)
        event = {
            "event_id": f"{prefix}-{index}",
            "event_type": event_type,
            "user_id": f"user-{rng.randrange(1000)}",
            "amount": round(rng.uniform(1, 500), 2) if event_type in ("purchase", "refund") else None,
            "currency": rng.choice(("eur", "usd", None)),
            "event_time": (start + dt.timedelta(seconds=rng.randrange(86400 * 60))).isoformat(),
        }
        expected["valid"] += 1
        yield json.dumps(event)
        if rng.random() < duplicate_share:  # Firehose re-delivers: same event twice
            expected["duplicates"] += 1
            yield json.dumps(event)


def _write_batch(lake: LocalLake, lines: list[str], batch: int, progress: bool) -> None:
    chunk = 5_000
    with click.progressbar(length=len(lines), label=f"writing batch {batch}", hidden=not progress) as bar:
        for start in range(0, len(lines), chunk):
            uri = f"s3://mi-bucket/raw-data/year=2026/month=11/s3-data-delivery-{batch}-{start // chunk:04d}.gz"
            lake.put_object(uri, "\n".join(lines[start : start + chunk]) + "\n")
            bar.update(min(chunk, len(lines) - start))


def run_demo(lake_dir: Path, events: int, malformed_share: float, duplicate_share: float, seed: int,
             progress: bool = True, verbose: bool = False) -> dict[str, Any]:
    import logging

    from cauce.etl.jobs.etl_main import EtlProcesoPrincipal
    from cauce.etl.metrics import job_logger
    from cauce.etl.runner import RunPolicy, run_job
    from cauce.etl.runtimes.local import LocalRuntime

    job_logger(EtlProcesoPrincipal.name).setLevel(logging.INFO if verbose else logging.WARNING)
    shutil.rmtree(lake_dir, ignore_errors=True)
    lake = LocalLake(lake_dir)
    runtime = LocalRuntime(lake)
    rng = random.Random(seed)
    arguments = {"JOB_NAME": EtlProcesoPrincipal.name, "job-bookmark-option": "job-bookmark-enable"}
    runs, totals = [], {"generated": 0, "valid": 0, "malformed": 0, "duplicates": 0}
    for batch in (1, 2):
        start = dt.datetime(2026, 9 + batch, 1, tzinfo=dt.timezone.utc)
        expected = new_expectation()
        lines = list(generate_events(events, malformed_share, duplicate_share, rng, start, f"b{batch}", expected))
        _write_batch(lake, lines, batch, progress)
        result = run_job(EtlProcesoPrincipal, dict(arguments), runtime, RunPolicy())
        runs.append({"batch": batch, "lines": len(lines), **expected, "result": result.as_dict()})
        totals["generated"] += len(lines)
        for key in expected:
            totals[key] += expected[key]
        if not result.succeeded:
            break
    curated = runtime.spark.read.parquet(str(lake.local_path("s3://mi-bucket/curated/events/"))).count()
    quarantined = runtime.spark.read.json(str(lake.local_path("s3://mi-bucket/quarantine/etl-proceso-principal/"))).count()
    checks = []
    for run in runs:
        r = run["result"]
        read = sum((r["rows_read"] or {}).values()) if r["status"] == "SUCCEEDED" else None
        checks.append((f"batch {run['batch']}: run succeeded", r["status"] == "SUCCEEDED"))
        checks.append((f"batch {run['batch']}: read only its own {run['lines']} lines (bookmark)", read == run["lines"]))
    checks += [
        ("every generated line is accounted for (curated + quarantined + duplicates)",
         curated + quarantined + totals["duplicates"] == totals["generated"]),
        ("curated rows = valid events, one per event_id", curated == totals["valid"]),
        ("quarantined rows = malformed events", quarantined == totals["malformed"]),
    ]
    reconciled = all(ok for _, ok in checks)
    lines = [f"Cauce demo: etl-proceso-principal on local Spark, lake {lake.root}"]
    for run in runs:
        r = run["result"]
        lines.append(
            f"  batch {run['batch']}: {run['lines']:>7} lines in -> {r['status']} in {r['duration_seconds']:.1f}s: "
            f"read {sum((r['rows_read'] or {}).values())}, written {sum(r['rows_written'].values())}, "
            f"quarantined {r['rows_quarantined']}" + (f"  error: {r['error']}" if r["error"] else "")
        )
    lines.append(f"  lake now: {curated} curated rows (parquet by year/month), {quarantined} quarantined, "
                 f"{totals['duplicates']} re-deliveries removed")
    lines += [f"  [{'ok' if ok else 'FAIL'}] {name}" for name, ok in checks]
    lines.append("Reconciled: nothing lost." if reconciled else "NOT reconciled: see FAIL lines above.")
    return {
        "lake": str(lake.root), "totals": totals, "curated_rows": curated, "quarantined_rows": quarantined,
        "runs": runs, "checks": [{"check": n, "ok": ok} for n, ok in checks], "reconciled": reconciled,
        "text": "\n".join(lines),
    }
