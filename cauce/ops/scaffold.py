"""`cauce init`: a new project that works at once.

The project's files are templates (cauce/ops/project_template/, `*.tmpl`), with `{{name}}`
placeholders filled from the project's name; they are package data, never imported. Beside them
it gets Cauce's Terraform module (cauce.ops.terraform) in infra/modules/cauce, and two sample
events for `cauce invoke` made by the same helpers the tests use.

What a project holds, and why its names: its functions live in its own `handlers/` package and
its jobs in `jobs/`, names Cauce's import packages once had; Cauce's are now under `cauce.`, so
the project's own never clash with them on a laptop, in the Lambda layer or on a Glue worker.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

TEMPLATE_PACKAGE = "cauce.ops"
TEMPLATE_FOLDER = "project_template"
_RENAMED = {"gitignore": ".gitignore"}  # dot files travel undotted: some tools skip hidden package data
_PROJECT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$")  # the module's project_name rule
# the SQL app's input columns, written once into app.json and the stack's copy
APP_SCHEMA = {"RecordColumns": [
    {"Name": "event_id", "SqlType": "VARCHAR(64)"},
    {"Name": "event_type", "SqlType": "VARCHAR(16)"},
    {"Name": "amount", "SqlType": "DOUBLE"},
]}


class ScaffoldError(ValueError):
    """The project cannot be created there, or under that name."""


@dataclass(frozen=True)
class Scaffold:
    root: Path
    project_name: str
    files: list[Path]

    def as_dict(self) -> dict:
        return {"root": str(self.root), "project_name": self.project_name,
                "files": [path.relative_to(self.root).as_posix() for path in self.files]}


def project_name_for(folder: Path, name: str | None = None) -> str:
    """`name`, or the folder's name made into a valid project_name (lowercase, digits and '-')."""
    if name is not None:
        if not _PROJECT_NAME.match(name):
            raise ScaffoldError(f"project name {name!r}: 3-32 lowercase letters, digits or '-', starting and ending with a letter "
                                "or digit (it prefixes bucket and resource names)")
        return name
    candidate = re.sub(r"[^a-z0-9]+", "-", folder.resolve().name.lower()).strip("-")[:32].strip("-")
    if not _PROJECT_NAME.match(candidate):
        raise ScaffoldError(f"cannot make a project name of the folder name {folder.resolve().name!r}: give --name")
    return candidate


def template_files() -> list[tuple[str, Path]]:
    """(path in the project, template file), sorted."""
    root = Path(str(resources.files(TEMPLATE_PACKAGE).joinpath(TEMPLATE_FOLDER)))
    found = []
    for path in sorted(root.rglob("*.tmpl")):
        relative = path.relative_to(root).as_posix().removesuffix(".tmpl")
        found.append((_RENAMED.get(relative, relative), path))
    return found


def values_for(project_name: str) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = version("cauce")
        requirement = f"cauce[local,lambda]>={installed}"
    except PackageNotFoundError:
        requirement = "cauce[local,lambda]"
    values = {
        "project": project_name,
        "database": project_name.replace("-", "_"),
        "bucket": f"{project_name}-lake",
        "cauce_requirement": requirement,
        "app_schema_json": json.dumps(json.dumps(APP_SCHEMA)),
    }
    return values


def render(text: str, values: dict[str, str], source: str) -> str:
    def fill(match: re.Match) -> str:
        if match.group(1) not in values:
            raise ScaffoldError(f"{source}: unknown placeholder {match.group(0)}")  # a template bug, caught by the tests
        return values[match.group(1)]

    return re.sub(r"\{\{([a-z_]+)\}\}", fill, text)


def create_project(root: Path, name: str | None = None, force: bool = False) -> Scaffold:
    """Write a new project into `root` (created if missing). A non-empty `root` is refused unless
    `force`, which overwrites the scaffold's own files and leaves every other file alone."""
    from cauce.ops.terraform import export_module

    root = root.resolve()
    if root.exists() and not root.is_dir():
        raise ScaffoldError(f"{root} exists and is not a folder")
    if root.is_dir() and any(root.iterdir()) and not force:
        raise ScaffoldError(f"{root} is not empty: cauce init writes into an empty folder (or give --force to overwrite "
                            "the scaffold's files, leaving the others alone)")
    project_name = project_name_for(root, name)
    values = values_for(project_name)
    templates = dict(template_files())
    # the stack's copy of the SQL app is the app folder's app.sql, so the two start identical
    app_sql = render(templates["apps/events-per-minute/app.sql"].read_text(), values, "app.sql")
    values["app_sql_json"] = json.dumps(app_sql)
    rendered = {relative: render(template.read_text(), values, template.name) for relative, template in templates.items()}
    rendered.update(_sample_events(project_name))
    root.mkdir(parents=True, exist_ok=True)
    written = []
    for relative, text in sorted(rendered.items()):
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    written += export_module(root / "infra" / "modules" / "cauce", force=True)
    return Scaffold(root, project_name, sorted(written))


def _sample_events(project_name: str) -> dict[str, str]:
    """Events for `cauce invoke`, as Firehose and an event source mapping send them (fixed ids: the same project every time)."""
    from cauce.handlers.testing import firehose_event, kinesis_event

    firehose = firehose_event(
        [{"event_id": "e1", "event_type": "purchase", "amount": 12.5, "event_time": "2026-11-02T10:00:00Z"}, {"event_type": "view"}],
        delivery_stream=f"{project_name}-to-lake")
    firehose["invocationId"] = "00000000-0000-4000-8000-000000000001"
    for index, record in enumerate(firehose["records"], start=1):
        record["recordId"] = f"record-{index}"
    kinesis = kinesis_event([{"event_id": "e1", "event_type": "purchase", "amount": 12.5}, {"event_id": "e2", "event_type": "view"}],
                            stream=f"{project_name}-events")
    return {"events/firehose.json": json.dumps(firehose, indent=2) + "\n", "events/kinesis.json": json.dumps(kinesis, indent=2) + "\n"}
