# The data lake (Firehose delivers, jobs read and write) and the artifacts bucket (scripts, SQL,
# the layer), unless their names are given. Both: KMS encryption, versioning, no public access,
# TLS only, access logs to the artifacts bucket, and lifecycle rules.

locals {
  buckets_to_create = merge(
    var.data_lake_bucket_name == null ? { data_lake = "${local.name}-data-lake-${local.account_id}" } : {},
    var.artifacts_bucket_name == null ? { artifacts = "${local.name}-artifacts-${local.account_id}" } : {},
  )
}

resource "aws_s3_bucket" "this" {
  for_each = local.buckets_to_create

  bucket = each.value
  tags   = local.tags
  # checkov:skip=CKV_AWS_144: cross-region replication is a disaster-recovery choice for the caller, not a default.
  # checkov:skip=CKV2_AWS_62: nothing in the stack consumes S3 event notifications; the crawlers run on a schedule.
  # checkov:skip=CKV_AWS_18: the data lake logs to the artifacts bucket (aws_s3_bucket_logging.data_lake); the artifacts bucket receives those logs and logging it to itself would loop.
}

resource "aws_s3_bucket_server_side_encryption_configuration" "created" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = local.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "created" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "created" {
  for_each = aws_s3_bucket.this

  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_policy" "created" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [{
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [each.value.arn, "${each.value.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      }],
      # the artifacts bucket receives the data lake's server access logs
      each.key == "artifacts" && var.data_lake_bucket_name == null ? [{
        Sid       = "S3ServerAccessLogs"
        Effect    = "Allow"
        Principal = { Service = "logging.s3.amazonaws.com" }
        Action    = "s3:PutObject"
        Resource  = "${each.value.arn}/access-logs/*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
          ArnLike      = { "aws:SourceArn" = "arn:${local.partition}:s3:::${local.data_lake_bucket}" }
        }
      }] : [],
    )
  })
  depends_on = [aws_s3_bucket_public_access_block.created]
}

resource "aws_s3_bucket_logging" "data_lake" {
  count = var.data_lake_bucket_name == null ? 1 : 0

  bucket        = aws_s3_bucket.this["data_lake"].id
  target_bucket = local.artifacts_bucket
  target_prefix = "access-logs/data-lake/"
  depends_on    = [aws_s3_bucket_policy.created]
}

resource "aws_s3_bucket_lifecycle_configuration" "created" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  rule {
    id     = "expire-noncurrent-and-abort-uploads"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  dynamic "rule" {
    for_each = each.key == "data_lake" ? var.lake_lifecycle_rules : []
    content {
      id     = "prefix-${replace(trimsuffix(rule.value.prefix, "/"), "/", "-")}"
      status = "Enabled"
      filter {
        prefix = rule.value.prefix
      }
      dynamic "transition" {
        for_each = rule.value.transition_to_ia_days != null ? [rule.value.transition_to_ia_days] : []
        content {
          days          = transition.value
          storage_class = "STANDARD_IA"
        }
      }
      dynamic "expiration" {
        for_each = rule.value.expiration_days != null ? [rule.value.expiration_days] : []
        content {
          days = expiration.value
        }
      }
      noncurrent_version_expiration {
        noncurrent_days = rule.value.noncurrent_version_days
      }
    }
  }
  depends_on = [aws_s3_bucket_versioning.created]
}
