# IAM. Where the seed passes role ARNs they are used as given; with create_iam_roles = true the
# module creates least-privilege roles instead, scoped to this stack's own resources. Firehose has
# no role in the seed's interface, so its role is always created. Resources are "*" only for the
# actions AWS does not scope to a resource (X-Ray, CloudWatch PutMetricData, EC2 Describe calls,
# log delivery for Step Functions); each says so.

locals {
  s3_uri_buckets = distinct(concat(
    [for k, j in var.glue_config.job_config : regex("^s3://([^/]+)/", j.script_location)[0]],
    flatten([for k, c in var.glue_config.crawler_config : [for t in c.s3_target : regex("^s3://([^/]+)", t.path)[0]]]),
    [local.data_lake_bucket, local.artifacts_bucket],
  ))
  bucket_arns = flatten([for b in local.s3_uri_buckets : ["arn:${local.partition}:s3:::${b}", "arn:${local.partition}:s3:::${b}/*"]])

  glue_job_arns      = [for k, j in var.glue_config.job_config : "arn:${local.partition}:glue:${local.region}:${local.account_id}:job/${j.name}"]
  glue_crawler_arns  = [for k, c in var.glue_config.crawler_config : "arn:${local.partition}:glue:${local.region}:${local.account_id}:crawler/${c.name}"]
  lambda_arns        = [for k, f in var.lambda_config : "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${f.function_name}"]
  catalog_arns       = concat(["arn:${local.partition}:glue:${local.region}:${local.account_id}:catalog"], flatten([for d in local.catalog_databases : ["arn:${local.partition}:glue:${local.region}:${local.account_id}:database/${d}", "arn:${local.partition}:glue:${local.region}:${local.account_id}:table/${d}/*"]]))
  connection_arns    = [for k, c in var.glue_config.connection_config : "arn:${local.partition}:glue:${local.region}:${local.account_id}:connection/${c.name}"]
  secret_arns        = [for k, s in local.connection_secrets : "arn:${local.partition}:secretsmanager:${local.region}:${local.account_id}:secret:${s}-*"]
  source_stream_arns = [for k, s in var.firehose_sources : aws_kinesis_stream.streams[s].arn]
  analytics_inputs   = [for k, a in local.analytics_stream_arns : a.input]
  analytics_outputs  = [for k, a in local.analytics_stream_arns : a.output]
  # the analytics apps' reference tables: the S3 objects their jobs read when they start
  analytics_reference_objects = distinct(flatten([for k, a in var.kinesis_config.analytics_config : [
    for r in(a.reference_data_sources != null ? a.reference_data_sources : []) : "${r.s3.bucket_arn}/${r.s3.file_key}"
  ]]))

  lambda_vpc_subnets         = distinct(flatten([for k, f in var.lambda_config : f.vpc_config.subnet_ids]))
  lambda_vpc_security_groups = distinct(flatten([for k, f in var.lambda_config : f.vpc_config.security_group_ids]))
}

data "aws_iam_policy_document" "assume" {
  for_each = toset(["glue", "lambda", "states", "firehose"])

  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["${each.key}.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# --- Glue jobs and crawlers ---------------------------------------------------------------------

data "aws_iam_policy_document" "glue" {
  statement {
    sid       = "DataAndScripts"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:GetBucketLocation"]
    resources = local.bucket_arns
  }
  dynamic "statement" {
    for_each = length(local.analytics_reference_objects) > 0 ? [1] : []
    content {
      sid       = "AnalyticsReferenceData"
      actions   = ["s3:GetObject"]
      resources = local.analytics_reference_objects
    }
  }
  statement {
    sid = "Catalog"
    actions = [
      "glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables", "glue:CreateTable", "glue:UpdateTable",
      "glue:GetPartition", "glue:GetPartitions", "glue:CreatePartition", "glue:BatchCreatePartition", "glue:UpdatePartition",
      "glue:BatchGetPartition",
    ]
    resources = local.catalog_arns
  }
  statement {
    sid       = "OwnJobsAndCrawlers"
    actions   = ["glue:GetJob", "glue:GetJobBookmark", "glue:ResetJobBookmark", "glue:GetCrawler", "glue:GetSecurityConfiguration"]
    resources = concat(local.glue_job_arns, local.glue_crawler_arns, ["arn:${local.partition}:glue:${local.region}:${local.account_id}:securityConfiguration/${local.name}"])
  }
  dynamic "statement" {
    for_each = length(local.connection_arns) > 0 ? [1] : []
    content {
      sid       = "Connections"
      actions   = ["glue:GetConnection"]
      resources = concat(local.connection_arns, ["arn:${local.partition}:glue:${local.region}:${local.account_id}:catalog"])
    }
  }
  dynamic "statement" {
    for_each = length(local.secret_arns) > 0 ? [1] : []
    content {
      sid       = "ConnectionSecrets"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = local.secret_arns
    }
  }
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey", "logs:CreateLogGroup"]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws-glue/*"]
  }
  statement {
    sid       = "Encryption"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [local.kms_key_arn]
  }
  statement {
    sid       = "Metrics" # PutMetricData has no resource-level permissions; scoped by namespace instead
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringLike"
      variable = "cloudwatch:namespace"
      values   = ["Glue", "Cauce/*"]
    }
  }
  dynamic "statement" {
    for_each = length(var.glue_config.connection_config) > 0 ? [1] : []
    content {
      sid       = "VpcConnectionsDescribe" # Describe actions take no resource in IAM
      actions   = ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcEndpoints", "ec2:DescribeRouteTables", "ec2:DescribeVpcAttribute"]
      resources = ["*"]
    }
  }
  dynamic "statement" {
    for_each = length(var.glue_config.connection_config) > 0 ? [1] : []
    content {
      sid     = "VpcConnectionsInterfaces"
      actions = ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:CreateTags", "ec2:DeleteTags"]
      resources = concat(
        ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:network-interface/*"],
        [for k, c in var.glue_config.connection_config : "arn:${local.partition}:ec2:${local.region}:${local.account_id}:subnet/${c.physical_connection_requirements.subnet_id}"],
        flatten([for k, c in var.glue_config.connection_config : [for g in c.physical_connection_requirements.security_group_id_list : "arn:${local.partition}:ec2:${local.region}:${local.account_id}:security-group/${g}"]]),
      )
    }
  }
  statement {
    sid       = "AnalyticsStreams"
    actions   = ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetShardIterator", "kinesis:GetRecords", "kinesis:ListShards", "kinesis:PutRecord", "kinesis:PutRecords"]
    resources = length(concat(local.analytics_inputs, local.analytics_outputs)) > 0 ? distinct(concat(local.analytics_inputs, local.analytics_outputs)) : ["arn:${local.partition}:kinesis:${local.region}:${local.account_id}:stream/${local.name}-none"]
  }
}

# --- Lambda -------------------------------------------------------------------------------------

data "aws_iam_policy_document" "lambda" {
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [for k, g in aws_cloudwatch_log_group.lambda : "${g.arn}:*"]
  }
  statement {
    sid       = "Encryption"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [local.kms_key_arn]
  }
  statement {
    sid       = "Tracing" # X-Ray has no resource-level permissions
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
  statement {
    sid       = "ReadMappedStreams"
    actions   = ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetShardIterator", "kinesis:GetRecords", "kinesis:ListShards", "kinesis:ListStreams", "kinesis:SubscribeToShard"]
    resources = length(var.lambda_event_sources) > 0 ? concat([for k, m in var.lambda_event_sources : aws_kinesis_stream.streams[m.stream_key].arn], [for k, c in aws_kinesis_stream_consumer.fan_out : c.arn]) : ["arn:${local.partition}:kinesis:${local.region}:${local.account_id}:stream/${local.name}-none"]
  }
  statement {
    sid       = "FailureDestinations"
    actions   = ["sqs:SendMessage", "sns:Publish"]
    resources = length(var.lambda_event_sources) + length(var.lambda_config) > 0 ? distinct(compact(concat([for k, q in aws_sqs_queue.mapping_failures : q.arn], [for k, m in var.lambda_event_sources : m.on_failure_destination_arn if m.on_failure_destination_arn != null], [for k, f in var.lambda_config : f.dead_letter_config.target_arn]))) : ["arn:${local.partition}:sqs:${local.region}:${local.account_id}:${local.name}-none"]
  }
  dynamic "statement" {
    for_each = length(local.lambda_vpc_subnets) > 0 ? [1] : []
    content {
      sid       = "VpcDescribe" # Describe actions take no resource in IAM
      actions   = ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"]
      resources = ["*"]
    }
  }
  dynamic "statement" {
    for_each = length(local.lambda_vpc_subnets) > 0 ? [1] : []
    content {
      sid     = "VpcInterfaces"
      actions = ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"]
      resources = concat(
        ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:network-interface/*"],
        [for s in local.lambda_vpc_subnets : "arn:${local.partition}:ec2:${local.region}:${local.account_id}:subnet/${s}"],
        [for g in local.lambda_vpc_security_groups : "arn:${local.partition}:ec2:${local.region}:${local.account_id}:security-group/${g}"],
      )
    }
  }
}

# --- Step Functions ---------------------------------------------------------------------------

data "aws_iam_policy_document" "sfn" {
  statement {
    sid       = "RunOwnJobs"
    actions   = ["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun"]
    resources = length(local.glue_job_arns) > 0 ? local.glue_job_arns : ["arn:${local.partition}:glue:${local.region}:${local.account_id}:job/${local.name}-none"]
  }
  statement {
    sid       = "StartOwnCrawlers"
    actions   = ["glue:StartCrawler", "glue:GetCrawler"]
    resources = length(local.glue_crawler_arns) > 0 ? local.glue_crawler_arns : ["arn:${local.partition}:glue:${local.region}:${local.account_id}:crawler/${local.name}-none"]
  }
  statement {
    sid       = "InvokeOwnFunctions"
    actions   = ["lambda:InvokeFunction"]
    resources = length(local.lambda_arns) > 0 ? concat(local.lambda_arns, [for a in local.lambda_arns : "${a}:*"]) : ["arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${local.name}-none"]
  }
  statement {
    sid       = "ExecutionLogs" # log delivery actions are not resource-scoped by AWS
    actions   = ["logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"]
    resources = ["*"]
  }
  statement {
    sid       = "Tracing" # X-Ray has no resource-level permissions
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
    resources = ["*"]
  }
}

# --- Firehose (always created: the seed's firehose_config has no role) -------------------------

data "aws_iam_policy_document" "firehose" {
  statement {
    sid       = "Deliver"
    actions   = ["s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:PutObject"]
    resources = ["arn:${local.partition}:s3:::${local.data_lake_bucket}", "arn:${local.partition}:s3:::${local.data_lake_bucket}/*"]
  }
  statement {
    sid       = "Encryption"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [local.kms_key_arn]
  }
  statement {
    sid       = "Transform"
    actions   = ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"]
    resources = length(local.lambda_arns) > 0 ? concat(local.lambda_arns, [for a in local.lambda_arns : "${a}:*"]) : ["arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${local.name}-none"]
  }
  statement {
    sid       = "ReadSourceStreams"
    actions   = ["kinesis:DescribeStream", "kinesis:GetShardIterator", "kinesis:GetRecords", "kinesis:ListShards"]
    resources = length(local.source_stream_arns) > 0 ? local.source_stream_arns : ["arn:${local.partition}:kinesis:${local.region}:${local.account_id}:stream/${local.name}-none"]
  }
  statement {
    sid       = "Logs"
    actions   = ["logs:PutLogEvents"]
    resources = [for k, g in aws_cloudwatch_log_group.firehose : "${g.arn}:*"]
  }
}

# --- the roles: one per service, each with its policy above ---------------------------------------

locals {
  created_roles = merge(
    var.create_iam_roles ? {
      glue   = { service = "glue", policy = data.aws_iam_policy_document.glue.json }
      lambda = { service = "lambda", policy = data.aws_iam_policy_document.lambda.json }
      states = { service = "states", policy = data.aws_iam_policy_document.sfn.json }
    } : {},
    # the analytics apps are Glue streaming jobs: the Glue permissions, their streams included
    var.create_iam_roles && length(var.kinesis_config.analytics_config) > 0 ? {
      analytics = { service = "glue", policy = data.aws_iam_policy_document.glue.json }
    } : {},
    { firehose = { service = "firehose", policy = data.aws_iam_policy_document.firehose.json } },
  )
}

resource "aws_iam_role" "this" {
  for_each = local.created_roles

  name               = "${local.name}-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.assume[each.value.service].json
  tags               = local.tags
}

resource "aws_iam_role_policy" "this" {
  for_each = local.created_roles

  name   = "stack-access"
  role   = aws_iam_role.this[each.key].id
  policy = each.value.policy
}
