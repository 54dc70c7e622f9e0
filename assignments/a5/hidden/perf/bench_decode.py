"""Perf driver: greedy-decode N tokens with the submission's gpt.generate (argv[1] = N).
The grader times this run from outside for two values of N and takes the difference, which
cancels the start-up (Python, torch import, model construction). The baseline (nocache/) is
the same model with a generate() that recomputes the whole sequence for every token."""
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
# The reference's tokens: a generate() that is fast but wrong fails the test.
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "expected_tokens.json")) as f:
    expected = json.load(f)
if out != expected[:n]:
    sys.exit(f"generate() returned wrong tokens: {out[:8]}... expected {expected[:8]}...")
print(f"generated {n} tokens")
