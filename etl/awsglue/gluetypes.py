"""Glue's type names and choice types on Spark columns.

A DynamicFrame carries a schema per record: where one field holds values of different types in
different records, its type is a *choice* of those types. Locally a choice column is kept as the
one Spark column the reader produced (text for CSV, and for JSON Spark's widened string, which holds a
non-string value as its JSON text), plus the list of types seen; each value's own type is read back
from its text (`value_type`). `toDF()` turns a choice into a struct with one field per type, as Glue does.

It is also `awsglue.gluetypes`: the type classes of the developer guide's "PySpark extension types"
page (DataType, the atomic types, DecimalType, ArrayType, ChoiceType, MapType, Field, StructType...),
which DynamicFrame.schema() answers with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column
    from pyspark.sql.types import DataType as SparkDataType

# Glue (and Hive) type names -> Spark SQL types
_SPARK_TYPES = {
    "string": "string", "varchar": "string", "char": "string",
    "long": "bigint", "bigint": "bigint", "int": "int", "integer": "int", "short": "smallint",
    "smallint": "smallint", "byte": "tinyint", "tinyint": "tinyint",
    "double": "double", "float": "float", "boolean": "boolean", "bool": "boolean",
    "timestamp": "timestamp", "date": "date", "binary": "binary", "null": "string",
}

LONG_TEXT = r"^\s*[-+]?\d{1,18}\s*$"
DOUBLE_TEXT = r"^\s*[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?\s*$"
BOOLEAN_TEXT = r"^(true|false)$"


def spark_type(glue_type: str) -> str:
    """A Glue type name (`long`, `decimal(10,2)`, `array<string>`...) as a Spark SQL type string."""
    name = glue_type.strip().lower()
    if name in _SPARK_TYPES:
        return _SPARK_TYPES[name]
    return name  # decimal(p,s), array<...>, struct<...>, map<...> are spelled the same in Spark


def glue_type_name(data_type: "SparkDataType") -> str:
    """Glue's name for a Spark type (as printSchema shows it)."""
    from pyspark.sql import types as T

    names = {T.LongType: "long", T.IntegerType: "int", T.ShortType: "short", T.ByteType: "byte",
             T.DoubleType: "double", T.FloatType: "float", T.StringType: "string", T.BooleanType: "boolean",
             T.TimestampType: "timestamp", T.DateType: "date", T.BinaryType: "binary", T.NullType: "null"}
    for spark_class, name in names.items():
        if isinstance(data_type, spark_class):
            return name
    if isinstance(data_type, T.DecimalType):
        return f"decimal({data_type.precision},{data_type.scale})"
    if isinstance(data_type, T.ArrayType):
        return "array"
    if isinstance(data_type, T.StructType):
        return "struct"
    if isinstance(data_type, T.MapType):
        return "map"
    return data_type.simpleString()


def value_type(column: "Column", *, json: bool) -> "Column":
    """The type name of each value of a text column: `long`, `double`, `boolean` or `string`
    (for JSON also `struct` and `array`, Spark keeping those as their JSON text); null stays null."""
    from pyspark.sql import functions as F

    text = column.cast("string")
    kinds = F.when(text.rlike(LONG_TEXT), F.lit("long")).when(text.rlike(DOUBLE_TEXT), F.lit("double"))
    if json:
        kinds = kinds.when(text.rlike(BOOLEAN_TEXT), F.lit("boolean")).when(text.startswith("{"), F.lit("struct")) \
            .when(text.startswith("["), F.lit("array"))
    return F.when(column.isNull(), F.lit(None)).otherwise(kinds.otherwise(F.lit("string")))


def merge_types(seen: set[str]) -> list[str]:
    """The types a field takes: numeric kinds widen (long and double are double); anything else
    mixed stays a choice, listed in a fixed order."""
    kinds = set(seen) - {None}
    if {"long", "double"} <= kinds:
        kinds.discard("long")
    order = ["boolean", "long", "double", "string", "struct", "array"]
    return sorted(kinds, key=lambda k: order.index(k) if k in order else len(order))


# -- awsglue.gluetypes: the type classes of the developer guide's "PySpark extension types" page ----------
# DynamicFrame.schema() answers with these, as on Glue: a StructType of Fields, a choice as a ChoiceType.

class DataType:
    """The base of Glue's types: `properties`, `typeName()` (the class name without `Type`), `jsonValue()`."""

    def __init__(self, properties: dict | None = None):
        self.properties = dict(properties or {})

    @classmethod
    def typeName(cls) -> str:  # noqa: N802
        return cls.__name__[:-4] if cls.__name__.endswith("Type") else cls.__name__

    def jsonValue(self) -> dict:  # noqa: N802
        return {"dataType": self.typeName(), "properties": self.properties}

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.jsonValue() == other.jsonValue()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(repr(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.properties})" if self.properties else f"{type(self).__name__}()"


class AtomicType(DataType):
    @classmethod
    def fromJsonValue(cls, json_value: dict) -> "AtomicType":  # noqa: N802
        return cls(json_value.get("properties", {}))


class BinaryType(AtomicType):
    pass


class BooleanType(AtomicType):
    pass


class ByteType(AtomicType):
    pass


class DateType(AtomicType):
    pass


class DoubleType(AtomicType):
    pass


class FloatType(AtomicType):
    pass


class IntegerType(AtomicType):
    pass


class LongType(AtomicType):
    pass


class NullType(AtomicType):
    pass


class ShortType(AtomicType):
    pass


class StringType(AtomicType):
    pass


class TimestampType(AtomicType):
    pass


class UnknownType(AtomicType):
    pass


class DecimalType(AtomicType):
    def __init__(self, precision: int = 10, scale: int = 2, properties: dict | None = None):
        super().__init__(properties)
        self.precision, self.scale = precision, scale

    def jsonValue(self) -> dict:  # noqa: N802
        return {**super().jsonValue(), "precision": self.precision, "scale": self.scale}

    def __repr__(self) -> str:
        return f"DecimalType({self.precision}, {self.scale})"


class EnumType(AtomicType):
    def __init__(self, options: list, properties: dict | None = None):
        super().__init__(properties)
        self.options = list(options)

    def jsonValue(self) -> dict:  # noqa: N802
        return {**super().jsonValue(), "options": self.options}


class ArrayType(DataType):
    def __init__(self, elementType: DataType | None = None, properties: dict | None = None):  # noqa: N803
        super().__init__(properties)
        self.elementType = elementType if elementType is not None else UnknownType()

    def jsonValue(self) -> dict:  # noqa: N802
        return {**super().jsonValue(), "elementType": self.elementType.jsonValue()}

    def __repr__(self) -> str:
        return f"ArrayType({self.elementType!r})"


class ChoiceType(DataType):
    """The types a field takes in different records, one per type name."""

    def __init__(self, choices: list[DataType] | None = None, properties: dict | None = None):
        super().__init__(properties)
        self.choices: dict[str, DataType] = {}
        for choice in choices or []:
            self.add(choice)

    def add(self, new_choice: DataType) -> None:
        if new_choice.typeName() in self.choices:
            raise ValueError(f"ChoiceType already has a {new_choice.typeName()} choice")
        self.choices[new_choice.typeName()] = new_choice

    def merge(self, new_choices: "ChoiceType | list[DataType]") -> None:
        for choice in (new_choices.choices.values() if isinstance(new_choices, ChoiceType) else new_choices):
            if choice.typeName() not in self.choices:
                self.add(choice)

    def jsonValue(self) -> dict:  # noqa: N802
        return {**super().jsonValue(), "choices": [c.jsonValue() for c in self.choices.values()]}

    def __repr__(self) -> str:
        return f"ChoiceType({list(self.choices.values())!r})"


class MapType(DataType):
    def __init__(self, valueType: DataType | None = None, properties: dict | None = None):  # noqa: N803
        super().__init__(properties)
        self.valueType = valueType if valueType is not None else UnknownType()

    def jsonValue(self) -> dict:  # noqa: N802
        return {**super().jsonValue(), "valueType": self.valueType.jsonValue()}

    def __repr__(self) -> str:
        return f"MapType({self.valueType!r})"


class Field:
    def __init__(self, name: str, dataType: DataType, properties: dict | None = None):  # noqa: N803
        self.name, self.dataType, self.properties = name, dataType, dict(properties or {})

    def jsonValue(self) -> dict:  # noqa: N802
        return {"name": self.name, "container": self.dataType.jsonValue(), "properties": self.properties}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Field) and self.jsonValue() == other.jsonValue()

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"Field({self.name!r}, {self.dataType!r})"


class StructType(DataType):
    def __init__(self, fields: list[Field] | None = None, properties: dict | None = None):
        super().__init__(properties)
        self.fields: list[Field] = []
        self.field_map: dict[str, Field] = {}
        for field in fields or []:
            self.add(field)

    def add(self, field: Field) -> None:
        self.fields.append(field)
        self.field_map[field.name] = field

    def hasField(self, field: "Field | str") -> bool:  # noqa: N802
        return (field.name if isinstance(field, Field) else field) in self.field_map

    def getField(self, field: "Field | str") -> Field:  # noqa: N802
        return self.field_map[field.name if isinstance(field, Field) else field]

    def jsonValue(self) -> dict:  # noqa: N802
        return {**super().jsonValue(), "fields": [f.jsonValue() for f in self.fields]}

    def __iter__(self):
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def __repr__(self) -> str:
        return f"StructType({self.fields!r})"


class EntityType(DataType):
    def __init__(self, entity: str, base_type: DataType, properties: dict | None = None):
        super().__init__(properties)
        self.entity, self.base_type = entity, base_type

    def jsonValue(self) -> dict:  # noqa: N802
        return {**super().jsonValue(), "entity": self.entity, "base_type": self.base_type.jsonValue()}


_BY_NAME = {"long": LongType, "int": IntegerType, "short": ShortType, "byte": ByteType, "double": DoubleType, "float": FloatType,
            "string": StringType, "boolean": BooleanType, "timestamp": TimestampType, "date": DateType, "binary": BinaryType,
            "null": NullType}


def glue_type(data_type: "SparkDataType") -> DataType:
    """A Spark SQL type as Glue's type class (a struct's fields and an array's element too)."""
    from pyspark.sql import types as T

    if isinstance(data_type, T.StructType):
        return StructType([Field(f.name, glue_type(f.dataType)) for f in data_type.fields])
    if isinstance(data_type, T.ArrayType):
        return ArrayType(glue_type(data_type.elementType))
    if isinstance(data_type, T.MapType):
        return MapType(glue_type(data_type.valueType))
    if isinstance(data_type, T.DecimalType):
        return DecimalType(data_type.precision, data_type.scale)
    name = glue_type_name(data_type)
    return _BY_NAME.get(name, UnknownType)()


def glue_type_of_name(name: str) -> DataType:
    """A type name of a choice (`long`, `string`, `struct`...) as Glue's type class."""
    return {"struct": StructType, "array": ArrayType}.get(name, _BY_NAME.get(name, UnknownType))()
