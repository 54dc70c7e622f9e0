"""A tiny GPT with seeded weights, a contiguous KV cache and greedy decoding."""
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass(frozen=True)
class GPTConfig:
    vocab_size: int = 128
    d_model: int = 64
    n_heads: int = 4
    n_layers: int = 2
    d_ff: int = 256
    max_seq_len: int = 256

    @property
    def head_dim(self):
        return self.d_model // self.n_heads


def attention(q, k, v, mask):
    """Softmax attention. q: [N, H, D], k and v: [M, H, D], mask: [N, M] bool (True = may attend).
    Returns [N, H, D]."""
    scores = torch.einsum("nhd,mhd->hnm", q, k) / math.sqrt(q.shape[-1])
    scores = scores.masked_fill(~mask, float("-inf"))
    return torch.einsum("hnm,mhd->nhd", scores.softmax(dim=-1), v)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.fc1 = nn.Linear(cfg.d_model, cfg.d_ff)
        self.fc2 = nn.Linear(cfg.d_ff, cfg.d_model)

    def forward(self, x, positions, layer, kv):
        n, h, d = x.shape[0], self.cfg.n_heads, self.cfg.head_dim
        q, k, v = self.qkv(self.ln1(x)).view(n, 3, h, d).unbind(dim=1)
        if kv is None:  # no cache: the tokens are one whole sequence
            mask = positions[None, :] <= positions[:, None]
            a = attention(q, k, v, mask)
        else:
            a = kv.attend(layer, q, k, v, positions)
        x = x + self.proj(a.reshape(n, h * d))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class TinyGPT(nn.Module):
    """Weights come from torch.manual_seed(seed): no download, same model everywhere."""

    def __init__(self, cfg=GPTConfig(), seed=0):
        super().__init__()
        self.cfg = cfg
        gen = torch.manual_seed(seed)
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos_emb = nn.Embedding(cfg.max_seq_len, cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(cfg.d_model)
        self.lm_head = nn.Linear(cfg.d_model, cfg.vocab_size)
        with torch.no_grad():
            self.pos_emb.weight.mul_(0.5)
            # Real LLM weights have a few output channels much larger than the rest.
            for m in self.modules():
                if isinstance(m, nn.Linear):
                    m.weight.mul_(torch.exp(torch.randn(m.out_features, 1, generator=gen)))
        self.eval()

    @torch.no_grad()
    def forward(self, tokens, positions=None, kv=None):
        """tokens: LongTensor [N]; positions: LongTensor [N] (default 0..N-1).
        kv: None (tokens are one whole sequence) or an object whose
        attend(layer, q, k, v, positions) stores k and v and returns the attention output.
        Returns logits [N, vocab_size]."""
        if positions is None:
            positions = torch.arange(tokens.shape[0])
        if int(positions.max()) >= self.cfg.max_seq_len:
            raise ValueError("sequence longer than max_seq_len")
        x = self.tok_emb(tokens) + self.pos_emb(positions)
        for layer, block in enumerate(self.blocks):
            x = block(x, positions, layer, kv)
        return self.lm_head(self.ln_f(x))


class KVCache:
    """Contiguous KV cache for one sequence: k[layer] and v[layer] are [max_seq_len, H, D]."""

    def __init__(self, cfg):
        shape = (cfg.n_layers, cfg.max_seq_len, cfg.n_heads, cfg.head_dim)
        self.k = torch.zeros(shape)
        self.v = torch.zeros(shape)
        self.length = 0  # number of positions stored (same for every layer after a forward)

    def attend(self, layer, q, k, v, positions):
        """Store k and v at `positions`, then attend q over every stored position up to its own."""
        # starter: solution-only
        self.k[layer, positions] = k
        self.v[layer, positions] = v
        end = int(positions.max()) + 1
        self.length = max(self.length, end)
        mask = torch.arange(end)[None, :] <= positions[:, None]
        return attention(q, self.k[layer, :end], self.v[layer, :end], mask)
        # starter: instead
        # raise NotImplementedError("TODO: KVCache.attend")
        # starter: end


@torch.no_grad()
def generate(model, prompt, max_new_tokens):
    """Greedy decoding with a KV cache: one forward over the prompt, then one token per step.
    Returns the list of new tokens."""
    # starter: solution-only
    cache = KVCache(model.cfg)
    tokens = torch.tensor(prompt, dtype=torch.long)
    logits = model(tokens, torch.arange(len(prompt)), kv=cache)
    out = []
    for i in range(max_new_tokens):
        nxt = int(logits[-1].argmax())
        out.append(nxt)
        if i + 1 == max_new_tokens:
            break
        pos = torch.tensor([len(prompt) + i])
        logits = model(torch.tensor([nxt]), pos, kv=cache)
    return out
    # starter: instead
    # raise NotImplementedError("TODO: generate")
    # starter: end


@torch.no_grad()
def generate_nocache(model, prompt, max_new_tokens):
    """Greedy decoding that recomputes the whole sequence at every step (the slow reference)."""
    seq = list(prompt)
    for _ in range(max_new_tokens):
        logits = model(torch.tensor(seq, dtype=torch.long))
        seq.append(int(logits[-1].argmax()))
    return seq[len(prompt):]
