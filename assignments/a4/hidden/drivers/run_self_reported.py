"""Driver of the hidden test ddp_self_reported: what only the student's processes can observe.
Counts dist.all_reduce calls per DDP step (2 ranks, then 4 with the sharded Adam) and the
elements of each rank's optimizer state (the sharded Adam on 2 ranks), and writes each count
through the channel (harness.report) as soon as it has it. The student's code shares these
processes and could replace the counters: the test is self_reported, worth 3 points."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

harness.install_counter()
ddp, zero = harness.import_student("ddp", "zero")
common = harness.common
CONFIGS = common.CONFIGS


def ddp_worker(rank, cfg):
    harness.train_ddp(rank, cfg, ddp, zero, report_as=cfg["name"])


def zero_worker(rank, cfg):
    import torch

    world = cfg["world"]
    model = common.make_model(cfg, 0)
    opt = zero.ShardedOptimizer(model.parameters(), torch.optim.Adam, lr=0.05)
    x, y = common.make_data(cfg)
    for s in range(cfg["steps"]):
        opt.zero_grad(set_to_none=True)
        out = model(common.local_rows(x[s], rank, world))
        torch.nn.functional.mse_loss(out, common.local_rows(y[s], rank, world)).backward()
        for p in model.parameters():
            harness._real_all_reduce(p.grad)
            p.grad.div_(world)
        opt.step()
    harness.report(f"zero/state_numel/r{rank}", common.state_numel(opt.local_optimizer))
    torch.distributed.barrier()


if __name__ == "__main__":
    # Each job on its own port: a job that fails on one rank cannot take the others down.
    harness.launch(ddp_worker, dict(CONFIGS["ddp_equal"], name="ddp_equal", port=29581))
    harness.launch(ddp_worker, dict(CONFIGS["ddp_zero_ws4"], name="ddp_zero_ws4", port=29582))
    harness.launch(zero_worker, dict(CONFIGS["zero"], port=29583))
