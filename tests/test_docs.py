"""The examples in the docs run as written (with the user's own functions stubbed)."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def python_blocks(page: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), re.S)


def example(page: str, marker: str) -> str:
    [block] = [b for b in python_blocks(page) if marker in b]
    return block


def test_the_firehose_example_transforms_drops_and_partitions(lambda_context, lambda_events):
    namespace: dict = {}
    exec(example("handlers.md", "@firehose_transform\n"), namespace)

    response = namespace["handler"](lambda_events.firehose([{"type": "heartbeat"}, {"amount": 1.5, "customer_id": "c1"}]), lambda_context)

    results = lambda_events.decode_firehose_response(response)
    assert [r[1] for r in results] == ["Dropped", "Ok"]
    assert results[1][2] == b'{"amount":1.5,"customer_id":"c1","amount_cents":150}\n'
    assert response["records"][1]["metadata"] == {"partitionKeys": {"customer": "c1"}}


def test_the_kinesis_example_sends_poison_to_the_queue_contract(lambda_context, lambda_events, monkeypatch):
    monkeypatch.delenv("CAUCE_IDEMPOTENCY_TABLE", raising=False)
    saved = []
    source = example("handlers.md", "@kinesis_consumer").replace(', idempotency_table="idempotency"', "")
    namespace: dict = {"save": saved.append}
    exec(source, namespace)

    response = namespace["handler"](lambda_events.kinesis([{"order_id": 1}, {"nothing": 0}]), lambda_context)

    assert saved == [{"order_id": 1}]
    assert len(response["batchItemFailures"]) == 1  # no poison queue configured: retried, not dropped


def test_the_task_router_example_raises_its_own_error_type(lambda_context, lambda_events):
    from cauce.handlers.testing import invoke

    namespace: dict = {"count": lambda table: 0}
    exec(example("handlers.md", "router = TaskRouter"), namespace)

    outcome = invoke(namespace["handler"], lambda_events.step_functions_task("report", table="orders"), lambda_context)

    assert outcome["response"]["errorType"] == "TooFewRows"


def test_the_workflow_diagram_in_the_docs_is_the_current_one():
    from cauce.core.stack import load_stack
    from cauce.statemachines.definition import load_definition
    from cauce.statemachines.diagram import mermaid

    text = (DOCS / "statemachines.md").read_text()
    [block] = re.findall(r"```mermaid\n(.*?)```", text, re.S)
    current = mermaid(load_definition("etl-workflow", load_stack(None)).document)
    assert block.strip() == current.strip(), "regenerate with: cauce sfn diagram etl-workflow (and --format svg --output docs/img/etl-workflow.svg)"
    assert (DOCS / "img" / "etl-workflow.svg").is_file()
