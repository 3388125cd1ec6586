"""Crawlers on the local lake: tables in the local catalog, read back by the ETL runtime."""

from __future__ import annotations

import pytest

from cauce.localstack.crawler import LocalCrawler
from cauce.etl.catalog import LocalCatalog
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
    assert [name for name, _ in table.partition_keys] == ["year", "month"]
    cauce_lake.local_path("s3://mi-bucket/raw-data/year=2026/month=12/upload.tmp").unlink()  # excluded by the crawler, not by readers
    rows = spark.read.schema(table.schema_ddl).json(str(cauce_lake.local_path(table.location))).collect()  # as CatalogSource reads it
    assert sorted((r["event_id"], r["month"]) for r in rows) == [("e1", 11), ("e2", 11), ("e3", 12)]


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
    put_json_lines(cauce_lake, "s3://mi-bucket/raw-data/day=2/a.json", [{"id": 2}])
    assert LocalCrawler(new_only, cauce_lake, catalog, spark).run().files_scanned == 2


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
    assert again.files_scanned == 2 and again.tables_updated == ["raw_views"]
