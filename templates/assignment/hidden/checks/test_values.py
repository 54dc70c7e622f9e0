"""Checker (no student code in this box): regenerates the inputs and recomputes the answers."""
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "drivers"))
import inputs  # noqa: E402

OUT = os.environ.get("GRADER_OUT", "/out")


@pytest.mark.parametrize("case", range(4))
def test_case(case):
    xs = inputs.cases()[case]
    with open(os.path.join(OUT, f"case_{case}.json")) as f:
        got = json.load(f)
    assert got["squares"] == [x * x for x in xs]
    assert got["sum"] == sum(x * x for x in xs)
