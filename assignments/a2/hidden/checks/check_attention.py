"""hidden_attention checker (trusted box, no student code, no torch): compares the
driver's float64 outputs with numpy float64 attention on regenerated inputs.

Tolerance 1e-9 + 1e-7 relative: a float64 implementation is off by about 1e-15, one that
drops to float32 anywhere by about 1e-8 or more.
"""
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import numpy as np  # noqa: E402

import cases  # noqa: E402
import reference  # noqa: E402

OUT = os.environ.get("GRADER_OUT", "/out")
CONFIGS = {c["name"]: (i, c) for i, c in enumerate(cases.ATTENTION_CONFIGS)}


def driver_error(name):
    """The driver's note on why a config has no output (student-controlled: shortened)."""
    try:
        with open(os.path.join(OUT, "errors.json")) as f:
            errors = json.load(f)["errors"]
        return str(errors.get(name, errors.get("import", "no error noted")))[-400:]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return "no errors.json: the driver did not finish"


def load(name, part, shape):
    path = os.path.join(OUT, f"{name}_{part}.npy")
    assert os.path.isfile(path), f"{name}: no {part} ({driver_error(name)})"
    a = np.load(path, allow_pickle=False)
    assert a.shape == shape, f"{name}: {part} has shape {a.shape}, want {shape}"
    return a.astype(np.float64)


def close(label, got, want):
    assert np.isfinite(got).all(), f"{label}: NaN or inf"
    err = np.abs(got - want).max()
    assert err <= 1e-9 + 1e-7 * np.abs(want).max(), f"{label}: max error {err:.3g}"


def check(names, grads):
    for name in names:
        i, config = CONFIGS[name]
        q, k, v, g = cases.attention_inputs(config, i)
        label = (f"{name} (Nq={config['nq']}, Nk={config['nk']}, causal={config['causal']}, "
                 f"blocks {config['block_q']}x{config['block_k']})")
        if not grads:
            want, _ = reference.attention(q, k, v, config["causal"])
            close(f"{label}: output", load(name, "o", q.shape), want)
            continue
        wants = reference.attention_grads(q, k, v, g, config["causal"])
        for part, want, like in zip(("dq", "dk", "dv"), wants, (q, k, v)):
            close(f"{label}: {part}", load(name, part, like.shape), want)


GROUPS = {
    "noncausal": ["noncausal"],
    "causal_square": ["causal_square"],
    "causal_rectangular": ["causal_tall", "causal_wide"],
    "odd_blocks": ["odd_blocks", "odd_blocks_causal"],
}


@pytest.mark.parametrize("group", list(GROUPS))
def test_forward(group):
    check(GROUPS[group], grads=False)


@pytest.mark.parametrize("group", list(GROUPS))
def test_backward(group):
    check(GROUPS[group], grads=True)
