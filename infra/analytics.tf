# The analytics apps. Kinesis Data Analytics for SQL (the service the seed named) took no new
# applications after 15 October 2025 and deletes existing ones from 27 January 2026, so each app
# runs as a Glue 5.0 streaming job executing Cauce's analytics runtime on its SQL, unchanged.

locals {
  analytics_role_arn    = var.create_iam_roles ? try(aws_iam_role.this["analytics"].arn, null) : var.analytics_role_arn
  analytics_script      = "s3://${local.artifacts_bucket}/analytics/glue_main.py"
  analytics_script_file = coalesce(var.analytics_runtime_script, "${path.module}/../analytics/glue_main.py")
}

resource "aws_s3_object" "analytics_runtime" {
  count = length(var.kinesis_config.analytics_config) > 0 ? 1 : 0

  bucket      = local.artifacts_bucket
  key         = "analytics/glue_main.py"
  source      = local.analytics_script_file
  source_hash = filemd5(local.analytics_script_file)
  kms_key_id  = local.kms_key_arn
  tags        = local.tags
}

resource "aws_s3_object" "analytics_sql" {
  for_each = var.kinesis_config.analytics_config

  bucket     = local.artifacts_bucket
  key        = "analytics/${each.key}/app.sql"
  content    = each.value.code
  kms_key_id = local.kms_key_arn
  tags       = local.tags
}

resource "aws_glue_job" "analytics" {
  for_each = var.kinesis_config.analytics_config

  name                   = "${local.name}-analytics-${each.value.name}"
  description            = "SQL analytics app ${each.value.name} on Cauce's analytics runtime"
  role_arn               = local.analytics_role_arn
  glue_version           = "5.0"
  worker_type            = lookup(var.analytics_worker_type, each.key, "G.1X")
  number_of_workers      = max(2, each.value.input_parallelism + each.value.output_parallelism)
  max_retries            = 0
  security_configuration = aws_glue_security_configuration.this.name

  command {
    name            = "gluestreaming"
    python_version  = "3"
    script_location = local.analytics_script
  }

  default_arguments = merge(local.glue_default_arguments, local.cauce_modules, {
    "--job-bookmark-option"  = "job-bookmark-disable"
    "--app_name"             = each.value.name
    "--sql_location"         = "s3://${local.artifacts_bucket}/${aws_s3_object.analytics_sql[each.key].key}"
    "--input_stream_arn"     = local.analytics_stream_arns[each.key].input
    "--output_stream_arn"    = local.analytics_stream_arns[each.key].output
    "--input_schema"         = each.value.application_configuration.sql_configuration.input_schema
    "--input_schema_version" = each.value.input_schema_version
    "--property_groups"      = jsonencode(each.value.application_configuration.environment_properties.property_groups)
    "--input_parallelism"    = tostring(each.value.input_parallelism)
    "--output_parallelism"   = tostring(each.value.output_parallelism)
    # the KDA reference data sources, read by glue_main.py into the app's reference tables
    "--reference_data_sources" = jsonencode(each.value.reference_data_sources != null ? each.value.reference_data_sources : [])
  })

  tags = local.tags

  lifecycle {
    precondition {
      condition     = local.analytics_role_arn != null
      error_message = "kinesis_config.analytics_config needs a role for its Glue streaming jobs: set analytics_role_arn, or create_iam_roles = true."
    }
    precondition {
      condition     = var.cauce_wheel != null
      error_message = "kinesis_config.analytics_config[\"${each.key}\"] (${each.value.name}): its Glue streaming job runs glue_main.py, which imports cauce.analytics: set cauce_wheel to Cauce's wheel (`pip wheel --no-deps -w dist .`), which the module uploads and installs on the job."
    }
  }
}
