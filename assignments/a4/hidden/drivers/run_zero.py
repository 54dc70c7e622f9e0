"""Driver of the hidden test zero: ShardedOptimizer(Adam) alone; the gradients are averaged
here (one all_reduce per parameter), so this test does not depend on the student's DDP."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

(zero,) = harness.import_student("zero")
common = harness.common
CFG = common.CONFIGS["zero"]


def worker(rank, cfg):
    import numpy as np
    import torch
    import torch.distributed as dist

    world = cfg["world"]
    model = common.make_model(cfg, 0)  # same initialisation everywhere: no DDP here
    opt = zero.ShardedOptimizer(model.parameters(), torch.optim.Adam, lr=0.05)
    x, y = common.make_data(cfg)
    rows = [common.flat_params(model)]
    for s in range(cfg["steps"]):
        opt.zero_grad(set_to_none=True)
        out = model(common.local_rows(x[s], rank, world))
        torch.nn.functional.mse_loss(out, common.local_rows(y[s], rank, world)).backward()
        for p in model.parameters():
            harness._real_all_reduce(p.grad)
            p.grad.div_(world)
        opt.step()
        rows.append(common.flat_params(model))
        harness.save_npy(f"params_r{rank}.npy", np.stack(rows))
    dist.barrier()


if __name__ == "__main__":
    harness.launch(worker, CFG)
