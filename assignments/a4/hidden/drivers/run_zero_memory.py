"""Driver of the hidden test zero_memory: ShardedOptimizer(Adam) on 2 ranks over 3 large
parameters. The grader measures the box's peak memory from outside (cgroup: all ranks
together) and the checker compares it with this driver's run over the reference solution in
the same grading (measure_baseline): a replicated Adam state costs 216 MiB more. Each rank
writes a sample of its parameters after the steps (p_r<rank>.npy), which the checker
recomputes; nothing counted in this process is believed."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

(zero,) = harness.import_student("zero")
common = harness.common
CFG = common.CONFIGS["zero_memory"]


def worker(rank, cfg):
    import numpy as np
    import torch
    import torch.distributed as dist

    # Every gradient exists from the start and all stay alive, so each rank's memory only grows
    # and the box peaks at the final barrier, with every rank's state counted at once (freed
    # and regenerated gradients let one rank's low point meet another's high one).
    params = [torch.nn.Parameter(common.zero_memory_param(cfg, i)) for i in range(cfg["params"])]
    grads = [[common.zero_memory_grad(cfg, s, i) for i in range(cfg["params"])]
             for s in range(cfg["steps"])]
    opt = zero.ShardedOptimizer(params, torch.optim.Adam, lr=0.05)
    for s in range(cfg["steps"]):
        opt.zero_grad(set_to_none=True)
        for p, g in zip(params, grads[s]):
            p.grad = g  # as if already averaged
        opt.step()
    idx = common.zero_memory_sample(cfg)
    harness.save_npy(f"p_r{rank}.npy", np.stack([p.detach()[idx].numpy() for p in params]))
    dist.barrier()


if __name__ == "__main__":
    harness.launch(worker, CFG)
