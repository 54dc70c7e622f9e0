"""Hidden driver (student code loaded): quantize_model on a model of three 4096 x 4096 float32
Linear layers (192 MiB of weights), release the float model, then allocate a 640 MiB probe.

The grader measures the box's peak memory from outside (cgroup) and the checker compares it
with this driver's run over the reference solution in the same grading (measure_baseline).
The probe makes the peak come after quantization, so it counts what the quantized model still
holds: ~48 MiB of int8 weights, or 192 MiB more with a float copy kept anywhere. Each layer
is larger than glibc's largest mmap threshold (32 MiB), so freed float weights go back to the
system and cannot look kept. Only the layers' outputs are written (/out/ys.npy), which the
checker recomputes; nothing counted here is believed.
"""
import gc
import json
import os
import traceback

import numpy as np
import torch
import torch.nn as nn

torch.set_num_threads(1)
OUT = os.environ.get("GRADER_OUT", "/out")
SEED = int(os.environ.get("GRADER_SEED", "506"))
LAYERS, FEATURES, PROBE_MIB = 3, 4096, 640


def float_layer(rng):
    """A Linear whose weight rows span three orders of magnitude (per-channel scales matter)."""
    lin = torch.nn.utils.skip_init(nn.Linear, FEATURES, FEATURES)
    w = rng.random((FEATURES, FEATURES), dtype=np.float32)
    w -= 0.5
    w *= np.float32(10.0) ** rng.uniform(-1.5, 1.5, (FEATURES, 1)).astype(np.float32)
    lin.weight = nn.Parameter(torch.from_numpy(w), requires_grad=False)
    lin.bias = nn.Parameter(torch.from_numpy(rng.standard_normal(FEATURES, dtype=np.float32)),
                            requires_grad=False)
    return lin


def main():
    import quant

    rng = np.random.default_rng(SEED)
    model = nn.Sequential(*(float_layer(rng) for _ in range(LAYERS)))
    x = torch.from_numpy(rng.standard_normal((4, FEATURES), dtype=np.float32))
    model = quant.quantize_model(model)
    gc.collect()
    with torch.no_grad():
        ys = [layer(x) for layer in model.children()]
    np.save(os.path.join(OUT, "ys.npy"), torch.stack(ys).detach().numpy().astype(np.float32))
    probe = torch.ones(PROBE_MIB << 18)  # float32: PROBE_MIB MiB, every page touched
    print(f"probe {float(probe[-1]) * PROBE_MIB:.0f} MiB; {len(ys)} layers")


errors = {}
try:
    main()
except BaseException:  # noqa: BLE001 - the student's failure is recorded for the feedback
    errors["run"] = traceback.format_exc(limit=3)[-2000:]
with open(os.path.join(OUT, "quant_memory.json"), "w") as f:
    json.dump({"errors": errors}, f)
