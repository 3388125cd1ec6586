# The seed's six outputs (same names and meaning), then the module's own.

output "glue_job_arns" {
  description = "ARNs de los jobs de Glue"
  value       = { for k, v in aws_glue_job.jobs : k => v.arn }
}

output "glue_crawler_names" {
  description = "Nombres de los crawlers de Glue"
  value       = { for k, v in aws_glue_crawler.crawlers : k => v.name }
}

output "lambda_function_arns" {
  description = "ARNs de las funciones Lambda"
  value       = { for k, v in aws_lambda_function.functions : k => v.arn }
}

output "step_function_arns" {
  description = "ARNs de las máquinas de estado"
  value       = { for k, v in aws_sfn_state_machine.state_machines : k => v.arn }
}

output "kinesis_stream_arns" {
  description = "ARNs de los streams de Kinesis"
  value       = { for k, v in aws_kinesis_stream.streams : k => v.arn }
}

output "kinesis_firehose_arns" {
  description = "ARNs de los Firehose"
  value       = { for k, v in aws_kinesis_firehose_delivery_stream.firehose : k => v.arn }
}

output "analytics_job_names" {
  description = "Glue streaming jobs running the analytics apps, by analytics_config key"
  value       = { for k, v in aws_glue_job.analytics : k => v.name }
}

output "lambda_layer_arn" {
  description = "ARN of the Cauce layer version (null without lambda_layer_zip)"
  value       = try(aws_lambda_layer_version.cauce[0].arn, null)
}

output "data_lake_bucket" {
  description = "Bucket Firehose delivers into and the jobs read"
  value       = local.data_lake_bucket
}

output "artifacts_bucket" {
  description = "Bucket holding job scripts, analytics SQL and the analytics runtime"
  value       = local.artifacts_bucket
}

output "kms_key_arn" {
  description = "KMS key encrypting the stack's data at rest"
  value       = local.kms_key_arn
}

output "alarm_topic_arn" {
  description = "SNS topic receiving the stack's alarms and Glue job failures"
  value       = aws_sns_topic.alarms.arn
}

output "event_source_mapping_uuids" {
  description = "Kinesis event source mappings, by lambda_event_sources key"
  value       = { for k, v in aws_lambda_event_source_mapping.kinesis : k => v.uuid }
}
