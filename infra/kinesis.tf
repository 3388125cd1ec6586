# Kinesis Data Streams, always encrypted: with kms_key_id, or the module's key when it is empty.

resource "aws_kinesis_stream" "streams" {
  for_each = var.kinesis_config.stream_config

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
