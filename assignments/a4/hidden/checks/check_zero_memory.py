"""Hidden test zero_memory (trusted; no student code): the sharded Adam's parameters against
torch.optim.Adam on the sampled elements, and the box's peak memory (measured by the sandbox,
/measured, written by the grader) against the reference solution's run in the same grading.

Ranks that each keep the Adam state of every parameter add a second 216 MiB state to the box
(measured +270 MiB); the reference's peak varies by about 5 MiB between runs on this host."""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import common  # noqa: E402

CFG = common.CONFIGS["zero_memory"]
MIB = 1 << 20
STATE = 2 * CFG["params"] * CFG["numel"] * 8  # exp_avg + exp_avg_sq, bytes
MARGIN = STATE // 2


def measured(name):
    with open(os.path.join("/measured", f"{name}.json")) as f:
        facts = json.load(f)
    if not isinstance(facts.get("peak_memory_bytes"), int):
        print("zero_memory: the sandbox measured no peak memory", file=sys.stderr)
        os._exit(3)  # a grading-side gap (no memory cgroup), never the student's zero
    return facts


STUDENT, BASELINE = measured("student"), measured("baseline")


def reference():
    idx = common.zero_memory_sample(CFG)
    params = [torch.nn.Parameter(common.zero_memory_param(CFG, i)[idx].clone())
              for i in range(CFG["params"])]
    opt = torch.optim.Adam(params, lr=0.05)
    for s in range(CFG["steps"]):
        for i, p in enumerate(params):
            p.grad = common.zero_memory_grad(CFG, s, i)[idx].clone()
        opt.step()
    return torch.stack([p.detach() for p in params]).numpy()


def test_parameters_match_adam():
    want = reference()
    for rank in range(CFG["world"]):
        common.close(common.load_npy(f"p_r{rank}.npy"), want, f"rank {rank}, after {CFG['steps']} steps")


def test_optimizer_state_not_replicated():
    assert STUDENT["verdict"] == "ok", (
        f"the driver's run ended with {STUDENT['verdict']}; its peak memory does not count"
        f"{common.error_note()}")
    extra = STUDENT["peak_memory_bytes"] - BASELINE["peak_memory_bytes"]
    assert extra < MARGIN, (
        f"the box peaked at {STUDENT['peak_memory_bytes'] / MIB:.0f} MiB, {extra / MIB:.0f} MiB "
        f"over the reference solution's {BASELINE['peak_memory_bytes'] / MIB:.0f} MiB (limit "
        f"{MARGIN / MIB:.0f} MiB over): the whole Adam state is {STATE / MIB:.0f} MiB, and the "
        f"ranks together must hold it once")
