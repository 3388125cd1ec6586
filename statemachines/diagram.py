"""Workflow diagrams: Mermaid text for Markdown docs, Graphviz DOT for pictures (`dot -Tsvg`).

Both draw the same graph: states (Task, Pass, Choice and so on, with their resource), Next and
Default edges, Choice rules as edge labels, Catch edges dashed with the errors they catch, and
Parallel branches and Map iterations as nested clusters.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

_SHAPES = {  # Mermaid node shapes by state type
    "Task": ('["', '"]'), "Pass": ('("', '")'), "Choice": ('{"', '"}'), "Wait": ('[/"', '"/]'),
    "Succeed": ('(["', '"])'), "Fail": ('[["', '"]]'), "Parallel": ('[["', '"]]'), "Map": ('[["', '"]]'),
}
_DOT_SHAPES = {"Task": "box", "Pass": "box", "Choice": "diamond", "Wait": "parallelogram", "Succeed": "oval, peripheries=2",
               "Fail": "octagon", "Parallel": "box3d", "Map": "box3d"}


class DiagramError(RuntimeError):
    """A picture was asked for and Graphviz cannot make it."""


def mermaid(document: dict[str, Any]) -> str:
    lines = ["flowchart TD", "  __start((start))"]
    lines += [f"  {line}" for line in _render(_walk(document, ""), _MERMAID)]
    lines.append(f"  __start --> {_id('', document['StartAt'])}")
    return "\n".join(lines) + "\n"


def dot(document: dict[str, Any], title: str = "state machine") -> str:
    lines = [f"digraph {json.dumps(title)} {{", "  rankdir=TB;", '  graph [fontname="Helvetica", fontsize=11];',
             '  node [fontname="Helvetica", fontsize=11];', '  edge [fontname="Helvetica", fontsize=9];',
             '  __start [shape=circle, label="", width=0.2, style=filled];']
    lines += [f"  {line}" for line in _render(_walk(document, ""), _DOT)]
    lines.append(f"  __start -> {_id('', document['StartAt'])};")
    return "\n".join(lines) + "\n}\n"


# The graph, once: ("node", id, name, state), ("cluster", id, label, inner items, entry id),
# ("edge", from, to, label, dashed).
def _walk(machine: dict[str, Any], scope: str) -> list[tuple]:
    items: list[tuple] = []
    for name, state in machine["States"].items():
        node = _id(scope, name)
        items.append(("node", node, name, state))
        for index, branch in enumerate(_children(state)):
            inner = f"{node}_b{index}"
            label = f"{name}: " + ("iteration" if state["Type"] == "Map" else f"branch {index + 1}")
            items.append(("cluster", inner, label, _walk(branch, inner), node, _id(inner, branch["StartAt"])))
        items += [("edge", node, _id(scope, target), label, dashed) for target, label, dashed in _edges(state)]
    return items


def _render(items: list[tuple], syntax: dict[str, Any]) -> Iterator[str]:
    for item in items:
        if item[0] == "node":
            yield syntax["node"](*item[1:])
        elif item[0] == "cluster":
            _, inner, label, children, parent, entry = item
            yield from syntax["cluster"](inner, label, [f"  {line}" for line in _render(children, syntax)])
            yield syntax["enter"](parent, entry)
        else:
            yield syntax["edge"](*item[1:])


def _mermaid_node(node: str, name: str, state: dict[str, Any]) -> str:
    opening, closing = _SHAPES.get(state.get("Type"), ('["', '"]'))
    return f"{node}{opening}{_label(name, state)}{closing}"


def _mermaid_edge(source: str, target: str, label: str, dashed: bool) -> str:
    arrow = "-.->" if dashed else "-->"
    return f"{source} {arrow}|{_escape(label)}| {target}" if label else f"{source} {arrow} {target}"


def _dot_node(node: str, name: str, state: dict[str, Any]) -> str:
    shape = _DOT_SHAPES.get(state.get("Type"), "box")
    style = ', style="rounded"' if state.get("Type") in ("Task", "Pass") else ""
    return f"{node} [shape={shape}{style}, label={json.dumps(_label(name, state).replace('<br/>', chr(10)))}];"


def _dot_edge(source: str, target: str, label: str, dashed: bool) -> str:
    attributes = ([f"label={json.dumps(label)}"] if label else []) + (["style=dashed"] if dashed else [])
    return f"{source} -> {target}" + (f" [{', '.join(attributes)}]" if attributes else "") + ";"


_MERMAID = {
    "node": _mermaid_node,
    "edge": _mermaid_edge,
    "cluster": lambda inner, label, body: [f'subgraph {inner} ["{_escape(label)}"]', *body, "end"],
    "enter": lambda parent, entry: f"{parent} --> {entry}",
}
_DOT = {
    "node": _dot_node,
    "edge": _dot_edge,
    "cluster": lambda inner, label, body: [f"subgraph cluster_{inner} {{", f"  label={json.dumps(label)};", "  style=dashed;", *body, "}"],
    "enter": lambda parent, entry: f"{parent} -> {entry} [style=dotted];",
}


def render(document: dict[str, Any], image_format: str, title: str = "state machine") -> bytes:
    """The workflow as an SVG or PNG picture, drawn by Graphviz's `dot`."""
    executable = shutil.which("dot")
    if executable is None:
        raise DiagramError("Graphviz's `dot` is not installed (apt-get install graphviz); `--format mermaid` needs nothing")
    completed = subprocess.run([executable, f"-T{image_format}"], input=dot(document, title).encode(), capture_output=True)
    if completed.returncode != 0:
        raise DiagramError(f"dot failed: {completed.stderr.decode(errors='replace').strip()}")
    return completed.stdout


def _children(state: dict[str, Any]) -> list[dict[str, Any]]:
    if state.get("Type") == "Parallel":
        return list(state.get("Branches") or [])
    if state.get("Type") == "Map":
        processor = state.get("ItemProcessor") or state.get("Iterator")
        return [processor] if processor else []
    return []


def _edges(state: dict[str, Any]) -> Iterator[tuple[str, str, bool]]:
    for rule in state.get("Choices") or []:
        yield rule["Next"], _rule_label(rule), False
    if "Default" in state:
        yield state["Default"], "default", False
    if "Next" in state:
        yield state["Next"], "", False
    for catcher in state.get("Catch") or []:
        yield catcher["Next"], "catch " + ", ".join(catcher.get("ErrorEquals", [])), True


def _label(name: str, state: dict[str, Any]) -> str:
    kind = state.get("Type", "?")
    detail = ""
    if kind == "Task":
        resource = state.get("Resource", "")
        detail = resource.removeprefix("arn:aws:states:::")
        target = (state.get("Parameters") or {}).get("FunctionName") or (state.get("Parameters") or {}).get("JobName")
        if target:
            detail += f" {target}"
        errors = [e for retrier in state.get("Retry") or [] for e in retrier.get("ErrorEquals", [])]
        if errors:
            detail += f"<br/>retries {errors[0]}" + (f" +{len(errors) - 1}" if len(errors) > 1 else "")
    elif kind == "Wait":
        detail = f"{state.get('Seconds', state.get('SecondsPath', state.get('Timestamp', state.get('TimestampPath', ''))))}s"
    elif kind == "Fail":
        detail = state.get("Error", "")
    text = f"{name}<br/>{kind}" + (f": {detail}" if detail else "")
    return _escape(text)


def _rule_label(rule: dict[str, Any]) -> str:
    for key, value in rule.items():
        if key in ("Next", "Comment"):
            continue
        if key in ("And", "Or", "Not"):
            return key.lower() + " ..."
        if key != "Variable":
            return f"{rule.get('Variable', '')} {key} {json.dumps(value)}"
    return ""


def _id(scope: str, name: str) -> str:
    return (f"{scope}__" if scope else "") + re.sub(r"[^A-Za-z0-9_]", "_", name)


def _escape(text: str) -> str:
    return text.replace('"', "'")
