# Kinesis Data Streams, always encrypted: with kms_key_id, or the module's key when it is empty.
# Besides stream_config's, the module creates each analytics app's output stream that stream_config
# does not define (the seed's example writes to processed-data-stream and defines only its input).

locals {
  stream_keys_by_name = { for k, s in var.kinesis_config.stream_config : s.name => k }

  # the stream name of each app's ARNs (arn:aws:kinesis:region:account:stream/NAME)
  analytics_stream_names = {
    for k, a in var.kinesis_config.analytics_config : k => {
      input  = try(regex("^arn:[^:]+:kinesis:[^:]*:[^:]*:stream/([^/]+)$", a.input_stream_arn)[0], null)
      output = try(regex("^arn:[^:]+:kinesis:[^:]*:[^:]*:stream/([^/]+)$", a.output_stream_arn)[0], null)
    }
  }

  # keyed by stream name; one shard, the least Kinesis provisions (kinesis_on_demand may name it)
  analytics_output_streams = {
    for name in distinct([for k, n in local.analytics_stream_names : n.output if n.output != null]) : name => {
      name                      = name
      shard_count               = 1
      retention_period          = 24
      encryption_type           = "KMS"
      kms_key_id                = ""
      enforce_consumer_deletion = true
      tags                      = { Purpose = "analytics output" }
    } if !contains(keys(local.stream_keys_by_name), name) && !contains(keys(var.kinesis_config.stream_config), name)
  }

  streams = merge(local.analytics_output_streams, var.kinesis_config.stream_config)

  # an app's streams as the job and its role use them: the stack's stream when the ARN names one, else the ARN as given
  analytics_stream_arns = {
    for k, a in var.kinesis_config.analytics_config : k => {
      input = try(aws_kinesis_stream.streams[local.stream_keys_by_name[local.analytics_stream_names[k].input]].arn, a.input_stream_arn)
      output = try(
        aws_kinesis_stream.streams[local.stream_keys_by_name[local.analytics_stream_names[k].output]].arn,
        aws_kinesis_stream.streams[local.analytics_stream_names[k].output].arn,
        a.output_stream_arn,
      )
    }
  }
}

resource "aws_kinesis_stream" "streams" {
  for_each = local.streams

  name                      = each.value.name
  shard_count               = contains(var.kinesis_on_demand, each.key) ? null : each.value.shard_count
  retention_period          = each.value.retention_period
  encryption_type           = "KMS" # validated: the seed's encryption_type must be KMS
  kms_key_id                = each.value.kms_key_id != "" ? each.value.kms_key_id : local.kms_key_arn
  enforce_consumer_deletion = each.value.enforce_consumer_deletion
  shard_level_metrics       = ["IncomingBytes", "IncomingRecords", "WriteProvisionedThroughputExceeded", "IteratorAgeMilliseconds"]

  stream_mode_details {
    stream_mode = contains(var.kinesis_on_demand, each.key) ? "ON_DEMAND" : "PROVISIONED"
  }

  tags = merge(local.tags, each.value.tags)
}
