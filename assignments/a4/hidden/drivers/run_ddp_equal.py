"""Driver of the hidden test ddp_equal: DDP training, parameters after every step."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

(ddp,) = harness.import_student("ddp")
CFG = harness.common.CONFIGS["ddp_equal"]


def worker(rank, cfg):
    harness.train_ddp(rank, cfg, ddp)


if __name__ == "__main__":
    harness.launch(worker, CFG)
