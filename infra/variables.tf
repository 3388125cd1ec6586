# The seed's interface (../shared/seed/data-processing-module-guide.md): these seven variables keep
# their names and type structure exactly. Inputs after them are new and optional.

variable "project_name" {
  description = "Nombre del proyecto"
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$", var.project_name))
    error_message = "project_name: 3-32 lowercase letters, digits or '-', starting and ending with a letter or digit (it prefixes bucket and resource names)."
  }
}

variable "environment" {
  description = "Ambiente de despliegue"
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,15}$", var.environment))
    error_message = "environment: 1-16 lowercase letters, digits or '-' (for example dev, staging, prod)."
  }
}

variable "glue_config" {
  description = "Configuración de AWS Glue"
  type = object({
    job_config = map(object({
      name                = string
      description         = string
      role_arn            = string
      glue_version        = string
      worker_type         = string
      number_of_workers   = number
      max_retries         = number
      timeout             = number
      script_location     = string
      default_arguments   = map(string)
      connections         = list(string)
      max_concurrent_runs = number
      notification_property = object({
        notify_delay_after = number
      })
      execution_property = object({
        max_concurrent_runs = number
      })
    }))
    crawler_config = map(object({
      name          = string
      role          = string
      database_name = string
      schedule      = string
      table_prefix  = string
      s3_target = list(object({
        path       = string
        exclusions = list(string)
      }))
      schema_change_policy = object({
        update_behavior = string
        delete_behavior = string
      })
      recrawl_policy = object({
        recrawl_behavior = string
      })
    }))
    connection_config = map(object({
      name                  = string
      connection_type       = string
      connection_properties = map(string)
      physical_connection_requirements = object({
        availability_zone      = string
        security_group_id_list = list(string)
        subnet_id              = string
      })
    }))
  })

  validation {
    condition     = alltrue([for k, j in var.glue_config.job_config : contains(["2.0", "3.0", "4.0", "5.0"], j.glue_version)])
    error_message = "glue_config.job_config[*].glue_version: must be one of 2.0, 3.0, 4.0, 5.0 (Cauce's local runtime matches 5.0)."
  }
  validation {
    condition     = alltrue([for k, j in var.glue_config.job_config : contains(["G.1X", "G.2X", "G.4X", "G.8X"], j.worker_type)])
    error_message = "glue_config.job_config[*].worker_type: must be one of G.1X, G.2X, G.4X, G.8X (the module's jobs are Spark ETL jobs: G.025X is for streaming jobs, Z.2X for Ray jobs)."
  }
  validation {
    condition     = alltrue([for k, j in var.glue_config.job_config : j.number_of_workers >= 2 && j.number_of_workers <= 299 && j.max_retries >= 0 && j.max_retries <= 10 && j.timeout >= 1 && j.timeout <= 10080 && j.max_concurrent_runs >= 1])
    error_message = "glue_config.job_config[*]: number_of_workers must be 2-299, max_retries 0-10, timeout 1-10080 minutes, max_concurrent_runs at least 1."
  }
  validation {
    condition     = alltrue([for k, j in var.glue_config.job_config : can(regex("^s3://[a-z0-9.-]{3,63}/.+\\.(py|scala)$", j.script_location))])
    error_message = "glue_config.job_config[*].script_location: must be an s3://bucket/key URI of a .py or .scala script."
  }
  validation {
    condition     = alltrue([for k, c in var.glue_config.crawler_config : contains(["LOG", "UPDATE_IN_DATABASE"], c.schema_change_policy.update_behavior)])
    error_message = "glue_config.crawler_config[*].schema_change_policy.update_behavior: must be LOG or UPDATE_IN_DATABASE."
  }
  validation {
    condition     = alltrue([for k, c in var.glue_config.crawler_config : contains(["LOG", "DELETE_FROM_DATABASE", "DEPRECATE_IN_DATABASE"], c.schema_change_policy.delete_behavior)])
    error_message = "glue_config.crawler_config[*].schema_change_policy.delete_behavior: must be LOG, DELETE_FROM_DATABASE or DEPRECATE_IN_DATABASE."
  }
  validation {
    condition     = alltrue([for k, c in var.glue_config.crawler_config : contains(["CRAWL_EVERYTHING", "CRAWL_NEW_FOLDERS_ONLY", "CRAWL_EVENT_MODE"], c.recrawl_policy.recrawl_behavior)])
    error_message = "glue_config.crawler_config[*].recrawl_policy.recrawl_behavior: must be CRAWL_EVERYTHING, CRAWL_NEW_FOLDERS_ONLY or CRAWL_EVENT_MODE."
  }
  validation {
    condition     = alltrue([for k, c in var.glue_config.crawler_config : c.recrawl_policy.recrawl_behavior != "CRAWL_NEW_FOLDERS_ONLY" || (c.schema_change_policy.update_behavior == "LOG" && c.schema_change_policy.delete_behavior == "LOG")])
    error_message = "glue_config.crawler_config[*]: recrawl_behavior CRAWL_NEW_FOLDERS_ONLY needs schema_change_policy update_behavior and delete_behavior LOG (an AWS rule)."
  }
  validation {
    condition     = alltrue([for k, c in var.glue_config.crawler_config : length(c.s3_target) > 0 && alltrue([for t in c.s3_target : can(regex("^s3://", t.path))])])
    error_message = "glue_config.crawler_config[*].s3_target: at least one target, each path an s3:// URI."
  }
  validation {
    condition     = alltrue([for k, c in var.glue_config.connection_config : contains(["JDBC", "KAFKA", "MONGODB", "NETWORK", "MARKETPLACE", "CUSTOM"], c.connection_type)])
    error_message = "glue_config.connection_config[*].connection_type: must be one of JDBC, KAFKA, MONGODB, NETWORK, MARKETPLACE, CUSTOM."
  }
}

variable "lambda_config" {
  description = "Configuración de AWS Lambda"
  type = map(object({
    function_name = string
    description   = string
    handler       = string
    runtime       = string
    memory_size   = number
    timeout       = number
    role_arn      = string
    environment   = map(string)
    vpc_config = object({
      subnet_ids         = list(string)
      security_group_ids = list(string)
    })
    dead_letter_config = object({
      target_arn = string
    })
    tracing_config = object({
      mode = string
    })
    layers = list(string)
    tags   = map(string)
  }))

  validation {
    condition = alltrue([for k, f in var.lambda_config : contains([
      "python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14",
      "nodejs18.x", "nodejs20.x", "nodejs22.x", "java11", "java17", "java21", "dotnet8",
      "ruby3.2", "ruby3.3", "ruby3.4", "provided.al2", "provided.al2023",
    ], f.runtime)])
    error_message = "lambda_config[*].runtime: must be a Lambda runtime identifier such as python3.12 (Cauce's handlers and layer need python3.11, python3.12 or python3.13)."
  }
  validation {
    condition     = alltrue([for k, f in var.lambda_config : f.memory_size >= 128 && f.memory_size <= 10240 && f.timeout >= 1 && f.timeout <= 900])
    error_message = "lambda_config[*]: memory_size must be 128-10240 MB and timeout 1-900 seconds."
  }
  validation {
    condition     = alltrue([for k, f in var.lambda_config : contains(["Active", "PassThrough"], f.tracing_config.mode)])
    error_message = "lambda_config[*].tracing_config.mode: must be Active or PassThrough."
  }
  validation {
    condition     = alltrue([for k, f in var.lambda_config : length(f.layers) <= 4])
    error_message = "lambda_config[*].layers: at most 4, because the module adds Cauce's layer and Lambda allows 5."
  }
}

variable "step_functions_config" {
  description = "Configuración de Step Functions"
  type = map(object({
    name       = string
    role_arn   = string
    definition = string
    type       = string
    logging_configuration = object({
      level                  = string
      include_execution_data = bool
      destination            = string
    })
    tracing_configuration = object({
      enabled = bool
    })
    tags = map(string)
  }))

  validation {
    condition     = alltrue([for k, m in var.step_functions_config : contains(["STANDARD", "EXPRESS"], m.type)])
    error_message = "step_functions_config[*].type: must be STANDARD or EXPRESS."
  }
  validation {
    condition     = alltrue([for k, m in var.step_functions_config : contains(["ALL", "ERROR", "FATAL", "OFF"], m.logging_configuration.level)])
    error_message = "step_functions_config[*].logging_configuration.level: must be ALL, ERROR, FATAL or OFF."
  }
}

variable "kinesis_config" {
  description = "Configuración de Kinesis"
  type = object({
    stream_config = map(object({
      name                      = string
      shard_count               = number
      retention_period          = number
      encryption_type           = string
      kms_key_id                = string
      enforce_consumer_deletion = bool
      tags                      = map(string)
    }))
    firehose_config = map(object({
      name                = string
      destination         = string
      buffer_size         = number
      buffer_interval     = number
      compression_format  = string
      prefix              = string
      error_output_prefix = string
      s3_backup_mode      = string
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
      name                 = string
      input_stream_arn     = string
      output_stream_arn    = string
      code                 = string
      input_parallelism    = number
      output_parallelism   = number
      input_schema_version = string
      application_configuration = object({
        sql_configuration = object({
          input_schema = string
        })
        environment_properties = object({
          property_groups = map(map(string))
        })
      })
      # aws_kinesis_analytics_application's reference_data_sources block (the KDA API's ReferenceDataSource):
      # in-application tables the SQL joins, read from S3 when the app starts
      reference_data_sources = optional(list(object({
        table_name = string
        s3 = object({
          bucket_arn = string
          file_key   = string
          role_arn   = optional(string)
        })
        schema = object({
          record_columns = list(object({
            name     = string
            sql_type = string
            mapping  = optional(string)
          }))
          record_format = object({
            mapping_parameters = object({
              csv = optional(object({
                record_column_delimiter = string
                record_row_delimiter    = string
              }))
              json = optional(object({
                record_row_path = string
              }))
            })
            record_format_type = optional(string)
          })
          record_encoding = optional(string, "UTF-8")
        })
      })))
    }))
  })

  validation {
    condition     = alltrue([for k, s in var.kinesis_config.stream_config : s.encryption_type == "KMS"])
    error_message = "kinesis_config.stream_config[*].encryption_type: must be KMS (the module encrypts every data store it creates; NONE is refused). An empty kms_key_id uses the module's key."
  }
  validation {
    condition     = alltrue([for k, s in var.kinesis_config.stream_config : s.shard_count >= 1 && s.retention_period >= 24 && s.retention_period <= 8760])
    error_message = "kinesis_config.stream_config[*]: shard_count must be at least 1 and retention_period 24-8760 hours."
  }
  validation {
    condition     = alltrue([for k, f in var.kinesis_config.firehose_config : contains(["s3", "extended_s3"], f.destination)])
    error_message = "kinesis_config.firehose_config[*].destination: must be s3 or extended_s3 (both deliver to S3 through extended_s3)."
  }
  validation {
    condition     = alltrue([for k, f in var.kinesis_config.firehose_config : contains(["UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY"], f.compression_format)])
    error_message = "kinesis_config.firehose_config[*].compression_format: must be UNCOMPRESSED, GZIP, ZIP, Snappy or HADOOP_SNAPPY."
  }
  validation {
    condition     = alltrue([for k, f in var.kinesis_config.firehose_config : f.buffer_size >= 1 && f.buffer_size <= 128 && f.buffer_interval >= 0 && f.buffer_interval <= 900])
    error_message = "kinesis_config.firehose_config[*]: buffer_size must be 1-128 MB and buffer_interval 0-900 seconds."
  }
  # Dynamic partitioning (turned on by a prefix with !{partitionKeyFrom...}, infra/firehose.tf) needs a buffer
  # of at least 64 MiB (Amazon Data Firehose, "Buffer data for dynamic partitioning":
  # https://docs.aws.amazon.com/firehose/latest/dev/buffering.html).
  validation {
    condition     = alltrue([for k, f in var.kinesis_config.firehose_config : !strcontains(f.prefix, "!{partitionKeyFrom") || f.buffer_size >= 64])
    error_message = "kinesis_config.firehose_config[*].buffer_size: must be at least 64 MB when the prefix uses !{partitionKeyFrom...}: the module then turns on dynamic partitioning, which Firehose allows only with a buffer of 64 MiB or more (at ${join(", ", [for k, f in var.kinesis_config.firehose_config : "kinesis_config.firehose_config[\"${k}\"]" if strcontains(f.prefix, "!{partitionKeyFrom") && f.buffer_size < 64])})"
  }
  validation {
    condition     = alltrue([for k, f in var.kinesis_config.firehose_config : contains(["Disabled", "Enabled"], f.s3_backup_mode)])
    error_message = "kinesis_config.firehose_config[*].s3_backup_mode: must be Disabled or Enabled."
  }
  validation {
    condition     = alltrue([for k, f in var.kinesis_config.firehose_config : f.error_output_prefix == "" || strcontains(f.error_output_prefix, "!{firehose:error-output-type}")])
    error_message = "kinesis_config.firehose_config[*].error_output_prefix: must contain !{firehose:error-output-type} when the prefix uses expressions (a Firehose rule)."
  }
  validation {
    condition     = alltrue([for k, f in var.kinesis_config.firehose_config : alltrue([for p in f.processing_configuration.processors : contains(["Lambda", "RecordDeAggregation", "AppendDelimiterToRecord", "MetadataExtraction"], p.type)])])
    error_message = "kinesis_config.firehose_config[*].processing_configuration.processors[*].type: must be Lambda, RecordDeAggregation, AppendDelimiterToRecord or MetadataExtraction."
  }
  validation {
    condition     = alltrue([for k, a in var.kinesis_config.analytics_config : a.input_parallelism >= 1 && a.output_parallelism >= 1])
    error_message = "kinesis_config.analytics_config[*]: input_parallelism and output_parallelism must be at least 1."
  }
}

variable "tags" {
  description = "Tags para recursos"
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------------
# New inputs, all optional: their defaults keep the seed's behaviour.
# ---------------------------------------------------------------------------------------------

variable "create_iam_roles" {
  description = "Create least-privilege roles scoped to this stack's resources instead of using the role ARNs passed in the configs."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "KMS key for S3, Glue, Lambda environments, logs, SNS, SQS and Firehose. Null: the module creates one with rotation on."
  type        = string
  default     = null
}

variable "data_lake_bucket_name" {
  description = "Bucket Firehose delivers into and the jobs read. Null: the module creates <project>-<environment>-data-lake-<account>."
  type        = string
  default     = null
}

variable "artifacts_bucket_name" {
  description = "Bucket for job scripts, SQL and the Lambda layer. Null: the module creates <project>-<environment>-artifacts-<account>."
  type        = string
  default     = null
}

variable "cauce_wheel" {
  description = "Path of Cauce's wheel (`pip wheel --no-deps .` in the repository). Set: uploaded and installed on every Glue job (--additional-python-modules), which the jobs' `cauce.etl` and `cauce.analytics` imports need. The plan refuses analytics apps without it."
  type        = string
  default     = null
}

variable "glue_job_scripts" {
  description = "Local script files to upload, by job key; such a job runs the uploaded copy instead of its script_location."
  type        = map(string)
  default     = {}
}

variable "lambda_layer_zip" {
  description = "Path of the zip built by `cauce layer build`. Set: published as a layer and attached to every Python function. The plan refuses a function with neither this, a lambda_packages entry, nor layers of its own (its stub package has no code)."
  type        = string
  default     = null
}

variable "lambda_layer_architecture" {
  description = "Architecture the layer was built for (and the Python functions run on): x86_64 or arm64."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.lambda_layer_architecture)
    error_message = "lambda_layer_architecture: must be x86_64 or arm64."
  }
}

variable "lambda_packages" {
  description = "Code zip by function key. Functions without one get a stub package: their handler comes from the Cauce layer."
  type        = map(string)
  default     = {}
}

variable "lambda_event_sources" {
  description = "Kinesis event source mappings: a function (lambda_config key) reading a stream (stream_config key), with partial batch responses."
  type = map(object({
    function_key                   = string
    stream_key                     = string
    batch_size                     = optional(number, 100)
    starting_position              = optional(string, "LATEST")
    maximum_retry_attempts         = optional(number, 3)
    maximum_record_age_in_seconds  = optional(number, 86400)
    bisect_batch_on_function_error = optional(bool, true)
    parallelization_factor         = optional(number, 1)
    maximum_batching_window        = optional(number, 1)
    on_failure_destination_arn     = optional(string)
    use_enhanced_fan_out           = optional(bool, false)
  }))
  default = {}

  validation {
    condition     = alltrue([for k, m in var.lambda_event_sources : contains(["LATEST", "TRIM_HORIZON"], m.starting_position) && m.batch_size >= 1 && m.batch_size <= 10000 && m.parallelization_factor >= 1 && m.parallelization_factor <= 10])
    error_message = "lambda_event_sources[*]: starting_position must be LATEST or TRIM_HORIZON, batch_size 1-10000, parallelization_factor 1-10."
  }
}

variable "lambda_destinations" {
  description = "Asynchronous invocation settings by function key: destinations on success and failure, retries, event age."
  type = map(object({
    on_success_arn               = optional(string)
    on_failure_arn               = optional(string)
    maximum_retry_attempts       = optional(number, 2)
    maximum_event_age_in_seconds = optional(number, 21600)
  }))
  default = {}
}

variable "firehose_sources" {
  description = "Kinesis stream (stream_config key) that a Firehose stream (firehose_config key) reads. Firehose streams not listed take direct PUTs."
  type        = map(string)
  default     = {}
}

variable "state_machine_definitions_dir" {
  description = "Folder of ASL templates that step_functions_config definitions may name. Null: the repository's statemachines/definitions."
  type        = string
  default     = null
}

variable "analytics_runtime_script" {
  description = "Local path of the script each analytics app's Glue streaming job runs. Null: this repository's analytics/glue_main.py."
  type        = string
  default     = null
}

variable "analytics_role_arn" {
  description = "Role of the analytics apps' Glue streaming jobs (the seed's analytics_config has none). Needed when create_iam_roles is false and apps exist."
  type        = string
  default     = null
}

variable "glue_execution_class" {
  description = "Execution class by glue_config.job_config key: STANDARD or FLEX (spare capacity, cheaper, may start later). Jobs not listed run STANDARD."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.glue_execution_class : contains(["STANDARD", "FLEX"], v)])
    error_message = "glue_execution_class: values must be STANDARD or FLEX."
  }
}

variable "glue_auto_scaling" {
  description = "Job keys whose workers scale with the load (Glue 3.0+): number_of_workers becomes the maximum."
  type        = set(string)
  default     = []
}

variable "kinesis_on_demand" {
  description = "Stream keys run in on-demand capacity mode (shard_count is then ignored)."
  type        = set(string)
  default     = []
}

variable "lake_lifecycle_rules" {
  description = "Lifecycle of prefixes the stack writes in the data lake (for example raw-data/, errors/, backup/): move to Standard-IA, then expire."
  type = list(object({
    prefix                  = string
    transition_to_ia_days   = optional(number)
    expiration_days         = optional(number)
    noncurrent_version_days = optional(number, 30)
  }))
  default = []

  validation {
    condition     = alltrue([for r in var.lake_lifecycle_rules : coalesce(r.transition_to_ia_days, 30) >= 30 && coalesce(r.expiration_days, 1) >= 1])
    error_message = "lake_lifecycle_rules: transition_to_ia_days must be 30 or more (an S3 rule), expiration_days 1 or more."
  }
}

variable "log_retention_days" {
  description = "Retention of the log groups the module creates."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days: must be a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "alarm_email" {
  description = "Email subscribed to the alarm topic (it must confirm the subscription). Null: no subscription."
  type        = string
  default     = null
}

variable "iterator_age_alarm_ms" {
  description = "Alarm when a Kinesis consumer falls this far behind (GetRecords.IteratorAgeMilliseconds)."
  type        = number
  default     = 60000
}

variable "analytics_worker_type" {
  description = "Worker type of each analytics app's Glue streaming job, by kinesis_config.analytics_config key: G.025X (a quarter DPU, for low-volume streams), G.1X, G.2X, G.4X or G.8X. Apps not listed run G.1X."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.analytics_worker_type : contains(["G.025X", "G.1X", "G.2X", "G.4X", "G.8X"], v)])
    error_message = "analytics_worker_type: values must be G.025X, G.1X, G.2X, G.4X or G.8X (the worker types of Glue streaming jobs)."
  }
}
