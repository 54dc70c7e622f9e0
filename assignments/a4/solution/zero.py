# starter: solution-only
"""A4 part 2: a ZeRO-1 style sharded optimizer (reference solution)."""
# starter: instead
# """A4 part 2: a ZeRO-1 style sharded optimizer.
#
# Fill in the parts marked TODO. Use `dist.broadcast(...)` etc. from torch.distributed.
# """
# starter: end
import torch
import torch.distributed as dist


class ShardedOptimizer:
    # starter: solution-only
    # starter: instead
    # """Optimizer state sharding (ZeRO stage 1).
    #
    # ShardedOptimizer(params, optimizer_class, **optimizer_kwargs):
    #   * `params` is an iterable of parameters (the same list on every rank; drop duplicates);
    #   * assign each parameter to one owner rank so that each rank owns about 1/world of the
    #     elements (e.g. largest first, each to the least loaded rank);
    #   * build `self.local_optimizer = optimizer_class(<this rank's parameters>, **kwargs)`:
    #     the optimizer state (e.g. Adam's exp_avg and exp_avg_sq) then exists only for the
    #     parameters this rank owns. The grader measures the state held in
    #     `self.local_optimizer.state` on every rank (set it to None on a rank that owns nothing).
    #
    # step(): the gradients are already averaged over ranks (by DDP or by the caller). Update
    # this rank's parameters with the local optimizer, then send every parameter from its owner
    # to all ranks (dist.broadcast), so that all ranks hold identical parameters again.
    #
    # zero_grad(set_to_none=True): clears the gradients of ALL parameters.
    # """
    #
    # starter: end
    def __init__(self, params, optimizer_class, **optimizer_kwargs):
        # starter: solution-only
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
        local = [p for p, r in zip(unique, self.owner) if r == self.rank]
        self.local_optimizer = optimizer_class(local, **optimizer_kwargs) if local else None
        # starter: instead
        # raise NotImplementedError("ShardedOptimizer.__init__")
        # starter: end

    def step(self):
        # starter: solution-only
        if self.local_optimizer is not None:
            self.local_optimizer.step()
        with torch.no_grad():
            for p, r in zip(self.params, self.owner):
                dist.broadcast(p, src=r)
        # starter: instead
        # raise NotImplementedError("ShardedOptimizer.step")
        # starter: end

    def zero_grad(self, set_to_none=True):
        # starter: solution-only
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()
        # starter: instead
        # raise NotImplementedError("ShardedOptimizer.zero_grad")
        # starter: end
