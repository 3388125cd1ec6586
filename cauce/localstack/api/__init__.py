"""The AWS APIs the local stack answers itself, one module per service, each registered on the endpoint's
gateway (cauce.localstack.gateway) when the server starts (cauce.localstack.server.OVERRIDES)."""
