"""The local AWS identity: the one region, account and credentials every local run uses (moto's
defaults), and the ARNs built from them. On AWS none of this is read: clients use the real ones."""

from __future__ import annotations

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}
ENVIRONMENT = {**CREDENTIALS, "AWS_DEFAULT_REGION": REGION}  # what a local process sets before it creates clients


def arn(service: str, resource: str, region: str = REGION, account: str = ACCOUNT) -> str:
    """`arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE`; IAM ARNs have no region (pass region="")."""
    return f"arn:aws:{service}:{region}:{account}:{resource}"
