import datetime as dt
import enum
from dataclasses import dataclass, field

import pytest

from cauce.etl.arguments import JobArgumentError, parse_glue_arguments, parse_job_arguments, split_argv


class Mode(enum.Enum):
    FULL = "full"
    DELTA = "delta"


@dataclass(frozen=True)
class Args:
    source_path: str
    batch_size: int = 100
    ratio: float = 0.5
    dry_run: bool = False
    run_date: dt.date | None = None
    tables: list[str] = field(default_factory=list)
    mode: Mode = Mode.FULL


# What AWS Glue really passes to a job script (script path first, reserved arguments mixed in).
GLUE_ARGV = [
    "script_2026-11-26.py", "--JOB_ID", "j_0123", "--job-bookmark-option", "job-bookmark-enable",
    "--JOB_RUN_ID", "jr_abc", "--JOB_NAME", "curate", "--TempDir", "s3://tmp/curate/",
    "--enable-metrics", "--source_path", "s3://raw/events/", "--batch-size", "500",
]


def test_glue_argv_resolves_typed_arguments_and_reserved_ones():
    values = split_argv(GLUE_ARGV)
    args, warnings = parse_job_arguments(Args, values, "curate")
    glue = parse_glue_arguments(values, "default")
    assert args == Args(source_path="s3://raw/events/", batch_size=500)
    assert warnings == []
    assert (glue.JOB_NAME, glue.JOB_RUN_ID, glue.TempDir) == ("curate", "jr_abc", "s3://tmp/curate/")
    assert glue.job_bookmark_option == "job-bookmark-enable"
    assert glue.enable_metrics is True  # a bare flag, as Terraform's "--enable-metrics" = "" gives


def test_every_type_converts():
    values = split_argv(["--source_path=s3://x/", "--ratio", "0.25", "--dry_run", "false", "--run_date", "2026-11-01",
                         "--tables", "a, b,c", "--mode", "delta"])
    args, _ = parse_job_arguments(Args, values, "j")
    assert args.ratio == 0.25 and args.dry_run is False and args.run_date == dt.date(2026, 11, 1)
    assert args.tables == ["a", "b", "c"] and args.mode is Mode.DELTA


def test_each_missing_or_malformed_argument_is_named_at_once():
    values = split_argv(["--batch_size", "many", "--ratio", "half", "--mode", "sometimes"])
    with pytest.raises(JobArgumentError) as caught:
        parse_job_arguments(Args, values, "curate")
    problems = caught.value.problems
    assert problems[0] == "--source_path: missing (required, str)"
    assert "--batch_size: 'many' is not a valid int" in problems[1]
    assert "--ratio: 'half' is not a valid float" in problems[2]
    assert "--mode: 'sometimes' is not a valid Mode (expected one of full, delta)" in problems[3]
    assert str(caught.value).startswith("job curate: 4 argument problem(s):")


def test_an_unknown_argument_is_refused_with_a_suggestion_and_reserved_ones_are_not():
    values = split_argv(["--source_path", "s3://x/", "--batch_szie", "3", "--TempDir", "s3://t/", "--conf", "a=b"])
    with pytest.raises(JobArgumentError) as caught:
        parse_job_arguments(Args, values, "curate")
    assert caught.value.problems == ["--batch_szie: not an argument of job curate (did you mean --batch_size?)"]


def test_a_job_that_accepts_unknown_arguments_is_warned_instead():
    values = split_argv(["--source_path", "s3://x/", "--batch_szie", "3", "--TempDir", "s3://t/"])
    _, warnings = parse_job_arguments(Args, values, "curate", accept_unknown=True)
    assert warnings == ["--batch_szie: not an argument of job curate, ignored (did you mean --batch_size?)"]


def test_bad_arguments_are_reported_before_spark_starts():
    from cauce.etl import GlueJob
    from cauce.etl.runner import run_job

    class Curate(GlueJob):
        Arguments = Args

    class NoSpark:
        name = "local"

        @property
        def spark(self):
            raise AssertionError("Spark was started before the arguments were checked")

    result = run_job(Curate, {"sourcepath": "s3://x/"}, NoSpark())
    assert (result.status, result.error_type) == ("FAILED", "JobArgumentError")
    assert "--sourcepath: not an argument of job curate (did you mean --source_path?)" in result.error


def test_bad_bookmark_option_is_rejected():
    with pytest.raises(JobArgumentError, match="job-bookmark-sometimes"):
        parse_glue_arguments({"job-bookmark-option": "job-bookmark-sometimes"}, "j")
