"""Step Functions for Cauce: ASL definitions with the stack's placeholders, validation before
deploying, and local execution on moto's interpreter with every Task bound to a local job or handler.

    from cauce.statemachines import LocalStepFunctions, load_definition, validate

See docs/statemachines.md. Names are imported lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cauce.core.lazy import lazy_exports

_EXPORTS = {
    "LocalStepFunctions": "cauce.statemachines.local",
    "ExecutionResult": "cauce.statemachines.local",
    "StateRow": "cauce.statemachines.local",
    "load_definition": "cauce.statemachines.definition",
    "template_variables": "cauce.statemachines.definition",
    "StateMachineDefinition": "cauce.statemachines.definition",
    "DefinitionError": "cauce.statemachines.definition",
    "validate": "cauce.statemachines.validate",
    "AslValidationError": "cauce.statemachines.validate",
    "KnownTargets": "cauce.statemachines.validate",
    "mermaid": "cauce.statemachines.diagram",
    "VirtualClock": "cauce.statemachines.clock",
    "load_mock_config": "cauce.statemachines.mocks",
    "MockConfigError": "cauce.statemachines.mocks",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from cauce.statemachines.clock import VirtualClock
    from cauce.statemachines.definition import DefinitionError, StateMachineDefinition, load_definition, template_variables
    from cauce.statemachines.diagram import mermaid
    from cauce.statemachines.local import ExecutionResult, LocalStepFunctions, StateRow
    from cauce.statemachines.mocks import MockConfigError, load_mock_config
    from cauce.statemachines.validate import AslValidationError, KnownTargets, validate


__getattr__ = lazy_exports(__name__, _EXPORTS)
