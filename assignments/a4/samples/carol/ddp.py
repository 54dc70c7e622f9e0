"""A4 part 1: data parallelism with gradient buckets.

Fill in the parts marked TODO. Use the collectives as `dist.all_reduce(...)`,
`dist.broadcast(...)` (module attributes of torch.distributed): the grader counts calls.
"""
import torch
import torch.distributed as dist
from torch import nn


def make_buckets(params, bucket_cap_numel)
    buckets = [[]]
    """Groups parameters into buckets (lists of parameters).

    Walk `params` in REVERSE order (backward produces the last layers' gradients first).
    Add parameters to the current bucket while its total numel stays <= bucket_cap_numel;
    a parameter that would overflow it starts a new bucket; a parameter larger than the cap
    gets a bucket of its own. Example: numels [5, 3, 4] with cap 8 -> [[p2, p1], [p0]].
    """
    raise NotImplementedError("make_buckets")


class DistributedDataParallel(nn.Module):
    """Wraps `module` for data-parallel training on the default process group.

    Construction:
      * broadcast every parameter AND buffer of `module` from rank 0 (frozen ones too), so
        all ranks start from rank 0's state;
      * bucket the trainable parameters (requires_grad=True) of `module.parameters()` with
        make_buckets (a tied parameter appears there once) and keep them in `self.buckets`;
      * register a gradient hook on each trainable parameter.

    During backward, when every parameter of a bucket has its gradient, copy the bucket's
    gradients into one flat tensor and start ONE asynchronous all-reduce for it
    (`dist.all_reduce(flat, async_op=True)`), overlapping communication with the rest of
    backward. Start the buckets strictly in bucket order on every rank (a bucket that is ready
    waits for the earlier ones): collectives must be issued in the same order on all ranks.

    finish_gradient_sync(), called after loss.backward() and before optimizer.step():
      * start the buckets that have not started yet (in order); a parameter that received no
        gradient on this rank (unused in this forward pass) contributes zeros;
      * wait for every bucket, divide by the world size, and set each trainable parameter's
        .grad to its averaged gradient;
      * reset the per-step state, so the next step starts clean.
    Exactly one all_reduce per bucket per step; no other all_reduce calls.
    """

    def __init__(self, module, bucket_cap_numel=1 << 16):
        super().__init__()
        self.module = module
        raise NotImplementedError("DistributedDataParallel.__init__")

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def finish_gradient_sync(self):
        raise NotImplementedError("DistributedDataParallel.finish_gradient_sync")
