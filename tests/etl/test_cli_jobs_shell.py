"""`cauce shell`: a Python prompt with spark, lake and catalog, where s3:// URIs read the lake as on Glue."""

import json

from click.testing import CliRunner

from cauce.cli import cli


def test_the_shell_reads_s3_uris_from_the_lake(tmp_path, spark):
    lake = tmp_path / "lake"
    (lake / "shell-bucket" / "events").mkdir(parents=True)
    (lake / "shell-bucket" / "events" / "part-0.json").write_text("".join(json.dumps({"n": n}) + "\n" for n in range(3)))
    session = "print('rows:', spark.read.json('s3://shell-bucket/events/').count())\n"
    result = CliRunner().invoke(cli, ["shell", "--lake", str(lake)], input=session)
    assert result.exit_code == 0, result.output
    assert "buckets: shell-bucket" in result.output and "spark.read.parquet('s3://shell-bucket/...')" in result.output
    assert "rows: 3" in result.output
