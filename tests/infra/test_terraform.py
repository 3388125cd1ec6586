"""Terraform itself on the module: fmt, then init from the AWS provider mirror on this machine,
validate, and plan against moto's server on 127.0.0.1; and checkov.

The provider cannot be downloaded here (no Terraform registry). This machine carries a
filesystem mirror of hashicorp/aws under /opt/tf-plugins, which `terraform init` can install
from. Without it, the init/validate/plan tests skip and say why. `terraform apply` is not run.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
EXAMPLE = INFRA / "examples" / "complete"
MIRROR = Path("/opt/tf-plugins")
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"

needs_terraform = pytest.mark.skipif(shutil.which("terraform") is None, reason="the terraform CLI is not installed")
needs_provider = pytest.mark.skipif(
    not (MIRROR / "registry.terraform.io" / "hashicorp" / "aws").is_dir(),
    reason="no AWS provider mirror at /opt/tf-plugins: terraform init cannot get the provider offline",
)


@pytest.fixture(scope="module")
def terraform_env(tmp_path_factory):
    config = tmp_path_factory.mktemp("terraform") / "cli.tfrc"
    config.write_text(
        'provider_installation {\n'
        f'  filesystem_mirror {{\n    path    = "{MIRROR}"\n    include = ["registry.terraform.io/hashicorp/*"]\n  }}\n'
        '  direct {\n    exclude = ["registry.terraform.io/hashicorp/*"]\n  }\n}\n'
    )
    return {**os.environ, "TF_CLI_CONFIG_FILE": str(config), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}


def terraform(args: list[str], cwd: Path, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(["terraform", *args, "-no-color"] if args[0] != "fmt" else ["terraform", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@needs_terraform
def test_terraform_fmt_is_clean():
    completed = subprocess.run(["terraform", "fmt", "-check", "-recursive", str(INFRA)], capture_output=True, text=True)
    assert completed.returncode == 0, f"files needing terraform fmt:\n{completed.stdout}"


@needs_terraform
@needs_provider
@pytest.mark.parametrize("folder", [INFRA, EXAMPLE], ids=["module", "examples/complete"])
def test_terraform_validate(folder, terraform_env, tmp_path):
    work = tmp_path / "work"
    shutil.copytree(ROOT, work, ignore=shutil.ignore_patterns(".git", ".venv*", ".terraform", "*.tfstate*", ".cauce", "__pycache__"))
    target = work / folder.relative_to(ROOT)
    init = terraform(["init", "-backend=false", "-input=false"], target, terraform_env)
    assert init.returncode == 0, init.stderr
    validate = terraform(["validate"], target, terraform_env)
    assert validate.returncode == 0, validate.stderr + validate.stdout


@needs_terraform
@needs_provider
def test_the_root_module_of_a_cauce_init_project_validates(terraform_env, tmp_path):
    """The project's infra/ sources the module copied out of the installation (infra/modules/cauce)."""
    from click.testing import CliRunner

    from cauce.cli import cli

    result = CliRunner().invoke(cli, ["init", str(tmp_path / "shop")])
    assert result.exit_code == 0, result.output
    infra = tmp_path / "shop" / "infra"
    assert 'source = "./modules/cauce"' in (infra / "main.tf").read_text()
    fmt = subprocess.run(["terraform", "fmt", "-check", "-recursive", str(infra)], capture_output=True, text=True)
    assert fmt.returncode == 0, f"files needing terraform fmt:\n{fmt.stdout}"
    init = terraform(["init", "-backend=false", "-input=false"], infra, terraform_env)
    assert init.returncode == 0, init.stderr
    validate = terraform(["validate"], infra, terraform_env)
    assert validate.returncode == 0, validate.stderr + validate.stdout


# --- plan against moto's server -------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def moto_endpoint():
    """moto's server in this process. The provider calls ValidateStateMachineDefinition during
    plan; moto does not implement it, so Cauce's ASL validator answers."""
    from moto.core.responses import ActionResult
    from moto.server import ThreadedMotoServer
    from moto.stepfunctions.responses import StepFunctionResponse

    from cauce.statemachines.validate import validate

    def validate_state_machine_definition(self):
        problems = validate(json.loads(self._get_param("definition")), None, interpreter=False)
        return ActionResult({
            "result": "FAIL" if problems else "OK", "truncated": False,
            "diagnostics": [{"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "message": p.message, "location": p.where} for p in problems],
        })

    patch = pytest.MonkeyPatch()
    patch.setattr(StepFunctionResponse, "validate_state_machine_definition", validate_state_machine_definition, raising=False)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()
    patch.undo()


SERVICES = ("sts", "iam", "kms", "s3", "glue", "lambda", "sfn", "kinesis", "firehose", "logs", "sns", "sqs", "cloudwatch", "events")


def plan_root(tmp_path: Path, endpoint: str, stack: dict, extra: str = "", artifacts: bool = True) -> Path:
    """examples/complete as it is, plus an override file: provider endpoints on moto, the module
    by relative path to infra/ (so it is used in place, not copied), and `extra` arguments.
    With `artifacts`, the example's inputs lambda_layer_zip and cauce_wheel name stand-in files
    (a plan hashes them, never opens them), as `cauce layer build` and `pip wheel` would give."""
    root = tmp_path / "complete"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    (root / "stack.tfvars.json").write_text(json.dumps(stack))
    if artifacts:
        import zipfile

        with zipfile.ZipFile(root / "cauce-layer.zip", "w") as layer:
            layer.writestr("python/cauce/__init__.py", "")
        with zipfile.ZipFile(root / "cauce-0.0.0-py3-none-any.whl", "w") as wheel:
            wheel.writestr("cauce/__init__.py", "")
        (root / "artifacts.auto.tfvars").write_text(
            f'lambda_layer_zip = "{root / "cauce-layer.zip"}"\ncauce_wheel      = "{root / "cauce-0.0.0-py3-none-any.whl"}"\n')
    endpoints = "\n".join(f'    {service} = "{endpoint}"' for service in SERVICES)
    (root / "moto_override.tf").write_text(f'''
provider "aws" {{
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  s3_use_path_style           = true
  endpoints {{
{endpoints}
  }}
}}
module "processing" {{
  source = "{os.path.relpath(INFRA, root)}"
  {extra}
}}
''')
    return root


def example_stack() -> dict:
    return json.loads((EXAMPLE / "stack.tfvars.json").read_text())


@pytest.fixture(scope="module")
def complete_plan(moto_endpoint, terraform_env, tmp_path_factory) -> dict:
    """`terraform show -json` of the complete example's plan, with the module creating its roles."""
    if shutil.which("terraform") is None or not (MIRROR / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        pytest.skip("needs the terraform CLI and the provider mirror")
    root = plan_root(tmp_path_factory.mktemp("plan"), moto_endpoint, example_stack(), extra="create_iam_roles = true")
    assert terraform(["init", "-input=false"], root, terraform_env).returncode == 0
    plan = terraform(["plan", "-input=false", "-out=plan.bin"], root, terraform_env)
    assert plan.returncode == 0, plan.stderr[-3000:]
    return json.loads(terraform(["show", "-json", "plan.bin"], root, terraform_env).stdout)


def test_plan_of_the_complete_example_with_created_roles(complete_plan):
    planned = {change["address"] for change in complete_plan["resource_changes"] if change["change"]["actions"] == ["create"]}
    expected = {
        'module.processing.aws_glue_job.jobs["etl-job"]', 'module.processing.aws_glue_crawler.crawlers["data-crawler"]',
        'module.processing.aws_glue_connection.this["jdbc-connection"]', 'module.processing.aws_glue_security_configuration.this',
        'module.processing.aws_lambda_function.functions["data-processor"]', 'module.processing.aws_lambda_event_source_mapping.kinesis["data-processor-reads-ingestion"]',
        'module.processing.aws_sfn_state_machine.state_machines["etl-workflow"]', 'module.processing.aws_kinesis_stream.streams["data-stream"]',
        'module.processing.aws_kinesis_firehose_delivery_stream.firehose["s3-delivery"]', 'module.processing.aws_glue_job.analytics["realtime-analytics"]',
        'module.processing.aws_iam_role.this["glue"]', 'module.processing.aws_iam_role.this["firehose"]', 'module.processing.aws_kms_key.this[0]',
        'module.processing.aws_sns_topic.alarms', 'module.processing.aws_cloudwatch_event_rule.glue_job_failed',
        # the analytics app's output, which stream_config does not define: the module creates it
        'module.processing.aws_kinesis_stream.streams["processed-data-stream"]',
    }
    assert expected <= planned, sorted(expected - planned)
    changes = {c["address"]: c["change"]["after"] for c in complete_plan["resource_changes"]}
    connection = changes['module.processing.aws_glue_connection.this["jdbc-connection"]']
    assert connection["connection_properties"].get("SECRET_ID") == "db-creds" and "PASSWORD" not in connection["connection_properties"]
    output = changes['module.processing.aws_kinesis_stream.streams["processed-data-stream"]']
    assert (output["name"], output["shard_count"], output["encryption_type"]) == ("processed-data-stream", 1, "KMS")
    assert len(_planned(complete_plan, "aws_kinesis_stream")) == 2  # its input, data-ingestion-stream, is stream_config's
    machine = json.loads(changes['module.processing.aws_sfn_state_machine.state_machines["etl-workflow"]']["definition"])
    assert machine["States"]["StartETLProcess"]["Parameters"]["JobName"] == "etl-proceso-principal"


def _configured(plan: dict, resource_type: str) -> list[dict]:
    """The module's configuration expressions of every `resource_type` resource in the plan."""
    module = plan["configuration"]["root_module"]["module_calls"]["processing"]["module"]
    return [r["expressions"] for r in module["resources"] if r["type"] == resource_type and r["mode"] == "managed"]


def _planned(plan: dict, resource_type: str) -> list[dict]:
    return [c["change"]["after"] for c in plan["resource_changes"] if c["type"] == resource_type]


def _uses_the_stack_key(expression: dict | None) -> bool:
    return bool(expression) and "local.kms_key_arn" in expression.get("references", [])


@pytest.mark.reliability
def test_every_data_store_the_module_creates_is_encrypted_with_the_stacks_key(complete_plan):
    plan = complete_plan
    streams = _configured(plan, "aws_kinesis_stream")
    assert streams and all(s["encryption_type"]["constant_value"] == "KMS" and _uses_the_stack_key(s["kms_key_id"]) for s in streams)
    for firehose, planned in zip(_configured(plan, "aws_kinesis_firehose_delivery_stream"),
                                 _planned(plan, "aws_kinesis_firehose_delivery_stream"), strict=True):
        assert _uses_the_stack_key(firehose["extended_s3_configuration"][0]["kms_key_arn"])  # objects it writes
        # at rest in Firehose: its Kinesis source's KMS, or its own server-side encryption for direct PUTs
        assert planned["kinesis_source_configuration"] or planned["server_side_encryption"][0]["enabled"]
    buckets = _planned(plan, "aws_s3_bucket")
    encryption = _planned(plan, "aws_s3_bucket_server_side_encryption_configuration")
    assert len(encryption) == len(buckets) == 2
    assert all(e["rule"][0]["apply_server_side_encryption_by_default"][0]["sse_algorithm"] == "aws:kms" for e in encryption)
    [security] = _planned(plan, "aws_glue_security_configuration")
    modes = security["encryption_configuration"][0]
    assert (modes["s3_encryption"][0]["s3_encryption_mode"], modes["cloudwatch_encryption"][0]["cloudwatch_encryption_mode"],
            modes["job_bookmarks_encryption"][0]["job_bookmarks_encryption_mode"]) == ("SSE-KMS", "SSE-KMS", "CSE-KMS")
    glue_runs = _planned(plan, "aws_glue_job") + _planned(plan, "aws_glue_crawler")
    assert glue_runs and all(r["security_configuration"] == security["name"] for r in glue_runs)
    assert all(_uses_the_stack_key(g["kms_key_id"]) for g in _configured(plan, "aws_cloudwatch_log_group"))
    assert all(_uses_the_stack_key(q["kms_master_key_id"]) for q in _configured(plan, "aws_sqs_queue") + _configured(plan, "aws_sns_topic"))
    assert all(_uses_the_stack_key(f["kms_key_arn"]) for f in _configured(plan, "aws_lambda_function"))  # environment variables


@pytest.mark.reliability
def test_the_buckets_refuse_insecure_transport_and_public_access(complete_plan):
    blocks = _planned(complete_plan, "aws_s3_bucket_public_access_block")
    assert len(blocks) == 2 and all(b[k] for b in blocks for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))
    # the policy document is only known after apply (it names the bucket ARNs): read its source, applied to every bucket
    module = complete_plan["configuration"]["root_module"]["module_calls"]["processing"]["module"]
    [policy] = [r for r in module["resources"] if r["type"] == "aws_s3_bucket_policy"]
    assert policy["for_each_expression"]["references"] == ["aws_s3_bucket.this"]
    source = " ".join((INFRA / "s3.tf").read_text().split())
    assert 'Sid = "DenyInsecureTransport" Effect = "Deny" Principal = "*" Action = "s3:*"' in source
    assert 'Condition = { Bool = { "aws:SecureTransport" = "false" } }' in source


@needs_terraform
@needs_provider
def test_plan_refuses_a_function_with_no_code_and_an_analytics_app_without_cauce(moto_endpoint, terraform_env, tmp_path):
    """The example without lambda_layer_zip: data-processor would deploy the stub package with no layer,
    and its handler could not be imported; without cauce_wheel the analytics job could not import Cauce."""
    root = plan_root(tmp_path, moto_endpoint, example_stack(), artifacts=False)
    assert terraform(["init", "-input=false"], root, terraform_env).returncode == 0
    plan = terraform(["plan", "-input=false"], root, terraform_env)
    message = " ".join(plan.stderr.split())
    assert plan.returncode != 0
    assert ('lambda_config["data-processor"] (data-processor): nothing would provide its handler cauce.handlers.data_processor.handler' in message
            and "Set lambda_layer_zip to the zip of `cauce layer build`" in message), plan.stderr[-3000:]
    assert ('kinesis_config.analytics_config["realtime-analytics"] (realtime-processing): its Glue streaming job runs glue_main.py, '
            "which imports cauce.analytics: set cauce_wheel" in message), plan.stderr[-3000:]


def test_the_complete_plan_attaches_the_layer_and_installs_cauce_on_the_analytics_job(complete_plan):
    [layer] = _planned(complete_plan, "aws_lambda_layer_version")
    assert layer["filename"].endswith("cauce-layer.zip")
    # the job's arguments name the artifacts bucket, known after apply: the wheel's upload is what the plan shows
    assert "packages/cauce-0.0.0-py3-none-any.whl" in {o["key"] for o in _planned(complete_plan, "aws_s3_object")}


# The same invalid values are refused by `terraform plan` and by Cauce's local stack, with the same message.
INVALID_VALUES = [
    (("glue_config", "job_config", "etl-job", "worker_type"), "G.3X", "glue_config.job_config[*].worker_type: must be one of"),
    (("kinesis_config", "firehose_config", "s3-delivery", "compression_format"), "BROTLI", "kinesis_config.firehose_config[*].compression_format"),
    (("step_functions_config", "etl-workflow", "type"), "BATCH", "step_functions_config[*].type: must be STANDARD or EXPRESS"),
    (("lambda_config", "data-processor", "tracing_config", "mode"), "On", "lambda_config[*].tracing_config.mode"),
    (("kinesis_config", "stream_config", "data-stream", "encryption_type"), "NONE", "kinesis_config.stream_config[*].encryption_type: must be KMS"),
    # the module's jobs are glueetl: G.025X is for streaming jobs, Z.2X for Ray jobs (AWS Glue worker types,
    # https://docs.aws.amazon.com/glue/latest/dg/worker-types.html)
    (("glue_config", "job_config", "etl-job", "worker_type"), "G.025X", "glue_config.job_config[*].worker_type: must be one of G.1X, G.2X, G.4X, G.8X"),
    (("glue_config", "job_config", "etl-job", "worker_type"), "Z.2X", "glue_config.job_config[*].worker_type: must be one of G.1X, G.2X, G.4X, G.8X"),
]


def partitioned_by_query(buffer_size: int) -> dict:
    """The example with its Firehose prefix partitioned by a key (dynamic partitioning on) and `buffer_size` MB."""
    stack = example_stack()
    firehose = stack["kinesis_config"]["firehose_config"]["s3-delivery"]
    firehose["prefix"] = "raw-data/customer=!{partitionKeyFromQuery:customer_id}/"
    firehose["buffer_size"] = buffer_size
    return stack


# Dynamic partitioning needs a buffer of at least 64 MiB (Amazon Data Firehose developer guide, "Buffer data
# for dynamic partitioning", https://docs.aws.amazon.com/firehose/latest/dev/buffering.html); the module
# turns it on for a prefix with !{partitionKeyFrom...}, so a smaller buffer would fail at apply.
DYNAMIC_PARTITIONING_MESSAGE = "kinesis_config.firehose_config[*].buffer_size: must be at least 64 MB when the prefix uses !{partitionKeyFrom...}"


def test_the_local_stack_refuses_a_small_buffer_with_dynamic_partitioning_naming_the_stream(tmp_path):
    from cauce.core.stack import StackError, load_stack

    stack_file = tmp_path / "stack.tfvars.json"
    stack_file.write_text(json.dumps(partitioned_by_query(5)))
    with pytest.raises(StackError) as error:
        load_stack(stack_file)
    assert DYNAMIC_PARTITIONING_MESSAGE in str(error.value) and '(at kinesis_config.firehose_config["s3-delivery"])' in str(error.value)
    stack_file.write_text(json.dumps(partitioned_by_query(64)))
    load_stack(stack_file)  # 64 MB is enough
    stack_file.write_text(json.dumps(with_value(("kinesis_config", "firehose_config", "s3-delivery", "buffer_size"), 1)))
    load_stack(stack_file)  # without partition keys, 1 MB is Firehose's minimum


@needs_terraform
@needs_provider
def test_plan_refuses_a_small_buffer_with_dynamic_partitioning_naming_the_stream(moto_endpoint, terraform_env, tmp_path):
    root = plan_root(tmp_path, moto_endpoint, partitioned_by_query(5))
    assert terraform(["init", "-input=false"], root, terraform_env).returncode == 0
    plan = terraform(["plan", "-input=false"], root, terraform_env)
    message = " ".join(plan.stderr.split())
    assert plan.returncode != 0
    assert DYNAMIC_PARTITIONING_MESSAGE in message and '(at kinesis_config.firehose_config["s3-delivery"])' in message, plan.stderr[-2000:]


def with_value(path, value) -> dict:
    stack = example_stack()
    holder = stack
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value
    return stack


@pytest.mark.parametrize("path, value, message", INVALID_VALUES, ids=[p[-1] for p, _, _ in INVALID_VALUES])
def test_the_local_stack_refuses_them_with_the_modules_message(tmp_path, path, value, message):
    from cauce.core.stack import StackError, load_stack

    stack_file = tmp_path / "stack.tfvars.json"
    stack_file.write_text(json.dumps(with_value(path, value)))
    with pytest.raises(StackError) as error:
        load_stack(stack_file)
    assert message in str(error.value)
    entry = path[2] if path[0] in ("glue_config", "kinesis_config") else path[1]
    assert f'["{entry}"]' in str(error.value)  # and names the entry at fault


@needs_terraform
@needs_provider
@pytest.mark.parametrize("path, value, message", INVALID_VALUES, ids=[p[-1] for p, _, _ in INVALID_VALUES])
def test_plan_refuses_invalid_enumerated_values_naming_the_field(moto_endpoint, terraform_env, tmp_path, path, value, message):
    root = plan_root(tmp_path, moto_endpoint, with_value(path, value))
    assert terraform(["init", "-input=false"], root, terraform_env).returncode == 0
    plan = terraform(["plan", "-input=false"], root, terraform_env)
    assert plan.returncode != 0
    assert message in " ".join(plan.stderr.split()), plan.stderr[-2000:]


# --- checkov ------------------------------------------------------------------------------------

def test_checkov_finds_no_failed_check():
    if not CHECKOV.exists():
        pytest.skip("checkov is installed by `make setup` into .venv-checkov (its pins clash with the test tools)")
    completed = subprocess.run([str(CHECKOV), "-d", str(INFRA), "--framework", "terraform", "--skip-download", "--quiet", "--compact", "-o", "json"],
                               capture_output=True, text=True, timeout=600)
    report = json.loads(completed.stdout)
    summaries = [r["summary"] for r in (report if isinstance(report, list) else [report])]
    failed = [c for r in (report if isinstance(report, list) else [report]) for c in r["results"]["failed_checks"]]
    assert sum(s["failed"] for s in summaries) == 0, [(c["check_id"], c["resource"], c["file_path"]) for c in failed]
    assert sum(s["passed"] for s in summaries) > 100


def test_a_reference_data_source_in_analytics_config_plans_with_the_job_argument_and_the_roles_read_grant(moto_endpoint, terraform_env, tmp_path):
    """analytics_config's reference_data_sources, as aws_kinesis_analytics_application's block declares them (the
    Developer Guide's "Adding Reference Data" example): the module's types take them, and the plan builds the app's
    Glue job argument and its role's s3:GetObject grant from them (both known only after apply: the buckets are new)."""
    if shutil.which("terraform") is None or not (MIRROR / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        pytest.skip("needs the terraform CLI and the provider mirror")
    stack = example_stack()
    _, app = next(iter(stack["kinesis_config"]["analytics_config"].items()))
    app["reference_data_sources"] = [{
        "table_name": "CompanyName", "s3": {"bucket_arn": "arn:aws:s3:::mi-bucket", "file_key": "TickerReference.csv"},
        "schema": {"record_columns": [{"name": "Ticker", "sql_type": "VARCHAR(8)"}, {"name": "Company", "sql_type": "VARCHAR(20)"}],
                   "record_format": {"mapping_parameters": {"csv": {"record_column_delimiter": ",", "record_row_delimiter": "\n"}}}}}]
    root = plan_root(tmp_path, moto_endpoint, stack, extra="create_iam_roles = true")
    assert terraform(["init", "-input=false"], root, terraform_env).returncode == 0
    plan = terraform(["plan", "-input=false", "-out=plan.bin"], root, terraform_env)
    assert plan.returncode == 0, plan.stderr[-3000:]
    shown = json.loads(terraform(["show", "-json", "plan.bin"], root, terraform_env).stdout)

    [job] = [c for c in shown["resource_changes"] if c["type"] == "aws_glue_job" and c["change"]["after"]["command"][0]["name"] == "gluestreaming"]
    assert job["change"]["after_unknown"]["default_arguments"] is True
