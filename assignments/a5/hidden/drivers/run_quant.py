"""Hidden driver (student code loaded): int8 per-channel weight quantization.
Writes /out/quant.json (errors only), /out/q.npy (in q's own dtype: the checker reads the dtype
from the file), /out/scale.npy, /out/logits_int8.npy. Memory is graded by hidden_quant_memory,
from the sandbox's measurement, not by anything counted in this process."""
import copy
import json
import os
import traceback

import numpy as np
import torch

torch.set_num_threads(1)
OUT = os.environ.get("GRADER_OUT", "/out")
SEED = int(os.environ.get("GRADER_SEED", "505"))
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


def main():
    import gpt
    import quant

    def channel():
        q, scale = quant.quantize_per_channel(test_weight(SEED))
        np.save(os.path.join(OUT, "q.npy"), q.detach().cpu().numpy(), allow_pickle=False)
        np.save(os.path.join(OUT, "scale.npy"), scale.detach().to(torch.float32).numpy())
    part("channel", channel)

    def model_level():
        model = gpt.TinyGPT(gpt.GPTConfig(), seed=SEED)
        qmodel = quant.quantize_model(copy.deepcopy(model))
        tokens = torch.randint(0, 128, (48,), generator=torch.Generator().manual_seed(SEED))
        with torch.no_grad():
            logits = qmodel(tokens)
        np.save(os.path.join(OUT, "logits_int8.npy"), logits.detach().numpy().astype(np.float32))
    part("model", model_level)


part("import", main)
with open(os.path.join(OUT, "quant.json"), "w") as f:
    json.dump(result, f)
