"""hidden_memory checker (trusted box, no student code): the box's peak memory while the
driver kept 8 attention graphs alive (measured by the sandbox, /measured, written by the
grader) against the reference solution's run in the same grading; and the outputs of those
calls against numpy attention, so that computing nothing is not a way to save memory.

The margin is a third of what keeping one Nq x Nk float64 matrix per call adds (256 MiB);
the reference's peak varies by about 20 MiB between runs.
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
MEASURED = "/measured"
MIB = 1 << 20
QUADRATIC = cases.MEMORY["n"] ** 2 * 8 * cases.MEMORY["calls"]  # bytes, all calls
MARGIN = QUADRATIC // 3


def measured(name):
    with open(os.path.join(MEASURED, f"{name}.json")) as f:
        facts = json.load(f)
    if not isinstance(facts.get("peak_memory_bytes"), int):
        # No memory cgroup on this host: a grading-side gap, never the student's zero.
        print("hidden_memory: the sandbox measured no peak memory", file=sys.stderr)
        os._exit(3)
    return facts


STUDENT, BASELINE = measured("student"), measured("baseline")


def driver_error(i):
    try:
        with open(os.path.join(OUT, "errors.json")) as f:
            errors = json.load(f)["errors"]
        return str(errors.get(f"call{i}", errors.get("import", "no error noted")))[-400:]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return "no errors.json: the driver did not finish"


def check_outputs(causal):
    for i in range(cases.MEMORY["calls"]):
        if (i % 2 == 1) != causal:
            continue
        q, k, v = cases.memory_inputs(i)
        path = os.path.join(OUT, f"memory_o{i}.npy")
        assert os.path.isfile(path) and not os.path.islink(path), (
            f"call {i}: no output ({driver_error(i)})")
        got = np.load(path, allow_pickle=False)
        assert got.shape == q.shape, f"call {i}: output shape {got.shape}, want {q.shape}"
        want, _ = reference.attention(q, k, v, causal)
        got = got.astype(np.float64)
        assert np.isfinite(got).all(), f"call {i}: NaN or inf"
        err = np.abs(got - want).max()
        assert err <= 1e-9 + 1e-7 * np.abs(want).max(), f"call {i}: max error {err:.3g}"


@pytest.mark.parametrize("causal", [False, True], ids=["noncausal", "causal"])
def test_outputs(causal):
    check_outputs(causal)


def test_peak_memory_as_the_reference():
    assert STUDENT["verdict"] == "ok", (
        f"the driver's run ended with {STUDENT['verdict']}; its peak memory does not count")
    extra = STUDENT["peak_memory_bytes"] - BASELINE["peak_memory_bytes"]
    n = cases.MEMORY["n"]
    assert extra < MARGIN, (
        f"with {cases.MEMORY['calls']} graphs alive the box peaked at "
        f"{STUDENT['peak_memory_bytes'] / MIB:.0f} MiB, {extra / MIB:.0f} MiB over the reference "
        f"solution's {BASELINE['peak_memory_bytes'] / MIB:.0f} MiB (limit: {MARGIN / MIB:.0f} MiB "
        f"over). Keeping one {n} x {n} float64 matrix per call costs "
        f"{QUADRATIC / MIB:.0f} MiB: keep q, k, v, o and the logsumexp, recompute the rest")
