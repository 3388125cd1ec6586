# Lambda: the Cauce layer, the functions, their log groups, Kinesis event source mappings with
# partial batch responses, and asynchronous invocation destinations.

locals {
  lambda_role_arn = var.create_iam_roles ? aws_iam_role.this["lambda"].arn : null
  layer_arns      = var.lambda_layer_zip != null ? [aws_lambda_layer_version.cauce[0].arn] : []
  stub_package    = "${path.module}/assets/handler-stub.zip"

  # event source mappings without a destination of their own get a dead-letter queue from the module
  mapping_queues = { for k, m in var.lambda_event_sources : k => m if m.on_failure_destination_arn == null }
}

resource "aws_lambda_layer_version" "cauce" {
  count = var.lambda_layer_zip != null ? 1 : 0

  layer_name               = "${local.name}-cauce"
  description              = "Cauce framework (handlers on Powertools) built by `cauce layer build`"
  filename                 = var.lambda_layer_zip
  source_code_hash         = filebase64sha256(var.lambda_layer_zip)
  compatible_runtimes      = ["python3.11", "python3.12", "python3.13"]
  compatible_architectures = [var.lambda_layer_architecture]
}

resource "aws_cloudwatch_log_group" "lambda" {
  for_each = var.lambda_config

  name              = "/aws/lambda/${each.value.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = local.kms_key_arn
  tags              = local.tags
}

resource "aws_lambda_function" "functions" {
  for_each = var.lambda_config

  function_name    = each.value.function_name
  description      = each.value.description
  handler          = each.value.handler
  runtime          = each.value.runtime
  memory_size      = each.value.memory_size
  timeout          = each.value.timeout
  role             = coalesce(local.lambda_role_arn, each.value.role_arn)
  filename         = lookup(var.lambda_packages, each.key, local.stub_package)
  source_code_hash = filebase64sha256(lookup(var.lambda_packages, each.key, local.stub_package))
  architectures    = contains(keys(local.python_functions), each.key) ? [var.lambda_layer_architecture] : ["x86_64"]
  layers           = concat(each.value.layers, contains(keys(local.python_functions), each.key) ? local.layer_arns : [])
  kms_key_arn      = local.kms_key_arn

  environment {
    variables = merge(
      { POWERTOOLS_SERVICE_NAME = each.key, POWERTOOLS_METRICS_NAMESPACE = "Cauce/Handlers", STAGE = var.environment },
      each.value.environment,
    )
  }

  dynamic "vpc_config" {
    for_each = length(each.value.vpc_config.subnet_ids) > 0 ? [each.value.vpc_config] : []
    content {
      subnet_ids         = vpc_config.value.subnet_ids
      security_group_ids = vpc_config.value.security_group_ids
    }
  }

  dynamic "dead_letter_config" {
    for_each = each.value.dead_letter_config.target_arn != "" ? [each.value.dead_letter_config] : []
    content {
      target_arn = dead_letter_config.value.target_arn
    }
  }

  tracing_config {
    mode = each.value.tracing_config.mode
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.lambda[each.key].name
  }

  tags = merge(local.tags, each.value.tags)

  lifecycle {
    # the stub package holds no code: without a package of its own, the handler must come from a layer
    precondition {
      condition     = contains(keys(var.lambda_packages), each.key) || length(each.value.layers) > 0 || (var.lambda_layer_zip != null && contains(keys(local.python_functions), each.key))
      error_message = "lambda_config[\"${each.key}\"] (${each.value.function_name}): nothing would provide its handler ${each.value.handler}: without lambda_packages[\"${each.key}\"] the module deploys a stub package with no code, and no layer is attached. Set lambda_layer_zip to the zip of `cauce layer build` (Cauce's handlers), or lambda_packages[\"${each.key}\"] to the function's own zip."
    }
  }

  # checkov:skip=CKV_AWS_115: reserved concurrency is a capacity decision per workload; the seed's interface has no field for it.
  # checkov:skip=CKV_AWS_272: code signing needs a signing profile the caller owns; the layer build is reproducible and hashed instead.
  # checkov:skip=CKV_AWS_117: the VPC comes from lambda_config.vpc_config; a function without subnets is the caller's choice.
  # checkov:skip=CKV_AWS_50: the tracing mode is the caller's (lambda_config.tracing_config.mode, Active or PassThrough); the example uses Active.
  # checkov:skip=CKV_AWS_116: the dead-letter target comes from lambda_config.dead_letter_config; stream consumers use the mapping's on-failure destination.
}

resource "aws_sqs_queue" "mapping_failures" {
  for_each = local.mapping_queues

  name                      = "${local.name}-${each.key}-failures"
  kms_master_key_id         = local.kms_key_arn
  message_retention_seconds = 1209600
  tags                      = local.tags
}

resource "aws_kinesis_stream_consumer" "fan_out" {
  for_each = { for k, m in var.lambda_event_sources : k => m if m.use_enhanced_fan_out }

  name       = "${local.name}-${each.key}"
  stream_arn = aws_kinesis_stream.streams[each.value.stream_key].arn
}

resource "aws_lambda_event_source_mapping" "kinesis" {
  for_each = var.lambda_event_sources

  function_name                      = aws_lambda_function.functions[each.value.function_key].arn
  event_source_arn                   = each.value.use_enhanced_fan_out ? aws_kinesis_stream_consumer.fan_out[each.key].arn : aws_kinesis_stream.streams[each.value.stream_key].arn
  starting_position                  = each.value.starting_position
  batch_size                         = each.value.batch_size
  maximum_batching_window_in_seconds = each.value.maximum_batching_window
  maximum_retry_attempts             = each.value.maximum_retry_attempts
  maximum_record_age_in_seconds      = each.value.maximum_record_age_in_seconds
  bisect_batch_on_function_error     = each.value.bisect_batch_on_function_error
  parallelization_factor             = each.value.parallelization_factor
  function_response_types            = ["ReportBatchItemFailures"]

  destination_config {
    on_failure {
      destination_arn = coalesce(each.value.on_failure_destination_arn, try(aws_sqs_queue.mapping_failures[each.key].arn, null))
    }
  }
}

resource "aws_lambda_function_event_invoke_config" "this" {
  for_each = var.lambda_destinations

  function_name                = aws_lambda_function.functions[each.key].function_name
  maximum_retry_attempts       = each.value.maximum_retry_attempts
  maximum_event_age_in_seconds = each.value.maximum_event_age_in_seconds

  dynamic "destination_config" {
    for_each = each.value.on_success_arn != null || each.value.on_failure_arn != null ? [each.value] : []
    content {
      dynamic "on_success" {
        for_each = destination_config.value.on_success_arn != null ? [destination_config.value.on_success_arn] : []
        content {
          destination = on_success.value
        }
      }
      dynamic "on_failure" {
        for_each = destination_config.value.on_failure_arn != null ? [destination_config.value.on_failure_arn] : []
        content {
          destination = on_failure.value
        }
      }
    }
  }
}
