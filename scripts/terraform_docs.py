"""Inputs and outputs tables of infra/README.md, generated from variables.tf and outputs.tf.

terraform-docs is a Go binary that cannot be installed here, so this does its one job for this
module with python-hcl2: the README's text between the `<!-- BEGIN_TF_DOCS -->` and
`<!-- END_TF_DOCS -->` markers is replaced by the tables.

    python scripts/terraform_docs.py           # rewrite infra/README.md
    python scripts/terraform_docs.py --check   # exit 1 if the README is out of date
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import hcl2

INFRA = Path(__file__).resolve().parents[1] / "infra"
BEGIN, END = "<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->"
SEED_VARIABLES = ("project_name", "environment", "glue_config", "lambda_config", "step_functions_config", "kinesis_config", "tags")


def _unwrap(value):
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        value = value[2:-1]
    return value


def _type_text(type_expression: str) -> str:
    """A short type for the table: object and map(object(...)) bodies are elided."""
    text = str(_unwrap(type_expression))
    text = re.sub(r"\$\{|\}'|'\$\{|\\'", "", text)
    for structural in ("object", "map(object", "list(object"):
        if text.startswith(structural + "({"):
            return f"{structural}({{...}})" + (")" if structural != "object" else "")
    return text.replace("'", "")


def _default_text(block: dict) -> str:
    if "default" not in block:
        return "n/a (required)"
    value = _unwrap(block["default"])
    if value is None:
        return "`null`"
    if isinstance(value, (dict, list)) and not value:
        return "`{}`" if isinstance(value, dict) else "`[]`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`" if not isinstance(value, str) else f'`"{value}"`'


def tables() -> str:
    variables = [next(iter(v.items())) for v in hcl2.load((INFRA / "variables.tf").open())["variable"]]
    outputs = [next(iter(o.items())) for o in hcl2.load((INFRA / "outputs.tf").open())["output"]]
    lines = ["## Inputs", "", "| Name | Description | Type | Default | From the seed |", "| --- | --- | --- | --- | :---: |"]
    for name, block in variables:
        description = str(_unwrap(block.get("description", ""))).replace("|", "\\|")
        seed = "yes" if name in SEED_VARIABLES else ""
        lines.append(f"| `{name}` | {description} | `{_type_text(block['type'])}` | {_default_text(block)} | {seed} |")
    lines += ["", "## Outputs", "", "| Name | Description |", "| --- | --- |"]
    for name, block in outputs:
        lines.append(f"| `{name}` | {_unwrap(block.get('description', ''))} |")
    return "\n".join(lines)


def render(readme: str) -> str:
    if BEGIN not in readme or END not in readme:
        raise SystemExit(f"infra/README.md needs the {BEGIN} and {END} markers")
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{tables()}\n{END}{tail}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 when infra/README.md is out of date")
    args = parser.parse_args()
    path = INFRA / "README.md"
    current = path.read_text()
    wanted = render(current)
    if args.check:
        if current != wanted:
            print("infra/README.md is out of date: run python scripts/terraform_docs.py", file=sys.stderr)
            sys.exit(1)
        return
    path.write_text(wanted)


if __name__ == "__main__":
    main()
