"""hidden_memory driver (student box): keeps MEMORY["calls"] attention graphs alive at once,
so that whatever flash_attention keeps for backward is multiplied; the grader measures the
box's peak memory from outside (cgroup) and the checker compares it with the same driver's
run over the reference solution, measured in the same grading (measure_baseline).

Nothing this process computes about the student's code is believed: it only writes each
call's output (memory_o<i>.npy), which the checker recomputes, and errors.json for feedback.
"""
import json
import os
import sys
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import numpy as np  # noqa: E402
import torch  # noqa: E402

import cases  # noqa: E402

OUT = os.environ.get("GRADER_OUT", "/out")


def main():
    torch.manual_seed(cases.seed())
    errors, alive = {}, []
    try:
        from flash_attention import flash_attention
    except Exception:  # noqa: BLE001  (the student's import error is reported, not raised)
        errors["import"] = traceback.format_exc(limit=-3)
        flash_attention = None
    block = cases.MEMORY["block"]
    for i in range(cases.MEMORY["calls"] if flash_attention else 0):
        try:
            q, k, v = (torch.from_numpy(x).requires_grad_(True) for x in cases.memory_inputs(i))
            o = flash_attention(q, k, v, causal=i % 2 == 1, block_q=block, block_k=block)
            if o.grad_fn is None:
                raise RuntimeError("the output has no grad_fn: autograd cannot reach it")
            alive.append((q, k, v, o))  # the graph stays alive, with all it saved
            np.save(os.path.join(OUT, f"memory_o{i}.npy"),
                    np.asarray(o.detach().cpu().numpy(), dtype=np.float64))
        except Exception:  # noqa: BLE001
            errors[f"call{i}"] = traceback.format_exc(limit=-3)
    with open(os.path.join(OUT, "errors.json"), "w") as f:
        json.dump({"version": 1, "errors": errors}, f, indent=1)
    print(f"memory driver: {len(alive)} graphs alive, {len(errors)} errors",
          *errors.values(), sep="\n")


if __name__ == "__main__":
    main()
