"""Hidden check: gradients of composite graphs against torch.autograd (float64)."""

import pytest

import checklib

CASES = ["shared_exp", "mlp", "attention", "layer_norm_residual", "shapes", "random_dag"]


@pytest.mark.parametrize("case", CASES)
def test_graph(case):
    checklib.compare_case(case)
