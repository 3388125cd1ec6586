"""The HTML report's pipeline diagram: each box's text stays inside its box (looked at in Chromium:
a 26-character cut ran past the 160-pixel boxes)."""

from __future__ import annotations

import pytest

from cauce.localstack.report import _box_lines


@pytest.mark.parametrize("detail, lines", [
    ("20,016 delivered, 175 failed", ["20,016 delivered,", "175 failed"]),
    ("SUCCEEDED: 19,624 curated", ["SUCCEEDED:", "19,624 curated"]),
    ("1 windows", ["1 windows"]),
])
def test_a_box_detail_breaks_after_a_comma_or_colon_and_loses_nothing(detail, lines):
    assert _box_lines(detail) == lines
    assert all(len(line) <= 21 for line in lines)
