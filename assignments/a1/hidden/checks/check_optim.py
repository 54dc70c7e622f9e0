"""Hidden check: SGD and Adam trajectories against torch.optim; the MLP's final loss."""

import json
import math

import os
import sys

import numpy as np
import pytest

import checklib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "drivers"))
import cases  # noqa: E402  (inputs only: it imports no student code)


@pytest.mark.parametrize("case", ["sgd", "adam"])
def test_trajectory(case):
    checklib.compare_case(case)


def test_mlp_loss_falls_below_bound():
    """The loss of the weights the run wrote, recomputed here on the regenerated data: a
    number the student's process reported is never believed."""
    bound = json.loads((checklib.EXPECTED / "mlp.json").read_text())["loss_bound"]
    points, labels, init = cases.mlp_data(cases.rng_for(cases.seed_from_env(1104), "mlp"))
    weights = []
    for name, start in zip(cases.MLP_WEIGHTS, init):
        w = checklib.load_student(f"mlp__{name}.npy", "mlp")
        assert w.shape == start.shape, f"{name}: shape {w.shape}, expected {start.shape}"
        assert np.isfinite(w).all(), f"{name} is not finite"
        weights.append(w)
    loss = cases.mlp_loss(points, labels, weights)
    assert math.isfinite(loss) and loss < bound, (
        f"final training loss {loss:.4f} (recomputed from your trained weights) is not below "
        f"{bound}")
