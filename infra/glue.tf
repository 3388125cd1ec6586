# Glue: catalog databases, the security configuration every job and crawler uses, connections,
# ETL jobs and crawlers.

locals {
  glue_role_arn = var.create_iam_roles ? aws_iam_role.this["glue"].arn : null

  catalog_databases = toset([for k, c in var.glue_config.crawler_config : c.database_name])

  # A connection's password in CloudFormation's dynamic-reference form becomes Glue's SECRET_ID,
  # so the password lives only in Secrets Manager, never in Terraform state.
  connection_secrets = {
    for k, c in var.glue_config.connection_config : k => regex("^\\{\\{resolve:secretsmanager:([^:}]+)", lookup(c.connection_properties, "PASSWORD", ""))[0]
    if can(regex("^\\{\\{resolve:secretsmanager:([^:}]+)", lookup(c.connection_properties, "PASSWORD", "")))
  }

  # Glue installs Cauce (and the analytics dialect's parser) from the uploaded wheel
  cauce_modules = var.cauce_wheel != null ? { "--additional-python-modules" = "s3://${local.artifacts_bucket}/packages/${basename(var.cauce_wheel)},sqlglot==30.30.0" } : {}

  glue_default_arguments = {
    "--enable-continuous-cloudwatch-log" = "true"
    "--continuous-log-logGroup"          = aws_cloudwatch_log_group.glue.name
    "--enable-metrics"                   = "true"
    "--enable-observability-metrics"     = "true"
    "--job-bookmark-option"              = "job-bookmark-enable"
    "--TempDir"                          = "s3://${local.artifacts_bucket}/glue-temp/"
  }
}

resource "aws_glue_catalog_database" "this" {
  for_each = local.catalog_databases

  name        = each.value
  description = "${local.name}: tables cataloged by the stack's crawlers"
  tags        = local.tags
}

resource "aws_glue_security_configuration" "this" {
  name = local.name

  encryption_configuration {
    cloudwatch_encryption {
      cloudwatch_encryption_mode = "SSE-KMS"
      kms_key_arn                = local.kms_key_arn
    }
    job_bookmarks_encryption {
      job_bookmarks_encryption_mode = "CSE-KMS"
      kms_key_arn                   = local.kms_key_arn
    }
    s3_encryption {
      s3_encryption_mode = "SSE-KMS"
      kms_key_arn        = local.kms_key_arn
    }
  }
}

resource "aws_glue_connection" "this" {
  for_each = var.glue_config.connection_config

  name            = each.value.name
  connection_type = each.value.connection_type
  connection_properties = merge(
    { for key, value in each.value.connection_properties : key => value if !(contains(keys(local.connection_secrets), each.key) && contains(["PASSWORD", "USERNAME"], key)) },
    contains(keys(local.connection_secrets), each.key) ? { SECRET_ID = local.connection_secrets[each.key] } : {},
  )

  physical_connection_requirements {
    availability_zone      = each.value.physical_connection_requirements.availability_zone
    security_group_id_list = each.value.physical_connection_requirements.security_group_id_list
    subnet_id              = each.value.physical_connection_requirements.subnet_id
  }

  tags = local.tags
}

check "connection_passwords_in_state" {
  assert {
    condition     = alltrue([for k, c in var.glue_config.connection_config : !contains(keys(c.connection_properties), "PASSWORD") || contains(keys(local.connection_secrets), k)])
    error_message = "A Glue connection has a literal PASSWORD: it will be stored in Terraform state. Use SECRET_ID or {{resolve:secretsmanager:NAME:SecretString:password}}."
  }
}

resource "aws_s3_object" "cauce_wheel" {
  count = var.cauce_wheel != null ? 1 : 0

  bucket      = local.artifacts_bucket
  key         = "packages/${basename(var.cauce_wheel)}"
  source      = var.cauce_wheel
  source_hash = filemd5(var.cauce_wheel)
  kms_key_id  = local.kms_key_arn
  tags        = local.tags
}

resource "aws_s3_object" "glue_scripts" {
  for_each = var.glue_job_scripts

  bucket      = local.artifacts_bucket
  key         = "scripts/${each.key}.py"
  source      = each.value
  source_hash = filemd5(each.value)
  kms_key_id  = local.kms_key_arn
  tags        = local.tags
}

resource "aws_glue_job" "jobs" {
  for_each = var.glue_config.job_config

  name                   = each.value.name
  description            = each.value.description
  role_arn               = coalesce(local.glue_role_arn, each.value.role_arn)
  glue_version           = each.value.glue_version
  worker_type            = each.value.worker_type
  number_of_workers      = each.value.number_of_workers
  max_retries            = each.value.max_retries
  timeout                = each.value.timeout
  connections            = [for c in each.value.connections : try(aws_glue_connection.this[c].name, c)]
  security_configuration = aws_glue_security_configuration.this.name
  default_arguments      = merge(local.glue_default_arguments, local.cauce_modules, contains(var.glue_auto_scaling, each.key) ? { "--enable-auto-scaling" = "true" } : {}, each.value.default_arguments)
  execution_class        = lookup(var.glue_execution_class, each.key, "STANDARD")

  command {
    name            = "glueetl"
    python_version  = "3"
    script_location = contains(keys(var.glue_job_scripts), each.key) ? "s3://${local.artifacts_bucket}/${aws_s3_object.glue_scripts[each.key].key}" : each.value.script_location
  }

  execution_property {
    # the seed has the limit twice (max_concurrent_runs and execution_property); the larger wins
    max_concurrent_runs = max(each.value.max_concurrent_runs, each.value.execution_property.max_concurrent_runs)
  }

  notification_property {
    notify_delay_after = each.value.notification_property.notify_delay_after
  }

  tags = local.tags
}

resource "aws_glue_crawler" "crawlers" {
  for_each = var.glue_config.crawler_config

  name                   = each.value.name
  role                   = coalesce(local.glue_role_arn, each.value.role)
  database_name          = aws_glue_catalog_database.this[each.value.database_name].name
  schedule               = each.value.schedule
  table_prefix           = each.value.table_prefix
  security_configuration = aws_glue_security_configuration.this.name

  dynamic "s3_target" {
    for_each = each.value.s3_target
    content {
      path       = s3_target.value.path
      exclusions = s3_target.value.exclusions
    }
  }

  schema_change_policy {
    update_behavior = each.value.schema_change_policy.update_behavior
    delete_behavior = each.value.schema_change_policy.delete_behavior
  }

  recrawl_policy {
    recrawl_behavior = each.value.recrawl_policy.recrawl_behavior
  }

  tags = local.tags
}
