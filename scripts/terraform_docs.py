"""Inputs and outputs tables of infra/README.md, generated from variables.tf and outputs.tf.

terraform-docs is a Go binary that cannot be installed here, so this does its one job for this
module with python-hcl2: the README's text between the `<!-- BEGIN_TF_DOCS -->` and
`<!-- END_TF_DOCS -->` markers is replaced by the tables.

    python scripts/terraform_docs.py           # rewrite infra/README.md
    python scripts/terraform_docs.py --check   # exit 1 if the README is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import hcl2

INFRA = Path(__file__).resolve().parents[1] / "infra"
BEGIN, END = "<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->"
SEED_VARIABLES = ("project_name", "environment", "glue_config", "lambda_config", "step_functions_config", "kinesis_config", "tags")


def plain(value):
    """python-hcl2 8 output without its markers: names and strings unquoted, `__x__` keys dropped."""
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items() if not (isinstance(k, str) and k.startswith("__"))}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"')
    return value


def read_blocks(path: Path, kind: str) -> dict[str, dict]:
    """The `kind` blocks (variable, output, resource, data, locals) of an HCL file, by name."""
    document = plain(hcl2.load(path.open()))
    blocks: dict[str, dict] = {}
    for item in document.get(kind, []):
        blocks.update(item)
    return blocks


def _unwrap(value):
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        value = value[2:-1]
    return value


def _type_text(type_expression: str) -> str:
    """A short type for the table: object and map(object(...)) bodies are elided."""
    text = str(_unwrap(type_expression))
    for structural in ("object", "map(object", "list(object"):
        if text.startswith(structural + "({"):
            return f"{structural}({{...}})" + (")" if structural != "object" else "")
    return text


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
    variables = list(read_blocks(INFRA / "variables.tf", "variable").items())
    outputs = list(read_blocks(INFRA / "outputs.tf", "output").items())
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
