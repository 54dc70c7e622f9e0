"""Int8 weight-only quantization, symmetric, one scale per output channel."""
import torch
import torch.nn as nn


def quantize_per_channel(w):
    """w: float [out, in]. Returns (q int8 [out, in], scale float32 [out]) with
    scale = max|w[row]| / 127 and q = round(w / scale) (w ≈ q * scale[:, None]).
    A row of zeros gets scale 1."""
    # starter: solution-only
    amax = w.abs().amax(dim=1)
    scale = torch.where(amax > 0, amax / 127.0, torch.ones_like(amax)).float()
    q = torch.round(w / scale[:, None]).clamp(-127, 127).to(torch.int8)
    return q, scale
    # starter: instead
    # raise NotImplementedError("TODO: quantize_per_channel")
    # starter: end


def dequantize(q, scale):
    return q.float() * scale[:, None]


class Int8Linear(nn.Module):
    """Drop-in replacement for nn.Linear that stores its weight as int8 plus per-row scales."""

    def __init__(self, linear):
        """Store int8 weights, float32 scales and the float32 bias as buffers (so that they are
        in state_dict); keep no float copy of the weight."""
        # starter: solution-only
        super().__init__()
        q, scale = quantize_per_channel(linear.weight.detach())
        self.register_buffer("weight_int8", q)
        self.register_buffer("scale", scale)
        self.register_buffer("bias", None if linear.bias is None else linear.bias.detach().clone())
        # starter: instead
        # raise NotImplementedError("TODO: Int8Linear.__init__")
        # starter: end

    def forward(self, x):
        """Same result as the float layer, up to quantization error: x @ W^T + b."""
        # starter: solution-only
        y = (x @ self.weight_int8.t().float()) * self.scale
        return y if self.bias is None else y + self.bias
        # starter: instead
        # raise NotImplementedError("TODO: Int8Linear.forward")
        # starter: end


def quantize_model(model):
    """Replace every nn.Linear of model (in place) by an Int8Linear; returns model."""
    # starter: solution-only
    for name, child in list(model.named_children()):
        if isinstance(child, nn.Linear):
            setattr(model, name, Int8Linear(child))
        else:
            quantize_model(child)
    return model
    # starter: instead
    # raise NotImplementedError("TODO: quantize_model")
    # starter: end
