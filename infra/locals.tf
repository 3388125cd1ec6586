data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  name       = "${var.project_name}-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  tags       = merge({ Project = var.project_name, Environment = var.environment, ManagedBy = "cauce" }, var.tags)

  kms_key_arn = var.kms_key_arn != null ? var.kms_key_arn : aws_kms_key.this[0].arn

  data_lake_bucket = var.data_lake_bucket_name != null ? var.data_lake_bucket_name : aws_s3_bucket.this["data_lake"].id
  artifacts_bucket = var.artifacts_bucket_name != null ? var.artifacts_bucket_name : aws_s3_bucket.this["artifacts"].id

  # The placeholders of statemachines/definitions/*.asl.json, as cauce's statemachines.definition fills them.
  template_variables = merge(
    { project_name = var.project_name, environment = var.environment },
    { for k, j in var.glue_config.job_config : "glue_job_${replace(k, "-", "_")}" => j.name },
    { for k, c in var.glue_config.crawler_config : "glue_crawler_${replace(k, "-", "_")}" => c.name },
    { for k, f in var.lambda_config : "lambda_function_${replace(k, "-", "_")}" => f.function_name },
  )

  python_functions = { for k, f in var.lambda_config : k => f if startswith(f.runtime, "python") }
}
