"""The Terraform module's interface, read with python-hcl2: the seed's variables and outputs kept
exactly, every variable used, every reference resolving, every checkov skip justified."""

from __future__ import annotations

import re
from pathlib import Path

import hcl2
import pytest

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
SEED = Path(__file__).with_name("seed_interface.hcl")
SEED_GUIDE = ROOT.parent / "shared" / "seed" / "data-processing-module-guide.md"


def _load_terraform_docs():
    import importlib.util

    spec = importlib.util.spec_from_file_location("terraform_docs", ROOT / "scripts" / "terraform_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


terraform_docs = _load_terraform_docs()  # the one HCL reader (python-hcl2, markers removed)
blocks = terraform_docs.read_blocks


def module_text() -> str:
    """All of the module's .tf files, comments removed."""
    text = "\n".join(p.read_text() for p in sorted(INFRA.glob("*.tf")))
    return re.sub(r"(?m)^\s*#.*$|\s#[^\"\n]*$", "", text)


def test_the_vendored_seed_interface_is_the_seeds():
    if not SEED_GUIDE.exists():
        pytest.skip("the seed guide (../shared/seed) is not beside this checkout")
    guide = SEED_GUIDE.read_text()
    for block in re.findall(r"```hcl\n(.*?)```", guide, re.S)[:2]:
        assert block in SEED.read_text()


def test_the_seven_seed_variables_keep_their_names_types_and_descriptions():
    seed = blocks(SEED, "variable")
    ours = blocks(INFRA / "variables.tf", "variable")
    assert list(ours)[: len(seed)] == list(seed)
    for name, body in seed.items():
        assert _extends(parse_type_expression(ours[name]["type"]), parse_type_expression(body["type"])), \
            f"variable {name!r}: type differs from the seed's (beyond new optional attributes)"
        assert ours[name]["description"] == body["description"], name
        assert ours[name].get("default") == body.get("default"), name


def parse_type_expression(text: str):
    from tests.infra.test_stack_types import parse_type_expression as parse  # that module imports this one

    return parse(text)


def _extends(ours, seed) -> bool:
    """Our type is the seed's, its objects' attributes kept with their types, plus only optional attributes:
    every value the seed's type accepts ours accepts the same way."""
    if isinstance(seed, str) or isinstance(ours, str):
        return ours == seed
    if ours[0] != seed[0]:
        return False
    if seed[0] != "object":
        return _extends(ours[1], seed[1])
    ours_attributes, seed_attributes = ours[1], seed[1]
    return (all(name in ours_attributes and ours_attributes[name][1:] == kind[1:] and _extends(ours_attributes[name][0], kind[0])
                for name, kind in seed_attributes.items())
            and all(optional for name, (_, optional, _) in ours_attributes.items() if name not in seed_attributes))


def test_the_seed_type_comparison_takes_new_optional_attributes_only():
    seed = parse_type_expression("map(object({a = string, b = object({c = number})}))")
    assert _extends(parse_type_expression("map(object({a = string, b = object({c = number, d = optional(string)})}))"), seed)
    assert not _extends(parse_type_expression("map(object({a = string, b = object({c = number, d = string})}))"), seed)
    assert not _extends(parse_type_expression("map(object({a = number, b = object({c = number})}))"), seed)
    assert not _extends(parse_type_expression("map(object({b = object({c = number})}))"), seed)


def test_new_variables_are_optional():
    seed = blocks(SEED, "variable")
    for name, body in blocks(INFRA / "variables.tf", "variable").items():
        if name not in seed:
            assert "default" in body, f"variable {name!r} is new, so it needs a default"


def test_the_six_seed_outputs_keep_their_names_meaning_and_expressions():
    seed = blocks(SEED, "output")
    ours = blocks(INFRA / "outputs.tf", "output")
    assert list(ours)[: len(seed)] == list(seed)
    for name, body in seed.items():
        assert ours[name]["value"] == body["value"], name
        assert ours[name]["description"] == body["description"], name


def test_every_variable_is_used():
    text = "\n".join(p.read_text() for p in sorted(INFRA.glob("*.tf")) if p.name != "variables.tf")
    unused = [name for name in blocks(INFRA / "variables.tf", "variable") if not re.search(rf"\bvar\.{name}\b", text)]
    assert unused == []


def test_every_validation_message_names_its_variable():
    for name, body in blocks(INFRA / "variables.tf", "variable").items():
        for validation in body.get("validation", []):
            message = validation["error_message"]
            assert message.startswith(name), f"{name}: {message!r}"


def test_every_reference_points_at_a_block_that_exists():
    declared_resources, declared_data, declared_locals = set(), set(), set()
    for path in INFRA.glob("*.tf"):
        document = terraform_docs.plain(hcl2.load(path.open()))
        for item in document.get("resource", []):
            for kind, named in item.items():
                declared_resources.update(f"{kind}.{name}" for name in named)
        for item in document.get("data", []):
            for kind, named in item.items():
                declared_data.update(f"{kind}.{name}" for name in named)
        for item in document.get("locals", []):
            declared_locals.update(item)
    text = module_text()
    data_references = set(re.findall(r"\bdata\.(aws_[a-z0-9_]+\.[a-z0-9_]+)", text))
    resource_references = set(re.findall(r"(?<![\w.])(aws_[a-z0-9_]+\.[a-z0-9_]+)\b", text)) - {r for r in data_references}
    local_references = set(re.findall(r"\blocal\.([a-z0-9_]+)", text))
    assert data_references - declared_data == set()
    assert len(resource_references) > 20 and resource_references - declared_resources == set()
    assert local_references - declared_locals == set()


def test_every_checkov_skip_gives_its_reason():
    skips = re.findall(r"#\s*checkov:skip=([A-Z0-9_]+)(:?)\s*(.*)", "\n".join(p.read_text() for p in INFRA.rglob("*.tf")))
    assert skips, "the module documents its checkov skips inline"
    for check, colon, reason in skips:
        assert colon and len(reason) > 20, f"{check}: a skip needs its reason"


def test_the_readme_tables_are_generated_from_the_current_code():
    readme = (INFRA / "README.md").read_text()
    assert terraform_docs.render(readme) == readme, "run: python scripts/terraform_docs.py"
    for name in blocks(INFRA / "variables.tf", "variable"):
        assert f"| `{name}` |" in readme


def test_the_local_stack_applies_the_modules_validation_rules_with_the_same_messages():
    from cauce.core.stack_rules import RULES

    seed = blocks(SEED, "variable")
    # a module message may end by naming the entries at fault, " (at ${join(...)})", as the local one does
    module_messages = {
        re.sub(r" \(at \$\{.*\}\)$", "", validation["error_message"])
        for name, body in blocks(INFRA / "variables.tf", "variable").items() if name in seed
        for validation in body.get("validation", [])
    }
    assert module_messages == {message for message, _, _ in RULES}


# Actions AWS does not scope to a resource, so a statement of only these may name "*".
# (Service Authorization Reference: no resource types for these actions.)
UNSCOPED_ACTIONS = re.compile(r"^(cloudwatch:PutMetricData|xray:(PutTraceSegments|PutTelemetryRecords|GetSamplingRules|GetSamplingTargets)"
                              r"|ec2:Describe\w+|logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries"
                              r"|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups))$")
KEY_POLICIES = {"kms"}  # in a key policy, Resource "*" is the key itself


def policy_statements() -> list[tuple[str, dict]]:
    """Every statement of the module's aws_iam_policy_document data sources (dynamic ones included), by document."""
    found = []
    for path in sorted(INFRA.glob("*.tf")):
        document = terraform_docs.plain(hcl2.load(path.open()))
        for item in document.get("data", []):
            for name, body in item.get("aws_iam_policy_document", {}).items():
                found += [(name, s) for s in body.get("statement", [])]
                for dynamic in body.get("dynamic", []):
                    found += [(name, s) for s in dynamic.get("statement", {}).get("content", [])]
    return found


@pytest.mark.reliability
def test_iam_policies_grant_no_wildcard_action_and_no_wildcard_resource_where_a_narrower_one_exists():
    statements = policy_statements()
    assert len(statements) > 20  # every role's policy was read
    problems = []
    for document, statement in statements:
        if statement.get("effect", "Allow") != "Allow":
            continue
        where = f"{document}/{statement.get('sid', '?')}"
        actions, resources = statement.get("actions", []), statement.get("resources", [])
        if document in KEY_POLICIES:
            continue
        problems += [f"{where}: action {a!r} grants a whole service" for a in actions if a == "*" or a.endswith(":*")]
        if resources == ["*"] and not all(UNSCOPED_ACTIONS.match(a) for a in actions):
            problems.append(f"{where}: Resource \"*\" for {[a for a in actions if not UNSCOPED_ACTIONS.match(a)]}, which can be scoped")
    assert problems == []


@pytest.mark.reliability
def test_the_key_policy_gives_services_only_data_key_actions_for_this_account():
    kms = [s for document, s in policy_statements() if document == "kms"]
    services = next(s for s in kms if s.get("sid") == "ServicesUseTheKey")
    assert all(a.startswith(("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt", "kms:GenerateDataKey", "kms:Describe")) for a in services["actions"])
    assert services["condition"][0]["variable"] == "aws:SourceAccount"  # no other account's services
