"""`cauce cost`: the arithmetic against hand-computed cases, the advice rules on stacks built to
trigger each one, and bad input refused by name."""

from __future__ import annotations

import dataclasses
import json

import pytest
from click.testing import CliRunner

from cauce.ops.advice import advise
from cauce.cli import cli
from cauce.ops.cost import Assumptions, CostError, estimate, price_table, runs_per_day
from tests.stacks import glue_job, lambda_function, stack_with

PRICES = price_table("us-east-1")
MONTH_RECORDS_AT_10_PER_SECOND = 10 * 730 * 3600  # 26,280,000


def stream(shards=2, retention=24):
    return {"name": "s", "shard_count": shards, "retention_period": retention, "encryption_type": "KMS", "kms_key_id": "",
            "enforce_consumer_deletion": True, "tags": {}}


def firehose(**overrides):
    return {"name": "f", "destination": "s3", "buffer_size": 5, "buffer_interval": 300, "compression_format": "GZIP", "prefix": "raw/",
            "error_output_prefix": "", "s3_backup_mode": "Disabled", "processing_configuration": {"enabled": False, "processors": []}, **overrides}


def job(**overrides):
    return glue_job(name="j", glue_version="5.0", worker_type="G.2X", number_of_workers=5, **overrides)


def line(result, component, item_start):
    [found] = [l for l in result.lines if l.component == component and l.item.startswith(item_start)]
    return found


def test_kinesis_shard_hours_and_put_units():
    result = estimate(stack_with(kinesis_config={"stream_config": {"s": stream(shards=2)}}), Assumptions(events_per_second=10, record_bytes=1024), PRICES)

    assert line(result, "Kinesis streams", "2 shard").monthly_usd == pytest.approx(2 * 730 * 0.015)  # 21.90
    puts = line(result, "Kinesis streams", "PUT payload units")
    assert puts.quantity == pytest.approx(MONTH_RECORDS_AT_10_PER_SECOND / 1e6)
    assert puts.monthly_usd == pytest.approx(26.28 * 0.014)
    assert puts.price_key == "kinesis.put_units_million" and "events_per_second" in puts.inputs


def test_a_30_kb_record_takes_two_put_units_and_extended_retention_is_priced():
    result = estimate(stack_with(kinesis_config={"stream_config": {"s": stream(shards=1, retention=48)}}), Assumptions(record_bytes=30 * 1024), PRICES)

    assert line(result, "Kinesis streams", "PUT payload units").quantity == pytest.approx(2 * MONTH_RECORDS_AT_10_PER_SECOND / 1e6)
    assert line(result, "Kinesis streams", "retention 48 h").monthly_usd == pytest.approx(730 * 0.02)


def test_glue_dpu_hours():
    result = estimate(stack_with(glue_config={"job_config": {"j": job()}}), Assumptions(job_runs_per_day=2, job_run_minutes=30), PRICES)

    glue = line(result, "Glue jobs", "10 DPU")
    assert glue.quantity == pytest.approx(10 * 2 * 30.4 * 0.5)  # 304 DPU-hours
    assert glue.monthly_usd == pytest.approx(304 * 0.44)


def test_firehose_bills_each_record_rounded_up_to_5_kb():
    result = estimate(stack_with(kinesis_config={"firehose_config": {"f": firehose()}}), Assumptions(record_bytes=6000), PRICES)

    ingest = line(result, "Firehose", "ingest (10 KB")
    assert ingest.quantity == pytest.approx(MONTH_RECORDS_AT_10_PER_SECOND * 10 * 1024 / 1024**3)
    assert ingest.monthly_usd == pytest.approx(ingest.quantity * 0.029)


def test_the_firehose_processor_is_invoked_once_per_megabyte_and_billed_by_memory():
    processor = {"enabled": True, "processors": [{"type": "Lambda", "parameters": [
        {"parameter_name": "LambdaArn", "parameter_value": "arn:aws:lambda:us-east-1:1:function:transform"}]}]}
    stack = stack_with(kinesis_config={"firehose_config": {"f": firehose(processing_configuration=processor)}},
                       lambda_config={"t": lambda_function(function_name="transform", memory_size=512, timeout=60)})

    result = estimate(stack, Assumptions(events_per_second=10, record_bytes=1024, lambda_duration_ms=200), PRICES)

    calls = MONTH_RECORDS_AT_10_PER_SECOND * 1024 / (1024 * 1024)  # 25,664 one-megabyte batches
    assert line(result, "Lambda", "requests").quantity == pytest.approx(calls / 1e6)
    assert line(result, "Lambda", "512 MB").quantity == pytest.approx(calls * 0.2 * 0.5)  # GB-seconds


def test_the_seed_example_totals_its_lines_and_states_its_assumptions():
    from cauce.core.stack import load_stack

    result = estimate(load_stack(None), Assumptions(), PRICES, given=set())

    assert result.total_usd == pytest.approx(sum(l.monthly_usd for l in result.lines))
    assert set(result.by_component()) >= {"Glue jobs", "Glue crawlers", "Kinesis streams", "Firehose", "Lambda", "Step Functions", "S3", "CloudWatch", "KMS"}
    assert all(value["assumed_default"] for value in result.assumptions.values())
    assert all(l.price_key in PRICES.prices for l in result.lines)


@pytest.mark.parametrize("schedule, expected", [
    ("cron(0 1 * * ? *)", 1), ("cron(0/15 * * * ? *)", 96), ("rate(15 minutes)", 96), ("rate(2 hours)", 12),
    ("cron(0 8 ? * MON-FRI *)", 5 / 7), ("cron(0 6,18 * * ? *)", 2), ("whenever", None),
])
def test_crawler_schedules_become_runs_a_day(schedule, expected):
    assert runs_per_day(schedule) == (pytest.approx(expected) if expected is not None else None)


def test_prices_can_be_overridden_by_a_file_and_unknown_regions_need_one(tmp_path):
    override = tmp_path / "prices.json"
    override.write_text(json.dumps({"prices": {"kinesis.shard_hour": {"usd": 0.02, "unit": "shard-hour"}}}))
    assert price_table("us-east-1", override).usd("kinesis.shard_hour") == 0.02
    with pytest.raises(CostError, match="no price table for region 'ap-south-9'"):
        price_table("ap-south-9")
    with pytest.raises(CostError, match="has no row 'glue.dpu_hour'"):
        price_table("ap-south-9", override).usd("glue.dpu_hour")


@pytest.mark.parametrize("values, message", [
    ({"events_per_second": -1}, "events_per_second='-1' must be 0 or more"),
    ({"record_bytes": 0}, "record_bytes=0: an event has at least one byte"),
    ({"events_per_secnd": 3}, "unknown assumption(s): events_per_secnd"),
    ({"job_runs_per_day": "often"}, "job_runs_per_day='often' is not a number"),
])
def test_bad_assumptions_are_refused_by_name(values, message):
    with pytest.raises(CostError) as error:
        Assumptions.from_values({k: str(v) if not isinstance(v, str) else v for k, v in values.items()})
    assert message in str(error.value)


def rules(stack, **assumed):
    return {(a.rule, a.kind) for a in advise(stack, Assumptions(**assumed), PRICES)}


def test_advice_on_shards_both_ways():
    assert ("kinesis-shards", "risk") in rules(stack_with(kinesis_config={"stream_config": {"s": stream(shards=1)}}), events_per_second=3000)
    assert ("kinesis-shards", "saving") in rules(stack_with(kinesis_config={"stream_config": {"s": stream(shards=8)}}), events_per_second=10)
    assert not {r for r in rules(stack_with(kinesis_config={"stream_config": {"s": stream(shards=3)}}), events_per_second=2500, record_bytes=100)
                if r[0] == "kinesis-shards"}


def test_advice_on_firehose_records_buffers_compression_and_transform_buffer():
    processor = {"enabled": True, "processors": [{"type": "Lambda", "parameters": [{"parameter_name": "BufferSizeInMBs", "parameter_value": "4"}]}]}
    stack = stack_with(kinesis_config={"firehose_config": {"f": firehose(compression_format="UNCOMPRESSED", buffer_interval=60, processing_configuration=processor)}})
    found = rules(stack, record_bytes=500)
    assert {("firehose-record-size", "saving"), ("firehose-buffer", "saving"), ("firehose-compression", "saving"),
            ("firehose-transform-buffer", "risk")} <= found
    assert ("firehose-record-size", "saving") not in rules(stack, record_bytes=6000)


def test_advice_on_glue_lambda_logs_and_retention():
    stack = stack_with(glue_config={"job_config": {"j": job()}},
                       lambda_config={"f": lambda_function(function_name="f", memory_size=2048, timeout=900)},
                       kinesis_config={"stream_config": {"s": stream(retention=168)}})
    found = rules(stack, lambda_duration_ms=40)
    assert {("glue-flex", "saving"), ("glue-auto-scaling", "saving"), ("lambda-timeout", "risk"), ("lambda-memory", "saving"),
            ("log-retention", "saving"), ("kinesis-retention", "saving")} <= found
    assert ("log-retention", "saving") not in rules(stack, log_retention_days=30)


def test_every_saving_is_priced_from_the_table():
    from cauce.core.stack import load_stack

    flex = [a for a in advise(load_stack(None), Assumptions(job_runs_per_day=4, job_run_minutes=60), PRICES) if a.rule == "glue-flex"][0]
    assert flex.monthly_saving_usd == pytest.approx(2 * 4 * 30.4 * 1 * (0.44 - 0.29))


def test_the_command_prints_a_table_or_json():
    result = CliRunner().invoke(cli, ["cost", "--assume", "events_per_second=100", "--advise", "--json"])
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["assumptions"]["events_per_second"] == {"value": 100.0, "assumed_default": False}
    assert document["total_monthly_usd"] > 0 and document["advice"]
    text = CliRunner().invoke(cli, ["cost"]).stdout
    assert "total" in text and "assumed (defaults; set them with --assume)" in text and "not priced:" in text
    bad = CliRunner().invoke(cli, ["cost", "--region", "mars-1"])
    assert bad.exit_code == 2 and "no price table for region 'mars-1'" in bad.output


# --- the SQL app (issue 20): most of the example's estimate, so the advice must weigh it ----------

def test_the_sql_app_is_priced_by_its_worker_type_and_its_output_stream_is_priced_too():
    from cauce.core.stack import load_stack

    stack = load_stack(None)  # the example: 2 G.1X workers, output to processed-data-stream (created by the module)
    result = estimate(stack, Assumptions(), PRICES)
    app = line(result, "SQL analytics (Glue streaming)", "2 G.1X workers")
    assert app.monthly_usd == pytest.approx(2 * 730 * 0.44)  # 642.40
    assert app.monthly_usd / result.total_usd > 0.9
    output = [l for l in result.lines if l.resource == "processed-data-stream"]
    assert [l.monthly_usd for l in output] == [pytest.approx(730 * 0.015)]
    quarter = estimate(dataclasses.replace(stack, analytics_worker_type={"realtime-analytics": "G.025X"}), Assumptions(), PRICES)
    assert line(quarter, "SQL analytics (Glue streaming)", "2 G.025X workers").monthly_usd == pytest.approx(2 * 0.25 * 730 * 0.44)  # 160.60


def test_advice_weighs_the_sql_app_first():
    from cauce.core.stack import load_stack

    stack = load_stack(None)
    advice = advise(stack, Assumptions(), PRICES)
    first = advice[0]  # the largest saving first
    assert (first.rule, first.resource) == ("analytics-workers", "realtime-processing")
    assert first.monthly_saving_usd == pytest.approx(2 * (1 - 0.25) * 730 * 0.44)  # 481.80 of the 642.40
    assert 'analytics_worker_type = { "realtime-analytics" = "G.025X" }' in first.message
    # beyond one shard's 1 MB/s it is not low volume; with G.025X already there is nothing to say
    assert "analytics-workers" not in {a.rule for a in advise(stack, Assumptions(events_per_second=2000), PRICES)}
    quarter = dataclasses.replace(stack, analytics_worker_type={"realtime-analytics": "G.025X"})
    assert "analytics-workers" not in {a.rule for a in advise(quarter, Assumptions(), PRICES)}


def test_no_advice_claims_a_saving_of_nothing():
    from cauce.core.stack import load_stack

    advice = advise(load_stack(None), Assumptions(), PRICES)
    # arm64 saves 20% of the example function's $0.01 of GB-seconds: rounds to $0.00, so it is not advice
    assert "lambda-arm64" not in {a.rule for a in advice}
    assert all(a.monthly_saving_usd is None or round(a.monthly_saving_usd, 2) > 0 for a in advice)
    text = CliRunner().invoke(cli, ["cost", "--advise"]).stdout
    assert "$0.00/month" not in text and "realtime-processing" in text.split("advice:")[1]
    # at a thousand times the load the same rule saves money, and is shown
    busy = advise(load_stack(None), Assumptions(events_per_second=10, lambda_duration_ms=50_000), PRICES)
    assert "lambda-arm64" in {a.rule for a in busy}


def test_a_flex_job_is_priced_at_the_flex_rate_and_not_advised_to_use_flex():
    stack = stack_with(glue_config={"job_config": {"j": job()}}, glue_execution_class={"j": "FLEX"})
    result = estimate(stack, Assumptions(job_runs_per_day=2, job_run_minutes=30), PRICES)
    assert line(result, "Glue jobs", "10 DPU").monthly_usd == pytest.approx(304 * 0.29)
    assert ("glue-flex", "saving") not in rules(stack)
