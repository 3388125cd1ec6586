"""awsglue.transforms: the transform classes, each `Class.apply(frame=..., ...)` or `Class()(...)`,
over the DynamicFrame methods (cauce.etl.awsglue.dynamicframe)."""

from __future__ import annotations

from typing import Any

from cauce.etl.awsglue.dynamicframe import DynamicFrame, DynamicFrameCollection, check_error_thresholds
from cauce.etl.awsglue.refused import EvaluateDataQuality, FillMissingValues, FindIncrementalMatches, FindMatches

__all__ = [
    "GlueTransform", "ApplyMapping", "ResolveChoice", "DropNullFields", "DropFields", "RenameField", "SelectFields",
    "Filter", "Map", "FlatMap", "Join", "Relationalize", "SplitFields", "SplitRows", "Spigot", "SelectFromCollection",
    "Unbox", "UnnestFrame", "ErrorsAsDynamicFrame", "MapToCollection", "DropDuplicates", "Union",
    "FindMatches", "FindIncrementalMatches", "FillMissingValues", "EvaluateDataQuality",
]


class GlueTransform:
    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__call__" in cls.__dict__:
            cls.__call__ = _checking_thresholds(cls.__dict__["__call__"], cls.__name__)

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        return cls()(*args, **kwargs)

    @classmethod
    def name(cls) -> str:
        return cls.__name__

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {"transform": {"name": cls.__name__, "description": (cls.__doc__ or "").strip()}}


def _checking_thresholds(call: Any, name: str) -> Any:
    """A transform's `stageThreshold`/`totalThreshold` keywords checked on its result, as the methods check theirs."""
    import functools

    @functools.wraps(call)
    def checked(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = call(self, *args, **kwargs)
        return check_error_thresholds(result, kwargs.get("stageThreshold", 0), kwargs.get("totalThreshold", 0),
                                      kwargs.get("transformation_ctx", ""), kwargs.get("info", ""), name)

    return checked


class ApplyMapping(GlueTransform):
    """Rename, cast and nest fields by a list of (source, source type, target, target type)."""

    def __call__(self, frame: DynamicFrame, mappings: list[tuple], case_sensitive: bool = False, transformation_ctx: str = "", **kwargs: Any) -> DynamicFrame:
        return frame.apply_mapping(mappings, case_sensitive, transformation_ctx)


class ResolveChoice(GlueTransform):
    """Resolve choice types (cast, project, make_cols, make_struct, match_catalog)."""

    def __call__(self, frame: DynamicFrame, specs: list | None = None, choice: str = "", transformation_ctx: str = "",
                 database: str | None = None, table_name: str | None = None, **kwargs: Any) -> DynamicFrame:
        return frame.resolveChoice(specs, choice, database, table_name, transformation_ctx)


class DropNullFields(GlueTransform):
    """Drop the fields that are null (or absent) in every record."""

    def __call__(self, frame: DynamicFrame, transformation_ctx: str = "", **kwargs: Any) -> DynamicFrame:
        from pyspark.sql import functions as F

        from cauce.etl.awsglue.dynamicframe import _col

        view = frame._view()
        if not view.columns:
            return frame
        counts = view.agg(*[F.count(_col(c)).alias(f"c{i}") for i, c in enumerate(view.columns)]).collect()[0]
        nulls = [c for i, c in enumerate(view.columns) if counts[f"c{i}"] == 0]
        return frame.drop_fields([f"`{c}`" for c in nulls])


class DropFields(GlueTransform):
    def __call__(self, frame: DynamicFrame, paths: list[str], transformation_ctx: str = "", **kwargs: Any) -> DynamicFrame:
        return frame.drop_fields(paths)


class SelectFields(GlueTransform):
    def __call__(self, frame: DynamicFrame, paths: list[str], transformation_ctx: str = "", **kwargs: Any) -> DynamicFrame:
        return frame.select_fields(paths)


class RenameField(GlueTransform):
    def __call__(self, frame: DynamicFrame, old_name: str, new_name: str, transformation_ctx: str = "", **kwargs: Any) -> DynamicFrame:
        return frame.rename_field(old_name, new_name)


class Filter(GlueTransform):
    def __call__(self, frame: DynamicFrame, f: Any, transformation_ctx: str = "", **kwargs: Any) -> DynamicFrame:
        return frame.filter(f, transformation_ctx)


class Map(GlueTransform):
    def __call__(self, frame: DynamicFrame, f: Any, transformation_ctx: str = "", **kwargs: Any) -> DynamicFrame:
        return frame.map(f, transformation_ctx=transformation_ctx)


class FlatMap(GlueTransform):
    """Apply a transform to every frame of a collection."""

    def __call__(self, dfc: DynamicFrameCollection, BaseTransform: Any, frame_name: str = "frame", transformation_ctx: str = "", **base_kwargs: Any) -> DynamicFrameCollection:  # noqa: N803
        return dfc.flatMap(lambda frame, ctx: BaseTransform.apply(**{frame_name: frame}, **base_kwargs), transformation_ctx)


class MapToCollection(GlueTransform):
    def __call__(self, dfc: DynamicFrameCollection, callable: Any, transformation_ctx: str = "", **kwargs: Any) -> DynamicFrameCollection:  # noqa: A002
        return dfc.map(callable, transformation_ctx)


class Join(GlueTransform):
    def __call__(self, frame1: DynamicFrame, frame2: DynamicFrame, keys1: Any, keys2: Any, transformation_ctx: str = "", **kwargs: Any) -> DynamicFrame:
        return frame1.join(keys1, keys2, frame2, transformation_ctx)


class Relationalize(GlueTransform):
    def __call__(self, frame: DynamicFrame, staging_path: str | None = None, name: str = "roottable", options: Any = None,
                 transformation_ctx: str = "", **kwargs: Any) -> DynamicFrameCollection:
        return frame.relationalize(name, staging_path, options, transformation_ctx)


class SplitFields(GlueTransform):
    def __call__(self, frame: DynamicFrame, paths: list[str], name1: str | None = None, name2: str | None = None,
                 transformation_ctx: str = "", **kwargs: Any) -> DynamicFrameCollection:
        return frame.split_fields(paths, name1 or f"{frame.name or 'frame'}1", name2 or f"{frame.name or 'frame'}2")


class SplitRows(GlueTransform):
    def __call__(self, frame: DynamicFrame, comparison_dict: dict, name1: str = "frame1", name2: str = "frame2",
                 transformation_ctx: str = "", **kwargs: Any) -> DynamicFrameCollection:
        return frame.split_rows(comparison_dict, name1, name2)


class Spigot(GlueTransform):
    def __call__(self, frame: DynamicFrame, path: str, options: dict | None = None, transformation_ctx: str = "", **kwargs: Any) -> DynamicFrame:
        return frame.spigot(path, options, transformation_ctx)


class SelectFromCollection(GlueTransform):
    def __call__(self, dfc: DynamicFrameCollection, key: str, transformation_ctx: str = "", **kwargs: Any) -> DynamicFrame:
        return dfc.select(key)


class Unbox(GlueTransform):
    def __call__(self, frame: DynamicFrame, path: str, format: str, transformation_ctx: str = "", **options: Any) -> DynamicFrame:  # noqa: A002
        options = {k: v for k, v in options.items() if k not in ("info", "stageThreshold", "totalThreshold")}
        return frame.unbox(path, format, **options)


class UnnestFrame(GlueTransform):
    def __call__(self, frame: DynamicFrame, transformation_ctx: str = "", **kwargs: Any) -> DynamicFrame:
        return frame.unnest()


class ErrorsAsDynamicFrame(GlueTransform):
    def __call__(self, frame: DynamicFrame) -> DynamicFrame:
        return frame.errorsAsDynamicFrame()


class DropDuplicates(GlueTransform):
    def __call__(self, frame: DynamicFrame, subset: list[str] | None = None, transformation_ctx: str = "", **kwargs: Any) -> DynamicFrame:
        return frame._derive(frame._df.dropDuplicates(subset) if subset else frame._df.dropDuplicates())


class Union(GlueTransform):
    def __call__(self, frame1: DynamicFrame, frame2: DynamicFrame, transformation_ctx: str = "", **kwargs: Any) -> DynamicFrame:
        merged = frame1.toDF().unionByName(frame2.toDF(), allowMissingColumns=True)
        return DynamicFrame(merged, frame1.glue_ctx, frame1.name, errors=frame1._errors + frame2._errors)
