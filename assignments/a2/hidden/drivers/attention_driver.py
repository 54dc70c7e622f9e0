"""hidden_attention driver (student box): runs flash_attention forward and backward on the
seeded configs of cases.py; writes O, dQ, dK, dV as float64 .npy to $GRADER_OUT."""
import json
import os
import sys
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import torch  # noqa: E402

import cases  # noqa: E402

OUT = os.environ.get("GRADER_OUT", "/out")


def run(flash_attention, config, index):
    q, k, v, g = (torch.from_numpy(x) for x in cases.attention_inputs(config, index))
    for t in (q, k, v):
        t.requires_grad_(True)
    o = flash_attention(q, k, v, causal=config["causal"], block_q=config["block_q"],
                        block_k=config["block_k"])
    save(config["name"], "o", o)
    dq, dk, dv = torch.autograd.grad(o, (q, k, v), g)
    for part, t in (("dq", dq), ("dk", dk), ("dv", dv)):
        save(config["name"], part, t)


def save(name, part, t):
    import numpy as np

    np.save(os.path.join(OUT, f"{name}_{part}.npy"),
            np.asarray(t.detach().cpu().numpy(), dtype=np.float64))


def main():
    torch.manual_seed(cases.seed())
    errors = {}
    try:
        from flash_attention import flash_attention
    except Exception:  # noqa: BLE001  (the student's import error is reported, not raised)
        errors["import"] = traceback.format_exc(limit=-3)
        flash_attention = None
    if flash_attention is not None:
        for i, config in enumerate(cases.ATTENTION_CONFIGS):
            try:
                run(flash_attention, config, i)
            except Exception:  # noqa: BLE001
                errors[config["name"]] = traceback.format_exc(limit=-3)
    with open(os.path.join(OUT, "errors.json"), "w") as f:
        json.dump({"version": 1, "errors": errors}, f, indent=1)
    print(f"attention driver: {len(errors)} errors", *errors.values(), sep="\n")


if __name__ == "__main__":
    main()
