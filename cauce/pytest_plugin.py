"""pytest plugin (registered as `cauce` through the pytest11 entry point).

Fixtures:
    spark            one tuned local SparkSession for the whole test run
    cauce_lake       an empty local lake (and catalog) per test
    local_runtime    a LocalRuntime on that lake and the shared session
    run_glue_job     run a job class with Glue-style arguments, get its JobRunResult
    glue_context     a local awsglue GlueContext on that lake (awsglue importable while the test runs)
    run_glue_script  run a plain Glue script file unmodified on that lake, get its JobRunResult
    lambda_context   a realistic Lambda context (cauce.core.lambda_runtime.LambdaContext) per test
    step_functions   `with step_functions(stack=None, functions=..., jobs=...) as sfn:` a LocalStepFunctions (moto
                     in process, virtual time) with the project's stack (or `stack`) bound to its handlers, jobs
                     and crawlers on the test's lake, `functions` binding names to callables; then .run(...),
                     .test_state(definition, state, input, mock=...), .subscribe(...), .on_task_token(...)
    lambda_events    event builders in AWS's documented shapes: .firehose(records, source_stream=...),
                     .kinesis(records, aggregate_per_record=N), .step_functions_task(operation, **payload),
                     and .decode_firehose_response(response) (all from cauce.handlers.testing)
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable

import pytest

os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")  # before anything imports pyspark.pandas

if TYPE_CHECKING:
    from cauce.etl.job import JobRunResult


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory):
    from cauce.etl.spark import local_spark_session

    session = local_spark_session(warehouse_dir=str(tmp_path_factory.mktemp("spark-warehouse")), app_name="cauce-tests")
    yield session
    session.stop()


@pytest.fixture
def cauce_lake(tmp_path):
    from cauce.core.lake import LocalLake

    return LocalLake(tmp_path / "lake")


@pytest.fixture
def local_runtime(spark, cauce_lake):
    from cauce.etl.runtimes.local import LocalRuntime

    return LocalRuntime(cauce_lake, spark=spark)


@pytest.fixture
def run_glue_job(local_runtime) -> Callable[..., "JobRunResult"]:
    """`run_glue_job(JobClass, "--key", "value", ..., policy=RunPolicy(...))`, or with a dict of arguments
    (the `--key value` tokens win over it, as a run's arguments win over a job's default_arguments)."""
    from cauce.etl.arguments import run_arguments
    from cauce.etl.runner import RunPolicy, run_job

    def run(job_cls: type, *argv: str, arguments: dict[str, Any] | None = None, policy: RunPolicy | None = None):
        values = run_arguments(arguments, list(argv), job_cls.name)
        return run_job(job_cls, values, local_runtime, policy or RunPolicy())

    return run


@pytest.fixture
def glue_context(spark, cauce_lake):
    """`awsglue.context.GlueContext` for unit tests of Glue scripts (the layout AWS recommends), local."""
    from cauce.etl.awsglue import installed
    from cauce.etl.awsglue.environment import LocalGlueEnvironment, set_environment

    environment = LocalGlueEnvironment(cauce_lake, spark)
    environment.mount_lake_buckets()
    previous = set_environment(environment)
    try:
        with installed():
            from cauce.etl.awsglue.context import GlueContext

            yield GlueContext(spark.sparkContext)
    finally:
        set_environment(previous)


@pytest.fixture
def run_glue_script(spark, cauce_lake) -> Callable[..., "JobRunResult"]:
    """`run_glue_script(path, "--JOB_NAME", "x", ..., policy=RunPolicy(...))`: the script unmodified on the
    test's lake, with that job policy (workers, timeout, retries; Glue's defaults without one)."""
    from cauce.etl.arguments import split_argv
    from cauce.etl.glue_scripts import run_glue_script as run

    return lambda path, *argv, **options: run(path, split_argv(list(argv)), cauce_lake, spark, **options)


@pytest.fixture
def lambda_context():
    from cauce.handlers.testing import lambda_context as build

    return build(function_name="cauce-test-function")


@pytest.fixture
def lambda_events():
    from types import SimpleNamespace

    from cauce.handlers import testing

    return SimpleNamespace(
        firehose=testing.firehose_event,
        kinesis=testing.kinesis_event,
        step_functions_task=testing.step_functions_task_event,
        decode_firehose_response=testing.decode_firehose_response,
    )


@pytest.fixture
def step_functions(local_runtime):
    """`with step_functions() as sfn: sfn.run("my-workflow", {...})`: the project's stack (found from the
    working folder; outside a project the example stack), its Tasks bound to the project's own code."""
    from cauce.core.project import find_project, stack_file
    from cauce.core.stack import load_stack
    from cauce.localstack.bindings import StackBindings
    from cauce.statemachines.local import LocalStepFunctions

    def build(stack: Any = None, functions: dict | None = None, jobs: dict | None = None) -> LocalStepFunctions:
        project = find_project()
        if project is not None:
            project.make_importable()
        stack = stack if stack is not None else load_stack(stack_file(None, project))
        bindings = StackBindings(stack, runtime=local_runtime, functions=functions, jobs=jobs, project=project)
        return LocalStepFunctions(stack, bindings=bindings)

    return build
