"""The Firehose transformation contract: one result per record, in AWS's documented shapes."""

from __future__ import annotations

import base64
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cauce.handlers import Drop, Failed, FirehoseRecord, Ok, firehose_transform
from cauce.handlers.firehose import MAX_RECORD_BYTES, MAX_RESPONSE_BYTES
from cauce.core.kpl import aggregate
from cauce.handlers.testing import decode_firehose_response, firehose_event, lambda_context

VALID_RESULTS = {"Ok", "Dropped", "ProcessingFailed"}
FUZZ_EXAMPLES = int(os.environ.get("CAUCE_FUZZ_EXAMPLES", "150"))  # raise it for a longer hunt


def enrich(event: dict):
    if event.get("kind") == "heartbeat":
        return Drop("heartbeat")
    if event.get("kind") == "bad":
        return Failed("kind is bad")
    if event.get("kind") == "boom":
        raise KeyError("customer")
    return {**event, "enriched": True}


@pytest.fixture
def transform(service, logs):
    return firehose_transform(enrich, service=service, log_stream=logs)


def test_direct_put_batch_gets_one_result_per_record_with_the_same_ids(transform, lambda_context):
    event = firehose_event([{"kind": "click", "n": 1}, {"kind": "heartbeat"}, {"kind": "bad"}, {"kind": "boom"}])

    response = transform(event, lambda_context)

    assert [r["recordId"] for r in response["records"]] == [r["recordId"] for r in event["records"]]
    assert [r["result"] for r in response["records"]] == ["Ok", "Dropped", "ProcessingFailed", "ProcessingFailed"]
    assert base64.b64decode(response["records"][0]["data"]) == b'{"kind":"click","n":1,"enriched":true}\n'
    assert all(set(r) == {"recordId", "result", "data"} for r in response["records"])


def test_failures_are_logged_with_their_reason_and_the_invocation_as_correlation_id(transform, lambda_context, logs):
    event = firehose_event([{"kind": "bad"}, {"kind": "boom"}, {"kind": "ok"}])

    transform(event, lambda_context)

    failed = logs.messages("record failed")
    assert [(f["record_index"], f["reason"]) for f in failed] == [(0, "kind is bad"), (1, "KeyError: 'customer'")]
    assert {f["correlation_id"] for f in failed} == {event["invocationId"]}
    assert {f["function_request_id"] for f in failed} == {lambda_context.aws_request_id}
    [summary] = logs.messages("transformed batch")
    assert (summary["ok"], summary["dropped"], summary["failed"]) == (1, 0, 2)


def test_metrics_are_one_emf_document_per_invocation(transform, lambda_context, capsys, emf_documents):
    transform(firehose_event([{"kind": "a"}, {"kind": "heartbeat"}, b"not json"]), lambda_context)

    [document] = emf_documents(capsys.readouterr().out)
    assert document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Cauce/Handlers"
    assert (document["RecordsOk"], document["RecordsDropped"], document["RecordsFailed"]) == ([1.0], [1.0], [1.0])
    assert document["BytesIn"] == [float(len(b'{"kind": "a"}') + len(b'{"kind": "heartbeat"}') + len(b"not json"))]
    assert document["BytesOut"] == [float(len(b'{"kind":"a","enriched":true}\n'))]


def test_kinesis_source_records_reach_the_function_with_their_metadata(service, logs, lambda_context):
    seen: list[FirehoseRecord] = []

    def keep(event: dict, record: FirehoseRecord):
        seen.append(record)
        return event

    transform = firehose_transform(keep, service=service, log_stream=logs)
    event = firehose_event([{"n": 1}, {"n": 2}], source_stream="data-ingestion-stream", shard_id="shardId-000000000003")

    response = transform(event, lambda_context)

    assert [r["result"] for r in response["records"]] == ["Ok", "Ok"]
    assert seen[0].source_stream_arn == event["sourceKinesisStreamArn"]
    assert seen[1].kinesis_metadata["shardId"] == "shardId-000000000003"
    assert seen[1].record_id == event["records"][1]["recordId"]


def test_partition_keys_go_to_metadata_for_dynamic_partitioning(service, logs, lambda_context):
    transform = firehose_transform(
        lambda e: Ok(e, partition_keys={"customer": e["customer"], "year": 2026}), service=service, log_stream=logs
    )

    response = transform(firehose_event([{"customer": "acme"}]), lambda_context)

    assert response["records"][0]["metadata"] == {"partitionKeys": {"customer": "acme", "year": "2026"}}


@pytest.mark.parametrize(
    "keys, reason",
    [({"customer": None}, "partition key 'customer' has value None"), ({"": "x"}, "partition key '' must be"), (["a"], "must be a mapping")],
)
def test_invalid_partition_keys_fail_the_record_with_a_reason(service, logs, lambda_context, keys, reason):
    transform = firehose_transform(lambda e: Ok(e, partition_keys=keys), service=service, log_stream=logs)

    response = transform(firehose_event([{"a": 1}]), lambda_context)

    assert response["records"][0]["result"] == "ProcessingFailed"
    assert reason in logs.messages("record failed")[0]["reason"]


@pytest.mark.parametrize(
    "returned, reason",
    [
        (None, "returned None: return Drop()"),
        (42, "returned int: expected dict, list, str, bytes, Ok, Drop or Failed"),
        ({"when": object()}, "not JSON-serializable"),
        ("x" * (MAX_RECORD_BYTES + 1), "over Firehose's 1,024,000-byte limit"),
    ],
)
def test_a_wrong_return_fails_only_that_record(service, logs, lambda_context, returned, reason):
    transform = firehose_transform(lambda e: returned if e["bad"] else e, service=service, log_stream=logs)

    response = transform(firehose_event([{"bad": True}, {"bad": False}]), lambda_context)

    assert [r["result"] for r in response["records"]] == ["ProcessingFailed", "Ok"]
    assert reason in logs.messages("record failed")[0]["reason"]


def test_bad_input_records_fail_one_by_one_with_named_reasons(transform, lambda_context, logs):
    event = firehose_event([{"kind": "fine"}] * 6)
    records = event["records"]
    records[0]["data"] = "not base64!"
    records[1]["data"] = base64.b64encode(b"{broken json").decode()
    records[2]["data"] = ""
    records[3]["data"] = base64.b64encode(b"x" * (MAX_RECORD_BYTES + 1)).decode()
    del records[4]["recordId"]

    response = transform(event, lambda_context)

    assert [r["result"] for r in response["records"]] == ["ProcessingFailed"] * 5 + ["Ok"]
    assert response["records"][4]["recordId"] == ""
    reasons = [f["reason"] for f in logs.messages("record failed")]
    assert reasons[0].startswith("data is not valid base64")
    assert reasons[1].startswith("not valid JSON")
    assert reasons[2] == "empty record: expected a JSON document"
    assert reasons[3] == "record is 1,024,001 bytes, over Firehose's 1,024,000-byte limit"
    assert reasons[4] == "records[4] has no recordId"


@pytest.mark.parametrize("event, got", [({}, "an object with keys none"), ({"records": "x"}, "an object with keys records"),
                                        ([], "a list"), ("text", "a str")])
def test_an_event_without_records_fails_the_invocation_naming_what_it_got(transform, lambda_context, logs, event, got):
    from cauce.handlers import InvalidEvent

    with pytest.raises(InvalidEvent, match=f"not a Firehose transformation event: expected an object with a 'records' list, got {got}"):
        transform(event, lambda_context)
    assert logs.messages("not a Firehose transformation event: no 'records' list")


def test_bytes_input_and_text_output_without_newline(service, logs, lambda_context):
    transform = firehose_transform(lambda data: data.decode().upper(), input="bytes", newline=False, service=service, log_stream=logs)

    response = transform(firehose_event([b"abc", b""]), lambda_context)

    assert [(r[1], r[2]) for r in decode_firehose_response(response)] == [("Ok", b"ABC"), ("Ok", b"")]


def test_a_kpl_aggregate_gives_one_result_for_its_firehose_record(transform, lambda_context):
    ok = aggregate([("pk", b'{"kind": "a"}'), ("pk", b'{"kind": "heartbeat"}'), ("pk", b'{"kind": "b"}')])
    one_bad = aggregate([("pk", b'{"kind": "a"}'), ("pk", b"{oops")])
    all_dropped = aggregate([("pk", b'{"kind": "heartbeat"}')] * 2)

    response = transform(firehose_event([ok, one_bad, all_dropped]), lambda_context)

    results = decode_firehose_response(response)
    assert results[0][1:] == ("Ok", b'{"kind":"a","enriched":true}\n{"kind":"b","enriched":true}\n')
    assert results[1][1:] == ("ProcessingFailed", b"")
    assert results[2][1] == "Dropped"


def test_the_response_never_exceeds_6_mb_and_the_overflow_fails_with_a_reason(service, logs, lambda_context):
    transform = firehose_transform(lambda e: {"blob": "y" * 900_000, "n": e["n"]}, service=service, log_stream=logs)

    response = transform(firehose_event([{"n": n} for n in range(8)]), lambda_context)

    results = [r["result"] for r in response["records"]]
    assert results == ["Ok"] * 5 + ["ProcessingFailed"] * 3  # each Ok is 1.2 MB once in base64
    assert len(json.dumps(response)) <= MAX_RESPONSE_BYTES  # Lambda's own serialization, with spaces
    assert "exceed Lambda's 6,291,456-byte limit" in logs.messages("record failed")[0]["reason"]


def test_tracing_records_a_subsegment_with_the_counts_when_running_on_lambda(transform, lambda_context, monkeypatch):
    from aws_xray_sdk.core import xray_recorder
    from aws_xray_sdk.core.lambda_launcher import LambdaContext as XRayLambdaContext

    class CapturingEmitter:
        def __init__(self):
            self.entities = []

        def send_entity(self, entity):
            self.entities.append(entity.to_dict())

        def set_daemon_address(self, address):
            pass

    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
    emitter = CapturingEmitter()
    previous = xray_recorder._emitter, xray_recorder.context
    xray_recorder.configure(emitter=emitter, context=XRayLambdaContext())  # what the SDK picks on Lambda
    try:
        transform(firehose_event([{"kind": "a"}, {"kind": "bad"}]), lambda_context)
    finally:
        xray_recorder.configure(emitter=previous[0], context=previous[1])

    [subsegment] = emitter.entities
    assert subsegment["name"] == "## firehose_transform"
    assert subsegment["annotations"] == {"records_ok": 1, "records_dropped": 0, "records_processingfailed": 1}


def test_no_tracing_outside_lambda(transform, lambda_context, monkeypatch):
    monkeypatch.delenv("LAMBDA_TASK_ROOT", raising=False)
    with transform.telemetry.traced("x") as subsegment:
        assert subsegment is None


# Fuzzing: whatever Firehose (or a broken producer) sends, every record is accounted for once.
record_data = st.one_of(
    st.binary(max_size=200).map(lambda b: base64.b64encode(b).decode()),
    st.text(max_size=60),  # mostly broken base64
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
        max_leaves=12,
    ).map(lambda value: base64.b64encode(json.dumps(value).encode()).decode()),
)
fuzz_record = st.fixed_dictionaries(
    {"recordId": st.text(min_size=1, max_size=30), "data": record_data},
    optional={"approximateArrivalTimestamp": st.integers(min_value=0), "kinesisRecordMetadata": st.dictionaries(st.text(max_size=5), st.text(max_size=5))},
)
fuzz_entry = st.one_of(fuzz_record, st.integers(), st.none(), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


def chaotic(value):
    if isinstance(value, dict) and value.get("drop") is not None:
        return Drop()
    if isinstance(value, dict) and len(value) == 2:
        raise RuntimeError("two keys")
    if isinstance(value, list):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value  # a wrong return type
    return {"v": value} if not isinstance(value, dict) else value


@pytest.mark.reliability
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(records=st.lists(fuzz_entry, max_size=12))
def test_fuzz_every_record_is_accounted_for_exactly_once(records, service, logs):
    transform = firehose_transform(chaotic, service=service, log_stream=logs)
    event = {"invocationId": "fuzz", "deliveryStreamArn": "arn:aws:firehose:us-east-1:1:deliverystream/x", "records": records}

    response = transform(event, lambda_context())

    assert len(response["records"]) == len(records)
    for entry, result in zip(records, response["records"], strict=True):
        expected_id = entry.get("recordId") if isinstance(entry, dict) and isinstance(entry.get("recordId"), str) else ""
        assert result["recordId"] == expected_id
        assert result["result"] in VALID_RESULTS
        data = base64.b64decode(result["data"], validate=True)
        assert (result["result"] == "Ok") or data == b""
        if result["result"] == "Ok":
            assert data.endswith(b"\n")
    assert len(json.dumps(response)) <= MAX_RESPONSE_BYTES
