"""awsgluedq.transforms: Glue Data Quality, importable so that scripts load, refused at first use."""

from cauce.etl.awsglue.refused import EvaluateDataQuality

__all__ = ["EvaluateDataQuality"]
