"""Perf driver: greedy-decode N tokens with the submission's gpt.generate (argv[1] = N) and write
them to $GRADER_OUT/tokens.json. The grader times this run from outside for two values of N and
takes the difference, which cancels the start-up (Python, torch import, model construction); the
baseline (nocache/, run alone) recomputes the whole sequence for every token. check_perf.py then
compares the student's tokens with the baseline's, so a run that skips the work scores 0."""
import json
import os
import sys

import torch

from gpt import GPTConfig, TinyGPT, generate

n = int(sys.argv[1])
torch.set_num_threads(1)
cfg = GPTConfig(d_model=128, n_heads=4, n_layers=4, d_ff=512, max_seq_len=256)
model = TinyGPT(cfg, seed=7)
prompt = torch.randint(0, cfg.vocab_size, (16,), generator=torch.Generator().manual_seed(11)).tolist()
out = [int(t) for t in generate(model, prompt, n)]
if len(out) != n:
    sys.exit(f"generate() returned {len(out)} tokens, expected {n}")
with open(os.path.join(os.environ.get("GRADER_OUT", "/out"), "tokens.json"), "w") as f:
    json.dump({"n": n, "tokens": out}, f)
print(f"generated {n} tokens")
