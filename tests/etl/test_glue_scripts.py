"""Public AWS Glue scripts (tests/etl/glue_scripts, sources in its README), run unmodified on the
local awsglue, each on small input shaped like its public input, with their outputs checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cauce.etl.catalog import LocalCatalog, table_input

SCRIPTS = Path(__file__).parent / "glue_scripts"

# Medicare_Hospital_Provider.csv as the Glue samples' crawler catalogs it: a header line, quoted
# text, dollar amounts as text; some provider ids are not numbers (why the samples resolve a choice)
MEDICARE_HEADER = ('"DRG Definition","Provider Id","Provider Name","Provider Street Address","Provider City","Provider State",'
                   '"Provider Zip Code","Hospital Referral Region Description"," Total Discharges "," Average Covered Charges ",'
                   '" Average Total Payments ","Average Medicare Payments"')
MEDICARE_ROWS = [
    '"039 - EXTRACRANIAL PROCEDURES W/O CC/MCC",10001,"SOUTHEAST ALABAMA MEDICAL CENTER","1108 ROSS CLARK CIRCLE","DOTHAN","AL",36301,"AL - Dothan",91,"$32963.07","$5777.24","$4763.73"',
    '"039 - EXTRACRANIAL PROCEDURES W/O CC/MCC",10005,"MARSHALL MEDICAL CENTER SOUTH","2505 U S HIGHWAY 431 NORTH","BOAZ","AL",35957,"AL - Birmingham",14,"$15131.85","$5787.57","$4976.71"',
    '"039 - EXTRACRANIAL PROCEDURES W/O CC/MCC",ABC10006,"ELIZA COFFEE MEMORIAL HOSPITAL","205 MARENGO STREET","FLORENCE","AL",35631,"AL - Birmingham",24,"$37560.37","$5434.95","$4453.79"',
    '"057 - DEGENERATIVE NERVOUS SYSTEM DISORDERS W/O MCC",10011,"ST VINCENT\'S EAST","50 MEDICAL PARK EAST DRIVE","BIRMINGHAM","AL",35235,"AL - Birmingham",33,"$13998.28","$5417.56","$4129.16"',
]
MEDICARE_COLUMNS = [("drg definition", "string"), ("provider id", "bigint"), ("provider name", "string"), ("provider street address", "string"),
                    ("provider city", "string"), ("provider state", "string"), ("provider zip code", "bigint"),
                    ("hospital referral region description", "string"), ("total discharges", "bigint"), ("average covered charges", "string"),
                    ("average total payments", "string"), ("average medicare payments", "string")]


def _medicare(lake):
    lake.put_object("s3://awsglue-datasets/examples/medicare/Medicare_Hospital_Provider.csv", "\n".join([MEDICARE_HEADER, *MEDICARE_ROWS]) + "\n")
    LocalCatalog(lake).put_table("payments", table_input("medicare", "s3://awsglue-datasets/examples/medicare/", "csv", MEDICARE_COLUMNS,
                                                         parameters={"skip.header.line.count": "1"}))


def _json_lines(folder: Path) -> list[dict]:
    return [json.loads(line) for path in sorted(folder.glob("part-*")) for line in path.read_text().splitlines() if line]


def test_resolve_choice_sample_resolves_provider_id_four_ways(run_glue_script, cauce_lake):
    _medicare(cauce_lake)
    result = run_glue_script(SCRIPTS / "resolve_choice.py", "--JOB_NAME", "resolve-choice")
    assert result.succeeded, result.error
    out = cauce_lake.root / "glue-sample-target" / "output-dir"
    ids = lambda name, key="provider id": sorted((r.get(key) for r in _json_lines(out / name)), key=str)  # noqa: E731
    assert ids("medicare_json_cast") == [10001, 10005, 10011, None]  # ABC10006 does not cast: null, row kept
    assert ids("medicare_json_project") == [10001, 10005, 10011, None]
    cols = _json_lines(out / "medicare_json_make_cols")
    assert sorted(str(r.get("provider id_string")) for r in cols) == ["ABC10006", "None", "None", "None"]
    assert sorted(str(r.get("provider id_long")) for r in cols) == ["10001", "10005", "10011", "None"]
    structs = sorted(json.dumps(r["provider id"], sort_keys=True) for r in _json_lines(out / "medicare_json_make_struct"))
    assert structs == ['{"long": 10001}', '{"long": 10005}', '{"long": 10011}', '{"string": "ABC10006"}']
    assert sorted(r["total discharges"] for r in _json_lines(out / "medicare_json_sql")) == [33, 91]  # `total discharges` > 30
    assert result.rows_written == {"write_1": 4, "write_2": 4, "write_3": 4, "write_4": 4, "write_5": 2}


def test_data_cleaning_sample_drops_bad_ids_and_nests_with_apply_mapping(run_glue_script, cauce_lake, spark):
    _medicare(cauce_lake)
    result = run_glue_script(SCRIPTS / "data_cleaning_and_lambda.py", "--JOB_NAME", "data-cleaning")
    assert result.succeeded, result.error
    df = spark.read.parquet(str(cauce_lake.root / "glue-sample-target" / "output-dir" / "medicare_parquet"))
    assert df.schema.simpleString() == (
        "struct<drg:string,provider:struct<id:bigint,name:string,city:string,state:string,zip:bigint>,rr:string,"
        "charges:struct<covered:double,total_pay:double,medicare_pay:double>>")
    rows = sorted(df.collect(), key=lambda r: r.provider.id)
    assert [r.provider.id for r in rows] == [10001, 10005, 10011]
    assert rows[0].charges.covered == 32963.07 and rows[0].provider.zip == 36301


def _legislators(lake):
    persons = [
        {"id": "p1", "name": "Ann Ames", "family_name": "Ames", "given_name": "Ann", "gender": "female", "birth_date": "1950-01-01",
         "sort_name": "Ames, Ann", "image": "https://img/p1", "identifiers": [{"scheme": "bioguide", "identifier": "A1"}],
         "other_names": [{"lang": "en", "name": "Annie", "note": "alternate"}], "images": [{"url": "https://img/p1"}],
         "links": [{"note": "Wikipedia", "url": "https://w/p1"}],
         "contact_details": [{"type": "twitter", "value": "annames"}, {"type": "phone", "value": "202"}]},
        {"id": "p2", "name": "Bob Bell", "family_name": "Bell", "given_name": "Bob", "gender": "male", "birth_date": "1960-02-02",
         "sort_name": "Bell, Bob", "image": "https://img/p2", "identifiers": [{"scheme": "bioguide", "identifier": "B2"}],
         "other_names": [], "images": [{"url": "https://img/p2"}], "links": [], "contact_details": [{"type": "twitter", "value": "bobbell"}]},
    ]
    memberships = [
        {"area_id": "ocd/ny", "on_behalf_of_id": "party/d", "organization_id": "o1", "role": "member", "person_id": "p1",
         "legislative_period_id": "term/114", "start_date": "2015-01-06", "end_date": "2017-01-03"},
        {"area_id": "ocd/tx", "on_behalf_of_id": "party/r", "organization_id": "o2", "role": "member", "person_id": "p2",
         "legislative_period_id": "term/114", "start_date": "2015-01-06", "end_date": "2017-01-03"},
    ]
    organizations = [
        {"id": "o1", "name": "House", "classification": "legislature", "image": "https://img/o1", "seats": 435, "type": "lower house",
         "identifiers": [{"scheme": "wikidata", "identifier": "Q11701"}], "other_names": [{"lang": "en", "name": "Lower"}],
         "links": [{"note": "website", "url": "https://house.gov"}]},
        {"id": "o2", "name": "Senate", "classification": "legislature", "image": "https://img/o2", "seats": 100, "type": "upper house",
         "identifiers": [{"scheme": "wikidata", "identifier": "Q66096"}], "other_names": [{"lang": "en", "name": "Upper"}],
         "links": [{"note": "website", "url": "https://senate.gov"}]},
    ]
    catalog = LocalCatalog(lake)
    for table, records in (("persons_json", persons), ("memberships_json", memberships), ("organizations_json", organizations)):
        folder = f"s3://awsglue-datasets/examples/us-legislators/all/{table.removesuffix('_json')}.json"
        lake.put_object(folder + "/part-0.json", "\n".join(json.dumps(r) for r in records) + "\n")
        catalog.put_table("legislators", table_input(table, folder, "json", []))


@pytest.mark.postgres
def test_join_and_relationalize_sample_writes_history_partitions_and_flat_tables(run_glue_script, cauce_lake, spark, postgres):
    _legislators(cauce_lake)
    with postgres.connect() as connection:
        connection.execute("DROP DATABASE IF EXISTS testdb")
        connection.execute("CREATE DATABASE testdb")
    # the sample's Redshift connection, pointed at the local PostgreSQL (same JDBC write path)
    LocalCatalog(cauce_lake).put_connection({"name": "redshift3", "connection_properties": {
        "JDBC_CONNECTION_URL": postgres.jdbc_url, "USERNAME": postgres.user, "PASSWORD": "unused"}})
    result = run_glue_script(SCRIPTS / "join_and_relationalize.py", "--JOB_NAME", "legislators")
    assert result.succeeded, result.error
    out = cauce_lake.root / "glue-sample-target" / "output-dir"
    history = spark.read.parquet(str(out / "legislator_history"))
    assert sorted((r.name, r.org_name) for r in history.select("name", "org_name").collect()) == [("Ann Ames", "House"), ("Bob Bell", "Senate")]
    assert "person_id" not in history.columns and "org_id" not in history.columns and history.columns.count("links") == 1
    assert len(list((out / "legislator_single").glob("part-*.parquet"))) == 1
    assert sorted(p.name for p in (out / "legislator_part").iterdir() if p.is_dir()) == ["org_name=House", "org_name=Senate"]
    with postgres.connect() as connection:
        connection.execute("SELECT 1")
    import psycopg

    with psycopg.connect(host=postgres.host, port=postgres.port, user=postgres.user, dbname="testdb", autocommit=True) as db:
        tables = {row[0] for row in db.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}
        assert {"hist_root", "hist_root_contact_details", "hist_root_links", "hist_root_images", "hist_root_identifiers"} <= tables
        contacts = db.execute('SELECT "contact_details.val.type", "index" FROM hist_root_contact_details ORDER BY id, "index"').fetchall()
        assert contacts == [("twitter", 0), ("phone", 1), ("twitter", 0)]
        # the root's array field holds the id its pivoted rows carry
        joined = db.execute('SELECT r.name, count(*) FROM hist_root r JOIN hist_root_contact_details c ON r.contact_details = c.id GROUP BY r.name ORDER BY r.name').fetchall()
        assert joined == [("Ann Ames", 2), ("Bob Bell", 1)]


def test_unit_testing_sample_reads_csv_positionally_and_fails_at_its_masked_database(run_glue_script, cauce_lake, spark):
    cauce_lake.put_object("s3://somebucket/somepath/data.csv", "4545,1234\n123213,abcdef\n")
    cauce_lake.put_object("s3://outputbucket/datapath/stale.parquet", b"old")
    cauce_lake.put_object("s3://corey/customers/part-0.json", json.dumps({"customerId": "1", "firstname": "John", "lastname": "Smith"}) + "\n")
    LocalCatalog(cauce_lake).put_table("corey-reporting-db", table_input("cust-corey_customer", "s3://corey/customers/", "json", []))
    result = run_glue_script(SCRIPTS / "my_script.py", "--JOB_NAME", "myjob")
    out = cauce_lake.root / "outputbucket" / "datapath"
    assert not (out / "stale.parquet").exists()  # purge_s3_path with retentionPeriod 0
    df = spark.read.parquet(str(out))
    # no withHeader: columns col0, col1; col1 holds a number and a string, a choice, written as Glue writes one (a struct)
    assert df.schema.simpleString() == "struct<col0:bigint,col1:struct<long:bigint,string:string>>"
    assert sorted((r.col0, r.col1.long, r.col1.string) for r in df.collect()) == [(4545, 1234, None), (123213, None, "abcdef")]
    # the sample's database host is masked ('********'): its JDBC write is the one step that cannot run
    assert result.status == "FAILED" and result.error_type == "JdbcConnectionError"
    assert "cannot write poc.customer to jdbc:postgresql://********.us-east-1.rds.amazonaws.com" in result.error and "of my_script.py" in result.error
    assert result.rows_written["write_1"] == 2


def _elt_csv(lake, name: str, rows: list[tuple[int, int, int]]):
    lake.put_object(f"s3://elt0315test/dev-elt_csv/{name}", "a,b,c\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows))


def test_studio_catalog_csv_job_with_bookmarks_reads_only_new_files(run_glue_script, cauce_lake, spark):
    LocalCatalog(cauce_lake).put_table("elt0315test", table_input("dev-elt_csv", "s3://elt0315test/dev-elt_csv/", "csv",
                                                                  [("a", "bigint"), ("b", "bigint"), ("c", "bigint")],
                                                                  parameters={"skip.header.line.count": "1"}))
    _elt_csv(cauce_lake, "one.csv", [(1, 2, 3), (4, 5, 6)])
    args = ("--JOB_NAME", "elt", "--job-bookmark-option", "job-bookmark-enable")
    first = run_glue_script(SCRIPTS / "studio_catalog_csv_to_csv.py", *args)
    assert first.succeeded, first.error
    assert first.rows_read == {"S3bucket_node1": 2} and first.rows_written == {"S3bucket_node3": 2}
    target = str(cauce_lake.root / "eltyangyang0314test123" / "target")
    assert sorted(tuple(r) for r in spark.read.option("header", True).option("inferSchema", True).csv(target).collect()) == [(1, 2, 3), (4, 5, 6)]
    again = run_glue_script(SCRIPTS / "studio_catalog_csv_to_csv.py", *args)
    assert again.succeeded and again.rows_read == {"S3bucket_node1": 0} and again.rows_written == {"S3bucket_node3": 0}
    _elt_csv(cauce_lake, "two.csv", [(7, 8, 9)])
    third = run_glue_script(SCRIPTS / "studio_catalog_csv_to_csv.py", *args)
    assert third.rows_read == {"S3bucket_node1": 1}
    assert spark.read.option("header", True).csv(target).count() == 3


@pytest.mark.parametrize("script, api", [
    ("spark-script-example.py", "connection_type='custom.spark'"),
    ("jdbc-script-example.py", "connection_type='custom.jdbc'"),
    ("studio_dynamodb_to_parquet.py", "connection_type='dynamodb'"),
])
def test_scripts_needing_glue_connectors_are_refused_by_name(run_glue_script, cauce_lake, script, api):
    if script.startswith("studio_dynamodb"):  # the catalog table a DynamoDB crawler makes
        LocalCatalog(cauce_lake).put_table("dynamodb_table", {
            "Name": "youtube_tut", "Parameters": {"classification": "dynamodb"},
            "StorageDescriptor": {"Location": "arn:aws:dynamodb:us-east-1:123456789012:table/youtube_tut", "Columns": []}})
    result = run_glue_script(SCRIPTS / script, "--JOB_NAME", "refused")
    assert result.status == "FAILED" and result.error_type == "NeedsAwsGlue"
    assert api in result.error and "needs AWS Glue" in result.error


# A Glue Studio job calling AWS's custom visual transform (glue_scripts/CustomTransform_FillEmptyStringsInAColumn.py,
# unmodified): the module registers DynamicFrame.fill_empty_null_values_txn when the job imports it.
STUDIO_JOB_WITH_CUSTOM_TRANSFORM = '''
import sys
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job
import CustomTransform_FillEmptyStringsInAColumn

args = getResolvedOptions(sys.argv, ["JOB_NAME", "source", "target"])
glueContext = GlueContext(SparkContext())
job = Job(glueContext)
job.init(args["JOB_NAME"], args)
people = glueContext.create_dynamic_frame.from_options(connection_type="s3", format="csv", format_options={"withHeader": True},
                                                       connection_options={"paths": [args["source"]]}, transformation_ctx="people")
filled = people.fill_empty_null_values_txn("city", "unknown")
typed = ApplyMapping.apply(frame=filled, mappings=[("name", "string", "name", "string"), ("city", "string", "city", "string"),
                                                   ("age", "string", "age", "int")], transformation_ctx="typed")
glueContext.write_dynamic_frame.from_options(frame=typed, connection_type="s3", format="parquet",
                                             connection_options={"path": args["target"]}, transformation_ctx="curated")
job.commit()
'''
CUSTOM_TRANSFORM = SCRIPTS / "CustomTransform_FillEmptyStringsInAColumn.py"


def _people(lake):
    lake.put_object("s3://landing/people/p.csv", "name,city,age\nana,,31\nbo,Lima,27\ncy,,40\n")


@pytest.mark.parametrize("where", ["beside the job", "in --extra-py-files"])
def test_a_custom_transform_module_is_importable_beside_the_job_or_from_extra_py_files(run_glue_script, cauce_lake, spark, tmp_path, where):
    _people(cauce_lake)
    job = tmp_path / "jobs" / "people.py"
    job.parent.mkdir()
    job.write_text(STUDIO_JOB_WITH_CUSTOM_TRANSFORM)
    extra = []
    if where == "beside the job":  # as `python people.py` finds it
        (job.parent / CUSTOM_TRANSFORM.name).write_text(CUSTOM_TRANSFORM.read_text())
    else:  # as Glue gets it: --extra-py-files s3://...
        cauce_lake.put_object(f"s3://artifacts/libs/{CUSTOM_TRANSFORM.name}", CUSTOM_TRANSFORM.read_text())
        extra = ["--extra-py-files", f"s3://artifacts/libs/{CUSTOM_TRANSFORM.name}"]
    import sys

    path_before = list(sys.path)
    result = run_glue_script(job, "--JOB_NAME", "people", "--source", "s3://landing/people/", "--target", "s3://curated/people/", *extra)
    assert result.succeeded, result.error
    rows = spark.read.parquet(str(cauce_lake.root / "curated" / "people")).orderBy("name").collect()
    assert [tuple(r) for r in rows] == [("ana", "unknown", 31), ("bo", "Lima", 27), ("cy", "unknown", 40)]
    assert result.rows_read == {"people": 3} and result.rows_written == {"curated": 3}
    assert sys.path == path_before  # the run's import folders are gone with it


def test_cauce_job_run_runs_a_script_outside_any_project(spark, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from cauce.cli import cli

    monkeypatch.chdir(tmp_path)  # no pyproject.toml here or above: no project, no stack
    monkeypatch.delenv("CAUCE_STACK", raising=False)
    (tmp_path / "people.py").write_text(STUDIO_JOB_WITH_CUSTOM_TRANSFORM)
    (tmp_path / CUSTOM_TRANSFORM.name).write_text(CUSTOM_TRANSFORM.read_text())
    (tmp_path / "lake" / "landing" / "people").mkdir(parents=True)
    (tmp_path / "lake" / "landing" / "people" / "p.csv").write_text("name,city,age\nana,,31\nbo,Lima,27\ncy,,40\n")
    result = CliRunner().invoke(cli, ["job", "run", "people.py", "--lake", "lake", "--json", "--JOB_NAME", "people",
                                      "--source", "s3://landing/people/", "--target", "s3://curated/people/"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output[result.output.index("{"):])
    assert (document["status"], document["rows_read"], document["rows_written"]) == ("SUCCEEDED", {"people": 3}, {"curated": 3})
    assert (document["worker_type"], document["number_of_workers"]) == ("G.1X", 2)  # Glue's defaults without a stack
