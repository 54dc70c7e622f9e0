"""Paged KV cache storage and attention over block tables."""
import math

import torch


class PagedKVCache:
    """k[layer] and v[layer] are [num_blocks, block_size, H, D]; a slot is block * block_size + offset."""

    def __init__(self, n_layers, num_blocks, block_size, n_heads, head_dim):
        self.block_size = block_size
        shape = (n_layers, num_blocks, block_size, n_heads, head_dim)
        self.k = torch.zeros(shape)
        self.v = torch.zeros(shape)

    def write(self, layer, slots, k, v):
        """slots: LongTensor [N]; k, v: [N, H, D]."""
        # starter: solution-only
        blocks, offsets = slots // self.block_size, slots % self.block_size
        self.k[layer, blocks, offsets] = k
        self.v[layer, blocks, offsets] = v
        # starter: instead
        # raise NotImplementedError("TODO: PagedKVCache.write")
        # starter: end


def paged_attention(q, k_blocks, v_blocks, block_tables, context_lens):
    """q: [N, H, D], one query per row; k_blocks, v_blocks: [num_blocks, block_size, H, D];
    block_tables: LongTensor [N, max_blocks], the blocks of row i's sequence (padding: -1);
    context_lens: LongTensor [N], row i attends to the first context_lens[i] positions.
    Returns [N, H, D]."""
    # starter: solution-only
    n, h, d = q.shape
    bs = k_blocks.shape[1]
    tables = block_tables.clamp(min=0)
    k = k_blocks[tables].reshape(n, -1, h, d)  # [N, max_blocks * bs, H, D]
    v = v_blocks[tables].reshape(n, -1, h, d)
    valid = torch.arange(tables.shape[1] * bs)[None, :] < context_lens[:, None]  # [N, M]
    scores = torch.einsum("nhd,nmhd->nhm", q, k) / math.sqrt(d)
    scores = scores.masked_fill(~valid[:, None, :], float("-inf"))
    return torch.einsum("nhm,nmhd->nhd", scores.softmax(dim=-1), v)
    # starter: instead
    # raise NotImplementedError("TODO: paged_attention")
    # starter: end


class PagedBatch:
    """The kv argument of TinyGPT.forward for a flattened batch of several sequences:
    row i of the batch is a token of some sequence, stored at slots[i], attending to
    context_lens[i] positions of that sequence's blocks (block_tables[i])."""

    def __init__(self, cache, slots, block_tables, context_lens):
        self.cache = cache
        self.slots = slots
        self.block_tables = block_tables
        self.context_lens = context_lens

    def attend(self, layer, q, k, v, positions):
        self.cache.write(layer, self.slots, k, v)
        return paged_attention(q, self.cache.k[layer], self.cache.v[layer],
                               self.block_tables, self.context_lens)
