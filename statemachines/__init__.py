"""Step Functions for Cauce: ASL definitions with the stack's placeholders, validation before
deploying, and local execution on moto's interpreter with every Task bound to a local job or handler.

    from statemachines import LocalStepFunctions, load_definition, validate

See docs/statemachines.md. Names are imported lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cauce.lazy import lazy_exports

_EXPORTS = {
    "LocalStepFunctions": "statemachines.local",
    "ExecutionResult": "statemachines.local",
    "StateRow": "statemachines.local",
    "load_definition": "statemachines.definition",
    "template_variables": "statemachines.definition",
    "StateMachineDefinition": "statemachines.definition",
    "DefinitionError": "statemachines.definition",
    "validate": "statemachines.validate",
    "AslValidationError": "statemachines.validate",
    "KnownTargets": "statemachines.validate",
    "mermaid": "statemachines.diagram",
    "VirtualClock": "statemachines.clock",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from statemachines.clock import VirtualClock
    from statemachines.definition import DefinitionError, StateMachineDefinition, load_definition, template_variables
    from statemachines.diagram import mermaid
    from statemachines.local import ExecutionResult, LocalStepFunctions, StateRow
    from statemachines.validate import AslValidationError, KnownTargets, validate


__getattr__ = lazy_exports(__name__, _EXPORTS)
