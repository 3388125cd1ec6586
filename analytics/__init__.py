"""SQL analytics apps on Spark Structured Streaming: not built yet, see issue 4."""
