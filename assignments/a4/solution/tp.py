# starter: solution-only
"""A4 part 3: tensor-parallel Linear layers (reference solution)."""
# starter: instead
# """A4 part 3: tensor-parallel Linear layers (Megatron-LM style).
#
# Both layers are built from a full nn.Linear that every rank holds with identical values, and
# keep only this rank's shard as parameters `self.weight` and `self.bias`. Forward AND backward
# must be right: write the communication as torch.autograd.Function subclasses, e.g.
#   copy-to-parallel    identity forward, all_reduce of the gradient in backward
#   reduce-from-parallel all_reduce forward, identity backward
#   gather-from-parallel all_gather (last dim) forward, keep this rank's slice in backward
#   scatter-to-parallel keep this rank's slice (last dim) forward, all_gather in backward
# Rank r's shard is the r-th of `world` equal contiguous slices.
# """
# starter: end
import torch
import torch.distributed as dist
from torch import nn


# starter: solution-only
def _chunk(x, dim):
    size = x.shape[dim] // dist.get_world_size()
    return x.narrow(dim, dist.get_rank() * size, size).contiguous()


def _gather(x, dim):
    parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, x.contiguous())
    return torch.cat(parts, dim=dim)


class _CopyToParallel(torch.autograd.Function):
    """Identity forward; the backward sums the input gradient over ranks."""
    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        grad = grad.clone()
        dist.all_reduce(grad)
        return grad


class _ReduceFromParallel(torch.autograd.Function):
    """Sums partial outputs over ranks; the backward passes the gradient through."""
    @staticmethod
    def forward(ctx, x):
        x = x.clone()
        dist.all_reduce(x)
        return x

    @staticmethod
    def backward(ctx, grad):
        return grad


class _GatherFromParallel(torch.autograd.Function):
    """Concatenates the ranks' last-dim shards; the backward keeps this rank's slice."""
    @staticmethod
    def forward(ctx, x):
        return _gather(x, -1)

    @staticmethod
    def backward(ctx, grad):
        return _chunk(grad, -1)


class _ScatterToParallel(torch.autograd.Function):
    """Keeps this rank's last-dim slice; the backward gathers the slices."""
    @staticmethod
    def forward(ctx, x):
        return _chunk(x, -1)

    @staticmethod
    def backward(ctx, grad):
        return _gather(grad, -1)


# starter: end
class ColumnParallelLinear(nn.Module):
    # starter: solution-only
    # starter: instead
    # """Splits the OUTPUT features: rank r keeps rows r*k:(r+1)*k of full.weight and of
    # full.bias (k = out_features / world; raise ValueError if it does not divide).
    #
    # forward(x): x (..., in_features) is the same on every rank. Returns the full output
    # (..., out_features) when gather_output, else this rank's slice (..., k). The gradient of
    # x must be the full gradient (summed over ranks)."""
    #
    # starter: end
    def __init__(self, full, gather_output=True):
        super().__init__()
        # starter: solution-only
        world, rank = dist.get_world_size(), dist.get_rank()
        if full.out_features % world:
            raise ValueError(f"out_features {full.out_features} not divisible by world size {world}")
        rows = full.out_features // world
        self.gather_output = gather_output
        self.weight = nn.Parameter(full.weight.detach()[rank * rows:(rank + 1) * rows].clone())
        self.bias = (nn.Parameter(full.bias.detach()[rank * rows:(rank + 1) * rows].clone())
                     if full.bias is not None else None)
        # starter: instead
        # raise NotImplementedError("ColumnParallelLinear.__init__")
        # starter: end

    def forward(self, x):
        # starter: solution-only
        y = nn.functional.linear(_CopyToParallel.apply(x), self.weight, self.bias)
        return _GatherFromParallel.apply(y) if self.gather_output else y
        # starter: instead
        # raise NotImplementedError("ColumnParallelLinear.forward")
        # starter: end


class RowParallelLinear(nn.Module):
    # starter: solution-only
    # starter: instead
    # """Splits the INPUT features: rank r keeps columns r*k:(r+1)*k of full.weight
    # (k = in_features / world; raise ValueError if it does not divide) and the whole bias.
    #
    # forward(x): if input_is_parallel, x is this rank's slice (..., k) (e.g. the output of a
    # ColumnParallelLinear with gather_output=False); otherwise x is the full input, the same on
    # every rank, and the layer takes its slice itself. Returns the full output (the partial
    # products summed over ranks, plus the bias once), the same on every rank."""
    #
    # starter: end
    def __init__(self, full, input_is_parallel=False):
        super().__init__()
        # starter: solution-only
        world, rank = dist.get_world_size(), dist.get_rank()
        if full.in_features % world:
            raise ValueError(f"in_features {full.in_features} not divisible by world size {world}")
        cols = full.in_features // world
        self.input_is_parallel = input_is_parallel
        self.weight = nn.Parameter(full.weight.detach()[:, rank * cols:(rank + 1) * cols].clone())
        self.bias = nn.Parameter(full.bias.detach().clone()) if full.bias is not None else None
        # starter: instead
        # raise NotImplementedError("RowParallelLinear.__init__")
        # starter: end

    def forward(self, x):
        # starter: solution-only
        if not self.input_is_parallel:
            x = _ScatterToParallel.apply(x)
        y = _ReduceFromParallel.apply(nn.functional.linear(x, self.weight))
        return y + self.bias if self.bias is not None else y
        # starter: instead
        # raise NotImplementedError("RowParallelLinear.forward")
        # starter: end
