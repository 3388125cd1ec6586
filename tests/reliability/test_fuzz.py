"""Fuzzing with hypothesis: whatever arrives, every input record is accounted for exactly once,
and bad input becomes a named error, never a crash or a hang.

Targets: the seed's Firehose transform (data_processor), a Kinesis consumer, the analytics SQL
translator, ASL validation and Glue job arguments. Examples per property: RELIABILITY_EXAMPLES
(default 200; raise it for a long hunt).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.reliability

EXAMPLES = int(os.environ.get("RELIABILITY_EXAMPLES", "200"))
FUZZ = settings(max_examples=EXAMPLES, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
HUGE = b'{"event_id": "big", "event_type": "view", "event_time": "t", "pad": "' + b"x" * (1024 * 1024) + b'"}'

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=15,
)
event_like = st.fixed_dictionaries({}, optional={"event_id": st.text(max_size=8) | st.integers(), "event_type": st.text(max_size=8),
                                                 "event_time": st.text(max_size=25) | st.integers(), "amount": json_values})
payloads = st.one_of(
    st.binary(max_size=300),  # arbitrary bytes
    json_values.map(lambda v: json.dumps(v).encode()),  # any JSON
    event_like.map(lambda v: json.dumps(v).encode()),  # almost an event
    st.just(HUGE),  # over Firehose's 1,000 KiB record limit
)
firehose_records = st.one_of(
    st.builds(lambda i, p: {"recordId": f"r{i}", "data": base64.b64encode(p).decode()}, st.integers(0, 10**6), payloads),
    st.builds(lambda i, text: {"recordId": f"r{i}", "data": text}, st.integers(0, 10**6), st.text(max_size=40)),  # broken base64
)


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")  # the 1 MiB record's repr
@FUZZ
@given(records=st.lists(firehose_records, max_size=15, unique_by=lambda r: r["recordId"]))
def test_the_seed_transform_returns_one_result_per_record_in_order(records):
    from cauce.handlers.data_processor import REQUIRED_FIELDS, handler
    from cauce.handlers.testing import lambda_context

    response = handler({"invocationId": "fuzz", "deliveryStreamArn": "arn:aws:firehose:us-east-1:1:deliverystream/s", "records": records},
                       lambda_context())

    assert [r["recordId"] for r in response["records"]] == [r["recordId"] for r in records]
    for result in response["records"]:
        assert result["result"] in ("Ok", "Dropped", "ProcessingFailed")
        if result["result"] == "Ok":
            event = json.loads(base64.b64decode(result["data"]))
            assert all(event.get(name) not in (None, "") for name in REQUIRED_FIELDS)  # only events the job can read pass


kinesis_payloads = st.one_of(st.binary(max_size=200), json_values.map(lambda v: json.dumps(v).encode()))


@FUZZ
@given(payloads=st.lists(kinesis_payloads, min_size=1, max_size=20), failing=st.sets(st.integers(0, 19)))
def test_a_kinesis_consumer_processes_or_reports_every_record_exactly_once(payloads, failing, service, logs):
    from cauce.handlers import kinesis_consumer
    from cauce.handlers.testing import kinesis_event, lambda_context

    processed: list[int] = []

    def consume(value):
        index = value["i"]
        if index in failing:
            raise RuntimeError(f"record {index} refused")
        processed.append(index)

    # every payload is wrapped so the consumer can tell records apart; broken payloads stay broken
    data = [json.dumps({"i": i, "payload": base64.b64encode(p).decode()}).encode() if i % 3 else p for i, p in enumerate(payloads)]
    event = kinesis_event(data)
    consumer = kinesis_consumer(consume, service=service, log_stream=logs)

    response = consumer(event, lambda_context())

    sequence_numbers = [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
    failed = [f["itemIdentifier"] for f in response["batchItemFailures"]]
    assert len(failed) == len(set(failed)) and set(failed) <= set(sequence_numbers)
    assert len(processed) == len(set(processed))  # nothing processed twice
    ok = {sequence_numbers[i] for i in processed}
    assert ok.isdisjoint(failed) and ok | set(failed) == set(sequence_numbers)  # each record: processed or reported, once


sql_words = st.sampled_from(["CREATE", "OR", "REPLACE", "STREAM", "PUMP", "AS", "INSERT", "INTO", "SELECT", "FROM", "WHERE", "GROUP",
                             "BY", "STEP", "FLOOR", "TO", "MINUTE", "INTERVAL", "'1'", "WINDOWED", "STAGGER", "PARTITION", "RANGE",
                             "OVER", "(", ")", ",", ";", '"SOURCE_SQL_STREAM_001"', '"DESTINATION_SQL_STREAM"', "ROWTIME", "COUNT(*)",
                             "*", "=", "AND", "JOIN", "ON", "VARCHAR(8)", "INTEGER", "TIMESTAMP", ".", "STREAM_PUMP", "1", "x"])


@FUZZ
@given(sql=st.one_of(st.text(max_size=300), st.lists(sql_words, max_size=60).map(" ".join)))
def test_any_sql_text_is_translated_or_refused_with_a_named_error(sql):
    from cauce.analytics.app import AnalyticsApp, AppDefinitionError, parse_schema
    from cauce.analytics.dialect import AnalyticsSqlError
    from cauce.analytics.runtime import check

    columns = parse_schema({"RecordColumns": [{"Name": "ticker", "SqlType": "VARCHAR(8)"}, {"Name": "price", "SqlType": "DOUBLE"}]}, "fuzz")
    app = AnalyticsApp(name="fuzz", sql=sql, columns=columns)
    try:
        check(app)
    except (AnalyticsSqlError, AppDefinitionError) as error:
        assert str(error)  # the message says what and where


state = st.fixed_dictionaries({"Type": st.sampled_from(["Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map", "Nope"])},
                              optional={"Next": st.text(max_size=5), "End": st.booleans() | st.integers(), "Resource": st.text(max_size=30),
                                        "Retry": st.lists(st.dictionaries(st.sampled_from(["ErrorEquals", "MaxAttempts", "x"]), json_values)),
                                        "Catch": json_values, "Choices": json_values, "Seconds": json_values, "Branches": json_values,
                                        "ItemProcessor": json_values, "Parameters": json_values, "ResultPath": st.text(max_size=10) | st.none()})
machines = st.one_of(
    json_values,
    st.fixed_dictionaries({"StartAt": st.text(max_size=5), "States": st.dictionaries(st.text(max_size=5), state, max_size=5)},
                          optional={"Comment": json_values, "QueryLanguage": st.sampled_from(["JSONPath", "JSONata", "x"])}),
)


@FUZZ
@given(document=machines)
def test_any_document_gets_a_list_of_problems_from_asl_validation(document):
    from cauce.statemachines.validate import validate

    problems = validate(document)

    assert isinstance(problems, list)
    for problem in problems:
        assert problem.message and isinstance(problem.where, str)


@dataclasses.dataclass(frozen=True)
class FuzzArguments:
    source_path: str
    batch_size: int = 100
    ratio: float = 0.5
    dry_run: bool = False


argv_tokens = st.one_of(st.sampled_from(["--source_path", "--batch_size", "--ratio", "--dry_run", "--job-bookmark-option", "--JOB_NAME",
                                         "--", "--batch-size", "--sorce_path"]), st.text(max_size=12))


@FUZZ
@given(argv=st.lists(argv_tokens, max_size=12))
def test_any_job_argv_parses_or_is_refused_naming_each_problem(argv):
    from cauce.etl.arguments import JobArgumentError, parse_glue_arguments, parse_job_arguments, split_argv

    values = split_argv(argv)
    try:
        glue = parse_glue_arguments(values, "fuzz-job")
        arguments, _warnings = parse_job_arguments(FuzzArguments, values, glue.JOB_NAME)
    except JobArgumentError as error:
        assert f"job {values.get('JOB_NAME') or 'fuzz-job'}:" in str(error) and error.problems  # names the job and each problem
        return
    assert isinstance(arguments.batch_size, int) and isinstance(arguments.ratio, float) and isinstance(arguments.dry_run, bool)
