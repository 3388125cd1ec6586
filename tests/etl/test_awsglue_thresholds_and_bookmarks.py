"""The local awsglue's error thresholds and bookmark ranges, as the Glue developer guide documents them:
- stageThreshold / totalThreshold ("DynamicFrame class", apply_mapping and the other transforms): the
  number of errors in this transformation / up to and including it at which the process errors out;
  zero, the default, never does. assertErrorThreshold raises when either is reached.
- job bookmarks ("Tracking processed data using job bookmarks"): job-bookmark-pause reads what is new
  since the last successful run without updating the bookmark, or, with job-bookmark-from <run A> and
  job-bookmark-to <run B>, the input delivered after run A up to and including run B."""

from __future__ import annotations

import pytest

EVENTS = '{"id": 1, "n": 5}\n{oops\n{"id": 2, "n": 0}\n{"id": 3, "n": 2}\nnot json either\n'


@pytest.fixture
def events(glue_context, cauce_lake):
    cauce_lake.put_object("s3://raw/events/a.json", EVENTS)
    return glue_context.create_dynamic_frame.from_options("s3", {"paths": ["s3://raw/events/"]}, "json", transformation_ctx="events")


def test_thresholds_of_zero_never_error_out(events):
    divided = events.filter(lambda r: 10 / r["n"] > 1)  # n = 0 raises: an error record of this step
    assert (divided.count(), divided.stageErrorsCount(), divided.errorsCount()) == (2, 1, 3)
    divided.assertErrorThreshold()


def test_stage_threshold_counts_this_transformations_errors_only(events):
    from cauce.etl.awsglue.dynamicframe import ErrorThresholdExceeded

    kept = events.filter(lambda r: 10 / r["n"] > 1, transformation_ctx="divide", stageThreshold=2)  # 1 of its own < 2
    assert sorted(r.id for r in kept.toDF().collect()) == [1, 3]
    with pytest.raises(ErrorThresholdExceeded, match=r"filter \(transformation_ctx 'divide'\): 1 error record\(s\) in this "
                                                     r"transformation reached its stageThreshold of 1"):
        events.filter(lambda r: 10 / r["n"] > 1, transformation_ctx="divide", stageThreshold=1)
    # the two read errors came before this step: they are not this step's
    assert events.apply_mapping([("id", "long", "id", "long")], stageThreshold=1).count() == 3


def test_total_threshold_counts_the_errors_up_to_and_including_this_transformation(events):
    from cauce.etl.awsglue.dynamicframe import ErrorThresholdExceeded
    from cauce.etl.awsglue.transforms import ApplyMapping, Filter

    kept = Filter.apply(frame=events, f=lambda r: 10 / r["n"] > 1, totalThreshold=4)  # 2 read + 1 own = 3 < 4
    assert kept.count() == 2
    with pytest.raises(ErrorThresholdExceeded, match=r"Filter: 3 error record\(s\) up to and including this transformation "
                                                     r"reached its totalThreshold of 3"):
        Filter.apply(frame=events, f=lambda r: 10 / r["n"] > 1, totalThreshold=3)
    with pytest.raises(ErrorThresholdExceeded, match=r"ApplyMapping \(transformation_ctx 'map'\) \[cleanup\]: 3 error record"):
        ApplyMapping.apply(frame=kept, mappings=[("id", "long", "id", "long")], transformation_ctx="map", info="cleanup", totalThreshold=2)
    with pytest.raises(ErrorThresholdExceeded, match=r"drop_fields \(transformation_ctx 'drop'\): 2 error record"):
        events.drop_fields(["n"], "drop", "", 0, 2)  # the thresholds given by position, as Glue's signature allows


def _read_run(glue_context, run_id, option, **range_):
    from cauce.etl.awsglue.job import Job

    job = Job(glue_context)
    job.init("ranged", {"JOB_RUN_ID": run_id, "job-bookmark-option": option, **{f"job-bookmark-{k}": v for k, v in range_.items()}})
    frame = glue_context.create_dynamic_frame.from_options("s3", {"paths": ["s3://raw/orders/"]}, "json", transformation_ctx="orders")
    ids = sorted(r.id for r in frame.toDF().collect()) if frame.toDF().columns else []
    job.commit()
    return ids


def test_bookmark_pause_reads_a_range_of_runs_again_without_moving_the_bookmark(glue_context, cauce_lake):
    from cauce.etl.bookmarks import BookmarkRangeError

    for run, name in (("jr_1", "a"), ("jr_2", "b"), ("jr_3", "c")):
        cauce_lake.put_object(f"s3://raw/orders/{name}.json", "".join(f'{{"id": "{name}{i}"}}\n' for i in (1, 2)))
        assert _read_run(glue_context, run, "job-bookmark-enable") == [f"{name}1", f"{name}2"]
    cauce_lake.put_object("s3://raw/orders/d.json", '{"id": "d1"}\n')  # not yet read by any run
    state = (cauce_lake.state_dir / "bookmarks" / "ranged.json").read_text()

    # what runs after jr_1 up to and including jr_2 delivered: b only (a is ignored, c and d are later)
    assert _read_run(glue_context, "jr_4", "job-bookmark-pause", **{"from": "jr_1", "to": "jr_2"}) == ["b1", "b2"]
    assert _read_run(glue_context, "jr_5", "job-bookmark-pause", to="jr_2") == ["a1", "a2", "b1", "b2"]  # from the first run
    assert _read_run(glue_context, "jr_6", "job-bookmark-pause", **{"from": "jr_2"}) == ["c1", "c2"]  # up to the last commit
    assert _read_run(glue_context, "jr_7", "job-bookmark-pause") == ["d1"]  # no range: what is new since the last commit
    assert (cauce_lake.state_dir / "bookmarks" / "ranged.json").read_text() == state  # pause never moves the bookmark
    assert _read_run(glue_context, "jr_8", "job-bookmark-enable") == ["d1"]

    with pytest.raises(BookmarkRangeError, match=r"--job-bookmark-from jr_0: no committed run of this job has that id .*"
                                                 r"the last committed runs: jr_1, jr_2, jr_3, jr_8"):
        _read_run(glue_context, "jr_9", "job-bookmark-pause", **{"from": "jr_0"})
    with pytest.raises(BookmarkRangeError, match="sub-options of job-bookmark-pause; this run has --job-bookmark-option job-bookmark-enable"):
        _read_run(glue_context, "jr_9", "job-bookmark-enable", to="jr_2")
    with pytest.raises(BookmarkRangeError, match="--job-bookmark-to jr_1 was committed before --job-bookmark-from jr_3"):
        _read_run(glue_context, "jr_9", "job-bookmark-pause", **{"from": "jr_3", "to": "jr_1"})
