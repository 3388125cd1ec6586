"""awsglue.dynamicframe on plain PySpark: DynamicFrame, DynamicFrameCollection, the reader and writer.

Written from the AWS Glue developer guide's DynamicFrame pages. A DynamicFrame here is a Spark
DataFrame of the good records plus what Glue adds to it:
- types decided by content where the reader cannot know them (CSV text, JSON fields of mixed
  types): one type, or a *choice* of several (cauce.etl.awsglue.gluetypes), computed only when an
  operation needs them, so a mapping that names every type costs no extra pass;
- error records: input that does not parse, and records a `map`/`filter` function failed on. They
  are not part of the data, are counted by `errorsCount()` (this frame and the frames it came
  from) and `stageErrorsCount()` (this step), and come back with `errorsAsDynamicFrame()`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable, Iterable

from cauce.etl.awsglue.gluetypes import glue_type_name, spark_type, value_type

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

ERROR_COLUMN = "_cauce_glue_error"  # the readers' corrupt-record column; never part of the data
Typing = dict[str, list[str]]  # column -> the types its values take (one, or a choice)


def quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _col(name: str) -> "Column":
    from pyspark.sql import functions as F

    return F.col(quote(name))


def _unquote(path: str) -> str:
    return path[1:-1] if path.startswith("`") and path.endswith("`") else path


def _split_path(path: str) -> list[str]:
    """`a.b` -> [a, b]; a backquoted name keeps its dots (`a.b` in backquotes is one field)."""
    parts, current, quoted = [], "", False
    for char in path:
        if char == "`":
            quoted = not quoted
        elif char == "." and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def path_steps(path: str) -> tuple[str, list[str]]:
    """A choice's path as (top-level column, steps below it): `a.b` -> (a, [b]); `xs[].p` -> (xs, [[], p])."""
    steps: list[str] = []
    for part in _split_path(path):
        name = part
        brackets = 0
        while name.endswith("[]"):
            name, brackets = name[:-2], brackets + 1
        steps += [name] + ["[]"] * brackets
    return steps[0], steps[1:]


def _root(path: str) -> str:
    return path if "." not in path and "[" not in path else path_steps(path)[0]


def _at_path(column: "Column", steps: list[str], leaf: Callable[["Column"], "Column"]) -> "Column":
    """`column` with the value at `steps` below it replaced by `leaf(value)`: struct fields through
    withField, array elements through transform (a null struct or array stays null)."""
    from pyspark.sql import functions as F

    if not steps:
        return leaf(column)
    head, rest = steps[0], steps[1:]
    if head == "[]":
        return F.transform(column, lambda element: _at_path(element, rest, leaf))
    return column.withField(head, _at_path(column.getField(head), rest, leaf))


def _has_path(schema: Any, path: str) -> bool:
    """Whether the nested path (`a.b`, `xs[]`, `xs[].p`) is still in the schema (a field dropped since is not)."""
    from pyspark.sql.types import ArrayType, StructType

    root, steps = path_steps(path)
    if root not in schema.fieldNames():
        return False
    data_type = schema[root].dataType
    for step in steps:
        if step == "[]" and isinstance(data_type, ArrayType):
            data_type = data_type.elementType
        elif step != "[]" and isinstance(data_type, StructType) and step in data_type.fieldNames():
            data_type = data_type[step].dataType
        else:
            return False
    return True


def _as_records(df: "DataFrame") -> "DataFrame":
    from pyspark.sql import DataFrame

    spark = df.sparkSession
    jdf = spark._jsparkSession.internalCreateDataFrame(df._jdf.queryExecution().toRdd(), df._jdf.schema(), False)
    return DataFrame(jdf, spark)


def _error_frame(spark: Any) -> "DataFrame":
    return spark.createDataFrame([], "record string, errorMessage string, transformation_ctx string")


class ErrorThresholdExceeded(RuntimeError):
    """A transformation's error records reached its stageThreshold or totalThreshold."""


def check_error_thresholds(result: Any, stage_threshold: int, total_threshold: int, ctx: str, info: str, step: str) -> Any:
    """Glue's thresholds on a step's result (a frame, or each frame of a collection): the process errors out
    when this step's error records reach `stage_threshold`, or those up to and including it reach
    `total_threshold`; 0 (the default) never does. Counting is a pass over the input, made only when a
    threshold is set."""
    if not (stage_threshold or total_threshold):
        return result
    frames = list(result.values()) if isinstance(result, DynamicFrameCollection) else [result] if isinstance(result, DynamicFrame) else []
    for frame in frames:
        frame._thresholds = (int(stage_threshold or 0), int(total_threshold or 0), ctx, info, step)
        frame.assertErrorThreshold()
    return result


def _enforces_thresholds(method: Callable) -> Callable:
    """The method's `stageThreshold`/`totalThreshold` (keyword or positional) are checked on what it returns."""
    import functools
    import inspect

    signature = inspect.signature(method)

    @functools.wraps(method)
    def checked(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        values = bound.arguments
        result = method(*args, **kwargs)
        return check_error_thresholds(result, values.get("stageThreshold", 0), values.get("totalThreshold", 0),
                                      values.get("transformation_ctx", ""), values.get("info", ""), method.__name__)

    return checked


class DynamicFrame:
    def __init__(self, jdf: "DataFrame", glue_ctx: Any, name: str = "", *, typing: Typing | Callable[[], Typing] | None = None,
                 errors: tuple = (), stage_errors: "DataFrame | None" = None, json_text: bool = False):
        self._df = jdf
        self.glue_ctx = glue_ctx
        self._glue_ctx = glue_ctx
        self.name = name
        self._typing_source = typing if typing is not None else {}
        self._typing_value: Typing | None = self._typing_source if isinstance(self._typing_source, dict) else None
        self._stage_errors = stage_errors
        self._errors = errors + ((stage_errors,) if stage_errors is not None else ())
        self._json_text = json_text  # choice values were JSON tokens (vs CSV text)
        self._thresholds: tuple[int, int, str, str, str] | None = None  # (stage, total, ctx, info, step) of the step that made it

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def fromDF(cls, dataframe: "DataFrame", glue_ctx: Any, name: str = "") -> "DynamicFrame":  # noqa: N802
        """The DataFrame's rows as the frame's records. Glue converts them to DynamicRecords, so what
        runs on the frame afterwards is not a query on the DataFrame: Spark Observations on it are not
        evaluated by the frame's writes. Here too: the rows pass through the DataFrame's RDD (in the JVM,
        no Python), which ends its plan there, as Glue's conversion does."""
        return cls(_as_records(dataframe), glue_ctx, name)

    def _derive(self, df: "DataFrame", typing: Callable[[Typing], Typing] | Typing | None = None, *,
                stage_errors: "DataFrame | None" = None, name: str = "") -> "DynamicFrame":
        """A frame computed from this one: `typing` maps this frame's types onto the new columns
        (lazily), or gives them outright; None keeps the columns' types as they are."""
        if typing is None:
            new_typing: Any = lambda: {k: v for k, v in self._typing().items() if _root(k) in df.columns}  # noqa: E731
        elif callable(typing):
            new_typing = lambda: typing(self._typing())  # noqa: E731
        else:
            new_typing = typing
        return DynamicFrame(df, self.glue_ctx, name or self.name, typing=new_typing, errors=self._errors,
                            stage_errors=stage_errors, json_text=self._json_text)

    def _typing(self) -> Typing:
        if self._typing_value is None:
            self._typing_value = dict(self._typing_source())
        return self._typing_value

    def _choices(self) -> Typing:
        return {k: v for k, v in self._typing().items() if len(v) > 1}

    def _view(self) -> "DataFrame":
        """The data with single-typed columns cast to their type; choice columns as read."""
        typing = self._typing()
        if not typing:
            return self._df
        columns = []
        for field in self._df.schema.fields:
            types = typing.get(field.name)
            if types and len(types) == 1 and types[0] not in ("struct", "array") and spark_type(types[0]) != field.dataType.simpleString():
                columns.append(_col(field.name).cast(spark_type(types[0])).alias(field.name))
            else:
                columns.append(_col(field.name))
        return self._df.select(*columns)

    def _variant(self, name: str, glue_type: str) -> "Column":
        """The values of choice column `name` that are of `glue_type`, as that type (others null)."""
        return self._variant_of(_col(name), glue_type)

    def _variant_of(self, source: "Column", glue_type: str) -> "Column":
        from pyspark.sql import functions as F

        # an object or array variant stays its JSON text: its own schema is not inferred locally
        value = source if glue_type in ("struct", "array") else source.cast(spark_type(glue_type))
        kinds = ["long", "double"] if glue_type == "double" else [glue_type]  # a choice's double holds its whole numbers too
        return F.when(value_type(source, json=self._json_text).isin(kinds), value)

    def _choice_struct(self, source: "Column", types: list[str]) -> "Column":
        from pyspark.sql import functions as F

        return F.struct(*[self._variant_of(source, t).alias(t) for t in types])

    def _resolved_nested(self, column: "Column", steps: list[str], path: str, action: str, choice: list[str] | None,
                         resolved: dict[str, list[str]]) -> "Column":
        """`column` (a top-level struct or array) with the choice at `steps` below it resolved by `action`."""
        if action.startswith(("cast:", "project:")):
            kind, type_ = action.split(":", 1)
            resolved[path] = [type_]
            if kind == "project" and choice:
                return _at_path(column, steps, lambda value: self._variant_of(value, type_))
            return _at_path(column, steps, lambda value: value.cast(spark_type(type_)))
        if action in ("make_struct", "make_cols") and not choice:
            return column  # not a choice here: nothing to resolve
        if action == "make_struct":
            resolved[path] = []
            return _at_path(column, steps, lambda value: self._choice_struct(value, choice))
        if action == "make_cols":
            if steps[-1] == "[]":
                raise ValueError(f"resolveChoice: make_cols on {path!r}, the elements of an array, has no field to make; "
                                 "use make_struct, cast or project")
            name = steps[-1]
            for type_ in choice:
                resolved[f"{path}_{type_}"] = [type_]
            resolved[path] = []

            def split(parent: "Column") -> "Column":
                for type_ in choice:
                    parent = parent.withField(f"{name}_{type_}", self._variant_of(parent.getField(name), type_))
                return parent.dropFields(name)

            return _at_path(column, steps[:-1], split)
        raise ValueError(f"resolveChoice: unknown action {action!r} for {path!r}")

    # -- conversion ------------------------------------------------------------------------------
    def toDF(self, options: Any = None) -> "DataFrame":  # noqa: N802
        """A DataFrame; a choice column becomes a struct with one field per type, as on Glue."""
        choices = self._choices()
        view = self._view()
        if not choices:
            return view
        columns = []
        for name in view.columns:
            column = self._choice_struct(_col(name), choices[name]) if name in choices else _col(name)
            for path, types in choices.items():  # choices inside structs and arrays
                root, steps = path_steps(path)
                if steps and root == name and _has_path(view.schema, path):
                    column = _at_path(column, steps, lambda value, t=types: self._choice_struct(value, t))
            columns.append(column.alias(name))
        return view.select(*columns)

    def schema(self) -> Any:
        """The frame's schema in Glue's type classes (awsglue.gluetypes): a StructType of Fields, a
        field whose type varies a ChoiceType of those types."""
        from cauce.etl.awsglue.gluetypes import ChoiceType, Field, StructType, glue_type, glue_type_of_name

        choices = self._choices()

        def typed(data_type: Any, path: str) -> Any:
            from pyspark.sql import types as T

            if path in choices:
                return ChoiceType([glue_type_of_name(t) for t in choices[path]])
            if isinstance(data_type, T.StructType):
                return StructType([Field(f.name, typed(f.dataType, f"{path}.{f.name}")) for f in data_type.fields])
            if isinstance(data_type, T.ArrayType):
                from cauce.etl.awsglue.gluetypes import ArrayType

                return ArrayType(typed(data_type.elementType, f"{path}[]"))
            return glue_type(data_type)

        return StructType([Field(f.name, typed(f.dataType, f.name)) for f in self._view().schema.fields])

    def printSchema(self) -> None:  # noqa: N802
        print(self._schema_text())

    def _schema_text(self) -> str:
        choices = self._choices()
        lines = ["root"]
        for field in self._view().schema.fields:
            lines += _schema_lines(field, 0, choices, field.name)
        return "\n".join(lines)

    def show(self, num_rows: int = 20) -> None:
        for row in self.toDF().limit(num_rows).collect():
            print(json.dumps(row.asDict(recursive=True), default=str))

    def count(self) -> int:
        return self._df.count()

    def getNumPartitions(self) -> int:  # noqa: N802
        return self._df.rdd.getNumPartitions()

    @_enforces_thresholds
    def repartition(self, num_partitions: int, transformation_ctx: str = "", info: str = "", stageThreshold: int = 0, totalThreshold: int = 0) -> "DynamicFrame":  # noqa: N803
        return self._derive(self._df.repartition(num_partitions))

    @_enforces_thresholds
    def coalesce(self, num_partitions: int, shuffle: bool = False, transformation_ctx: str = "", info: str = "", stageThreshold: int = 0, totalThreshold: int = 0) -> "DynamicFrame":  # noqa: N803
        return self._derive(self._df.repartition(num_partitions) if shuffle else self._df.coalesce(num_partitions))

    # -- errors ----------------------------------------------------------------------------------
    def errorsCount(self) -> int:  # noqa: N802
        return sum(errors.count() for errors in self._errors)

    def stageErrorsCount(self) -> int:  # noqa: N802
        return 0 if self._stage_errors is None else self._stage_errors.count()

    def errorsAsDynamicFrame(self) -> "DynamicFrame":  # noqa: N802
        errors = _error_frame(self.glue_ctx.spark_session)
        for frame in self._errors:
            errors = errors.unionByName(frame)
        return DynamicFrame(errors, self.glue_ctx, f"{self.name}_errors")

    def assertErrorThreshold(self) -> None:  # noqa: N802
        """Computes the frame's errors and raises ErrorThresholdExceeded if the step that made it was given a
        stageThreshold its own error records reach, or a totalThreshold all its error records reach."""
        if self._thresholds is None:
            return
        stage, total, ctx, info, step = self._thresholds
        where = f"{step}" + (f" (transformation_ctx {ctx!r})" if ctx else "") + (f" [{info}]" if info else "")
        if stage and (count := self.stageErrorsCount()) >= stage:
            raise ErrorThresholdExceeded(f"{where}: {count} error record(s) in this transformation reached its stageThreshold of {stage}")
        if total and (count := self.errorsCount()) >= total:
            raise ErrorThresholdExceeded(f"{where}: {count} error record(s) up to and including this transformation "
                                         f"reached its totalThreshold of {total}")

    # -- field transforms ------------------------------------------------------------------------
    @_enforces_thresholds
    def apply_mapping(self, mappings: list[tuple], case_sensitive: bool = False, transformation_ctx: str = "",
                      info: str = "", stageThreshold: int = 0, totalThreshold: int = 0) -> "DynamicFrame":  # noqa: N803
        """Each mapping is (source, source type, target, target type) (or (source, target, type)); fields
        not mapped are dropped, dotted targets build structs, values that do not cast become null."""
        from pyspark.sql import functions as F

        tree: dict[str, Any] = {}
        for mapping in mappings:
            source, target, target_type = (mapping[0], mapping[2], mapping[3]) if len(mapping) == 4 else (mapping[0], mapping[1], mapping[2])
            column = self._source_column(source, case_sensitive)
            if column is None:  # Glue skips a mapping whose source field is absent
                continue
            node = tree
            parts = _split_path(target)
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = column.cast(spark_type(target_type))

        def build(node: dict[str, Any]) -> list["Column"]:
            return [F.struct(*build(value)).alias(key) if isinstance(value, dict) else value.alias(key) for key, value in node.items()]

        return self._derive(self._df.select(*build(tree)), {})

    def _source_column(self, path: str, case_sensitive: bool) -> "Column | None":
        names = {c if case_sensitive else c.lower(): c for c in self._df.columns}
        plain = _unquote(path)
        if (plain if case_sensitive else plain.lower()) in names:
            return _col(names[plain if case_sensitive else plain.lower()])
        parts = _split_path(path)
        head = names.get(parts[0] if case_sensitive else parts[0].lower())
        if head is None:
            return None
        column = _col(head)
        for part in parts[1:]:
            column = column.getField(part)
        return column if len(parts) > 1 else None

    @_enforces_thresholds
    def resolveChoice(self, specs: list[tuple[str, str]] | None = None, choice: str = "", database: str | None = None,  # noqa: N802
                      table_name: str | None = None, transformation_ctx: str = "", info: str = "",
                      stageThreshold: int = 0, totalThreshold: int = 0, catalog_id: str | None = None) -> "DynamicFrame":  # noqa: N803
        """Resolve choice types: `cast:T`, `project:T`, `make_cols`, `make_struct`, `match_catalog`,
        per field (`specs`) or for every choice field (`choice`)."""
        from pyspark.sql import functions as F

        if specs and choice:
            raise ValueError("resolveChoice: give specs or choice, not both")
        catalog_types: dict[str, str] = {}
        if (choice == "match_catalog" or any(a == "match_catalog" for _, a in specs or [])) or (not specs and not choice and database):
            if not (database and table_name):
                raise ValueError("resolveChoice: match_catalog needs database and table_name")
            info_ = self.glue_ctx._environment.catalog.resolve(database, table_name)
            catalog_types = {name.lower(): type_ for name, type_ in info_.columns + info_.partition_keys}
            if not specs and not choice:
                choice = "match_catalog"
        if specs is None:
            specs = [(name, choice) for name in self._choices()] if choice else []
        actions = {_unquote(path): action for path, action in specs}
        nested = {path: action for path, action in actions.items() if path not in self._df.columns and ("." in path or "[]" in path)}
        needs_types = any(a in ("make_cols", "make_struct") or a.startswith("project:") for a in actions.values())
        choices = self._choices() if needs_types else {}
        columns: list[Column] = []
        resolved: dict[str, list[str]] = {}
        for name in self._df.columns:
            action = actions.get(name)
            if action is None:
                columns.append(_col(name))
                continue
            if action == "match_catalog":
                target = catalog_types.get(name.lower())
                action = f"cast:{target}" if target else ""
            if action.startswith("cast:"):
                type_ = action[5:]
                columns.append(_col(name).cast(spark_type(type_)).alias(name))
                resolved[name] = [type_]
            elif action.startswith("project:"):
                type_ = action[8:]
                columns.append((self._variant(name, type_) if name in choices else _col(name).cast(spark_type(type_))).alias(name))
                resolved[name] = [type_]
            elif action == "make_cols" and name in choices:
                for type_ in choices[name]:
                    columns.append(self._variant(name, type_).alias(f"{name}_{type_}"))
                    resolved[f"{name}_{type_}"] = [type_]
                resolved[name] = []
            elif action == "make_struct" and name in choices:
                columns.append(F.struct(*[self._variant(name, t).alias(t) for t in choices[name]]).alias(name))
                resolved[name] = []
            elif action in ("make_cols", "make_struct", ""):
                columns.append(_col(name))
            else:
                raise ValueError(f"resolveChoice: unknown action {action!r} for {name!r}")
        df = self._df.select(*columns)
        nested_choices = self._choices() if nested else {}
        for path, action in nested.items():  # a.b (a field in a struct), xs[] (an array's elements), xs[].p
            root, steps = path_steps(path)
            if not _has_path(df.schema, path):
                continue
            if action == "match_catalog":
                target = catalog_types.get(path.lower())
                if not target:
                    continue
                action = f"cast:{target}"
            df = df.withColumn(root, self._resolved_nested(_col(root), steps, path, action, nested_choices.get(path), resolved))

        def typing(parent: Typing) -> Typing:
            out = {k: v for k, v in parent.items() if _root(k) in df.columns and k not in resolved}
            out.update({k: v for k, v in resolved.items() if v and _root(k) in df.columns})
            return out

        return self._derive(df, typing)

    @_enforces_thresholds
    def drop_fields(self, paths: list[str], transformation_ctx: str = "", info: str = "", stageThreshold: int = 0, totalThreshold: int = 0) -> "DynamicFrame":  # noqa: N803
        df = self._df
        for path in paths:
            plain = _unquote(path)
            if plain in df.columns:
                df = df.drop(plain)
            else:
                parts = _split_path(path)
                if len(parts) > 1 and parts[0] in df.columns:
                    df = df.withColumn(parts[0], _col(parts[0]).dropFields(".".join(parts[1:])))
        return self._derive(df)

    @_enforces_thresholds
    def select_fields(self, paths: list[str], transformation_ctx: str = "", info: str = "", stageThreshold: int = 0, totalThreshold: int = 0) -> "DynamicFrame":  # noqa: N803
        from pyspark.sql import functions as F

        tree: dict[str, Any] = {}  # a nested path keeps its parents: select_fields(["a.b"]) is a: struct<b>
        for path in paths:
            plain = _unquote(path)
            if plain in self._df.columns:
                tree[plain] = _col(plain)
                continue
            column = self._source_column(path, True)
            if column is None:
                continue
            parts = _split_path(path)
            node = tree
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = column

        def build(node: dict[str, Any]) -> list["Column"]:
            return [F.struct(*build(value)).alias(key) if isinstance(value, dict) else value.alias(key) for key, value in node.items()]

        return self._derive(self._df.select(*build(tree)))

    @_enforces_thresholds
    def rename_field(self, oldName: str, newName: str, transformation_ctx: str = "", info: str = "", stageThreshold: int = 0, totalThreshold: int = 0) -> "DynamicFrame":  # noqa: N803
        old, new = _unquote(oldName), _unquote(newName)
        if old in self._df.columns:
            df = self._df.withColumnRenamed(old, new)
        else:
            column = self._source_column(oldName, True)
            if column is None:
                return self._derive(self._df)
            parts = _split_path(oldName)
            df = self._df.withColumn(new, column).withColumn(parts[0], _col(parts[0]).dropFields(".".join(parts[1:])))
        return self._derive(df, lambda t: {(new if k == old else k): v for k, v in t.items()})

    @_enforces_thresholds
    def unnest(self, transformation_ctx: str = "", info: str = "", stageThreshold: int = 0, totalThreshold: int = 0) -> "DynamicFrame":  # noqa: N803
        """Structs flattened into top-level fields named with dots (`a.b`); arrays kept."""
        view = self.toDF()
        return DynamicFrame(view.select(*_flat_columns(view.schema)), self.glue_ctx, self.name, errors=self._errors)

    @_enforces_thresholds
    def unbox(self, path: str, format: str, transformation_ctx: str = "", info: str = "", stageThreshold: int = 0,  # noqa: A002
              totalThreshold: int = 0, **options: Any) -> "DynamicFrame":  # noqa: N803
        """A string field holding JSON (or CSV) parsed into a struct."""
        from pyspark.sql import functions as F

        name = _unquote(path)
        if format != "json":
            raise NotImplementedError(f"unbox format {format!r}: only json is supported locally")
        spark = self.glue_ctx.spark_session
        sample = self._df.select(_col(name).alias("value")).where(F.col("value").isNotNull())
        schema = spark.read.json(sample.rdd.map(lambda row: row.value)).schema
        return self._derive(self._df.withColumn(name, F.from_json(_col(name), schema)),
                            lambda t: {k: v for k, v in t.items() if k != name})

    # -- record transforms -----------------------------------------------------------------------
    @_enforces_thresholds
    def filter(self, f: Callable[[dict], bool], transformation_ctx: str = "", info: str = "", stageThreshold: int = 0, totalThreshold: int = 0) -> "DynamicFrame":  # noqa: N803
        """Records for which `f(record)` is true; a record `f` raises on becomes an error record."""
        view = self.toDF()
        schema = view.schema

        def apply(rows: Iterable[Any]) -> Iterable[tuple[int, Any, str | None]]:
            for row in rows:
                try:
                    yield (1, row, None) if f(row.asDict(recursive=True)) else (0, row, None)
                except Exception as error:  # the record becomes an error record, not a failed job
                    yield (2, row, f"{type(error).__name__}: {error}")

        tagged = view.rdd.mapPartitions(apply)
        spark = self.glue_ctx.spark_session
        kept = spark.createDataFrame(tagged.filter(lambda t: t[0] == 1).map(lambda t: t[1]), schema)
        failed = spark.createDataFrame(
            tagged.filter(lambda t: t[0] == 2).map(lambda t: (json.dumps(t[1].asDict(recursive=True), default=str), t[2], transformation_ctx)),
            "record string, errorMessage string, transformation_ctx string")
        return DynamicFrame(kept, self.glue_ctx, self.name, errors=self._errors, stage_errors=failed)

    @_enforces_thresholds
    def map(self, f: Callable[[dict], dict], preservesPartitioning: bool = False, transformation_ctx: str = "", info: str = "",  # noqa: N803
            stageThreshold: int = 0, totalThreshold: int = 0) -> "DynamicFrame":  # noqa: N803
        """`f(record)` for every record (a dict); the result's schema is read from what `f` returns,
        so a field whose type varies becomes a choice. A record `f` raises on becomes an error record."""
        view = self.toDF()

        def apply(rows: Iterable[Any]) -> Iterable[str]:
            for row in rows:
                record = row.asDict(recursive=True)
                try:
                    yield json.dumps({"ok": f(record)}, default=str)
                except Exception as error:  # the record becomes an error record, not a failed job
                    yield json.dumps({"error": f"{type(error).__name__}: {error}", "record": json.dumps(record, default=str)})

        from cauce.etl.awsglue.context import frame_from_json_lines

        lines = view.rdd.mapPartitions(apply)
        return frame_from_json_lines(self.glue_ctx, lines, self.name, self._errors, transformation_ctx)

    @_enforces_thresholds
    def join(self, paths1: list[str], paths2: list[str], frame2: "DynamicFrame", transformation_ctx: str = "", info: str = "",
             stageThreshold: int = 0, totalThreshold: int = 0) -> "DynamicFrame":  # noqa: N803
        """Equality join keeping both frames' fields; a field both frames have (other than the keys)
        appears once, this frame's value first."""
        from functools import reduce

        from pyspark.sql import functions as F

        paths1 = [paths1] if isinstance(paths1, str) else paths1
        paths2 = [paths2] if isinstance(paths2, str) else paths2
        left, right = self.toDF().alias("l"), frame2.toDF().alias("r")
        condition = reduce(lambda a, b: a & b, [F.col(f"l.{quote(a)}") == F.col(f"r.{quote(b)}") for a, b in zip(paths1, paths2)])
        joined = left.join(right, condition, "inner")
        columns = []
        for name in left.columns:
            if name in right.columns and name not in paths1:
                columns.append(F.coalesce(F.col(f"l.{quote(name)}"), F.col(f"r.{quote(name)}")).alias(name)
                               if left.schema[name].dataType == right.schema[name].dataType else F.col(f"l.{quote(name)}"))
            else:
                columns.append(F.col(f"l.{quote(name)}"))
        columns += [F.col(f"r.{quote(n)}") for n in right.columns if n not in left.columns]
        return DynamicFrame(joined.select(*columns), self.glue_ctx, self.name, errors=self._errors + frame2._errors)

    @_enforces_thresholds
    def mergeDynamicFrame(self, stage_dynamic_frame: "DynamicFrame", primary_keys: list[str], transformation_ctx: str = "",  # noqa: N802
                          options: Any = None, info: str = "", stageThreshold: int = 0, totalThreshold: int = 0) -> "DynamicFrame":  # noqa: N803
        """Records of the staging frame replace this frame's records with the same primary keys."""
        source, stage = self.toDF(), stage_dynamic_frame.toDF()
        kept = source.join(stage.select(*primary_keys).distinct(), list(primary_keys), "left_anti")
        return DynamicFrame(kept.unionByName(stage, allowMissingColumns=True), self.glue_ctx, self.name,
                            errors=self._errors + stage_dynamic_frame._errors)

    @_enforces_thresholds
    def split_fields(self, paths: list[str], name1: str, name2: str, transformation_ctx: str = "", info: str = "",
                     stageThreshold: int = 0, totalThreshold: int = 0) -> "DynamicFrameCollection":  # noqa: N803
        selected = self.select_fields(paths)
        rest = self.drop_fields([p for p in paths if _unquote(p) in self._df.columns])
        return DynamicFrameCollection({name1: selected, name2: rest}, self.glue_ctx)

    @_enforces_thresholds
    def split_rows(self, comparison_dict: dict[str, dict[str, Any]], name1: str, name2: str, transformation_ctx: str = "",
                   info: str = "", stageThreshold: int = 0, totalThreshold: int = 0) -> "DynamicFrameCollection":  # noqa: N803
        """`{"age": {">": 10, "<": 20}}`: records meeting every comparison go to name1, the others to name2."""
        from functools import reduce

        from pyspark.sql import functions as F

        operators = {">": "__gt__", ">=": "__ge__", "<": "__lt__", "<=": "__le__", "=": "__eq__", "==": "__eq__", "!=": "__ne__"}
        view = self._view()
        terms = [getattr(self._source_column(path, True) if _unquote(path) not in view.columns else _col(_unquote(path)), operators[op])(F.lit(value))
                 for path, comparisons in comparison_dict.items() for op, value in comparisons.items()]
        condition = F.coalesce(reduce(lambda a, b: a & b, terms), F.lit(False))
        return DynamicFrameCollection({name1: self._derive(view.filter(condition)), name2: self._derive(view.filter(~condition))}, self.glue_ctx)

    def spigot(self, path: str, options: dict[str, Any] | None = None, transformation_ctx: str = "") -> "DynamicFrame":
        """Writes a sample (the first `topk` records, default 100, or a fraction `prob`) to `path` as JSON."""
        options = options or {}
        sample = self.toDF()
        sample = sample.sample(fraction=float(options["prob"])) if "prob" in options else sample.limit(int(options.get("topk", 100)))
        sample.write.mode("overwrite").json(str(self.glue_ctx._environment.local_path(path)))
        return self

    @_enforces_thresholds
    def relationalize(self, root_table_name: str, staging_path: str | None = None, options: Any = None, transformation_ctx: str = "",
                      info: str = "", stageThreshold: int = 0, totalThreshold: int = 0) -> "DynamicFrameCollection":  # noqa: N803
        from cauce.etl.awsglue.relationalize import relationalize

        tables = relationalize(self.toDF(), root_table_name, self.glue_ctx._environment.staging_folder(staging_path))
        return DynamicFrameCollection({name: DynamicFrame(df, self.glue_ctx, name) for name, df in tables.items()}, self.glue_ctx)

    def __repr__(self) -> str:
        return f"DynamicFrame(name={self.name!r}, columns={self._df.columns})"


def _schema_lines(field: Any, depth: int, choices: Typing | None = None, path: str = "") -> list[str]:
    """printSchema's lines for a field; a field (or array element) at a path in `choices` is a choice."""
    from pyspark.sql.types import ArrayType, StructType

    choices = choices or {}
    indent = "|    " * depth
    data_type = field.dataType
    if path in choices:
        return [f"{indent}|-- {field.name}: choice"] + [f"{indent}|    |-- {t}" for t in choices[path]]
    lines = [f"{indent}|-- {field.name}: {glue_type_name(data_type)}"]
    if isinstance(data_type, StructType):
        for child in data_type.fields:
            lines += _schema_lines(child, depth + 1, choices, f"{path}.{child.name}")
    elif isinstance(data_type, ArrayType):
        element = data_type.elementType
        if f"{path}[]" in choices:
            lines.append(f"{indent}|    |-- element: choice")
            lines += [f"{indent}|    |    |-- {t}" for t in choices[f"{path}[]"]]
            return lines
        lines.append(f"{indent}|    |-- element: {glue_type_name(element)}")
        if isinstance(element, StructType):
            for child in element.fields:
                lines += _schema_lines(child, depth + 2, choices, f"{path}[].{child.name}")
    return lines


def _flat_columns(schema: Any, prefix: list[str] | None = None) -> list["Column"]:
    from pyspark.sql import functions as F
    from pyspark.sql.types import StructType

    prefix = prefix or []
    columns = []
    for field in schema.fields:
        path = prefix + [field.name]
        if isinstance(field.dataType, StructType):
            columns += _flat_columns(field.dataType, path)
        else:
            columns.append(F.col(".".join(quote(p) for p in path)).alias(".".join(path)))
    return columns


class DynamicFrameCollection:
    def __init__(self, dynamic_frames: dict[str, DynamicFrame], glue_ctx: Any):
        self._frames = dict(dynamic_frames)
        self.glue_ctx = glue_ctx

    def __getitem__(self, key: str) -> DynamicFrame:
        return self._frames[key]

    def __len__(self) -> int:
        return len(self._frames)

    def __iter__(self):
        return iter(self._frames)

    def keys(self):
        return self._frames.keys()

    def values(self):
        return self._frames.values()

    def items(self):
        return self._frames.items()

    def select(self, key: str, transformation_ctx: str = "") -> DynamicFrame:
        return self._frames[key]

    def map(self, callable: Callable[[DynamicFrame, str], DynamicFrame], transformation_ctx: str = "") -> "DynamicFrameCollection":  # noqa: A002
        return DynamicFrameCollection({key: callable(frame, f"{transformation_ctx}:{key}") for key, frame in self._frames.items()}, self.glue_ctx)

    def flatMap(self, f: Callable[[DynamicFrame, str], Any], transformation_ctx: str = "") -> "DynamicFrameCollection":  # noqa: N802
        out: dict[str, DynamicFrame] = {}
        for key, frame in self._frames.items():
            result = f(frame, f"{transformation_ctx}:{key}")
            if isinstance(result, DynamicFrameCollection):
                out.update({f"{key}_{k}" if k in out else k: v for k, v in result.items()})
            else:
                out[key] = result
        return DynamicFrameCollection(out, self.glue_ctx)


class DynamicFrameReader:
    """`glueContext.create_dynamic_frame`: from_options, from_catalog, from_rdd."""

    def __init__(self, glue_context: Any):
        self._glue_context = glue_context

    def from_options(self, connection_type: str, connection_options: dict | None = None, format: str | None = None,  # noqa: A002
                     format_options: dict | None = None, transformation_ctx: str = "", push_down_predicate: str = "", **kwargs: Any) -> DynamicFrame:
        return self._glue_context.create_dynamic_frame_from_options(connection_type, connection_options, format, format_options,
                                                                    transformation_ctx, push_down_predicate, **kwargs)

    def from_catalog(self, database: str | None = None, table_name: str | None = None, redshift_tmp_dir: str = "",
                     transformation_ctx: str = "", push_down_predicate: str = "", additional_options: dict | None = None,
                     catalog_id: str | None = None, **kwargs: Any) -> DynamicFrame:
        return self._glue_context.create_dynamic_frame_from_catalog(database, table_name, redshift_tmp_dir, transformation_ctx,
                                                                    push_down_predicate, additional_options, catalog_id, **kwargs)

    def from_rdd(self, data: Any, name: str, schema: Any = None, sample_ratio: float | None = None, transformation_ctx: str = "") -> DynamicFrame:
        return self._glue_context.create_dynamic_frame_from_rdd(data, name, schema, sample_ratio, transformation_ctx)


class DynamicFrameWriter:
    """`glueContext.write_dynamic_frame`: from_options, from_catalog, from_jdbc_conf."""

    def __init__(self, glue_context: Any):
        self._glue_context = glue_context

    def from_options(self, frame: DynamicFrame, connection_type: str = "s3", connection_options: dict | None = None,
                     format: str | None = None, format_options: dict | None = None, transformation_ctx: str = "", **kwargs: Any) -> DynamicFrame:  # noqa: A002
        return self._glue_context.write_dynamic_frame_from_options(frame, connection_type, connection_options, format, format_options,
                                                                   transformation_ctx, **kwargs)

    def from_catalog(self, frame: DynamicFrame, database: str | None = None, table_name: str | None = None, redshift_tmp_dir: str = "",
                     transformation_ctx: str = "", additional_options: dict | None = None, catalog_id: str | None = None, **kwargs: Any) -> DynamicFrame:
        return self._glue_context.write_dynamic_frame_from_catalog(frame, database, table_name, redshift_tmp_dir, transformation_ctx,
                                                                   additional_options, catalog_id, **kwargs)

    def from_jdbc_conf(self, frame: DynamicFrame, catalog_connection: str, connection_options: dict | None = None,
                       redshift_tmp_dir: str = "", transformation_ctx: str = "", catalog_id: str | None = None) -> DynamicFrame:
        return self._glue_context.write_dynamic_frame_from_jdbc_conf(frame, catalog_connection, connection_options, redshift_tmp_dir,
                                                                     transformation_ctx, catalog_id)
