# Monitoring, as the seed's maintenance section asks: log groups with retention (with each
# component), an SNS topic for alarms, Glue job failures through EventBridge, and alarms on
# Kinesis throttling and iterator age, Firehose freshness and delivery, Lambda errors and
# throttles, and failed Step Functions executions.

resource "aws_cloudwatch_log_group" "glue" {
  name              = "/aws-glue/${local.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = local.kms_key_arn
  tags              = local.tags
}

resource "aws_sns_topic" "alarms" {
  name              = "${local.name}-alarms"
  kms_master_key_id = local.kms_key_arn
  tags              = local.tags
}

resource "aws_sns_topic_subscription" "email" {
  count = var.alarm_email != null ? 1 : 0

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

resource "aws_sns_topic_policy" "alarms" {
  arn = aws_sns_topic.alarms.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AlarmsAndEvents"
      Effect    = "Allow"
      Principal = { Service = ["cloudwatch.amazonaws.com", "events.amazonaws.com"] }
      Action    = "sns:Publish"
      Resource  = aws_sns_topic.alarms.arn
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
}

resource "aws_cloudwatch_event_rule" "glue_job_failed" {
  name        = "${local.name}-glue-job-failed"
  description = "A Glue job of ${local.name} ended FAILED, TIMEOUT or ERROR"
  event_pattern = jsonencode({
    source      = ["aws.glue"]
    detail-type = ["Glue Job State Change"]
    detail = {
      jobName = concat([for k, j in aws_glue_job.jobs : j.name], [for k, j in aws_glue_job.analytics : j.name])
      state   = ["FAILED", "TIMEOUT", "ERROR"]
    }
  })
  tags = local.tags
}

resource "aws_cloudwatch_event_target" "glue_job_failed" {
  rule = aws_cloudwatch_event_rule.glue_job_failed.name
  arn  = aws_sns_topic.alarms.arn
}

locals {
  alarms = merge(
    { for k, s in aws_kinesis_stream.streams : "kinesis-${k}-write-throttled" => {
      namespace  = "AWS/Kinesis", metric = "WriteProvisionedThroughputExceeded", statistic = "Sum", threshold = 0,
      comparison = "GreaterThanThreshold", dimensions = { StreamName = s.name }, description = "writes to ${s.name} are throttled: add shards"
    } },
    { for k, m in var.lambda_event_sources : "kinesis-${k}-iterator-age" => {
      namespace   = "AWS/Kinesis", metric = "GetRecords.IteratorAgeMilliseconds", statistic = "Maximum", threshold = var.iterator_age_alarm_ms,
      comparison  = "GreaterThanThreshold", dimensions = { StreamName = aws_kinesis_stream.streams[m.stream_key].name },
      description = "the consumer ${m.function_key} of ${aws_kinesis_stream.streams[m.stream_key].name} falls behind"
    } },
    { for k, f in aws_kinesis_firehose_delivery_stream.firehose : "firehose-${k}-freshness" => {
      namespace  = "AWS/Firehose", metric = "DeliveryToS3.DataFreshness", statistic = "Maximum",
      threshold  = 2 * var.kinesis_config.firehose_config[k].buffer_interval + 300, comparison = "GreaterThanThreshold",
      dimensions = { DeliveryStreamName = f.name }, description = "records wait in ${f.name} far longer than its buffer interval"
    } },
    { for k, f in aws_kinesis_firehose_delivery_stream.firehose : "firehose-${k}-delivery" => {
      namespace  = "AWS/Firehose", metric = "DeliveryToS3.Success", statistic = "Average", threshold = 1,
      comparison = "LessThanThreshold", dimensions = { DeliveryStreamName = f.name }, description = "deliveries of ${f.name} to S3 fail"
    } },
    { for k, f in aws_lambda_function.functions : "lambda-${k}-errors" => {
      namespace  = "AWS/Lambda", metric = "Errors", statistic = "Sum", threshold = 0, comparison = "GreaterThanThreshold",
      dimensions = { FunctionName = f.function_name }, description = "${f.function_name} invocations fail"
    } },
    { for k, f in aws_lambda_function.functions : "lambda-${k}-throttles" => {
      namespace  = "AWS/Lambda", metric = "Throttles", statistic = "Sum", threshold = 0, comparison = "GreaterThanThreshold",
      dimensions = { FunctionName = f.function_name }, description = "${f.function_name} is throttled"
    } },
    { for k, m in aws_sfn_state_machine.state_machines : "states-${k}-failed" => {
      namespace  = "AWS/States", metric = "ExecutionsFailed", statistic = "Sum", threshold = 0, comparison = "GreaterThanThreshold",
      dimensions = { StateMachineArn = m.arn }, description = "executions of ${m.name} fail"
    } },
  )
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = "${local.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  statistic           = each.value.statistic
  dimensions          = each.value.dimensions
  period              = 300
  evaluation_periods  = 1
  threshold           = each.value.threshold
  comparison_operator = each.value.comparison
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = local.tags
}
