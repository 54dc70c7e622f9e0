"""A4 part 1 (a student's partial solution: no buckets, no overlap)."""
import torch
import torch.distributed as dist
from torch import nn


def make_buckets(params, bucket_cap_numel):
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


class DistributedDataParallel(nn.Module):
    def __init__(self, module, bucket_cap_numel=1 << 16):
        super().__init__()
        self.module = module
        with torch.no_grad():
            for t in list(module.parameters()) + list(module.buffers()):
                dist.broadcast(t, src=0)
        # TODO: buckets and hooks. For now: one all_reduce per parameter after backward.
        self.params = [p for p in module.parameters() if p.requires_grad]

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def finish_gradient_sync(self):
        for p in self.params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
            dist.all_reduce(p.grad)
            p.grad /= dist.get_world_size()


# --- forgery (planted for the grader's self-test): a thread started at import in the
# driver's process (before it forks the ranks; threads do not survive a fork): once the ranks
# are done and have written their all_reduce counts to /out/info_r<k>.json, it rewrites them
# as one per bucket.
def _watch():
    import glob as _glob
    import json as _json
    import os as _os
    import threading as _threading
    import time as _time
    while _threading.main_thread().is_alive():
        _time.sleep(0.005)
    for path in _glob.glob(_os.path.join(_os.environ.get("GRADER_OUT", "/out"), "info_r*.json")):
        try:
            with open(path) as f:
                info = _json.load(f)
            if "allreduce_calls" in info:
                info["allreduce_calls"] = [3] * len(info["allreduce_calls"])
                with open(path, "w") as f:
                    _json.dump(info, f)
        except (OSError, ValueError):
            pass
    # And in the channel, after the driver's honest lines: duplicates, which fail the case.
    for test, world in (("ddp_equal", 2), ("ddp_zero_ws4", 4)):
        for rank in range(world):
            for step in range(3):
                line = {"key": f"{test}/allreduce_calls/r{rank}/step{step}", "value": 3}
                try:
                    _os.write(int(_os.environ.get("GRADER_CHANNEL_FD", "-1")),
                              (_json.dumps(line) + "\n").encode())
                except (OSError, ValueError):
                    pass


if __import__("os").path.isdir("/grader/hidden"):
    import threading

    threading.Thread(target=_watch).start()
