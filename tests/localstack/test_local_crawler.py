"""Crawlers on the local lake: tables in the local catalog, read back by the ETL runtime."""

from __future__ import annotations

import pytest

from cauce.localstack.crawler import LocalCrawler
from cauce.etl.catalog import CatalogError, LocalCatalog
from cauce.etl.testing import put_json_lines


def crawler(**overrides):
    return {"name": "raw-data-crawler", "database_name": "raw_data", "table_prefix": "raw_",
            "s3_target": [{"path": "s3://mi-bucket/raw-data/", "exclusions": ["*.tmp", "*.temp"]}],
            "schema_change_policy": {"update_behavior": "UPDATE_IN_DATABASE", "delete_behavior": "LOG"},
            "recrawl_policy": {"recrawl_behavior": "CRAWL_EVERYTHING"}, **overrides}


@pytest.fixture
def catalog(cauce_lake):
    return LocalCatalog(cauce_lake)


def test_a_crawl_registers_the_target_with_its_partitions_and_the_table_reads_back(cauce_lake, catalog, spark):
    put_json_lines(cauce_lake, "s3://mi-bucket/raw-data/year=2026/month=11/part-0.json.gz", [{"event_id": "e1", "amount": 1.5}, {"event_id": "e2", "amount": 2.0}])
    put_json_lines(cauce_lake, "s3://mi-bucket/raw-data/year=2026/month=12/part-0.json.gz", [{"event_id": "e3", "amount": 3.0}])
    cauce_lake.put_object("s3://mi-bucket/raw-data/year=2026/month=12/upload.tmp", b"not data")
    cauce_lake.put_object("s3://mi-bucket/raw-data/_SUCCESS", b"")

    result = LocalCrawler(crawler(), cauce_lake, catalog, spark).run()

    assert result.tables_created == ["raw_raw_data"] and result.files_scanned == 2 and result.partitions == 2
    table = catalog.resolve("raw_data", "raw_raw_data")
    assert table.format == "json" and table.location == "s3://mi-bucket/raw-data/"
    assert dict(table.columns) == {"amount": "double", "event_id": "string"}
    assert table.partition_keys == (("year", "string"), ("month", "string"))  # Glue types Hive partition keys `string`
    assert [(p["Values"], p["StorageDescriptor"]["Location"]) for p in catalog.get_partitions("raw_data", "raw_raw_data")] == [
        (["2026", "11"], "s3://mi-bucket/raw-data/year=2026/month=11/"), (["2026", "12"], "s3://mi-bucket/raw-data/year=2026/month=12/")]
    cauce_lake.local_path("s3://mi-bucket/raw-data/year=2026/month=12/upload.tmp").unlink()  # excluded by the crawler, not by readers
    rows = spark.read.schema(table.schema_ddl).json(str(cauce_lake.local_path(table.location))).collect()  # as CatalogSource reads it
    assert sorted((r["event_id"], r["month"]) for r in rows) == [("e1", "11"), ("e2", "11"), ("e3", "12")]


def test_a_changed_schema_is_updated_or_only_logged_as_the_policy_says(cauce_lake, catalog, spark):
    put_json_lines(cauce_lake, "s3://mi-bucket/raw-data/a.json", [{"id": 1}])
    LocalCrawler(crawler(), cauce_lake, catalog, spark).run()
    put_json_lines(cauce_lake, "s3://mi-bucket/raw-data/b.json", [{"id": 2, "extra": "x"}])

    logged = LocalCrawler(crawler(schema_change_policy={"update_behavior": "LOG", "delete_behavior": "LOG"}), cauce_lake, catalog, spark).run()
    assert logged.tables_updated == [] and "schema changed" in logged.changes_logged[0]
    assert dict(catalog.resolve("raw_data", "raw_raw_data").columns) == {"id": "bigint"}

    updated = LocalCrawler(crawler(), cauce_lake, catalog, spark).run()
    assert updated.tables_updated == ["raw_raw_data"]
    assert dict(catalog.resolve("raw_data", "raw_raw_data").columns) == {"extra": "string", "id": "bigint"}


@pytest.mark.parametrize("behavior, expect", [("DELETE_FROM_DATABASE", "deleted"), ("DEPRECATE_IN_DATABASE", "deprecated"), ("LOG", "logged")])
def test_a_target_with_no_files_left_follows_the_delete_behavior(cauce_lake, catalog, spark, behavior, expect):
    put_json_lines(cauce_lake, "s3://mi-bucket/raw-data/a.json", [{"id": 1}])
    LocalCrawler(crawler(), cauce_lake, catalog, spark).run()
    cauce_lake.local_path("s3://mi-bucket/raw-data/a.json").unlink()

    result = LocalCrawler(crawler(schema_change_policy={"update_behavior": "LOG", "delete_behavior": behavior}), cauce_lake, catalog, spark).run()

    assert result.empty_targets == ["s3://mi-bucket/raw-data/"]
    tables = catalog.tables("raw_data")
    if expect == "deleted":
        assert result.tables_deleted == ["raw_raw_data"] and tables == []
    elif expect == "deprecated":
        assert catalog.get_table("raw_data", "raw_raw_data")["Parameters"]["DEPRECATED_BY_CRAWLER"] == "raw-data-crawler"
    else:
        assert tables == ["raw_raw_data"] and "files are gone" in result.changes_logged[0]


def test_crawl_new_folders_only_skips_what_it_has_seen(cauce_lake, catalog, spark):
    new_only = crawler(recrawl_policy={"recrawl_behavior": "CRAWL_NEW_FOLDERS_ONLY"},
                       schema_change_policy={"update_behavior": "LOG", "delete_behavior": "LOG"})
    put_json_lines(cauce_lake, "s3://mi-bucket/raw-data/day=1/a.json", [{"id": 1}])
    assert LocalCrawler(new_only, cauce_lake, catalog, spark).run().files_scanned == 1
    assert LocalCrawler(new_only, cauce_lake, catalog, spark).run().files_scanned == 0
    put_json_lines(cauce_lake, "s3://mi-bucket/raw-data/day=2/a.json", [{"id": 2, "note": "new"}])
    again = LocalCrawler(new_only, cauce_lake, catalog, spark).run()
    assert (again.files_scanned, again.partitions) == (1, 1)  # only the new folder's file is read, and added as a partition
    assert [p["Values"] for p in catalog.get_partitions("raw_data", "raw_raw_data")] == [["1"], ["2"]]
    assert "raw_data.raw_raw_data: schema changed" in again.changes_logged[0]  # LOG: the new column is reported, not applied
    assert dict(catalog.resolve("raw_data", "raw_raw_data").columns) == {"id": "bigint"}


def test_csv_and_parquet_are_recognised_by_content(cauce_lake, catalog, spark):
    cauce_lake.put_object("s3://mi-bucket/raw-data/ticks", b"ticker,price\nA,1.5\n")
    result = LocalCrawler(crawler(), cauce_lake, catalog, spark).run()
    assert result.tables_created == ["raw_raw_data"]
    table = catalog.resolve("raw_data", "raw_raw_data")
    assert table.format == "csv" and dict(table.columns) == {"price": "double", "ticker": "string"}


def test_after_the_lake_moves_the_crawler_state_and_tables_still_hold(cauce_lake, catalog, spark, tmp_path):
    import shutil

    from cauce.core.lake import LocalLake

    new_only = crawler(recrawl_policy={"recrawl_behavior": "CRAWL_NEW_FOLDERS_ONLY"},
                       schema_change_policy={"update_behavior": "LOG", "delete_behavior": "LOG"})
    put_json_lines(cauce_lake, "s3://mi-bucket/raw-data/day=1/a.json", [{"id": 1}])
    assert LocalCrawler(new_only, cauce_lake, catalog, spark).run().files_scanned == 1
    (tmp_path / "elsewhere").mkdir()
    shutil.move(str(cauce_lake.root), str(tmp_path / "elsewhere" / "lake"))
    lake = LocalLake(tmp_path / "elsewhere" / "lake")
    moved_catalog = LocalCatalog(lake)

    assert LocalCrawler(new_only, lake, moved_catalog, spark).run().files_scanned == 0  # seen folders are still seen
    table = moved_catalog.resolve("raw_data", "raw_raw_data")
    assert table.location == "s3://mi-bucket/raw-data/" and lake.local_path(table.location).is_dir()
    assert str(tmp_path) not in (lake.state_dir / "crawlers" / "raw-data-crawler.json").read_text()


def test_crawl_new_folders_only_tells_the_same_folder_name_under_two_targets_apart(cauce_lake, catalog, spark):
    two_targets = crawler(recrawl_policy={"recrawl_behavior": "CRAWL_NEW_FOLDERS_ONLY"},
                          s3_target=[{"path": "s3://mi-bucket/clicks/"}, {"path": "s3://mi-bucket/views/"}])
    put_json_lines(cauce_lake, "s3://mi-bucket/clicks/day=1/a.json", [{"id": 1}])
    put_json_lines(cauce_lake, "s3://mi-bucket/views/day=2/a.json", [{"id": 2}])
    LocalCrawler(two_targets, cauce_lake, catalog, spark).run()
    put_json_lines(cauce_lake, "s3://mi-bucket/views/day=1/a.json", [{"id": 3, "extra": "x"}])  # new under views only

    again = LocalCrawler(two_targets, cauce_lake, catalog, spark).run()
    assert again.files_scanned == 1 and again.tables_updated == ["raw_views"]
    assert dict(catalog.resolve("raw_data", "raw_views").columns) == {"id": "bigint", "extra": "string"}  # merged, not replaced


def test_the_built_in_classifiers_recognise_orc_avro_xml_and_apache_logs_and_call_the_rest_unknown(cauce_lake, catalog, spark):
    """Glue Developer Guide, "Defining and managing classifiers": the built-in classifiers and their
    classification strings; UNKNOWN when none is certain."""
    spark.createDataFrame([("a", 1)], "name string, n int").write.orc(str(cauce_lake.local_path("s3://mi-bucket/orc-data/")))
    cauce_lake.put_object("s3://mi-bucket/avro-data/part-0.avro", avro_container(
        {"type": "record", "name": "Tick", "fields": [{"name": "symbol", "type": "string"}, {"name": "price", "type": ["null", "double"]},
                                                      {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}))
    cauce_lake.put_object("s3://mi-bucket/xml-data/a.xml", b'<?xml version="1.0"?><orders><order id="1"/></orders>')
    # the combined log format's example line in the Apache HTTP Server documentation ("Log Files")
    cauce_lake.put_object("s3://mi-bucket/web-logs/access.log", b'127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" '
                                                                b'200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"\n')
    cauce_lake.put_object("s3://mi-bucket/piped/a.txt", b"ticker|price\nA|1.5\nB|2\n")
    cauce_lake.put_object("s3://mi-bucket/notes/a.txt", b"just some words\nwith no structure\n")
    targets = [{"path": f"s3://mi-bucket/{name}/"} for name in ("orc-data", "avro-data", "xml-data", "web-logs", "piped", "notes")]

    LocalCrawler(crawler(s3_target=targets, table_prefix=""), cauce_lake, catalog, spark).run()

    classified = {name: catalog.get_table("raw_data", name)["Parameters"]["classification"] for name in catalog.tables("raw_data")}
    assert classified == {"orc_data": "orc", "avro_data": "avro", "xml_data": "xml", "web_logs": "combined_apache", "piped": "csv",
                          "notes": "UNKNOWN"}
    assert dict(catalog.resolve("raw_data", "orc_data").columns) == {"name": "string", "n": "int"}
    columns = lambda table: [(c["Name"], c["Type"]) for c in catalog.get_table("raw_data", table)["StorageDescriptor"]["Columns"]]  # noqa: E731
    assert columns("avro_data") == [("symbol", "string"), ("price", "double"), ("at", "timestamp")]
    assert dict(catalog.resolve("raw_data", "piped").columns) == {"ticker": "string", "price": "double"}
    assert catalog.get_table("raw_data", "piped")["Parameters"]["delimiter"] == "|"
    assert [name for name, _ in columns("web_logs")][:4] == ["clientip", "ident", "auth", "timestamp"]
    assert columns("notes") == []
    with pytest.raises(CatalogError, match="raw_data.avro_data is classified 'avro': the local runtime reads json, csv, parquet and orc"):
        catalog.resolve("raw_data", "avro_data")


def avro_container(schema: dict) -> bytes:
    """An Avro object container file with no records, encoded as the Avro 1.11 specification's
    "Object Container Files" section gives it: magic, a metadata map, a 16-byte sync marker."""
    import json as json_module

    def long(value: int) -> bytes:
        value = (value << 1) ^ (value >> 63)
        out = bytearray()
        while value > 0x7F:
            out.append((value & 0x7F) | 0x80)
            value >>= 7
        return bytes(out + bytes([value]))

    def text(value: bytes) -> bytes:
        return long(len(value)) + value

    metadata = {b"avro.schema": json_module.dumps(schema).encode(), b"avro.codec": b"null"}
    return b"Obj\x01" + long(len(metadata)) + b"".join(text(k) + text(v) for k, v in metadata.items()) + long(0) + b"\x00" * 16
