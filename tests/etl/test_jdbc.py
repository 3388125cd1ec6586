"""JDBC sources through Glue connection definitions, against a real PostgreSQL server."""

import json
from dataclasses import dataclass

import boto3
import pytest

from cauce.etl import GlueJob, JdbcSource, S3Sink
from cauce.etl.connections import JdbcConnectionError, resolve_jdbc_connection
from cauce.etl.testing import assert_job_succeeded, read_output

pytestmark = pytest.mark.postgres


@pytest.fixture
def orders_table(postgres):
    with postgres.connect() as db:
        db.execute("DROP TABLE IF EXISTS orders")
        db.execute("CREATE TABLE orders (id integer primary key, customer text, total numeric(10,2))")
        db.execute("INSERT INTO orders VALUES (1, 'ana', 10.50), (2, 'luis', 99.99)")
    return postgres


def connection(postgres, password="", **properties):
    return {
        "name": "my-jdbc-connection",
        "connection_type": "JDBC",
        "connection_properties": {
            "JDBC_CONNECTION_URL": postgres.jdbc_url if postgres else "jdbc:postgresql://127.0.0.1:9/none",
            "USERNAME": "cauce",
            "PASSWORD": password,
            **properties,
        },
    }


@dataclass(frozen=True)
class OrdersArgs:
    target_path: str = "s3://lake/orders/"


class ExportOrders(GlueJob):
    name = "export-orders"
    Arguments = OrdersArgs

    def extract(self):
        return self.read(JdbcSource("my-jdbc-connection", "public.orders", bookmark_keys=("id",)), ctx="orders")

    def load(self, orders):
        self.write(orders, S3Sink(self.args.target_path), ctx="orders_out")


def test_reads_a_table_and_bookmarks_by_key(run_glue_job, local_runtime, orders_table, cauce_lake, spark):
    local_runtime.catalog.put_connection(connection(orders_table))
    first = run_glue_job(ExportOrders, "--job-bookmark-option", "job-bookmark-enable")
    assert_job_succeeded(first)
    assert first.rows_read == {"orders": 2}
    with orders_table.connect() as db:
        db.execute("INSERT INTO orders VALUES (3, 'eva', 5.00)")
    second = run_glue_job(ExportOrders, "--job-bookmark-option", "job-bookmark-enable")
    assert second.rows_read == {"orders": 1}
    rows = sorted((r.id, r.customer) for r in read_output(spark, cauce_lake, "s3://lake/orders/").collect())
    assert rows == [(1, "ana"), (2, "luis"), (3, "eva")]


def test_password_from_secrets_manager_dynamic_reference(aws, orders_table):
    boto3.client("secretsmanager").create_secret(Name="db-creds", SecretString=json.dumps({"password": "s3cret"}))
    resolved = resolve_jdbc_connection(connection(orders_table, "{{resolve:secretsmanager:db-creds:SecretString:password}}"))
    assert resolved.password == "s3cret"
    assert "s3cret" not in repr(resolved)


def test_glue_secret_id_property(aws, orders_table):
    boto3.client("secretsmanager").create_secret(Name="glue-db", SecretString=json.dumps({"username": "u", "password": "p"}))
    definition = connection(orders_table, SECRET_ID="glue-db")
    del definition["connection_properties"]["USERNAME"]
    resolved = resolve_jdbc_connection(definition)
    assert (resolved.user, resolved.password) == ("u", "p")


def test_missing_secret_is_named_without_leaking(aws, orders_table):
    with pytest.raises(JdbcConnectionError, match="cannot read secret 'nope': ResourceNotFoundException"):
        resolve_jdbc_connection(connection(orders_table, "{{resolve:secretsmanager:nope:SecretString:password}}"))


def test_refused_connection_is_a_clear_error_with_no_output(run_glue_job, local_runtime, cauce_lake):
    local_runtime.catalog.put_connection(connection(None, "secret-password"))
    result = run_glue_job(ExportOrders)
    assert result.status == "FAILED" and result.error_type == "JdbcConnectionError"
    assert "connection my-jdbc-connection: cannot read public.orders from jdbc:postgresql://127.0.0.1:9/none" in result.error
    assert "refused" in result.error.lower()
    assert "secret-password" not in result.error
    assert not cauce_lake.local_path("s3://lake/orders/").exists()


def test_unknown_connection_is_named(run_glue_job):
    result = run_glue_job(ExportOrders)
    assert result.status == "FAILED" and "connection 'my-jdbc-connection' not found in the local catalog" in result.error


def test_bookmark_range_rereads_the_rows_of_a_run_from_the_database(run_glue_job, local_runtime, orders_table, cauce_lake, spark):
    # Glue's job bookmarks page: job-bookmark-pause with job-bookmark-from/-to reads what the runs after
    # `from` up to and including `to` delivered, and does not move the bookmark
    local_runtime.catalog.put_connection(connection(orders_table))
    assert run_glue_job(ExportOrders, "--job-bookmark-option", "job-bookmark-enable", "--JOB_RUN_ID", "jr_1").rows_read == {"orders": 2}
    with orders_table.connect() as db:
        db.execute("INSERT INTO orders VALUES (3, 'eva', 5.00), (4, 'rui', 7.25)")
    assert run_glue_job(ExportOrders, "--job-bookmark-option", "job-bookmark-enable", "--JOB_RUN_ID", "jr_2").rows_read == {"orders": 2}
    with orders_table.connect() as db:
        db.execute("INSERT INTO orders VALUES (5, 'ivo', 1.00)")  # after jr_2: outside the range
    again = run_glue_job(ExportOrders, "--job-bookmark-option", "job-bookmark-pause", "--job-bookmark-from", "jr_1",
                         "--job-bookmark-to", "jr_2", "--JOB_RUN_ID", "jr_3", "--target_path", "s3://lake/again/")
    assert_job_succeeded(again)
    assert sorted((r.id, r.customer) for r in read_output(spark, cauce_lake, "s3://lake/again/").collect()) == [(3, "eva"), (4, "rui")]
    state = json.loads((cauce_lake.state_dir / "bookmarks" / "export-orders.json").read_text())
    assert (state["runs"], state["contexts"]["orders"]["jdbc_max"]) == (["jr_1", "jr_2"], [4])
