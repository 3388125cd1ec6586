# Step Functions: a definition is inline ASL JSON (the seed's jsonencode) or the name of a template
# in statemachines/definitions/, filled by templatefile with the same variables `cauce sfn` uses.

locals {
  sfn_role_arn        = var.create_iam_roles ? aws_iam_role.this["states"].arn : null
  definitions_dir     = coalesce(var.state_machine_definitions_dir, "${path.module}/../statemachines/definitions")
  sfn_created_logging = { for k, m in var.step_functions_config : k => m if m.logging_configuration.destination == "" }

  sfn_definitions = {
    for k, m in var.step_functions_config : k => (
      can(jsondecode(m.definition)) ? m.definition : templatefile(
        fileexists(m.definition) ? m.definition : "${local.definitions_dir}/${m.definition}",
        local.template_variables,
      )
    )
  }
}

resource "aws_cloudwatch_log_group" "sfn" {
  for_each = local.sfn_created_logging

  name              = "/aws/vendedlogs/states/${each.value.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = local.kms_key_arn
  tags              = local.tags
}

resource "aws_sfn_state_machine" "state_machines" {
  for_each = var.step_functions_config

  name       = each.value.name
  role_arn   = coalesce(local.sfn_role_arn, each.value.role_arn)
  type       = each.value.type
  definition = local.sfn_definitions[each.key]

  logging_configuration {
    level                  = each.value.logging_configuration.level
    include_execution_data = each.value.logging_configuration.include_execution_data
    log_destination        = "${each.value.logging_configuration.destination != "" ? each.value.logging_configuration.destination : aws_cloudwatch_log_group.sfn[each.key].arn}:*"
  }

  tracing_configuration {
    enabled = each.value.tracing_configuration.enabled
  }

  tags = merge(local.tags, each.value.tags)

  # checkov:skip=CKV_AWS_285: the logging level is the caller's (step_functions_config.logging_configuration.level); the example logs ALL.
  # checkov:skip=CKV_AWS_284: tracing is the caller's (step_functions_config.tracing_configuration.enabled); the example enables it.

  lifecycle {
    precondition {
      condition     = can(jsondecode(local.sfn_definitions[each.key]))
      error_message = "step_functions_config[\"${each.key}\"].definition: not valid JSON once filled (check it with `cauce sfn validate`)."
    }
  }
}
