"""Public tests: paged KV storage and attention."""
import torch

import gpt
import paged


def test_paged_attention_matches_contiguous():
    g = torch.Generator().manual_seed(0)
    kb, vb = torch.randn(6, 4, 2, 8, generator=g), torch.randn(6, 4, 2, 8, generator=g)
    q = torch.randn(2, 2, 8, generator=g)
    tables = torch.tensor([[5, 1, -1], [0, 3, 2]])
    lens = torch.tensor([6, 9])
    out = paged.paged_attention(q, kb, vb, tables, lens)
    for r, blocks in enumerate([[5, 1], [0, 3, 2]]):
        k = torch.cat([kb[b] for b in blocks])[: lens[r]]
        v = torch.cat([vb[b] for b in blocks])[: lens[r]]
        want = gpt.attention(q[r:r + 1], k, v, torch.ones(1, int(lens[r]), dtype=torch.bool))
        assert torch.allclose(out[r:r + 1], want, atol=1e-5), f"row {r}"


def test_write():
    cache = paged.PagedKVCache(n_layers=2, num_blocks=3, block_size=4, n_heads=1, head_dim=2)
    k = torch.arange(4.0).view(2, 1, 2)
    cache.write(1, torch.tensor([5, 11]), k, -k)
    assert torch.equal(cache.k[1, 1, 1], k[0]) and torch.equal(cache.k[1, 2, 3], k[1])
    assert torch.equal(cache.v[1, 2, 3], -k[1]) and cache.k[0].abs().sum() == 0
