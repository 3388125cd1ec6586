"""The AWS APIs the local stack answers itself, each registered on the endpoint's gateway (cauce.localstack.gateway)."""
