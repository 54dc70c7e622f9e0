"""Checker (no student code): the quantized layers' outputs against int8 per-channel
quantization recomputed here from the same seeded weights, and the box's peak memory (measured
by the sandbox, /measured, written by the grader) against the reference solution's run in the
same grading. Keeping a float copy of the weights costs 192 MiB; the reference's peak varies
by about 1 MiB between runs on this host."""
import json
import os
import sys

import numpy as np

OUT = os.environ.get("GRADER_OUT", "/out")
MIB = 1 << 20
FLOAT_BYTES = 3 * 4096 * 4096 * 4
MARGIN = 64 * MIB


def measured(name):
    with open(os.path.join("/measured", f"{name}.json")) as f:
        facts = json.load(f)
    if not isinstance(facts.get("peak_memory_bytes"), int):
        print("hidden_quant_memory: the sandbox measured no peak memory", file=sys.stderr)
        os._exit(3)  # a grading-side gap (no memory cgroup), never the student's zero
    return facts


STUDENT, BASELINE = measured("student"), measured("baseline")


def reference_outputs():
    """Each layer applied to x with per-channel int8 weights, in float64 (same draws, same order
    as the driver's numpy generator)."""
    seed = int(os.environ.get("GRADER_SEED", "506"))
    rng = np.random.default_rng(seed)
    ws = []
    for _ in range(3):
        w = rng.random((4096, 4096), dtype=np.float32)
        w -= 0.5
        w *= np.float32(10.0) ** rng.uniform(-1.5, 1.5, (4096, 1)).astype(np.float32)
        b = rng.standard_normal(4096, dtype=np.float32)
        amax = np.abs(w).max(axis=1)
        scale = np.where(amax > 0, amax / np.float32(127.0), np.float32(1.0)).astype(np.float32)
        q = np.clip(np.round(w / scale[:, None]), -127, 127).astype(np.int8)
        del w
        ws.append((q, scale.astype(np.float64), b.astype(np.float64)))
    x = rng.standard_normal((4, 4096), dtype=np.float32).astype(np.float64)
    return np.stack([(x @ q.T.astype(np.float64)) * scale + b for q, scale, b in ws])


def errors():
    try:
        with open(os.path.join(OUT, "quant_memory.json")) as f:
            return json.load(f)["errors"]
    except (OSError, ValueError, KeyError, TypeError):
        return {"run": "no quant_memory.json: the driver did not finish"}


def test_layer_outputs():
    error = errors().get("run")
    assert error is None, f"the driver raised:\n{error}"
    path = os.path.join(OUT, "ys.npy")
    assert os.path.isfile(path) and not os.path.islink(path), "no ys.npy"
    got = np.load(path, allow_pickle=False)
    want = reference_outputs()
    assert got.shape == want.shape, f"outputs of shape {got.shape}, expected {want.shape}"
    got = got.astype(np.float64)
    assert np.isfinite(got).all(), "NaN or inf in the quantized layers' outputs"
    err = np.abs(got - want).max() / np.abs(want).max()
    assert err < 1e-3, f"relative error {err:.2g} against int8 per-channel layers (limit 1e-3)"


def test_no_float_weights_kept():
    assert STUDENT["verdict"] == "ok", (
        f"the driver's run ended with {STUDENT['verdict']}; its peak memory does not count")
    extra = STUDENT["peak_memory_bytes"] - BASELINE["peak_memory_bytes"]
    assert extra < MARGIN, (
        f"after quantize_model and the float model's release the box peaked at "
        f"{STUDENT['peak_memory_bytes'] / MIB:.0f} MiB, {extra / MIB:.0f} MiB over the reference "
        f"solution's {BASELINE['peak_memory_bytes'] / MIB:.0f} MiB (limit {MARGIN / MIB:.0f} MiB "
        f"over; the float weights are {FLOAT_BYTES / MIB:.0f} MiB): keep no float copy of a "
        f"weight, in Int8Linear or anywhere else")
