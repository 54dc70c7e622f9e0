"""Public tests: int8 weights."""
import torch

from quant import quantize_per_channel


def test_quantize_per_channel():
    w = torch.tensor([[0.5, -1.0, 0.25], [100.0, 50.0, -25.0]])
    q, scale = quantize_per_channel(w)
    assert q.dtype == torch.int8 and scale.shape == (2,)
    assert torch.allclose(scale, torch.tensor([1.0 / 127, 100.0 / 127]))
    assert q.tolist() == [[64, -127, 32], [127, 64, -32]]
