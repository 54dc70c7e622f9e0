"""Hidden driver (student code loaded): int8 per-channel weight quantization.
Writes /out/quant.json, /out/q.npy, /out/scale.npy, /out/logits_int8.npy."""
import copy
import json
import os
import traceback

import numpy as np
import torch

torch.set_num_threads(1)
OUT = os.environ.get("GRADER_OUT", "/out")
SEED = int(os.environ.get("GRADER_SEED", "505"))
LINEARS = ("qkv", "proj", "fc1", "fc2", "lm_head")
result = {"errors": {}}


def part(name, fn):
    try:
        fn()
    except BaseException:  # noqa: BLE001 - record any failure of student code, keep going
        result["errors"][name] = traceback.format_exc(limit=3)[-2000:]


def test_weight(seed):
    """Rows of very different magnitude, one row of zeros, one exact maximum per row."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(48, 40, generator=g) * torch.exp(2 * torch.randn(48, 1, generator=g))
    w[5] = 0.0
    return w


def linear_bytes(model):
    """Bytes of everything the Linear layers store (weights, scales, biases), counted here from
    the state_dict, so a submission cannot misreport it."""
    total = 0
    for key, t in model.state_dict().items():
        if key.split(".")[-2] in LINEARS:
            total += t.numel() * t.element_size()
    return total


def main():
    import gpt
    import quant

    def channel():
        q, scale = quant.quantize_per_channel(test_weight(SEED))
        result["q_dtype"] = str(q.dtype)
        np.save(os.path.join(OUT, "q.npy"), q.to(torch.int32).numpy())
        np.save(os.path.join(OUT, "scale.npy"), scale.detach().to(torch.float32).numpy())
    part("channel", channel)

    def model_level():
        model = gpt.TinyGPT(gpt.GPTConfig(), seed=SEED)
        qmodel = quant.quantize_model(copy.deepcopy(model))
        result["float_bytes"] = linear_bytes(model)
        result["int8_bytes"] = linear_bytes(qmodel)
        tokens = torch.randint(0, 128, (48,), generator=torch.Generator().manual_seed(SEED))
        with torch.no_grad():
            logits = qmodel(tokens)
        np.save(os.path.join(OUT, "logits_int8.npy"), logits.detach().numpy().astype(np.float32))
    part("model", model_level)


part("import", main)
with open(os.path.join(OUT, "quant.json"), "w") as f:
    json.dump(result, f)
