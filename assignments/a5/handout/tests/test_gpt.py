"""Public tests: the KV cache and greedy decoding (run: python3 -m pytest tests)."""
import torch

import gpt

torch.set_num_threads(1)


def test_generate_matches_nocache():
    model = gpt.TinyGPT(gpt.GPTConfig(), seed=3)
    prompt = [5, 17, 99, 4, 23, 64]
    assert gpt.generate(model, prompt, 16) == gpt.generate_nocache(model, prompt, 16)


def test_kvcache_one_token_at_a_time():
    model = gpt.TinyGPT(gpt.GPTConfig(), seed=4)
    tokens = torch.tensor([1, 2, 3, 50, 60, 70, 127, 0])
    full = model(tokens)
    cache = gpt.KVCache(model.cfg)
    for pos in range(len(tokens)):
        step = model(tokens[pos:pos + 1], torch.tensor([pos]), kv=cache)
        assert torch.allclose(step[0], full[pos], atol=1e-4), f"position {pos}"
    assert cache.length == len(tokens)
