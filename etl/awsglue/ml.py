"""awsglueml.transforms: Glue's ML transforms, importable so that scripts load, refused at first use."""

from cauce.etl.awsglue.refused import FillMissingValues, FindIncrementalMatches, FindMatches

__all__ = ["FindMatches", "FindIncrementalMatches", "FillMissingValues"]
