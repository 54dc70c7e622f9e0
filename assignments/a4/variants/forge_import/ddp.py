"""A4 part 1: data parallelism with gradient buckets (reference solution)."""
import torch
import torch.distributed as dist
from torch import nn


def make_buckets(params, bucket_cap_numel):
    """Groups parameters into buckets, walking them in reverse order (the order in which
    backward produces their gradients). A bucket takes parameters while its total numel stays
    within the cap; a parameter larger than the cap gets a bucket of its own."""
    buckets, current, size = [], [], 0
    for p in reversed(list(params)):
        if current and size + p.numel() > bucket_cap_numel:
            buckets.append(current)
            current, size = [], 0
        current.append(p)
        size += p.numel()
    if current:
        buckets.append(current)
    return buckets


class _Bucket:
    def __init__(self, params):
        self.params = params
        self.offsets = []
        total = 0
        for p in params:
            self.offsets.append(total)
            total += p.numel()
        self.numel = total
        self.reset(params[0])

    def reset(self, like):
        self.flat = torch.zeros(self.numel, dtype=like.dtype, device=like.device)
        self.missing = len(self.params)
        self.work = None


class DistributedDataParallel(nn.Module):
    def __init__(self, module, bucket_cap_numel=1 << 16):
        super().__init__()
        self.module = module
        self.world_size = dist.get_world_size()
        # Every rank starts from rank 0's state, frozen parameters and buffers included.
        with torch.no_grad():
            for t in list(module.parameters()) + list(module.buffers()):
                dist.broadcast(t, src=0)
        trainable = [p for p in module.parameters() if p.requires_grad]
        self.buckets = make_buckets(trainable, bucket_cap_numel)
        self._buckets = [_Bucket(b) for b in self.buckets]
        self._where = {}
        for bi, bucket in enumerate(self._buckets):
            for slot, p in enumerate(bucket.params):
                self._where[id(p)] = (bi, slot)
                p.register_hook(self._make_hook(p))
        self._next_launch = 0

    def _make_hook(self, param):
        def hook(grad):
            bi, slot = self._where[id(param)]
            bucket = self._buckets[bi]
            start = bucket.offsets[slot]
            bucket.flat[start:start + param.numel()].copy_(grad.reshape(-1))
            bucket.missing -= 1
            # Launch strictly in bucket order so that all ranks issue the same collectives
            # in the same sequence, even when some parameters are unused on some ranks.
            while (self._next_launch < len(self._buckets)
                   and self._buckets[self._next_launch].missing == 0):
                self._launch(self._next_launch)
            return None
        return hook

    def _launch(self, bi):
        bucket = self._buckets[bi]
        bucket.work = dist.all_reduce(bucket.flat, async_op=True)
        self._next_launch = bi + 1

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def finish_gradient_sync(self):
        # Parameters that received no gradient on this rank contribute zeros.
        while self._next_launch < len(self._buckets):
            self._launch(self._next_launch)
        for bucket in self._buckets:
            bucket.work.wait()
            bucket.flat.div_(self.world_size)
            for p, start in zip(bucket.params, bucket.offsets):
                p.grad = bucket.flat[start:start + p.numel()].view_as(p).clone()
            bucket.reset(bucket.params[0])
        self._next_launch = 0
