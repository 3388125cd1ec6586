"""The local stack: what AWS manages and moto does not emulate, done the way AWS documents it
(Firehose delivery, Glue crawlers), on the local lake and the local catalog."""
