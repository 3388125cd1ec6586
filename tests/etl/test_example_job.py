"""The seed's etl-proceso-principal, end to end on local Spark."""

from pyspark.sql import Row

from cauce.etl.jobs.etl_main import EtlProcesoPrincipal
from cauce.etl.testing import assert_job_succeeded, assert_reconciled, put_json_lines, read_output

RAW = "s3://mi-bucket/raw-data/year=2026/month=11/delivery-1.gz"


def good(event_id, event_type="view", amount=None, when="2026-11-02T10:00:00Z", currency="eur"):
    return {"event_id": event_id, "event_type": event_type, "user_id": "u1", "amount": amount,
            "currency": currency, "event_time": when}


def test_curates_partitions_deduplicates_and_quarantines(run_glue_job, cauce_lake, spark):
    put_json_lines(cauce_lake, RAW, [
        good("e1"),
        good("e2", "purchase", 10.0, "2026-10-31T23:59:59Z", currency=None),
        good("e2", "purchase", 10.0, "2026-10-31T23:59:59Z", currency=None),  # re-delivered
        "{this is not json",
        {"event_id": "e3", "event_type": "click", "amount": "ten", "event_time": "2026-11-02T10:00:00Z"},
        {"event_type": "view", "event_time": "2026-11-02T10:00:00Z"},
        good("e4", "purchase", -3.0),
        good("e5", "teleport"),
    ])
    result = run_glue_job(EtlProcesoPrincipal)
    assert_job_succeeded(result)
    assert_reconciled(result)
    assert result.rows_read == {"raw_events": 8}
    assert result.rows_written == {"curated_events": 2}
    assert result.rows_quarantined == 5

    curated = read_output(spark, cauce_lake, "s3://mi-bucket/curated/events/")
    rows = sorted((r.event_id, r.currency, r.year, r.month) for r in curated.collect())
    assert rows == [("e1", "EUR", 2026, 11), ("e2", "EUR", 2026, 10)]
    quarantine = read_output(spark, cauce_lake, "s3://mi-bucket/quarantine/etl-proceso-principal/", "json")
    reasons = sorted(r.reason for r in quarantine.collect())
    assert reasons == [
        "failed rule 'amount is not negative'",
        "failed rule 'known event_type'",
        "malformed record: does not parse or does not match the schema",
        "malformed record: does not parse or does not match the schema",
        "missing required field 'event_id'",
    ]
    broken = quarantine.filter("record = '{this is not json'").collect()
    assert broken and broken[0].input_file.endswith("delivery-1.gz")


def test_job_file_runs_as_a_glue_script(tmp_path, cauce_lake, monkeypatch, spark):
    """`python etl_main.py --JOB_NAME ...`, as Glue starts it, with the runtime chosen by the environment."""
    import pytest

    put_json_lines(cauce_lake, RAW, [good("e1")])
    monkeypatch.setenv("CAUCE_RUNTIME", "local")
    monkeypatch.setenv("CAUCE_LAKE", str(cauce_lake.root))
    EtlProcesoPrincipal.main(["--JOB_NAME", "etl-proceso-principal", "--job-bookmark-option", "job-bookmark-enable"])
    assert read_output(spark, cauce_lake, "s3://mi-bucket/curated/events/").collect()[0].event_id == "e1"
    with pytest.raises(SystemExit) as exit_info:
        EtlProcesoPrincipal.main(["--JOB_NAME", "x", "--job-bookmark-option", "sometimes"])
    assert exit_info.value.code == 2


def test_output_rows_match_expected_frame(run_glue_job, cauce_lake, spark):
    from cauce.etl.testing import assertDataFrameEqual

    put_json_lines(cauce_lake, RAW, [good("e9", "refund", 4.5, "2026-01-15T00:00:00Z", "usd")])
    assert_job_succeeded(run_glue_job(EtlProcesoPrincipal))
    curated = read_output(spark, cauce_lake, "s3://mi-bucket/curated/events/").select("event_id", "amount", "currency")
    assertDataFrameEqual(curated, [Row(event_id="e9", amount=4.5, currency="USD")])


def test_reads_firehoses_default_time_folders_as_glues_recursive_s3_read_does(run_glue_job, cauce_lake):
    """Firehose's default prefix is `YYYY/MM/dd/HH/`, folders that are no `key=value` partitions; Glue's S3
    read (recurse) reads them. Spark's directory listing skips them: 0 rows read, and a bookmark
    that marked the files as done, until the files were read by name."""
    put_json_lines(cauce_lake, "s3://mi-bucket/raw-data/2026/11/26/10/events-1", [good("e1"), good("e2")])
    put_json_lines(cauce_lake, "s3://mi-bucket/raw-data/2026/11/26/11/events-2", [good("e3")])
    result = run_glue_job(EtlProcesoPrincipal)
    assert_job_succeeded(result)
    assert result.rows_read == {"raw_events": 3} and result.rows_written == {"curated_events": 3}
