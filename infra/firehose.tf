# Firehose delivery into the data lake: buffering, compression, prefixes with Firehose expressions,
# the error prefix, S3 backup, Lambda processing and dynamic partitioning.

locals {
  function_arns_by_name = { for k, f in aws_lambda_function.functions : f.function_name => f.arn }

  # A processor parameter naming one of the stack's functions (the seed's
  # "arn:aws:lambda:region:account:function:data-processor") points at the deployed function.
  firehose_processors = {
    for k, f in var.kinesis_config.firehose_config : k => [
      for p in f.processing_configuration.processors : {
        type = p.type
        parameters = [
          for param in p.parameters : {
            parameter_name = param.parameter_name
            parameter_value = (
              param.parameter_name == "LambdaArn" && can(regex(":function:([^:]+)", param.parameter_value))
              ? lookup(local.function_arns_by_name, regex(":function:([^:]+)", param.parameter_value)[0], param.parameter_value)
              : param.parameter_value
            )
          }
        ]
      }
    ]
  }
}

resource "aws_cloudwatch_log_group" "firehose" {
  for_each = var.kinesis_config.firehose_config

  name              = "/aws/kinesisfirehose/${each.value.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = local.kms_key_arn
  tags              = local.tags
}

resource "aws_cloudwatch_log_stream" "firehose" {
  for_each = var.kinesis_config.firehose_config

  name           = "DestinationDelivery"
  log_group_name = aws_cloudwatch_log_group.firehose[each.key].name
}

resource "aws_kinesis_firehose_delivery_stream" "firehose" {
  for_each = var.kinesis_config.firehose_config

  name        = each.value.name
  destination = "extended_s3"

  dynamic "kinesis_source_configuration" {
    for_each = contains(keys(var.firehose_sources), each.key) ? [var.firehose_sources[each.key]] : []
    content {
      kinesis_stream_arn = aws_kinesis_stream.streams[kinesis_source_configuration.value].arn
      role_arn           = aws_iam_role.this["firehose"].arn
    }
  }

  # encryption at rest of a direct PUT stream; a Kinesis source is encrypted by its stream
  dynamic "server_side_encryption" {
    for_each = contains(keys(var.firehose_sources), each.key) ? [] : [1]
    content {
      enabled  = true
      key_type = "CUSTOMER_MANAGED_CMK"
      key_arn  = local.kms_key_arn
    }
  }

  extended_s3_configuration {
    role_arn            = aws_iam_role.this["firehose"].arn
    bucket_arn          = "arn:${local.partition}:s3:::${local.data_lake_bucket}"
    prefix              = each.value.prefix
    error_output_prefix = each.value.error_output_prefix
    buffering_size      = each.value.buffer_size
    buffering_interval  = each.value.buffer_interval
    compression_format  = each.value.compression_format
    kms_key_arn         = local.kms_key_arn
    s3_backup_mode      = each.value.s3_backup_mode

    dynamic "s3_backup_configuration" {
      for_each = each.value.s3_backup_mode == "Enabled" ? [1] : []
      content {
        role_arn            = aws_iam_role.this["firehose"].arn
        bucket_arn          = "arn:${local.partition}:s3:::${local.data_lake_bucket}"
        prefix              = "backup/${each.value.name}/"
        error_output_prefix = "backup-errors/${each.value.name}/!{firehose:error-output-type}/"
        compression_format  = "GZIP"
        kms_key_arn         = local.kms_key_arn
      }
    }

    dynamic "dynamic_partitioning_configuration" {
      for_each = strcontains(each.value.prefix, "!{partitionKeyFrom") ? [1] : []
      content {
        enabled = true
      }
    }

    processing_configuration {
      enabled = each.value.processing_configuration.enabled

      dynamic "processors" {
        for_each = local.firehose_processors[each.key]
        content {
          type = processors.value.type
          dynamic "parameters" {
            for_each = processors.value.parameters
            content {
              parameter_name  = parameters.value.parameter_name
              parameter_value = parameters.value.parameter_value
            }
          }
        }
      }
    }

    cloudwatch_logging_options {
      enabled         = true
      log_group_name  = aws_cloudwatch_log_group.firehose[each.key].name
      log_stream_name = aws_cloudwatch_log_stream.firehose[each.key].name
    }
  }

  tags = local.tags
}
