"""A4 part 2: a ZeRO-1 style sharded optimizer.

Fill in the parts marked TODO. Use `dist.broadcast(...)` etc. from torch.distributed.
"""
import torch
import torch.distributed as dist


class ShardedOptimizer:
    """Optimizer state sharding (ZeRO stage 1).

    ShardedOptimizer(params, optimizer_class, **optimizer_kwargs):
      * `params` is an iterable of parameters (the same list on every rank; drop duplicates);
      * assign each parameter to one owner rank so that each rank owns about 1/world of the
        elements (e.g. largest first, each to the least loaded rank);
      * build `self.local_optimizer = optimizer_class(<this rank's parameters>, **kwargs)`:
        the optimizer state (e.g. Adam's exp_avg and exp_avg_sq) then exists only for the
        parameters this rank owns. The grader measures the state held in
        `self.local_optimizer.state` on every rank (set it to None on a rank that owns nothing).

    step(): the gradients are already averaged over ranks (by DDP or by the caller). Update
    this rank's parameters with the local optimizer, then send every parameter from its owner
    to all ranks (dist.broadcast), so that all ranks hold identical parameters again.

    zero_grad(set_to_none=True): clears the gradients of ALL parameters.
    """

    def __init__(self, params, optimizer_class, **optimizer_kwargs):
        raise NotImplementedError("ShardedOptimizer.__init__")

    def step(self):
        raise NotImplementedError("ShardedOptimizer.step")

    def zero_grad(self, set_to_none=True):
        raise NotImplementedError("ShardedOptimizer.zero_grad")
