"""JSONata for local Step Functions: the evaluator, AWS's additions to the language, and how it is
wired into moto's ASL interpreter.

Evaluator: jsonatapy (Rust). Chosen by measurement on the JSONata reference test suite (jsonata-js
test/test-suite, 1,686 cases; `benchmarks/jsonata_conformance.py` runs it from a fetched copy):

    jsonatapy 2.2.13       1,679 pass (99.6%), 5.8 us per evaluation of a compiled field expression
    jsonata-python 0.7.1   1,649 pass (97.8%), 118 us
    jsonata-rs 0.1.4       1,627 pass (96.5%), 21 us

As on AWS (JSONata 2.0.6): `$eval` is refused (`$parse` stands in for it), and Step Functions'
own functions are added: `$partition`, `$range`, `$hash`, `$random` (with an optional seed),
`$uuid` and `$parse`.

Wiring. moto's interpreter (derived from LocalStack's) keeps JSONata's whole machinery and leaves
the evaluator unset: `moto.stepfunctions.parser.asl.jsonata.jsonata._eval_jsonata` is None. It
calls that pointer with one text that declares every variable and `$states` as JSONata literals
in front of the field's expression, `($states:={...};$x:=...;expr)`. That point is filled here
(`install`), but the two components that build those texts (`StringJSONata`, a `{% %}` field,
and `StringVariableSample`, a `$variable` in a JSONPath field) are also bound to evaluate the
field's own expression, compiled once, with `$states` and the variables passed as values:
 - moto writes string variables between double quotes without escaping them, so a value holding
   `"` or `\\` breaks the expression or changes its meaning;
 - re-parsing the whole state input as a literal at every field costs time in proportion to the
   input, where a compiled expression with bound values does not;
 - undefined (a JSONata result that JSON cannot carry) must fail the state with
   States.QueryEvaluationError; moto tells it by evaluating the text again inside `$exists()`
   and, for every string result, inside `$type()`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import random
import re
import threading
import uuid
from collections.abc import Iterator, Mapping
from typing import Any
from unittest import mock

AWS_EXCLUDED = ("$eval",)
AWS_ADDED = ("$partition", "$range", "$hash", "$random", "$uuid", "$parse")
HASH_ALGORITHMS = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}
_RANGE_LIMIT = 1000  # the most items $range (like States.ArrayRange) may return


class Undefined:
    """A JSONata result with no value (a path that matched nothing)."""

    _instance: Undefined | None = None

    def __new__(cls) -> Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "undefined"

    def __bool__(self) -> bool:
        return False


UNDEFINED = Undefined()


class JsonataError(ValueError):
    """An expression that does not parse or whose evaluation fails; `code` is JSONata's (e.g. S0201)."""

    def __init__(self, expression: str, message: str) -> None:
        self.expression = expression
        code = re.search(r"\b([A-Z]\d{4})\b", message)
        self.code = code.group(1) if code else ""
        super().__init__(message)


# --- Step Functions' functions -----------------------------------------------------------------

def _partition(array: Any, size: Any) -> list:
    if not isinstance(array, list):
        raise ValueError("$partition: the first argument must be an array")
    if isinstance(size, bool) or not isinstance(size, (int, float)) or size != int(size) or size < 1:
        raise ValueError("$partition: the chunk size must be a whole number, 1 or more")
    size = int(size)
    return [array[i:i + size] for i in range(0, len(array), size)]


def _range(start: Any, end: Any, step: Any = 1) -> list:
    for name, value in (("start", start), ("end", end), ("step", step)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            raise ValueError(f"$range: {name} must be a whole number")
    start, end, step = int(start), int(end), int(step)
    if step == 0:
        raise ValueError("$range: step must not be 0")
    values = list(range(start, end + (1 if step > 0 else -1), step))
    if len(values) > _RANGE_LIMIT:
        raise ValueError(f"$range: at most {_RANGE_LIMIT} items")
    return values


def _hash(value: Any, algorithm: Any) -> str:
    if algorithm not in HASH_ALGORITHMS:
        raise ValueError(f"$hash: the algorithm is one of {', '.join(HASH_ALGORITHMS)}, got {algorithm!r}")
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return hashlib.new(HASH_ALGORITHMS[algorithm], text.encode()).hexdigest()


def _random(seed: Any = None) -> float:
    # a seed gives the same number every time, as on AWS (not the same number AWS gives)
    return random.random() if seed is None else random.Random(seed).random()


def _uuid() -> str:
    return str(uuid.uuid4())


def _parse(text: Any) -> Any:
    if not isinstance(text, str):
        raise ValueError("$parse: the argument must be a string of JSON")
    return json.loads(text)


def _eval_refused(*_args: Any) -> Any:
    raise ValueError("$eval is not available in Step Functions: use $parse to read a JSON string")


_ADDED = {"partition": _partition, "range": _range, "hash": _hash, "uuid": _uuid, "parse": _parse}
_OVERRIDDEN = {"random": _random, "eval": _eval_refused}


# --- evaluation --------------------------------------------------------------------------------

class _JsonataThread:
    """Every JSONata compile and evaluation runs in this one thread, whichever thread asks.

    Why: jsonatapy 2.2.13 crashed the process (SIGSEGV) in `compile`, first when two Map threads
    compiled at once and then, with compiles serialised, with a single execution thread. Its compiled
    expressions are also bound to the thread that made them. Run in one thread, no jsonatapy object
    is ever made, used or freed by two threads. A thread hop costs microseconds; an evaluation of a
    compiled field takes about 6 us. Calls from within this thread (a registered function
    evaluating again) run at once."""

    def __init__(self) -> None:
        self._requests: Any = None
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()
        self.programs: dict[str, Any] = {}  # compiled expressions, used only in this thread

    def call(self, function: Any, *args: Any) -> Any:
        if threading.current_thread() is self._thread:
            return function(*args)
        if self._thread is None:
            self._start()
        done, outcome = threading.Event(), {}
        self._requests.put((function, args, outcome, done))
        done.wait()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    def _start(self) -> None:
        import queue

        with self._starting:
            if self._thread is None:
                self._requests = queue.SimpleQueue()
                thread = threading.Thread(target=self._serve, name="cauce-jsonata", daemon=True)
                thread.start()
                self._thread = thread

    def _serve(self) -> None:
        while True:
            function, args, outcome, done = self._requests.get()
            try:
                outcome["value"] = function(*args)
            except BaseException as error:  # noqa: B036 (handed to the caller, raised there)
                outcome["error"] = error
            finally:
                done.set()


_JSONATA = _JsonataThread()


def compiled(expression: str) -> Any:
    """The expression compiled with Step Functions' functions, cached (a workflow's fields repeat)."""
    return _JSONATA.call(_compiled_here, expression)


def _compiled_here(expression: str) -> Any:
    cache = _JSONATA.programs
    program = cache.get(expression)
    if program is None:
        if len(cache) > 4096:
            cache.clear()
        program = cache[expression] = _compile(expression)
    return program


def _compile(expression: str) -> Any:
    import jsonatapy

    try:
        program = jsonatapy.compile(expression)
    except ValueError as error:
        raise JsonataError(expression, str(error)) from None
    for name, function in _ADDED.items():
        program.register(name, function)
    for name, function in _OVERRIDDEN.items():
        program.register_override(name, function)
    return program


def syntax_error(expression: str) -> str | None:
    """Why `expression` does not parse, or None (also when jsonatapy, of the `local` extra, is not installed)."""
    try:
        _JSONATA.call(_compiled_here, expression)
    except JsonataError as error:
        return str(error)
    except ImportError:  # validation without the local extra checks everything but expression syntax
        return None
    return None


def evaluate(expression: str, bindings: Mapping[str, Any] | None = None) -> Any:
    """The value of `expression` with `$name` bound to `bindings[name]`; UNDEFINED when it has none."""
    return _JSONATA.call(_evaluate_here, expression, dict(bindings) if bindings else None)


def _evaluate_here(expression: str, values: dict[str, Any] | None) -> Any:
    program = _compiled_here(expression)
    try:
        result = program.evaluate(None, values)
        if result is None:  # null or undefined: only the JSON text form tells them apart
            text = program.evaluate_json_or_none(None, values)
            return UNDEFINED if text is None else None
    except ValueError as error:
        raise JsonataError(expression, str(error)) from None
    return result


# --- moto -------------------------------------------------------------------------------------

def _variables(env: Any) -> dict[str, Any]:
    store = env.variable_store
    return {**store._outer_scope, **store._inner_scope}


def _fail(env: Any, cause: str) -> None:
    """Fail the state as Step Functions does for a JSONata field: States.QueryEvaluationError."""
    from moto.stepfunctions.parser.api import EvaluationFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent, FailureEventException
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    error_name = StatesErrorName(typ=StatesErrorNameType.StatesQueryEvaluationError)
    details = EventDetails(evaluationFailedEventDetails=EvaluationFailedEventDetails(error=error_name.error_name, cause=cause))
    env.event_manager.add_event(context=env.event_history_context, event_type=HistoryEventType.EvaluationFailed, event_details=details)
    raise FailureEventException(failure_event=FailureEvent(env=env, error_name=error_name, event_type=HistoryEventType.EvaluationFailed,
                                                           event_details=details))


def _field_value(env: Any, expression: str, bindings: dict[str, Any]) -> Any:
    try:
        result = evaluate(expression, bindings)
    except JsonataError as error:
        _fail(env, f"An error occurred while evaluating the JSONata expression '{expression}': {error}")
    if result is UNDEFINED:
        _fail(env, f"The JSONata expression '{expression}' returned nothing (undefined).")
    return result


def _states(env: Any, expression: str) -> dict[str, Any]:
    """`$states`: input, result, errorOutput, and the context object when the expression reads it
    (its timestamps are datetimes in moto, written here as Step Functions writes them)."""
    data = env.states._states_data
    states = {key: data.get(key) for key in ("input", "result", "errorOutput")}
    if "context" in expression or "$states" in expression.replace("$states.", ""):
        states["context"] = _json_ready(data.get("context"))
    return states


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(item) for item in value]
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return value


def _eval_jsonata_field(component: Any, env: Any) -> None:
    """StringJSONata: a `{% %}` field of a JSONata state, with `$states` and the variables."""
    bindings = _variables(env)
    bindings["states"] = _states(env, component.expression)
    env.stack.append(_field_value(env, component.expression, bindings))


def _eval_variable_sample(component: Any, env: Any) -> None:
    """StringVariableSample: a `$variable` (or `$states.…` in JSONata) sampled by a field."""
    from moto.stepfunctions.parser.asl.component.common.query_language import QueryLanguageMode

    bindings = _variables(env)
    if component.query_language_mode == QueryLanguageMode.JSONata:
        bindings["states"] = _states(env, component.expression)
    env.stack.append(_field_value(env, component.expression, bindings))


def _eval_composed_text(text: str) -> Any:
    """moto's own evaluator point: a text with its declarations written in (no bound values)."""
    from moto.stepfunctions.parser.asl.jsonata.jsonata import JSONataException

    try:
        result = evaluate(text)
    except JsonataError as error:
        raise JSONataException(error.code or "UNKNOWN", str(error)) from None
    return None if result is UNDEFINED else result


def _assign_string_literal(preprocessor: Any, ctx: Any) -> Any:
    """An Assign's string value, JSON escapes decoded (moto keeps them: "a\\"b" would be a\\"b)."""
    from moto.stepfunctions.parser.asl.antlt4utils.antlr4utils import from_string_literal
    from moto.stepfunctions.parser.asl.component.common.assign.assign_template_value_terminal import AssignTemplateValueTerminalLit

    return AssignTemplateValueTerminalLit(value=from_string_literal(ctx.string_literal()))


@contextlib.contextmanager
def installed() -> Iterator[None]:
    """moto's interpreter evaluates JSONata with this module while the context is open."""
    from moto.stepfunctions.parser.asl.component.common.string.string_expression import StringJSONata, StringVariableSample
    from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    with mock.patch.object(moto_jsonata, "_eval_jsonata", _eval_composed_text), \
            mock.patch.object(StringJSONata, "_eval_body", _eval_jsonata_field), \
            mock.patch.object(StringVariableSample, "_eval_body", _eval_variable_sample), \
            mock.patch.object(Preprocessor, "visitAssign_template_value_terminal_string_literal", _assign_string_literal):
        yield
