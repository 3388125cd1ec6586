"""Validation of Amazon States Language definitions before they are deployed or run.

Checks the structure (state types and their allowed and required fields), the graph (StartAt
and every Next exist, no unreachable state, every path ends), Retry and Catch, JSONPath and
intrinsic function syntax, and, given the local bindings, that every Task names something
known. Every problem names the state and the field: `States.Load.Retry[0].BackoffRate: ...`.

Written here because no maintained Python ASL validator exists (AWS's statelint is Ruby and
the npm asl-validator is JavaScript); moto's ASL parser runs last as a final check, since it
is the interpreter `cauce sfn run` uses.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

STATE_TYPES = ("Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")
_COMMON = {"Type", "Comment", "QueryLanguage"}
_IO = {"InputPath", "OutputPath"}
_FLOW = {"Next", "End"}
_RESULT = {"ResultPath", "ResultSelector", "Retry", "Catch"}
_ALLOWED = {
    "Pass": _COMMON | _IO | _FLOW | {"ResultPath", "Parameters", "Result", "Assign"},
    "Task": _COMMON | _IO | _FLOW | _RESULT | {"Resource", "Parameters", "TimeoutSeconds", "TimeoutSecondsPath",
                                               "HeartbeatSeconds", "HeartbeatSecondsPath", "Credentials", "Assign"},
    "Choice": _COMMON | _IO | {"Choices", "Default", "Assign"},
    "Wait": _COMMON | _IO | _FLOW | {"Seconds", "Timestamp", "SecondsPath", "TimestampPath", "Assign"},
    "Succeed": _COMMON | _IO,
    "Fail": _COMMON | {"Error", "Cause", "ErrorPath", "CausePath"},
    "Parallel": _COMMON | _IO | _FLOW | _RESULT | {"Branches", "Parameters", "Assign"},
    "Map": _COMMON | _IO | _FLOW | _RESULT | {"Iterator", "ItemProcessor", "ItemsPath", "ItemReader", "ItemSelector",
                                              "Parameters", "ItemBatcher", "ResultWriter", "MaxConcurrency",
                                              "MaxConcurrencyPath", "ToleratedFailurePercentage",
                                              "ToleratedFailurePercentagePath", "ToleratedFailureCount",
                                              "ToleratedFailureCountPath", "Label", "Assign"},
}
_REQUIRED = {"Task": ("Resource",), "Choice": ("Choices",), "Parallel": ("Branches",)}
# JSONata states (QueryLanguage JSONata) have Arguments and Output where JSONPath states have five
# fields, and no `*Path` field; AWS's "Transforming data with JSONata" lists them.
_JSONATA_ONLY = {
    "Pass": {"Output"}, "Task": {"Arguments", "Output"}, "Choice": {"Output"}, "Wait": {"Output"},
    "Succeed": {"Output"}, "Fail": set(), "Parallel": {"Arguments", "Output"}, "Map": {"Items", "Output"},
}
_JSONPATH_ONLY = {"InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Result", "ItemsPath",
                  "SecondsPath", "TimestampPath", "ErrorPath", "CausePath", "TimeoutSecondsPath", "HeartbeatSecondsPath",
                  "MaxConcurrencyPath", "ToleratedFailurePercentagePath", "ToleratedFailureCountPath"}
# fields whose value may be a JSONata expression (`{% %}`), or hold some at any depth
_JSONATA_FIELDS = ("Arguments", "Output", "Items", "ItemSelector", "Seconds", "Timestamp", "Error", "Cause",
                   "TimeoutSeconds", "HeartbeatSeconds", "MaxConcurrency", "ToleratedFailurePercentage",
                   "ToleratedFailureCount", "Credentials", "ItemReader", "ItemBatcher", "ResultWriter")
QUERY_LANGUAGES = ("JSONPath", "JSONata")
_TOP_LEVEL = {"Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage"}
_PATH_FIELDS = ("InputPath", "OutputPath", "ResultPath", "ItemsPath", "SecondsPath", "TimestampPath", "ErrorPath",
                "CausePath", "TimeoutSecondsPath", "HeartbeatSecondsPath", "MaxConcurrencyPath")
_TEMPLATE_FIELDS = ("Parameters", "ResultSelector", "ItemSelector")
_RETRY_FIELDS = {"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy", "Comment"}
_CATCH_FIELDS = {"ErrorEquals", "Next", "ResultPath", "Comment", "Assign", "Output"}
_COMPARISONS = {
    f"{kind}{op}{suffix}"
    for kind in ("String", "Numeric", "Timestamp")
    for op in ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")
    for suffix in ("", "Path")
} | {"StringMatches", "BooleanEquals", "BooleanEqualsPath", "IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"}
INTRINSIC_FUNCTIONS = {
    "States.Format", "States.StringToJson", "States.JsonToString", "States.Array", "States.ArrayPartition",
    "States.ArrayContains", "States.ArrayRange", "States.ArrayGetItem", "States.ArrayLength", "States.ArrayUnique",
    "States.Base64Encode", "States.Base64Decode", "States.Hash", "States.JsonMerge", "States.MathRandom",
    "States.MathAdd", "States.StringSplit", "States.UUID",
}
_LAMBDA_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:([A-Za-z0-9_-]+)(:[A-Za-z0-9_$-]+)?$")
_VARIABLE_PATH = re.compile(r"^\$(?!states\b)[A-Za-z_][A-Za-z0-9_]*")
_INTRINSIC_CALL = re.compile(r"^(States\.[A-Za-z0-9]+)\((.*)\)$", re.S)


@dataclass(frozen=True)
class Problem:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class AslValidationError(ValueError):
    """A definition that is not valid ASL, or not runnable locally; lists every problem."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s):\n  " + "\n  ".join(map(str, problems)))


@dataclass(frozen=True)
class KnownTargets:
    """What a Task may call locally: Lambda function names and Glue job names."""

    functions: frozenset[str] = frozenset()
    jobs: frozenset[str] = frozenset()
    crawlers: frozenset[str] = frozenset()
    unsupported: Mapping[str, str] = field(default_factory=dict)  # resource -> why it cannot run locally
    # Import a bound function's handler or a job's class; what fails to import is a problem of the
    # Task that calls it (found at validation, not after earlier states have run).
    load_function: Callable[[str], Any] | None = None
    load_job: Callable[[str], Any] | None = None


def validate(document: Any, known: KnownTargets | None = None, *, interpreter: bool = True) -> list[Problem]:
    """Every problem in an ASL document; empty when it is valid (and bound, when `known` is given).

    `interpreter=False` skips the final parse by moto's interpreter, for callers about to hand
    the definition to it anyway (it refuses what it cannot parse when the machine is created).
    """
    problems: list[Problem] = []
    if not isinstance(document, dict):
        return [Problem("(definition)", f"expected a JSON object, got {type(document).__name__}")]
    names: dict[str, str] = {}
    _check_machine(document, "", problems, names, known)
    if not problems and interpreter:
        problems.extend(_check_with_interpreter(document))
    return problems


def check(document: Any, source: str, known: KnownTargets | None = None, *, interpreter: bool = True) -> None:
    problems = validate(document, known, interpreter=interpreter)
    if problems:
        raise AslValidationError(source, problems)


LOCAL_ITEM_READER_TYPES = ("CSV", "JSON", "MANIFEST")  # moto 5.2.5's, and distributed_map.py's S3 inventory; not JSONL or PARQUET


def _check_machine(machine: dict, prefix: str, problems: list[Problem], names: dict[str, str], known: KnownTargets | None,
                   language: str = "JSONPath") -> None:
    add = lambda where, message: problems.append(Problem(where, message))  # noqa: E731
    top = prefix or "(definition)"
    for key in machine:
        if key not in _TOP_LEVEL:
            add(f"{prefix}{key}" if prefix else key, f"unknown field (allowed: {', '.join(sorted(_TOP_LEVEL))})")
    machine_language = machine.get("QueryLanguage", language)
    if machine_language not in QUERY_LANGUAGES:
        add(f"{prefix}QueryLanguage", f"{machine_language!r} is not a query language ({', '.join(QUERY_LANGUAGES)})")
        machine_language = language
    elif language == "JSONata" and machine_language == "JSONPath":
        add(f"{prefix}QueryLanguage", "JSONPath inside a JSONata state machine: only a JSONPath machine may have JSONata states")
    states = machine.get("States")
    start = machine.get("StartAt")
    if not isinstance(states, dict) or not states:
        add(f"{prefix}States", "required: an object of at least one state")
        return
    if not isinstance(start, str):
        add(f"{top}", "StartAt is required: the name of the first state")
    elif start not in states:
        add(f"{prefix}StartAt", f"{start!r} is not a state here (states: {', '.join(states)})")
    for name, state in states.items():
        where = f"{prefix}States.{name}"
        if name in names:
            add(where, f"state name {name!r} is already used at {names[name]}: names are unique in a state machine")
        names[name] = where
        if len(name) > 80:
            add(where, "state names are at most 80 characters")
        if not isinstance(state, dict):
            add(where, "a state is a JSON object")
            continue
        _check_state(name, state, where, states, problems, names, known, machine_language)
    if isinstance(start, str) and start in states:
        _check_graph(start, states, prefix, problems)


def _check_state(name, state, where, states, problems, names, known, machine_language="JSONPath") -> None:
    add = lambda field_, message: problems.append(Problem(f"{where}.{field_}" if field_ else where, message))  # noqa: E731
    kind = state.get("Type")
    if kind not in STATE_TYPES:
        add("Type", f"{kind!r} is not a state type ({', '.join(STATE_TYPES)})")
        return
    language = state.get("QueryLanguage", machine_language)
    if language not in QUERY_LANGUAGES:
        add("QueryLanguage", f"{language!r} is not a query language ({', '.join(QUERY_LANGUAGES)})")
        language = machine_language
    elif machine_language == "JSONata" and language == "JSONPath":
        add("QueryLanguage", "a JSONPath state in a JSONata state machine: only a JSONPath machine may have JSONata states")
    jsonata = language == "JSONata"
    for key in state:
        if key in _JSONATA_ONLY[kind] and not jsonata:
            add(key, "a JSONata field: not in a JSONPath state (set \"QueryLanguage\": \"JSONata\" on the state or the machine)")
        elif key in _JSONPATH_ONLY and key in _ALLOWED[kind] and jsonata:
            add(key, f"a JSONPath field: not in a JSONata state ({_JSONATA_INSTEAD.get(key, 'JSONata states use Arguments and Output')})")
        elif key not in _ALLOWED[kind] and key not in _JSONATA_ONLY[kind]:
            add(key, f"not a field of a {kind} state")
    for key in _REQUIRED.get(kind, ()):
        if key not in state:
            add(key, f"required in a {kind} state")
    if kind in ("Pass", "Task", "Wait", "Parallel", "Map"):
        has_next, has_end = "Next" in state, state.get("End") is True
        if has_next == has_end:
            add("", "needs exactly one of Next and \"End\": true")
        if "End" in state and not isinstance(state["End"], bool):
            add("End", "must be true or false")
    if "Next" in state and state["Next"] not in states:
        add("Next", f"{state['Next']!r} is not a state here")
    if jsonata:
        for jsonata_field in _JSONATA_FIELDS:
            if jsonata_field in state:
                _check_jsonata_value(state[jsonata_field], f"{where}.{jsonata_field}", problems)
    else:
        for path_field in _PATH_FIELDS:
            if path_field in state and state[path_field] is not None:
                _check_path(state[path_field], f"{where}.{path_field}", problems)
        for template_field in _TEMPLATE_FIELDS:
            if template_field in state:
                _check_template(state[template_field], f"{where}.{template_field}", problems)
    if "Assign" in state:
        _check_assign(state["Assign"], f"{where}.Assign", jsonata, problems)
    if "Retry" in state:
        _check_retry(state["Retry"], f"{where}.Retry", problems)
    if "Catch" in state:
        _check_catch(state["Catch"], f"{where}.Catch", states, problems, jsonata)
    if kind == "Choice":
        _check_choices(state, where, states, problems, jsonata)
    elif kind == "Wait":
        given = [k for k in ("Seconds", "Timestamp", "SecondsPath", "TimestampPath") if k in state]
        if len(given) != 1:
            add("", "a Wait state needs exactly one of Seconds, Timestamp, SecondsPath, TimestampPath")
        if "Seconds" in state and not _is_expression(state["Seconds"], jsonata) \
                and (not isinstance(state["Seconds"], int) or isinstance(state["Seconds"], bool) or state["Seconds"] < 0):
            add("Seconds", "must be a whole number of seconds, 0 or more" + (" (or a JSONata expression)" if jsonata else ""))
    elif kind == "Task":
        _check_task(state, where, problems, known, jsonata)
    elif kind == "Parallel":
        branches = state.get("Branches")
        if not isinstance(branches, list) or not branches:
            add("Branches", "a non-empty list of state machines")
        else:
            for index, branch in enumerate(branches):
                if isinstance(branch, dict):
                    _check_machine(branch, f"{where}.Branches[{index}].", problems, names, known, language)
                else:
                    add(f"Branches[{index}]", "a branch is a JSON object with StartAt and States")
    elif kind == "Map":
        processor_key = "ItemProcessor" if "ItemProcessor" in state else "Iterator"
        processor = state.get(processor_key)
        if not isinstance(processor, dict):
            add("ItemProcessor", "required: the state machine run for each item")
        else:
            inner = {k: v for k, v in processor.items() if k != "ProcessorConfig"}
            _check_machine(inner, f"{where}.{processor_key}.", problems, names, known, language)
        reader = state.get("ItemReader")
        input_type = ((reader.get("ReaderConfig") or {}).get("InputType") if isinstance(reader, dict) else None)
        if isinstance(input_type, str) and input_type not in LOCAL_ITEM_READER_TYPES:
            add("ItemReader.ReaderConfig.InputType", f"{input_type} does not run locally: the local interpreter (moto's) reads "
                f"{' and '.join(LOCAL_ITEM_READER_TYPES)} objects, and an S3 listing without a ReaderConfig")
        # Distributed mode: ItemBatcher runs as distributed_map.py batches (its fixed limits), STANDARD child executions only
        batcher = state.get("ItemBatcher")
        if batcher is not None:
            if not isinstance(batcher, dict):
                add("ItemBatcher", "an object of MaxItemsPerBatch, MaxInputBytesPerBatch and BatchInput")
            else:
                for key in ("MaxItemsPerBatchPath", "MaxInputBytesPerBatchPath"):
                    if key in batcher:
                        add(f"ItemBatcher.{key}", "does not run locally: give MaxItemsPerBatch / MaxInputBytesPerBatch as numbers")
                for key in ("MaxItemsPerBatch", "MaxInputBytesPerBatch"):
                    if key in batcher and (not isinstance(batcher[key], int) or isinstance(batcher[key], bool) or batcher[key] < 1):
                        add(f"ItemBatcher.{key}", "must be a whole number, 1 or more")
            if "ItemSelector" in state:
                add("ItemBatcher", "with an ItemSelector does not run locally (the local batching groups the items as read)")
        if isinstance(processor, dict) and (processor.get("ProcessorConfig") or {}).get("ExecutionType") == "EXPRESS":
            add(f"{processor_key}.ProcessorConfig.ExecutionType", "EXPRESS child executions do not run locally (the local interpreter runs STANDARD ones only)")
        if "MaxConcurrency" in state and not _is_expression(state["MaxConcurrency"], jsonata) \
                and (not isinstance(state["MaxConcurrency"], int) or state["MaxConcurrency"] < 0):
            add("MaxConcurrency", "must be a whole number, 0 or more (0: no limit)")
        if jsonata and "Items" in state and not isinstance(state["Items"], list) and not _is_expression(state["Items"], True):
            add("Items", "a JSON array or a JSONata expression that gives one")
    for key in ("TimeoutSeconds", "HeartbeatSeconds"):
        if key in state and not _is_expression(state[key], jsonata) \
                and (not isinstance(state[key], int) or isinstance(state[key], bool) or state[key] < 1):
            add(key, "must be a whole number of seconds, 1 or more")


_JSONATA_INSTEAD = {
    "Parameters": "use Arguments", "ResultSelector": "use Output, with $states.result", "ResultPath": "use Output or Assign",
    "InputPath": "use Arguments, with $states.input", "OutputPath": "use Output", "Result": "use Output",
    "ItemsPath": "use Items", "SecondsPath": "use Seconds with an expression", "TimestampPath": "use Timestamp with an expression",
    "ErrorPath": "use Error with an expression", "CausePath": "use Cause with an expression",
    "TimeoutSecondsPath": "use TimeoutSeconds with an expression", "HeartbeatSecondsPath": "use HeartbeatSeconds with an expression",
    "MaxConcurrencyPath": "use MaxConcurrency with an expression",
    "ToleratedFailurePercentagePath": "use ToleratedFailurePercentage with an expression",
    "ToleratedFailureCountPath": "use ToleratedFailureCount with an expression",
}
_JSONATA_EXPRESSION = re.compile(r"^\{%(.*)%\}$", re.S)


def _is_expression(value: Any, jsonata: bool) -> bool:
    return jsonata and isinstance(value, str) and bool(_JSONATA_EXPRESSION.match(value))


def _check_jsonata_value(value: Any, where: str, problems: list[Problem]) -> None:
    """Every `{% %}` string in a JSONata field, at any depth, must parse, and must not use what AWS leaves out."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_jsonata_value(item, f"{where}.{key}", problems)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_jsonata_value(item, f"{where}[{index}]", problems)
    elif isinstance(value, str):
        match = _JSONATA_EXPRESSION.match(value)
        if match:
            _check_jsonata_expression(match.group(1).strip(), where, problems)
        elif value.startswith("{%") or (value.endswith("%}") and "{%" in value):
            problems.append(Problem(where, "a JSONata expression is the whole string, \"{% ... %}\", with nothing before or after"))


def _check_jsonata_expression(expression: str, where: str, problems: list[Problem]) -> None:
    from cauce.statemachines.jsonata import AWS_EXCLUDED, syntax_error

    if not expression:
        problems.append(Problem(where, "an empty JSONata expression"))
        return
    error = syntax_error(expression)
    if error:
        problems.append(Problem(where, f"invalid JSONata {expression!r}: {error}"))
        return
    for name in AWS_EXCLUDED:
        if re.search(re.escape(name) + r"\s*\(", expression):
            problems.append(Problem(where, f"{name} is not available in Step Functions' JSONata (use $parse to read JSON text)"))
    if re.search(r"(?<![\w$])\$\$(?![\w$])", expression):
        problems.append(Problem(where, "$$ is not available in JSONata states: use $states.context"))


def _check_assign(assign: Any, where: str, jsonata: bool, problems: list[Problem]) -> None:
    if not isinstance(assign, dict):
        problems.append(Problem(where, "an object of variable names and values"))
        return
    for key, value in assign.items():
        name = key[:-2] if key.endswith(".$") and not jsonata else key
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or name == "states":
            problems.append(Problem(f"{where}.{key}", "a variable name: letters, digits and _, not starting with a digit, not 'states'"))
        if jsonata:
            if key.endswith(".$"):
                problems.append(Problem(f"{where}.{key}", "JSONata states do not use .$ keys: write the value as \"{% expression %}\""))
            _check_jsonata_value(value, f"{where}.{key}", problems)
        elif key.endswith(".$"):
            if not isinstance(value, str):
                problems.append(Problem(f"{where}.{key}", "a key ending in .$ takes a path, a $variable or an intrinsic function"))
            elif value.startswith("States."):
                _check_intrinsic(value, f"{where}.{key}", problems)
            elif not value.startswith("$"):
                problems.append(Problem(f"{where}.{key}", f"expected a JSONPath, a $variable or an intrinsic function, got {value!r}"))
        else:
            _check_template(value, f"{where}.{key}", problems)


def _check_task(state, where, problems, known, jsonata=False) -> None:
    resource = state.get("Resource")
    if not isinstance(resource, str):
        return
    parameters_field = "Arguments" if jsonata else "Parameters"
    parameters = state.get(parameters_field) if isinstance(state.get(parameters_field), dict) else {}
    if jsonata:  # a "{% %}" value is computed at run time, like a ".$" key in JSONPath
        parameters = {(f"{k}.$" if _is_expression(v, True) else k): v for k, v in parameters.items()}
    from cauce.statemachines.integrations import resource_problem

    base = resource.removesuffix(".waitForTaskToken")
    if known is not None and resource in known.unsupported:
        problems.append(Problem(f"{where}.Resource", known.unsupported[resource]))
        return
    if _LAMBDA_ARN.match(resource):
        if known is not None:
            _check_known_function(_LAMBDA_ARN.match(resource).group(1), f"{where}.Resource", known, problems)
        return
    problem = resource_problem(resource)
    if problem:
        problems.append(Problem(f"{where}.Resource", problem))
        return
    if known is None:
        return
    if base == "arn:aws:states:::lambda:invoke":
        target = parameters.get("FunctionName")
        if target is None and "FunctionName.$" not in parameters:
            problems.append(Problem(f"{where}.{parameters_field}.FunctionName", "required for lambda:invoke"))
        elif isinstance(target, str):
            _check_known_function(_function_name(target), f"{where}.{parameters_field}.FunctionName", known, problems)
    elif resource in ("arn:aws:states:::glue:startJobRun", "arn:aws:states:::glue:startJobRun.sync"):
        job = parameters.get("JobName")
        if job is None and "JobName.$" not in parameters:
            problems.append(Problem(f"{where}.{parameters_field}.JobName", "required for glue:startJobRun"))
        elif isinstance(job, str) and job not in known.jobs:
            problems.append(Problem(f"{where}.{parameters_field}.JobName", f"no local Glue job {job!r} (known: {', '.join(sorted(known.jobs)) or 'none'})"))
        elif isinstance(job, str) and known.load_job is not None:
            _check_loads(known.load_job, job, f"Glue job {job!r}", f"{where}.{parameters_field}.JobName", problems)
    elif resource == "arn:aws:states:::aws-sdk:glue:startCrawler":
        crawler = parameters.get("Name")
        if crawler is None and "Name.$" not in parameters:
            problems.append(Problem(f"{where}.{parameters_field}.Name", "required for glue:startCrawler"))
        elif isinstance(crawler, str) and crawler not in known.crawlers:
            problems.append(Problem(f"{where}.{parameters_field}.Name", f"no crawler {crawler!r} in the stack (known: {', '.join(sorted(known.crawlers)) or 'none'})"))


def _check_known_function(name: str, where: str, known: KnownTargets, problems: list[Problem]) -> None:
    if name not in known.functions:
        problems.append(Problem(where, f"no local handler for Lambda function {name!r} (known: {', '.join(sorted(known.functions)) or 'none'})"))
    elif known.load_function is not None:
        _check_loads(known.load_function, name, f"Lambda function {name!r}", where, problems)


def _check_loads(load: Callable[[str], Any], name: str, what: str, where: str, problems: list[Problem]) -> None:
    try:
        load(name)
    except Exception as error:  # the user's module: any import-time error is the problem to report
        problems.append(Problem(where, f"{what} cannot be loaded: {type(error).__name__}: {error}"))


def _function_name(target: str) -> str:
    match = _LAMBDA_ARN.match(target)
    return match.group(1) if match else target.split(":")[0]


def _check_graph(start: str, states: dict, prefix: str, problems: list[Problem]) -> None:
    edges = {name: list(_successors(state)) for name, state in states.items() if isinstance(state, dict)}
    reachable, frontier = {start}, [start]
    while frontier:
        for successor in edges.get(frontier.pop(), []):
            if successor in states and successor not in reachable:
                reachable.add(successor)
                frontier.append(successor)
    for name in states:
        if name not in reachable:
            problems.append(Problem(f"{prefix}States.{name}", f"unreachable: no path leads here from StartAt {start!r}"))
    # a state "ends" when some path from it reaches End, Succeed or Fail
    ends = {name for name, state in states.items() if isinstance(state, dict) and _is_terminal(state)}
    changed = True
    while changed:
        changed = False
        for name, successors in edges.items():
            if name not in ends and any(s in ends for s in successors):
                ends.add(name)
                changed = True
    for name in states:
        dangling = any(s not in states for s in edges.get(name, []))  # already reported at its Next
        if name in reachable and name not in ends and not dangling and isinstance(states[name], dict) \
                and states[name].get("Type") in STATE_TYPES:
            problems.append(Problem(f"{prefix}States.{name}", "never ends: no path from here reaches an End, Succeed or Fail state"))


def _successors(state: dict) -> Iterable[str]:
    """Where a state can go next; fields of the wrong shape lead nowhere (they are reported where checked)."""
    if isinstance(state.get("Next"), str):
        yield state["Next"]
    if isinstance(state.get("Default"), str):
        yield state["Default"]
    for key in ("Choices", "Catch"):
        branches = state.get(key)
        for branch in branches if isinstance(branches, list) else []:
            if isinstance(branch, dict) and isinstance(branch.get("Next"), str):
                yield branch["Next"]


def _is_terminal(state: dict) -> bool:
    return state.get("End") is True or state.get("Type") in ("Succeed", "Fail")


def _check_error_equals(errors: Any, where: str, problems: list[Problem]) -> None:
    if not isinstance(errors, list) or not errors or not all(isinstance(e, str) and e for e in errors):
        problems.append(Problem(f"{where}.ErrorEquals", "a non-empty list of error names"))
    elif "States.ALL" in errors and len(errors) > 1:
        problems.append(Problem(f"{where}.ErrorEquals", "States.ALL must be alone in its ErrorEquals"))


def _error_handlers(handlers: Any, where: str, kind: str, allowed: set[str], problems: list[Problem]) -> Iterator[tuple[str, dict]]:
    """The retriers or catchers of a state, each checked for its fields and its ErrorEquals."""
    if not isinstance(handlers, list):
        problems.append(Problem(where, f"a list of {kind}s"))
        return
    for index, handler in enumerate(handlers):
        at = f"{where}[{index}]"
        if not isinstance(handler, dict):
            problems.append(Problem(at, f"a {kind} is a JSON object"))
            continue
        for key in handler:
            if key not in allowed:
                problems.append(Problem(f"{at}.{key}", f"not a {where.rsplit('.', 1)[-1]} field ({', '.join(sorted(allowed))})"))
        _check_error_equals(handler.get("ErrorEquals"), at, problems)
        errors = handler.get("ErrorEquals")
        if isinstance(errors, list) and "States.ALL" in errors and index != len(handlers) - 1:
            problems.append(Problem(f"{at}.ErrorEquals", f"a {kind} with States.ALL must be the last one"))
        yield at, handler


def _check_retry(retriers: Any, where: str, problems: list[Problem]) -> None:
    for at, retrier in _error_handlers(retriers, where, "retrier", _RETRY_FIELDS, problems):
        _check_number(retrier, "IntervalSeconds", at, problems, minimum=1, integer=True)
        _check_number(retrier, "MaxAttempts", at, problems, minimum=0, integer=True)
        _check_number(retrier, "MaxDelaySeconds", at, problems, minimum=1, integer=True)
        _check_number(retrier, "BackoffRate", at, problems, minimum=1.0, integer=False)
        if "JitterStrategy" in retrier and retrier["JitterStrategy"] not in ("FULL", "NONE"):
            problems.append(Problem(f"{at}.JitterStrategy", "FULL or NONE"))


def _check_number(holder: dict, key: str, where: str, problems: list[Problem], minimum: float, integer: bool) -> None:
    if key not in holder:
        return
    value = holder[key]
    valid_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not valid_type or value < minimum:
        kind = "a whole number" if integer else "a number"
        problems.append(Problem(f"{where}.{key}", f"{kind}, {minimum} or more; got {value!r}"))


def _check_catch(catchers: Any, where: str, states: dict, problems: list[Problem], jsonata: bool = False) -> None:
    for at, catcher in _error_handlers(catchers, where, "catcher", _CATCH_FIELDS, problems):
        if jsonata and "ResultPath" in catcher:
            problems.append(Problem(f"{at}.ResultPath", "a JSONPath field: not in a JSONata state (use Output, with $states.errorOutput)"))
        elif not jsonata and "Output" in catcher:
            problems.append(Problem(f"{at}.Output", "a JSONata field: not in a JSONPath state (use ResultPath)"))
        if jsonata and "Output" in catcher:
            _check_jsonata_value(catcher["Output"], f"{at}.Output", problems)
        if "Assign" in catcher:
            _check_assign(catcher["Assign"], f"{at}.Assign", jsonata, problems)
        if "Next" not in catcher:
            problems.append(Problem(f"{at}.Next", "required: the state to go to"))
        elif catcher["Next"] not in states:
            problems.append(Problem(f"{at}.Next", f"{catcher['Next']!r} is not a state here"))
        if catcher.get("ResultPath") is not None and not jsonata:
            _check_path(catcher["ResultPath"], f"{at}.ResultPath", problems)


def _check_choices(state: dict, where: str, states: dict, problems: list[Problem], jsonata: bool = False) -> None:
    choices = state.get("Choices")
    if not isinstance(choices, list) or not choices:
        problems.append(Problem(f"{where}.Choices", "a non-empty list of choice rules"))
        return
    if "Default" in state and state["Default"] not in states:
        problems.append(Problem(f"{where}.Default", f"{state['Default']!r} is not a state here"))
    for index, rule in enumerate(choices):
        at = f"{where}.Choices[{index}]"
        if not isinstance(rule, dict):
            problems.append(Problem(at, "a choice rule is a JSON object"))
            continue
        if "Next" not in rule:
            problems.append(Problem(f"{at}.Next", "required in a top-level choice rule"))
        elif rule["Next"] not in states:
            problems.append(Problem(f"{at}.Next", f"{rule['Next']!r} is not a state here"))
        if jsonata:
            _check_jsonata_rule(rule, at, problems)
        else:
            _check_rule(rule, at, problems, top=True)


def _check_jsonata_rule(rule: dict, where: str, problems: list[Problem]) -> None:
    """A JSONata choice rule: a Condition, true or false or an expression, and where to go."""
    for key in rule:
        if key not in ("Condition", "Next", "Comment", "Output", "Assign"):
            problems.append(Problem(f"{where}.{key}", "not a field of a JSONata choice rule (Condition, Next, Comment, Output, Assign)"
                                    + ("; JSONata rules test a Condition instead" if key in _COMPARISONS or key in ("Variable", "And", "Or", "Not") else "")))
    condition = rule.get("Condition")
    if "Condition" not in rule:
        problems.append(Problem(f"{where}.Condition", "required in a JSONata choice rule"))
    elif not isinstance(condition, bool) and not _is_expression(condition, True):
        problems.append(Problem(f"{where}.Condition", "true, false, or a JSONata expression \"{% ... %}\""))
    else:
        _check_jsonata_value(condition, f"{where}.Condition", problems)
    if "Output" in rule:
        _check_jsonata_value(rule["Output"], f"{where}.Output", problems)
    if "Assign" in rule:
        _check_assign(rule["Assign"], f"{where}.Assign", True, problems)


def _check_rule(rule: Any, where: str, problems: list[Problem], top: bool) -> None:
    if not isinstance(rule, dict):
        problems.append(Problem(where, "a choice rule is a JSON object"))
        return
    operators = [k for k in rule if k in _COMPARISONS or k in ("And", "Or", "Not")]
    extra = [k for k in rule if k not in _COMPARISONS and k not in ("And", "Or", "Not", "Variable", "Comment", *(("Next", "Assign") if top else ()))]
    for key in extra:
        problems.append(Problem(f"{where}.{key}", "not a choice rule field (a comparison such as StringEquals, or And, Or, Not)"))
    if len(operators) != 1:
        problems.append(Problem(where, f"a choice rule has exactly one comparison or And/Or/Not, got {operators or 'none'}"))
        return
    operator = operators[0]
    if operator in ("And", "Or"):
        if not isinstance(rule[operator], list) or not rule[operator]:
            problems.append(Problem(f"{where}.{operator}", "a non-empty list of rules"))
        else:
            for index, inner in enumerate(rule[operator]):
                _check_rule(inner, f"{where}.{operator}[{index}]", problems, top=False)
    elif operator == "Not":
        _check_rule(rule["Not"], f"{where}.Not", problems, top=False)
    else:
        if "Variable" not in rule:
            problems.append(Problem(f"{where}.Variable", f"required with {operator}"))
        else:
            _check_path(rule["Variable"], f"{where}.Variable", problems)
        if operator.endswith("Path"):
            _check_path(rule[operator], f"{where}.{operator}", problems)


def _check_template(template: Any, where: str, problems: list[Problem]) -> None:
    """Payload templates: keys ending in `.$` take a JSONPath, a context path `$$...` or an intrinsic function."""
    if isinstance(template, dict):
        for key, value in template.items():
            if key.endswith(".$"):
                if not isinstance(value, str):
                    problems.append(Problem(f"{where}.{key}", "a key ending in .$ takes a path or an intrinsic function (a string)"))
                elif value.startswith("States."):
                    _check_intrinsic(value, f"{where}.{key}", problems)
                else:
                    _check_path(value, f"{where}.{key}", problems)
            else:
                _check_template(value, f"{where}.{key}", problems)
    elif isinstance(template, list):
        for index, item in enumerate(template):
            _check_template(item, f"{where}[{index}]", problems)


def _check_path(path: Any, where: str, problems: list[Problem]) -> None:
    if not isinstance(path, str) or not path.startswith("$"):
        problems.append(Problem(where, f"expected a JSONPath starting with $ (or $$ for the context object), got {path!r}"))
        return
    variable = _VARIABLE_PATH.match(path)
    # `$name` or `$name.field`: a workflow variable, then a path into its value
    parsed = "$" + path[variable.end():] if variable else path
    error = _jsonpath_error(parsed[1:] if parsed.startswith("$$") else parsed)
    if error:
        problems.append(Problem(where, f"invalid JSONPath {path!r}: {error}"))


def _check_intrinsic(expression: str, where: str, problems: list[Problem]) -> None:
    match = _INTRINSIC_CALL.match(expression.strip())
    if not match:
        problems.append(Problem(where, f"invalid intrinsic function call {expression!r}: expected States.Name(arguments)"))
        return
    name, arguments = match.groups()
    if name not in INTRINSIC_FUNCTIONS:
        problems.append(Problem(where, f"unknown intrinsic function {name} (known: {', '.join(sorted(INTRINSIC_FUNCTIONS))})"))
        return
    try:
        parts = _split_arguments(arguments)
    except ValueError as error:
        problems.append(Problem(where, f"invalid arguments to {name}: {error}"))
        return
    for part in parts:
        if part.startswith("States."):
            _check_intrinsic(part, where, problems)
        elif part.startswith("$"):
            _check_path(part, where, problems)
        elif not (re.fullmatch(r"'(?:[^'\\]|\\.)*'", part) or re.fullmatch(r"-?\d+(\.\d+)?", part) or part in ("true", "false", "null")):
            problems.append(Problem(where, f"argument {part!r} of {name} is not a string, number, boolean, null, path or function"))


def _split_arguments(text: str) -> list[str]:
    parts, depth, quoted, current, escaped = [], 0, False, [], False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
            continue
        if char == "\\":
            current.append(char)
            escaped = True
            continue
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
            if depth < 0:
                raise ValueError("unbalanced parentheses")
        if char == "," and depth == 0 and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if quoted:
        raise ValueError("unterminated string")
    if depth:
        raise ValueError("unbalanced parentheses")
    tail = "".join(current).strip()
    if tail or parts:
        parts.append(tail)
    if any(not p for p in parts):
        raise ValueError("empty argument")
    return parts


@functools.lru_cache(maxsize=4096)
def _jsonpath_error(expression: str) -> str:
    """'' when the path parses; the parser's message otherwise (cached: workflows repeat their paths)."""
    from jsonpath_ng.ext import parse  # the JSONPath implementation moto's interpreter uses

    try:
        parse(expression)
    except Exception as error:  # jsonpath-ng raises several exception types for bad syntax
        return str(error) or type(error).__name__
    return ""


def _check_with_interpreter(document: dict) -> list[Problem]:
    """Last: what the local interpreter (moto's ASL parser) refuses."""
    import json

    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser, ASLParserException

    from cauce.statemachines.distributed_map import for_interpreter, installed

    try:
        with installed():  # as the definition runs: with what distributed_map.py adds to moto's interpreter
            AmazonStateLanguageParser.parse(json.dumps(for_interpreter(document)))
    except ASLParserException as error:
        return [Problem("(definition)", f"the ASL interpreter refuses it: {'; '.join(error.errors)}")]
    except Exception as error:  # the preprocessor raises plain exceptions for semantic errors
        return [Problem("(definition)", f"the ASL interpreter refuses it: {type(error).__name__}: {error}")]
    return []
