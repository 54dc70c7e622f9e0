"""Checker (no student code): greedy decoding with the KV cache against decoding without it."""
import json
import os

import numpy as np
import pytest

OUT = os.environ.get("GRADER_OUT", "/out")
EXPECTED = os.environ.get("GRADER_EXPECTED", "/expected")


def load_json(folder, name):
    with open(os.path.join(folder, name)) as f:
        return json.load(f)


def load_npy(folder, name):
    return np.load(os.path.join(folder, name), allow_pickle=False)


@pytest.fixture(scope="module")
def out():
    return load_json(OUT, "decode.json")


@pytest.fixture(scope="module")
def exp():
    return load_json(EXPECTED, "decode.json")


def no_error(out, part):
    for key in ("import", part):
        assert key not in out["errors"], f"{key} raised:\n{out['errors'][key]}"


@pytest.mark.parametrize("i", ["0", "1", "2", "3"])
def test_greedy_tokens_equal_uncached(out, exp, i):
    """Prompt lengths 1, 5, 16, 40; 24 new tokens each."""
    no_error(out, f"greedy_{i}")
    got, want = out["greedy"].get(i), exp["greedy"][i]
    assert got == want, f"prompt {i}: got {got}, expected {want}"


def test_stepwise_logits(out):
    """Feeding the prompt one token at a time through KVCache gives the full forward's logits."""
    no_error(out, "stepwise")
    got, want = load_npy(OUT, "stepwise.npy"), load_npy(EXPECTED, "stepwise.npy")
    assert got.shape == want.shape
    assert np.allclose(got, want, atol=1e-4, rtol=1e-4), f"max error {np.abs(got - want).max()}"


def test_chunked_logits(out, exp):
    """Chunks of 7 tokens (a causal mask inside each chunk, offset by the cache length)."""
    no_error(out, "chunked")
    got, want = load_npy(OUT, "chunked.npy"), load_npy(EXPECTED, "chunked.npy")
    assert got.shape == want.shape
    assert np.allclose(got, want, atol=1e-4, rtol=1e-4), f"max error {np.abs(got - want).max()}"
    assert out.get("chunked_cache_length") == exp["chunked_cache_length"], "KVCache.length is wrong"
