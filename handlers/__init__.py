"""Lambda handlers on Powertools (Firehose transforms, Kinesis consumers, workflow tasks): not built yet, see issue 3."""
