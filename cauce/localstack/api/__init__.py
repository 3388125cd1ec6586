"""The AWS APIs the local stack answers itself, one module per service (registered in cauce.localstack.server)."""
