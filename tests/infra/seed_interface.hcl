# The seed's module interface, verbatim from shared/seed/data-processing-module-guide.md
# ("Variables Principales" and "Outputs Principales"). tests/infra/test_contract.py holds
# infra/variables.tf and infra/outputs.tf to it. Not a .tf file: Terraform must not load it.

variable "project_name" {
  description = "Nombre del proyecto"
  type        = string
}

variable "environment" {
  description = "Ambiente de despliegue"
  type        = string
}

variable "glue_config" {
  description = "Configuración de AWS Glue"
  type = object({
    job_config = map(object({
      name                   = string
      description           = string
      role_arn             = string
      glue_version         = string
      worker_type          = string
      number_of_workers    = number
      max_retries          = number
      timeout              = number
      script_location      = string
      default_arguments    = map(string)
      connections          = list(string)
      max_concurrent_runs  = number
      notification_property = object({
        notify_delay_after = number
      })
      execution_property   = object({
        max_concurrent_runs = number
      })
    }))
    crawler_config = map(object({
      name                  = string
      role                 = string
      database_name        = string
      schedule            = string
      table_prefix        = string
      s3_target           = list(object({
        path              = string
        exclusions       = list(string)
      }))
      schema_change_policy = object({
        update_behavior = string
        delete_behavior = string
      })
      recrawl_policy      = object({
        recrawl_behavior = string
      })
    }))
    connection_config = map(object({
      name                = string
      connection_type    = string
      connection_properties = map(string)
      physical_connection_requirements = object({
        availability_zone      = string
        security_group_id_list = list(string)
        subnet_id              = string
      })
    }))
  })
}

variable "lambda_config" {
  description = "Configuración de AWS Lambda"
  type = map(object({
    function_name          = string
    description           = string
    handler               = string
    runtime               = string
    memory_size           = number
    timeout               = number
    role_arn             = string
    environment          = map(string)
    vpc_config           = object({
      subnet_ids         = list(string)
      security_group_ids = list(string)
    })
    dead_letter_config   = object({
      target_arn = string
    })
    tracing_config       = object({
      mode = string
    })
    layers               = list(string)
    tags                = map(string)
  }))
}

variable "step_functions_config" {
  description = "Configuración de Step Functions"
  type = map(object({
    name           = string
    role_arn      = string
    definition    = string
    type          = string
    logging_configuration = object({
      level               = string
      include_execution_data = bool
      destination        = string
    })
    tracing_configuration = object({
      enabled = bool
    })
    tags          = map(string)
  }))
}

variable "kinesis_config" {
  description = "Configuración de Kinesis"
  type = object({
    stream_config = map(object({
      name                      = string
      shard_count              = number
      retention_period         = number
      encryption_type         = string
      kms_key_id              = string
      enforce_consumer_deletion = bool
      tags                    = map(string)
    }))
    firehose_config = map(object({
      name                    = string
      destination            = string
      buffer_size            = number
      buffer_interval        = number
      compression_format     = string
      prefix                 = string
      error_output_prefix    = string
      s3_backup_mode        = string
      processing_configuration = object({
        enabled = bool
        processors = list(object({
          type = string
          parameters = list(object({
            parameter_name  = string
            parameter_value = string
          }))
        }))
      })
    }))
    analytics_config = map(object({
      name                        = string
      input_stream_arn           = string
      output_stream_arn          = string
      code                       = string
      input_parallelism         = number
      output_parallelism        = number
      input_schema_version      = string
      application_configuration = object({
        sql_configuration = object({
          input_schema  = string
        })
        environment_properties = object({
          property_groups = map(map(string))
        })
      })
    }))
  })
}

variable "tags" {
  description = "Tags para recursos"
  type        = map(string)
  default     = {}
}

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
