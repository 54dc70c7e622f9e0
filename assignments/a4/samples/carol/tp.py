"""A4 part 3: tensor-parallel Linear layers (Megatron-LM style).

Both layers are built from a full nn.Linear that every rank holds with identical values, and
keep only this rank's shard as parameters `self.weight` and `self.bias`. Forward AND backward
must be right: write the communication as torch.autograd.Function subclasses, e.g.
  copy-to-parallel    identity forward, all_reduce of the gradient in backward
  reduce-from-parallel all_reduce forward, identity backward
  gather-from-parallel all_gather (last dim) forward, keep this rank's slice in backward
  scatter-to-parallel keep this rank's slice (last dim) forward, all_gather in backward
Rank r's shard is the r-th of `world` equal contiguous slices.
"""
import torch
import torch.distributed as dist
from torch import nn


class ColumnParallelLinear(nn.Module):
    """Splits the OUTPUT features: rank r keeps rows r*k:(r+1)*k of full.weight and of
    full.bias (k = out_features / world; raise ValueError if it does not divide).

    forward(x): x (..., in_features) is the same on every rank. Returns the full output
    (..., out_features) when gather_output, else this rank's slice (..., k). The gradient of
    x must be the full gradient (summed over ranks)."""

    def __init__(self, full, gather_output=True):
        super().__init__()
        raise NotImplementedError("ColumnParallelLinear.__init__")

    def forward(self, x):
        raise NotImplementedError("ColumnParallelLinear.forward")


class RowParallelLinear(nn.Module):
    """Splits the INPUT features: rank r keeps columns r*k:(r+1)*k of full.weight
    (k = in_features / world; raise ValueError if it does not divide) and the whole bias.

    forward(x): if input_is_parallel, x is this rank's slice (..., k) (e.g. the output of a
    ColumnParallelLinear with gather_output=False); otherwise x is the full input, the same on
    every rank, and the layer takes its slice itself. Returns the full output (the partial
    products summed over ranks, plus the bias once), the same on every rank."""

    def __init__(self, full, input_is_parallel=False):
        super().__init__()
        raise NotImplementedError("RowParallelLinear.__init__")

    def forward(self, x):
        raise NotImplementedError("RowParallelLinear.forward")
