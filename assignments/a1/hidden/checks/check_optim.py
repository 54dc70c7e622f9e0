"""Hidden check: SGD and Adam trajectories against torch.optim; the MLP's final loss."""

import json
import math

import pytest

import checklib


@pytest.mark.parametrize("case", ["sgd", "adam"])
def test_trajectory(case):
    checklib.compare_case(case)


def test_mlp_loss_falls_below_bound():
    bound = json.loads((checklib.EXPECTED / "mlp.json").read_text())["loss_bound"]
    losses = checklib.load_student("mlp__losses.npy", "mlp").ravel()
    assert losses.size > 0 and all(math.isfinite(v) for v in losses), "loss is not finite"
    assert losses[-1] < bound, f"final training loss {losses[-1]:.4f} is not below {bound}"
