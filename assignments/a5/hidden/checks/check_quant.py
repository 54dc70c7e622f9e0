"""Checker (no student code): int8 per-channel symmetric weight quantization."""
import json
import os

import numpy as np
import pytest

OUT = os.environ.get("GRADER_OUT", "/out")
EXPECTED = os.environ.get("GRADER_EXPECTED", "/expected")


@pytest.fixture(scope="module")
def out():
    with open(os.path.join(OUT, "quant.json")) as f:
        return json.load(f)


def no_error(out, part):
    for key in ("import", part):
        assert key not in out["errors"], f"{key} raised:\n{out['errors'][key]}"


def npy(folder, name):
    return np.load(os.path.join(folder, name), allow_pickle=False)


def test_scales_per_channel(out):
    no_error(out, "channel")
    got, want = npy(OUT, "scale.npy"), npy(EXPECTED, "scale.npy")
    assert got.shape == want.shape, f"scale shape {got.shape}, expected one per output row {want.shape}"
    assert np.allclose(got, want, rtol=1e-5, atol=0), "scale must be max|row| / 127 (zero row: 1)"


def test_int8_values(out):
    no_error(out, "channel")
    got, want = npy(OUT, "q.npy"), npy(EXPECTED, "q.npy")
    assert got.dtype == np.int8, f"q has dtype {got.dtype}, not int8"
    assert got.shape == want.shape
    got = got.astype(np.int32)
    assert np.abs(got).max() <= 127
    assert np.abs(got - want).max() <= 1 and np.mean(got != want) < 0.01, "q must be round(w / scale)"


def test_logits_match_reference(out):
    no_error(out, "model")
    got, want = npy(OUT, "logits_int8.npy"), npy(EXPECTED, "logits_int8.npy")
    assert got.shape == want.shape
    assert np.allclose(got, want, atol=1e-3), f"max error {np.abs(got - want).max()}"


def test_logits_close_to_float(out):
    no_error(out, "model")
    got, want = npy(OUT, "logits_int8.npy"), npy(EXPECTED, "logits_float.npy")
    assert got.shape == want.shape
    err = np.abs(got - want).max() / np.abs(want).max()
    assert err < 0.03, f"relative error {err:.4f} against the float model (limit 0.03)"
    agree = np.mean(got.argmax(-1) == want.argmax(-1))
    assert agree >= 0.9, f"argmax agrees on {agree:.0%} of positions"
