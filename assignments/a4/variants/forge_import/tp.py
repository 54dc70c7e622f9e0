"""A4 part 3: tensor-parallel Linear layers (reference solution)."""
import torch
import torch.distributed as dist
from torch import nn


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


class ColumnParallelLinear(nn.Module):
    def __init__(self, full, gather_output=True):
        super().__init__()
        world, rank = dist.get_world_size(), dist.get_rank()
        if full.out_features % world:
            raise ValueError(f"out_features {full.out_features} not divisible by world size {world}")
        rows = full.out_features // world
        self.gather_output = gather_output
        self.weight = nn.Parameter(full.weight.detach()[rank * rows:(rank + 1) * rows].clone())
        self.bias = (nn.Parameter(full.bias.detach()[rank * rows:(rank + 1) * rows].clone())
                     if full.bias is not None else None)

    def forward(self, x):
        y = nn.functional.linear(_CopyToParallel.apply(x), self.weight, self.bias)
        return _GatherFromParallel.apply(y) if self.gather_output else y


class RowParallelLinear(nn.Module):
    def __init__(self, full, input_is_parallel=False):
        super().__init__()
        world, rank = dist.get_world_size(), dist.get_rank()
        if full.in_features % world:
            raise ValueError(f"in_features {full.in_features} not divisible by world size {world}")
        cols = full.in_features // world
        self.input_is_parallel = input_is_parallel
        self.weight = nn.Parameter(full.weight.detach()[:, rank * cols:(rank + 1) * cols].clone())
        self.bias = nn.Parameter(full.bias.detach().clone()) if full.bias is not None else None

    def forward(self, x):
        if not self.input_is_parallel:
            x = _ScatterToParallel.apply(x)
        y = _ReduceFromParallel.apply(nn.functional.linear(x, self.weight))
        return y + self.bias if self.bias is not None else y
