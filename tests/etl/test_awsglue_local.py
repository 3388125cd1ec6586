"""The local awsglue (cauce.etl.awsglue): Glue's documented semantics on plain PySpark."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner


def test_awsglue_is_the_local_one_only_while_installed():
    from cauce.etl import awsglue

    assert not awsglue.is_installed()
    with awsglue.installed():
        import awsglue.context as context

        assert context.__name__ == "cauce.etl.awsglue.context"
        from awsglue import DynamicFrame

        assert DynamicFrame.__module__ == "cauce.etl.awsglue.dynamicframe"
    assert "awsglue.context" not in sys.modules or sys.modules["awsglue.context"].__name__ != "cauce.etl.awsglue.context"
    import awsglue.utils  # AWS's own package (awsgluedataplanepython) again

    assert awsglue.utils.__name__ == "awsglue.utils" and "cauce" not in awsglue.utils.__file__


def test_get_resolved_options_reads_glue_style_arguments():
    from cauce.etl.awsglue.utils import GlueArgumentError, getResolvedOptions

    argv = ["script.py", "--JOB_NAME", "j", "--source=s3://b/k", "--job-bookmark-option", "job-bookmark-enable"]
    assert getResolvedOptions(argv, ["JOB_NAME", "source"]) == {"JOB_NAME": "j", "source": "s3://b/k"}
    with pytest.raises(GlueArgumentError, match="--target"):
        getResolvedOptions(argv, ["JOB_NAME", "target"])


def test_json_with_a_mixed_field_is_a_choice_and_malformed_lines_are_error_records(glue_context, cauce_lake, capsys):
    cauce_lake.put_object("s3://raw/events/a.json", '{"id": 1, "price": 10}\n{"id": 2, "price": "n/a"}\n{oops\n{"id": 3, "price": 12.5}\n')
    frame = glue_context.create_dynamic_frame.from_options("s3", {"paths": ["s3://raw/events/"]}, "json", transformation_ctx="events")
    frame.printSchema()
    assert "|-- price: choice\n|    |-- double\n|    |-- string" in capsys.readouterr().out
    assert frame.count() == 3 and frame.errorsCount() == 1 and frame.stageErrorsCount() == 1
    assert [r.record for r in frame.errorsAsDynamicFrame().toDF().collect()] == ["{oops"]
    as_df = frame.toDF()  # a choice reaches the DataFrame as a struct, as on Glue
    assert as_df.schema["price"].dataType.simpleString() == "struct<double:double,string:string>"
    cast = frame.resolveChoice(specs=[("price", "cast:double")])
    assert sorted(r.price for r in cast.toDF().collect() if r.price is not None) == [10.0, 12.5]
    mapped = frame.apply_mapping([("id", "long", "event.id", "int"), ("price", "double", "amount", "double")])
    assert mapped.toDF().schema.simpleString() == "struct<event:struct<id:int>,amount:double>"
    assert mapped.errorsCount() == 1  # errors stay counted through later steps
    projected = frame.resolveChoice(choice="project:string").toDF()
    assert [r.price for r in projected.collect() if r.price is not None] == ["n/a"]


def test_csv_format_options_and_content_types(glue_context, cauce_lake):
    cauce_lake.put_object("s3://raw/csv/a.csv", "name;qty\n'x;1';3\nb;4\n")
    frame = glue_context.create_dynamic_frame.from_options("s3", {"paths": ["s3://raw/csv/"]}, "csv",
                                                           {"withHeader": True, "separator": ";", "quoteChar": "'"})
    assert [tuple(r) for r in frame.toDF().orderBy("qty").collect()] == [("x;1", 3), ("b", 4)]
    positional = glue_context.create_dynamic_frame.from_options("s3", {"paths": ["s3://raw/csv/"]}, "csv", {"separator": ";", "quoteChar": "'"})
    assert positional.toDF().columns == ["col0", "col1"] and positional.count() == 3  # the header line stays data


def test_transforms_filter_map_split_relationalize(glue_context, spark):
    from cauce.etl.awsglue.dynamicframe import DynamicFrame
    from cauce.etl.awsglue.transforms import DropNullFields, Filter, Map, Relationalize, SelectFromCollection, SplitRows

    df = spark.createDataFrame([(1, "a", None, [1, 2]), (2, "b", None, [3]), (0, "c", None, [])], "id int, tag string, empty string, xs array<int>")
    frame = DynamicFrame.fromDF(df, glue_context, "f")
    assert DropNullFields.apply(frame=frame).toDF().columns == ["id", "tag", "xs"]
    kept = Filter.apply(frame=frame, f=lambda r: 10 / r["id"] > 1)
    assert kept.count() == 2 and kept.stageErrorsCount() == 1  # the record f raised on is an error record
    doubled = Map.apply(frame=frame, f=lambda r: {**r, "id": r["id"] * 2})
    assert sorted(r.id for r in doubled.toDF().collect()) == [0, 2, 4]
    split = SplitRows.apply(frame=frame, comparison_dict={"id": {">": 0}}, name1="pos", name2="rest")
    assert SelectFromCollection.apply(dfc=split, key="pos").count() == 2
    tables = Relationalize.apply(frame=frame.drop_fields(["empty"]), staging_path="s3://tmp/rel/", name="root")
    assert sorted(tables.keys()) == ["root", "root_xs"]
    root = {r.tag: r.xs for r in tables.select("root").toDF().collect()}
    children = tables.select("root_xs").toDF()
    assert children.columns == ["id", "index", "xs.val"]
    assert sorted(r["xs.val"] for r in children.filter(children.id == root["a"]).collect()) == [1, 2]


def test_refused_apis_name_themselves(glue_context):
    from cauce.etl.awsglue.refused import NeedsAwsGlue
    from cauce.etl.awsglue.transforms import EvaluateDataQuality, FindMatches

    with pytest.raises(NeedsAwsGlue, match="FindMatches .*needs AWS Glue"):
        FindMatches.apply(frame=None, transformId="t")
    with pytest.raises(NeedsAwsGlue, match="EvaluateDataQuality needs AWS Glue"):
        EvaluateDataQuality.apply(frame=None, ruleset="Rules = []")
    with pytest.raises(NeedsAwsGlue, match="connection_type='kinesis'"):
        glue_context.create_dynamic_frame.from_options("kinesis", {"streamARN": "arn"})
    with pytest.raises(NeedsAwsGlue, match="format='iceberg'"):
        glue_context.create_dynamic_frame.from_options("s3", {"paths": ["s3://b/t/"]}, "iceberg")


SCRIPT = '''import sys
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job
raise RuntimeError("top-level code ran")
'''


def test_job_list_reads_glue_scripts_without_running_them(tmp_path, monkeypatch):
    from cauce.cli import cli

    (tmp_path / "plain_glue.py").write_text(SCRIPT)
    monkeypatch.setenv("CAUCE_JOBS_PATH", str(tmp_path))
    result = CliRunner().invoke(cli, ["job", "list", "--json"], catch_exceptions=False)
    jobs = {j["name"]: j for j in json.loads(result.stdout)["jobs"]}
    assert jobs["plain_glue"]["kind"] == "glue-script" and jobs["plain_glue"]["path"].endswith("plain_glue.py")


COPY_SCRIPT = '''import sys
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job

args = getResolvedOptions(sys.argv, ["JOB_NAME", "source"])
glueContext = GlueContext(SparkContext())
job = Job(glueContext)
job.init(args["JOB_NAME"], args)
frame = glueContext.create_dynamic_frame.from_options("s3", {"paths": [args["source"]]}, "json", transformation_ctx="src")
glueContext.write_dynamic_frame.from_options(frame=frame, connection_type="s3", format="parquet",
    connection_options={"path": "s3://out/copy/", "partitionKeys": ["k"]}, transformation_ctx="sink")
job.commit()
'''


def test_cauce_job_run_runs_a_plain_glue_script(spark, cauce_lake, tmp_path):
    from cauce.cli import cli

    cauce_lake.put_object("s3://in/data/a.json", '{"k": "x", "v": 1}\n{"k": "y", "v": 2}\n')
    script = tmp_path / "copy_job.py"
    script.write_text(COPY_SCRIPT)
    result = CliRunner().invoke(cli, ["job", "run", str(script), "--lake", str(cauce_lake.root), "--json",
                                      "--JOB_NAME", "copy", "--source", "s3://in/data/"], catch_exceptions=False)
    document = json.loads(result.stdout)
    assert result.exit_code == 0, document
    assert (document["status"], document["rows_read"], document["rows_written"]) == ("SUCCEEDED", {"src": 2}, {"sink": 2})
    assert sorted(p.name for p in (cauce_lake.root / "out" / "copy").iterdir() if p.is_dir()) == ["k=x", "k=y"]


def test_step_functions_glue_start_job_run_sync_runs_a_plain_glue_script(local_runtime, tmp_path, monkeypatch):
    from cauce.core.stack import load_stack
    from cauce.localstack.bindings import StackBindings
    from cauce.statemachines import LocalStepFunctions

    (tmp_path / "copy_job.py").write_text(COPY_SCRIPT)
    monkeypatch.setenv("CAUCE_JOBS_PATH", str(tmp_path))
    local_runtime.lake.put_object("s3://in/data/a.json", '{"k": "x", "v": 1}\n')
    document = {"StartAt": "Copy", "States": {"Copy": {
        "Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync", "End": True,
        "Parameters": {"JobName": "copy_job", "Arguments": {"--source": "s3://in/data/"}}}}}
    stack = load_stack(None)
    with LocalStepFunctions(stack, bindings=StackBindings(stack, runtime=local_runtime)) as sfn:
        result = sfn.run(document)
    assert result.status == "SUCCEEDED", result.cause
    assert (local_runtime.lake.root / "out" / "copy" / "k=x").is_dir()


def test_json_path_multiline_and_push_down_predicate_on_catalog_partitions(glue_context, cauce_lake):
    from cauce.etl.catalog import LocalCatalog, table_input

    cauce_lake.put_object("s3://raw/doc/a.json", json.dumps({"meta": {"n": 2}, "records": [{"id": 1}, {"id": 2}]}, indent=2))
    frame = glue_context.create_dynamic_frame.from_options("s3", {"paths": ["s3://raw/doc/"]}, "json",
                                                           {"jsonPath": "$.records[*]", "multiline": True})
    assert sorted(r.id for r in frame.toDF().collect()) == [1, 2]
    for year, ids in (("2025", [1]), ("2026", [2, 3])):
        cauce_lake.put_object(f"s3://lake/sales/year={year}/part-0.json", "".join(json.dumps({"id": i}) + "\n" for i in ids))
    LocalCatalog(cauce_lake).put_table("db", table_input("sales", "s3://lake/sales/", "json", [("id", "bigint")], [("year", "string")]))
    from cauce.etl.awsglue.job import Job

    job = Job(glue_context)
    job.init("sales-job", {"job-bookmark-option": "job-bookmark-enable"})
    sales = glue_context.create_dynamic_frame.from_catalog(database="db", table_name="sales", push_down_predicate="year = '2026'",
                                                           transformation_ctx="sales")
    assert sorted((r.id, str(r.year)) for r in sales.toDF().collect()) == [(2, "2026"), (3, "2026")]
    job.commit()
    state = json.loads((cauce_lake.state_dir / "bookmarks" / "sales-job.json").read_text())
    assert list(state["contexts"]["sales"]["files"]) == ["s3://lake/sales/year=2026/part-0.json"]  # pruned before reading


def test_malformed_csv_records_are_error_records_however_the_frame_is_queried(glue_context, cauce_lake):
    cauce_lake.put_object("s3://raw/bad/x.csv", 'a,b\n1,2\n3,4,5\n"unclosed,6\n7,8\n')
    frame = glue_context.create_dynamic_frame.from_options("s3", {"paths": ["s3://raw/bad/"]}, "csv", {"withHeader": True})
    assert [tuple(r) for r in frame.toDF().orderBy("a").collect()] == [(1, 2), (7, 8)]
    # a scan of one column must not let the record with a token too many through as good
    assert frame.toDF().select("a").count() == 2 and frame.count() == 2
    assert frame.errorsCount() == 2
    assert sorted(r.record for r in frame.errorsAsDynamicFrame().toDF().collect()) == ['"unclosed,6', "3,4,5"]


def test_gluetypes_are_importable_and_schema_answers_with_them(glue_context, cauce_lake):
    # the type classes of the developer guide's "PySpark extension types" page, as awsglue.gluetypes
    from awsglue.gluetypes import ArrayType, ChoiceType, DecimalType, Field, LongType, StringType, StructType

    cauce_lake.put_object("s3://raw/typed/a.json", '{"id": 1, "price": 10, "tags": ["a"], "who": {"name": "x"}}\n'
                                                   '{"id": 2, "price": "n/a", "tags": [], "who": {"name": "y"}}\n')
    frame = glue_context.create_dynamic_frame.from_options("s3", {"paths": ["s3://raw/typed/"]}, "json")
    schema = frame.schema()
    assert schema == StructType([Field("id", LongType()), Field("price", ChoiceType([LongType(), StringType()])),
                                 Field("tags", ArrayType(StringType())), Field("who", StructType([Field("name", StringType())]))])
    assert [f.name for f in schema] == ["id", "price", "tags", "who"] and schema.hasField("price") and not schema.hasField("nope")
    assert sorted(schema.getField("price").dataType.choices) == ["Long", "String"]  # typeName(): the class name without Type
    assert frame.resolveChoice(specs=[("price", "cast:long")]).schema().getField("price").dataType == LongType()
    assert ArrayType(LongType()).jsonValue() == {"dataType": "Array", "properties": {}, "elementType": {"dataType": "Long", "properties": {}}}
    assert (DecimalType().precision, DecimalType().scale) == (10, 2)
    with pytest.raises(ValueError, match="already has a Long choice"):
        ChoiceType([LongType(), LongType()])


NESTED = ('{"id": 1, "item": {"price": 10, "sku": "a"}, "tags": [1, 2], "lines": [{"qty": 1}]}\n'
          '{"id": 2, "item": {"price": "n/a", "sku": "b"}, "tags": ["x"], "lines": [{"qty": 1}, {"qty": "two"}]}\n'
          '{"id": 3, "item": {"price": 12.5, "sku": "c"}}\n')


def test_choices_inside_structs_and_arrays_are_printed_and_resolved_by_path(glue_context, cauce_lake, capsys):
    # resolveChoice's specs name a field in a struct with dots and an array's elements with [] (the
    # developer guide's DynamicFrame resolveChoice); printSchema shows each nested choice where it is
    from awsglue.gluetypes import ChoiceType, DoubleType, LongType, StringType

    cauce_lake.put_object("s3://raw/nested/a.json", NESTED)
    frame = glue_context.create_dynamic_frame.from_options("s3", {"paths": ["s3://raw/nested/"]}, "json")
    frame.printSchema()
    assert capsys.readouterr().out == "\n".join([
        "root", "|-- id: long", "|-- item: struct", "|    |-- price: choice", "|    |    |-- double", "|    |    |-- string",
        "|    |-- sku: string", "|-- lines: array", "|    |-- element: struct", "|    |    |-- qty: choice",
        "|    |    |    |-- long", "|    |    |    |-- string", "|-- tags: array", "|    |-- element: choice",
        "|    |    |-- long", "|    |    |-- string"]) + "\n"
    assert frame.schema().getField("item").dataType.getField("price").dataType == ChoiceType([DoubleType(), StringType()])
    assert frame.schema().getField("tags").dataType.elementType == ChoiceType([LongType(), StringType()])

    as_df = frame.toDF()  # unresolved, each nested choice is a struct of its types, as on Glue
    assert as_df.schema["item"].dataType.simpleString() == "struct<price:struct<double:double,string:string>,sku:string>"
    assert [r.item.price.asDict() for r in as_df.orderBy("id").collect()] == [
        {"double": 10.0, "string": None}, {"double": None, "string": "n/a"}, {"double": 12.5, "string": None}]
    cast = frame.resolveChoice(specs=[("item.price", "cast:double"), ("tags[]", "cast:long")])
    assert [(r.id, r.item.price, r.tags) for r in cast.toDF().orderBy("id").collect()] == [(1, 10.0, [1, 2]), (2, None, [None]), (3, 12.5, None)]
    projected = frame.resolveChoice(specs=[("item.price", "project:string")])
    assert [r.item.price for r in projected.toDF().orderBy("id").collect()] == [None, "n/a", None]
    cols = frame.resolveChoice(specs=[("lines[].qty", "make_cols")]).toDF()
    assert [[e.asDict() for e in r.lines or []] for r in cols.orderBy("id").collect()] == [
        [{"qty_long": 1, "qty_string": None}], [{"qty_long": 1, "qty_string": None}, {"qty_long": None, "qty_string": "two"}], []]
    dropped = frame.drop_fields(["item.price"]).toDF()  # a nested choice dropped is gone from the DataFrame too
    assert dropped.schema["item"].dataType.simpleString() == "struct<sku:string>"
    every = frame.resolveChoice(choice="cast:string")  # `choice` resolves every choice, nested ones too
    every.printSchema()
    assert "|    |-- price: string" in capsys.readouterr().out
    assert [r.tags for r in every.toDF().orderBy("id").collect()] == [["1", "2"], ["x"], None]
