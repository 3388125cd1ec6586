"""One table per fact: cauce.core.facts against the module's validation blocks (infra/variables.tf),
and the places that read it (the local runner, the rules, the cost estimate) agreeing with it."""

from __future__ import annotations

import re

import pytest

from cauce.core import facts
from tests.infra.test_contract import INFRA, blocks

VARIABLES = blocks(INFRA / "variables.tf", "variable")


def condition(variable: str, mentioning: str) -> str:
    [found] = [v["condition"] for v in VARIABLES[variable]["validation"] if mentioning in v["condition"]]
    return found


def listed(variable: str, tested: str) -> list[str]:
    """The strings of the one `contains([...], <tested>)` in the variable's validation conditions."""
    pattern = r"contains\(\[([^\]]*)\],\s*" + re.escape(tested) + r"\)"
    [found] = [m for v in VARIABLES[variable]["validation"] for m in re.findall(pattern, v["condition"], re.S)]
    return re.findall(r'"([^"]*)"', found)


def bounds(text: str, attribute: str) -> tuple[int, int]:
    low = re.search(rf"{re.escape(attribute)} >= (\d+)", text)
    high = re.search(rf"{re.escape(attribute)} <= (\d+)", text)
    return int(low.group(1)), int(high.group(1))


def test_the_worker_types_the_module_accepts_are_the_tables_glue_etl_ones():
    assert listed("glue_config", "j.worker_type") == list(facts.ETL_WORKER_TYPES)


def test_the_analytics_apps_worker_types_are_the_tables_streaming_ones():
    assert listed("analytics_worker_type", "v") == list(facts.STREAMING_WORKER_TYPES)
    assert facts.ANALYTICS_DEFAULT_WORKER_TYPE in facts.STREAMING_WORKER_TYPES


def test_the_worker_type_table_says_which_job_types_take_each():
    assert facts.WORKER_TYPES["G.025X"].job_types == {facts.GLUE_STREAMING}
    assert facts.WORKER_TYPES["Z.2X"].job_types == {facts.GLUE_RAY}
    assert all(facts.PYTHON_SHELL not in w.job_types for w in facts.WORKER_TYPES.values())
    # a DPU is 4 vCPUs and 16 GB (G.025X has 2 vCPUs for its quarter DPU; Z.2X's M-DPUs twice the memory)
    assert all(w.vcpus == 4 * w.dpus for w in facts.WORKER_TYPES.values() if w.name != "G.025X")
    assert all(w.memory_gib == 16 * w.dpus for w in facts.WORKER_TYPES.values() if w.name != "Z.2X")


@pytest.mark.parametrize("variable, before, table", [
    ("glue_config", "j.glue_version", facts.GLUE_VERSIONS),
    ("glue_config", "c.connection_type", facts.GLUE_CONNECTION_TYPES),
    ("glue_config", "c.schema_change_policy.update_behavior", facts.CRAWLER_UPDATE_BEHAVIORS),
    ("glue_config", "c.schema_change_policy.delete_behavior", facts.CRAWLER_DELETE_BEHAVIORS),
    ("glue_config", "c.recrawl_policy.recrawl_behavior", facts.CRAWLER_RECRAWL_BEHAVIORS),
    ("lambda_config", "f.runtime", facts.LAMBDA_RUNTIMES),
    ("lambda_config", "f.tracing_config.mode", facts.LAMBDA_TRACING_MODES),
    ("step_functions_config", "m.type", facts.STATE_MACHINE_TYPES),
    ("step_functions_config", "m.logging_configuration.level", facts.STATE_MACHINE_LOG_LEVELS),
    ("kinesis_config", "f.destination", facts.FIREHOSE_DESTINATIONS),
    ("kinesis_config", "f.compression_format", facts.FIREHOSE_COMPRESSION_FORMATS),
    ("kinesis_config", "f.s3_backup_mode", facts.FIREHOSE_BACKUP_MODES),
    ("kinesis_config", "p.type", facts.FIREHOSE_PROCESSOR_TYPES),
], ids=lambda v: v if isinstance(v, str) else "")
def test_each_enumeration_is_the_modules(variable, before, table):
    assert listed(variable, before) == list(table)


def test_the_ranges_are_the_modules():
    jobs = condition("glue_config", "number_of_workers")
    assert bounds(jobs, "j.number_of_workers") == facts.GLUE_NUMBER_OF_WORKERS
    assert bounds(jobs, "j.max_retries") == facts.GLUE_MAX_RETRIES
    assert bounds(jobs, "j.timeout") == facts.GLUE_TIMEOUT_MINUTES
    functions = condition("lambda_config", "memory_size")
    assert bounds(functions, "f.memory_size") == facts.LAMBDA_MEMORY_MB
    assert bounds(functions, "f.timeout") == facts.LAMBDA_TIMEOUT_SECONDS
    assert f"length(f.layers) <= {facts.MODULE_MAX_USER_LAYERS}" in condition("lambda_config", "layers")
    streams = condition("kinesis_config", "shard_count")
    assert f"s.shard_count >= {facts.KINESIS_MIN_SHARDS}" in streams and bounds(streams, "s.retention_period") == facts.KINESIS_RETENTION_HOURS
    firehoses = condition("kinesis_config", "f.buffer_size <=")
    assert bounds(firehoses, "f.buffer_size") == facts.FIREHOSE_BUFFER_SIZE_MB
    assert bounds(firehoses, "f.buffer_interval") == facts.FIREHOSE_BUFFER_INTERVAL_SECONDS
    assert f'"{facts.FIREHOSE_ERROR_OUTPUT_TYPE}"' in condition("kinesis_config", "error_output_prefix")
    partitioned = condition("kinesis_config", "partitionKeyFrom")
    assert f'strcontains(f.prefix, "{facts.FIREHOSE_PARTITION_KEY_NAMESPACE}")' in partitioned
    assert f"f.buffer_size >= {facts.FIREHOSE_DYNAMIC_PARTITIONING_MIN_BUFFER_MB}" in partitioned
    assert 'encryption_type == "KMS"' in condition("kinesis_config", "encryption_type") and facts.KINESIS_ENCRYPTION_TYPES == ("KMS",)


@pytest.mark.parametrize("worker_type", ["R.2X", "G.025X", "Z.2X", "G.12X", "Standard"])
def test_the_local_runner_refuses_a_worker_type_the_module_refuses(worker_type):
    from cauce.etl.runner import RunPolicy

    with pytest.raises(ValueError, match=re.escape(f"worker_type {worker_type!r} is not one of G.1X, G.2X, G.4X, G.8X")):
        RunPolicy(worker_type)


@pytest.mark.parametrize("worker_type", facts.ETL_WORKER_TYPES)
def test_the_local_runner_and_the_cost_estimate_read_the_table(worker_type):
    from cauce.etl.runner import RunPolicy
    from cauce.ops.cost import Assumptions, estimate, price_table
    from tests.stacks import glue_job, stack_with

    assert RunPolicy(worker_type, 3).glue_task_slots == 2 * facts.WORKER_TYPES[worker_type].vcpus
    stack = stack_with(glue_config={"job_config": {"j": glue_job(worker_type=worker_type, number_of_workers=3)}})
    [line] = [line for line in estimate(stack, Assumptions(), price_table("us-east-1")).lines if line.component == "Glue jobs"]
    assert line.item.startswith(f"{3 * facts.WORKER_TYPES[worker_type].dpus:g} DPU")


def test_the_job_command_refuses_a_worker_type_the_module_refuses(tmp_path):
    from click.testing import CliRunner

    from cauce.cli import cli

    result = CliRunner().invoke(cli, ["job", "run", "etl-proceso-principal", "--worker-type", "R.2X", "--stack", str(INFRA / "examples" / "complete" / "stack.tfvars.json"),
                                 "--lake", str(tmp_path / "lake")])
    assert result.exit_code != 0
    assert "worker_type 'R.2X' is not one of G.1X, G.2X, G.4X, G.8X" in result.output
