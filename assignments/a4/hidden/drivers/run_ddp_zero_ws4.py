"""Driver of the hidden test ddp_zero_ws4: DDP + ShardedOptimizer(Adam) on 4 ranks."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ddp, zero = harness.import_student("ddp", "zero")
CFG = harness.common.CONFIGS["ddp_zero_ws4"]


def worker(rank, cfg):
    harness.train_ddp(rank, cfg, ddp, zero)


if __name__ == "__main__":
    harness.launch(worker, CFG)
