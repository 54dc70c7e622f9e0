"""Hidden driver (student code loaded): greedy decoding with the KV cache.
Writes /out/decode.json (tokens) and /out/stepwise.npy, /out/chunked.npy (logits)."""
import json
import os
import traceback

import numpy as np
import torch

torch.set_num_threads(1)
OUT = os.environ.get("GRADER_OUT", "/out")
SEED = int(os.environ.get("GRADER_SEED", "501"))
PROMPT_LENGTHS = [1, 5, 16, 40]
NEW_TOKENS = 24
result = {"greedy": {}, "errors": {}}


def prompts(seed):
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(0, 128, (n,), generator=g).tolist() for n in PROMPT_LENGTHS]


def part(name, fn):
    try:
        fn()
    except BaseException:  # noqa: BLE001 - record any failure of student code, keep going
        result["errors"][name] = traceback.format_exc(limit=3)[-2000:]


def main():
    import gpt

    model = gpt.TinyGPT(gpt.GPTConfig(), seed=SEED)
    ps = prompts(SEED)

    for i, p in enumerate(ps):
        def greedy(i=i, p=p):
            result["greedy"][str(i)] = [int(t) for t in gpt.generate(model, p, NEW_TOKENS)]
        part(f"greedy_{i}", greedy)

    def stepwise():  # prompt 2 one token at a time through the cache
        cache = gpt.KVCache(model.cfg)
        rows = [model(torch.tensor([t]), torch.tensor([pos]), kv=cache)[0]
                for pos, t in enumerate(ps[2])]
        np.save(os.path.join(OUT, "stepwise.npy"), torch.stack(rows).numpy().astype(np.float32))
    part("stepwise", stepwise)

    def chunked():  # prompt 3 in chunks of 7 tokens
        cache = gpt.KVCache(model.cfg)
        rows = []
        for start in range(0, len(ps[3]), 7):
            chunk = ps[3][start:start + 7]
            pos = torch.arange(start, start + len(chunk))
            rows.append(model(torch.tensor(chunk), pos, kv=cache))
        np.save(os.path.join(OUT, "chunked.npy"), torch.cat(rows).numpy().astype(np.float32))
        result["chunked_cache_length"] = int(cache.length)
    part("chunked", chunked)


part("import", main)
with open(os.path.join(OUT, "decode.json"), "w") as f:
    json.dump(result, f)
