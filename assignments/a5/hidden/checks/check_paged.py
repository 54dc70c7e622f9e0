"""Checker (no student code): paged attention against attention over contiguous keys."""
import json
import os

import numpy as np
import pytest

OUT = os.environ.get("GRADER_OUT", "/out")
EXPECTED = os.environ.get("GRADER_EXPECTED", "/expected")
NAMES = {0: "partial last block", 1: "padded block tables", 2: "block size 1", 3: "prefill rows"}


@pytest.fixture(scope="module")
def out():
    with open(os.path.join(OUT, "paged.json")) as f:
        return json.load(f)


def no_error(out, part):
    for key in ("import", part):
        assert key not in out["errors"], f"{key} raised:\n{out['errors'][key]}"


def compare(name):
    got = np.load(os.path.join(OUT, name), allow_pickle=False)
    want = np.load(os.path.join(EXPECTED, name), allow_pickle=False)
    assert got.shape == want.shape, f"shape {got.shape}, expected {want.shape}"
    assert np.allclose(got, want, atol=1e-5, rtol=1e-4), f"max error {np.abs(got - want).max()}"


@pytest.mark.parametrize("i", sorted(NAMES))
def test_paged_equals_contiguous(out, i):
    no_error(out, f"case_{i}")
    compare(f"case_{i}.npy")


def test_write_slots(out):
    """write() puts slot s at block s // block_size, offset s % block_size, in the given layer only."""
    no_error(out, "write")
    compare("write_k.npy")
    compare("write_v.npy")
