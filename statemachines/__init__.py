"""Step Functions definitions, validation and local execution: not built yet, see issue 5."""
