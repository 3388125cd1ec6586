"""Running plain Glue scripts (cauce.etl.glue_scripts): the job's Timeout and worker settings as on
Glue, a setup that always restores what it swapped, and runs from several threads kept apart."""

from __future__ import annotations

import json
import sys
import threading
import types

import pytest
from click.testing import CliRunner

from tests.stacks import EMPTY, glue_job, stack_with

# A script that never ends by itself; it says when it has started, so that the test's deadline
# passes while it runs. `BODY` is a loop of Spark actions or a pure Python loop.
LOOPING_SCRIPT = '''import sys
import cauce_test_gate
from awsglue.utils import getResolvedOptions
from awsglue.context import GlueContext
from awsglue.job import Job
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME"])
glueContext = GlueContext(SparkContext.getOrCreate())
job = Job(glueContext)
job.init(args["JOB_NAME"], args)
cauce_test_gate.started.set()
BODY
glueContext.spark_session.range(3).write.json("s3://out/never/")
job.commit()
'''
SPARK_LOOP = "while True:\n    glueContext.spark_session.range(10 ** 12).selectExpr('sum(id)').collect()"
PYTHON_LOOP = "n = 0\nwhile True:\n    n += 1"


@pytest.fixture
def gate(monkeypatch):
    module = types.ModuleType("cauce_test_gate")
    module.started = threading.Event()
    monkeypatch.setitem(sys.modules, "cauce_test_gate", module)
    return module


def _deadline_passes_once_started(gate, asked):
    """The injected wait: the script's timeout passes as soon as the script is running."""

    def wait(done, seconds):
        asked.append(seconds)
        assert gate.started.wait(120), "the script did not start"
        return False

    return wait


@pytest.mark.parametrize("body", [SPARK_LOOP, PYTHON_LOOP], ids=["spark-job", "python-loop"])
def test_a_script_past_its_timeout_ends_timeout_and_is_not_retried(run_glue_script, cauce_lake, spark, tmp_path, gate, body):
    from cauce.etl.runner import RunPolicy

    script = tmp_path / "looping.py"
    script.write_text(LOOPING_SCRIPT.replace("BODY", body))
    asked: list[float] = []
    result = run_glue_script(script, "--JOB_NAME", "looping", policy=RunPolicy(timeout_minutes=2, max_retries=3),
                             wait=_deadline_passes_once_started(gate, asked))
    assert asked == [120.0]  # the job's Timeout, in seconds: one attempt only, a TIMEOUT is not retried
    assert (result.status, result.error_type, result.attempt) == ("TIMEOUT", "RunTimedOut", 0)
    assert result.error == "RunTimedOut: job looping exceeded its timeout of 2 minute(s)"
    assert not (cauce_lake.root / "out" / "never").exists()  # what follows the loop never ran
    assert spark.sparkContext.statusTracker().getActiveJobsIds() == []  # its Spark job was cancelled
    assert spark.range(4).count() == 4  # and the shared session still works


def test_the_stacks_timeout_and_workers_apply_to_a_script_run_through_the_local_stack(local_runtime, tmp_path, gate, monkeypatch):
    from cauce.etl import glue_scripts
    from cauce.localstack.bindings import StackBindings

    (tmp_path / "looping_job.py").write_text(LOOPING_SCRIPT.replace("BODY", PYTHON_LOOP))
    monkeypatch.setenv("CAUCE_JOBS_PATH", str(tmp_path))
    asked: list[float] = []
    monkeypatch.setattr(glue_scripts, "_wait", _deadline_passes_once_started(gate, asked))
    stack = stack_with(glue_config={"job_config": {"looping_job": glue_job(name="looping_job", timeout=7, max_retries=2)}})
    outcome = StackBindings(stack, runtime=local_runtime).run_job("looping_job", {}, "jr_stack_1")
    assert (outcome.state, outcome.error) == ("TIMEOUT", "RunTimedOut: job looping_job exceeded its timeout of 7 minute(s)")
    assert asked == [420.0]


COPY_SCRIPT = '''import sys
from awsglue.utils import getResolvedOptions
from awsglue.context import GlueContext
from awsglue.job import Job
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "source", "target"])
glueContext = GlueContext(SparkContext.getOrCreate())
job = Job(glueContext)
job.init(args["JOB_NAME"], args)
frame = glueContext.create_dynamic_frame.from_options("s3", {"paths": [args["source"]]}, "json", transformation_ctx="src")
glueContext.write_dynamic_frame.from_options(frame=frame, connection_type="s3", format="json",
    connection_options={"path": args["target"]}, transformation_ctx="sink")
glueContext.spark_session.createDataFrame([(args["JOB_NAME"],)], "seen_as string").write.json(args["target"] + "seen_as/")
if getResolvedOptions(sys.argv, ["JOB_NAME"])["JOB_NAME"] != args["JOB_NAME"]:  # sys.argv is still this run's at the end
    raise RuntimeError("another run's arguments")
job.commit()
'''


def test_scripts_run_from_two_threads_each_see_their_own_arguments_and_results(spark, cauce_lake, tmp_path):
    from cauce.etl.glue_scripts import run_glue_script

    script = tmp_path / "copy_job.py"
    script.write_text(COPY_SCRIPT)
    cauce_lake.put_object("s3://in/a/part.json", '{"id": 1}\n{"id": 2}\n')
    cauce_lake.put_object("s3://in/b/part.json", '{"id": 10}\n{"id": 20}\n{"id": 30}\n')
    results = {}
    runs = {name: {"JOB_NAME": name, "source": f"s3://in/{name[-1]}/", "target": f"s3://out/{name}/"} for name in ("job-a", "job-b")}
    threads = [threading.Thread(target=lambda n=name, v=values: results.setdefault(n, run_glue_script(script, v, cauce_lake, spark)))
               for name, values in runs.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {n: (r.status, r.error, r.rows_read, r.rows_written) for n, r in results.items()} == {
        "job-a": ("SUCCEEDED", None, {"src": 2}, {"sink": 2}), "job-b": ("SUCCEEDED", None, {"src": 3}, {"sink": 3})}
    def rows(folder):
        return sorted(tuple(row.values()) for path in folder.glob("part-*") for row in map(json.loads, path.read_text().splitlines()))

    written = {name: (rows(cauce_lake.root / "out" / name), rows(cauce_lake.root / "out" / name / "seen_as")) for name in runs}
    assert written == {"job-a": ([(1,), (2,)], [("job-a",)]), "job-b": ([(10,), (20,), (30,)], [("job-b",)])}


def test_a_run_whose_setup_fails_restores_what_it_swapped(spark, tmp_path):
    import pyspark

    from cauce.etl import awsglue
    from cauce.etl.awsglue.environment import current_environment
    from cauce.etl.glue_scripts import run_glue_script

    script = tmp_path / "copy_job.py"
    script.write_text(COPY_SCRIPT)
    not_a_folder = tmp_path / "lake"
    not_a_folder.write_text("a file where the lake should be")
    argv, context, environment = list(sys.argv), pyspark.SparkContext, current_environment()
    result = run_glue_script(script, {"JOB_NAME": "j", "source": "s3://in/a/", "target": "s3://out/a/"}, not_a_folder, spark)
    assert (result.status, result.error_type) == ("FAILED", "NotADirectoryError")
    assert result.error.endswith("(setting up the run of copy_job.py)")
    assert (sys.argv, pyspark.SparkContext, current_environment()) == (argv, context, environment)
    assert not awsglue.is_installed()
    assert spark.conf.get("spark.sql.shuffle.partitions") == "2"


def test_cauce_job_run_reports_the_stacks_worker_settings_for_a_script(spark, cauce_lake, tmp_path):
    import os

    from cauce.cli import cli

    script = tmp_path / "copy_job.py"
    script.write_text(COPY_SCRIPT)
    stack = {**EMPTY, "glue_config": {**EMPTY["glue_config"], "job_config": {"copy_job": glue_job(
        name="copy_job", worker_type="G.2X", number_of_workers=5, timeout=30, default_arguments={"--target": "s3://out/c/"})}}}
    (tmp_path / "stack.json").write_text(json.dumps(stack))
    cauce_lake.put_object("s3://in/c/part.json", '{"id": 1}\n')
    result = CliRunner().invoke(cli, ["job", "run", str(script), "--lake", str(cauce_lake.root), "--json", "--stack", str(tmp_path / "stack.json"),
                                      "--JOB_NAME", "copy_job", "--source", "s3://in/c/"], catch_exceptions=False)
    document = json.loads(result.stdout)
    assert result.exit_code == 0, document
    assert {k: document[k] for k in ("status", "worker_type", "number_of_workers", "timeout_minutes", "local_cores", "rows_written")} == {
        "status": "SUCCEEDED", "worker_type": "G.2X", "number_of_workers": 5, "timeout_minutes": 30,
        "local_cores": min(os.cpu_count(), 4 * 8), "rows_written": {"sink": 1}}  # (5 - 1 for the driver) workers of 8 vCPUs
    refused = CliRunner().invoke(cli, ["job", "run", str(script), "--lake", str(cauce_lake.root), "--worker-type", "R.2X",
                                       "--stack", str(tmp_path / "stack.json"), "--JOB_NAME", "copy_job", "--source", "s3://in/c/"])
    assert refused.exit_code == 2 and "worker_type 'R.2X' is not one of" in refused.output


THRESHOLD_SCRIPT = '''import sys
from awsglue.transforms import ApplyMapping
from awsglue.utils import getResolvedOptions
from awsglue.context import GlueContext
from pyspark.context import SparkContext

glueContext = GlueContext(SparkContext.getOrCreate())
frame = glueContext.create_dynamic_frame.from_options("s3", {"paths": ["s3://in/bad/"]}, "json", transformation_ctx="src")
mapped = ApplyMapping.apply(frame=frame, mappings=[("id", "long", "id", "long")], transformation_ctx="map", totalThreshold=2)
glueContext.write_dynamic_frame.from_options(frame=mapped, connection_type="s3", format="json", connection_options={"path": "s3://out/bad/"})
'''


def test_a_script_whose_errors_reach_a_threshold_fails_naming_the_step(run_glue_script, cauce_lake, tmp_path):
    script = tmp_path / "thresholds.py"
    script.write_text(THRESHOLD_SCRIPT)
    cauce_lake.put_object("s3://in/bad/a.json", '{"id": 1}\n{oops\n{"id": 2}\n[not, json\n')
    result = run_glue_script(script, "--JOB_NAME", "thresholds")
    assert (result.status, result.error_type) == ("FAILED", "ErrorThresholdExceeded")
    assert result.error == ("ErrorThresholdExceeded: ApplyMapping (transformation_ctx 'map'): 2 error record(s) up to and including "
                            "this transformation reached its totalThreshold of 2 (line 9 of thresholds.py)")
    assert not (cauce_lake.root / "out" / "bad").exists()
