# The seed's usage example as a working root module. Its values live in stack.tfvars.json, which
# is also the stack definition Cauce runs locally (`cauce demo`, `cauce sfn run`, `cauce job run`):
# one file, read by both.
#
# Plan it with the two artifacts the stack runs from (the plan refuses without them):
#   cauce layer build --output dist/cauce-layer.zip && pip wheel --no-deps -w dist .   (in the repository)
#   terraform plan -var lambda_layer_zip=../../../dist/cauce-layer.zip -var cauce_wheel=../../../dist/cauce-<version>-py3-none-any.whl

provider "aws" {
  region = var.region
}

variable "region" {
  description = "AWS region to deploy into"
  type        = string
  default     = "us-west-2"
}

variable "lambda_layer_zip" {
  description = "The zip from `cauce layer build`: data-processor's handler (cauce.handlers.data_processor.handler) comes from it. Null: the plan refuses."
  type        = string
  default     = null
}

variable "cauce_wheel" {
  description = "Cauce's wheel (`pip wheel --no-deps -w dist .`): the analytics app's Glue job imports cauce.analytics from it. Null: the plan refuses."
  type        = string
  default     = null
}

locals {
  stack = jsondecode(file("${path.module}/stack.tfvars.json"))
}

module "processing" {
  source = "../../"

  project_name          = local.stack.project_name
  environment           = local.stack.environment
  glue_config           = local.stack.glue_config
  lambda_config         = local.stack.lambda_config
  step_functions_config = local.stack.step_functions_config
  kinesis_config        = local.stack.kinesis_config
  tags                  = local.stack.tags

  lambda_layer_zip = var.lambda_layer_zip
  cauce_wheel      = var.cauce_wheel
  firehose_sources = { "s3-delivery" = "data-stream" }
  lambda_event_sources = {
    "data-processor-reads-ingestion" = { function_key = "data-processor", stream_key = "data-stream" }
  }
  glue_execution_class = { "etl-job" = "FLEX" } # `cauce cost --advise`: Flex for a scheduled job
  lake_lifecycle_rules = [
    { prefix = "raw-data/", transition_to_ia_days = 30, expiration_days = 365 },
    { prefix = "errors/", expiration_days = 90 },
    { prefix = "backup/", transition_to_ia_days = 30, expiration_days = 180 },
  ]
  analytics_runtime_script = null
  analytics_role_arn       = "arn:aws:iam::123456789012:role/GlueAnalyticsRole"
}

output "glue_job_arns" {
  description = "ARNs de los jobs de Glue"
  value       = module.processing.glue_job_arns
}

output "glue_crawler_names" {
  description = "Nombres de los crawlers de Glue"
  value       = module.processing.glue_crawler_names
}

output "lambda_function_arns" {
  description = "ARNs de las funciones Lambda"
  value       = module.processing.lambda_function_arns
}

output "step_function_arns" {
  description = "ARNs de las máquinas de estado"
  value       = module.processing.step_function_arns
}

output "kinesis_stream_arns" {
  description = "ARNs de los streams de Kinesis"
  value       = module.processing.kinesis_stream_arns
}

output "kinesis_firehose_arns" {
  description = "ARNs de los Firehose"
  value       = module.processing.kinesis_firehose_arns
}
