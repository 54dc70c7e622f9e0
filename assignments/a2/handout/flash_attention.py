"""A2: IO-aware (FlashAttention-style) attention in PyTorch.

Fill in flash_forward, flash_backward and FlashAttentionFunction (search for TODO).
Do not change the signatures: the tests call flash_attention(q, k, v, causal=..., block_q=...,
block_k=...) and FlashAttentionFunction.apply.
"""
import math

import torch


def naive_attention(q, k, v, causal=False, scale=None):
    """Reference: materializes the full [..., Nq, Nk] score matrix (autograd saves it).

    Given; use it to test your code. Causal masks key j for query i when j > i.
    """
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    s = scale * q @ k.transpose(-2, -1)
    if causal:
        nq, nk = s.shape[-2], s.shape[-1]
        mask = torch.ones(nq, nk, dtype=torch.bool, device=q.device).tril()
        s = s.masked_fill(~mask, float("-inf"))
    return torch.softmax(s, dim=-1) @ v


def flash_forward(q, k, v, causal, scale, block_q, block_k):
    """Tiled forward pass with an online softmax.

    q: [..., Nq, d], k and v: [..., Nk, d] (any leading dims, any float dtype: keep it).
    Returns (o, lse): o = softmax(scale * q k^T, masked) v, shape [..., Nq, d], and
    lse = the logsumexp of each masked score row, shape [..., Nq].

    Loop over blocks of block_q query rows; for each, loop over blocks of block_k keys,
    keeping a running row max m, a running row sum l and an accumulator that you rescale
    by exp(m_old - m_new) whenever the max grows. Never build a [..., Nq, Nk] tensor; a
    [..., block_q, block_k] block at a time is fine. Nq and Nk need not be multiples of
    the block sizes. With causal=True, skip key blocks that are entirely masked.
    """
    # TODO
    raise NotImplementedError("flash_forward")


def flash_backward(q, k, v, o, lse, do, causal, scale, block_q, block_k):
    """Tiled backward pass: returns (dq, dk, dv) given the upstream gradient do = dL/do.

    Recompute each block of probabilities from lse (p = exp(scale * q k^T - lse)) instead of
    storing them. You will need D = rowsum(do * o), the term the softmax backward subtracts:
    dS = P * (dP - D), with dP = do v^T.
    """
    # TODO
    raise NotImplementedError("flash_backward")


class FlashAttentionFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, v, causal, scale, block_q, block_k):
        """Runs flash_forward and keeps for backward ONLY q, k, v, o and lse
        (ctx.save_for_backward), plus the plain Python settings as ctx attributes."""
        # TODO
        raise NotImplementedError("FlashAttentionFunction.forward")

    @staticmethod
    def backward(ctx, do):
        """Returns one gradient per input of forward (None for the settings)."""
        # TODO
        raise NotImplementedError("FlashAttentionFunction.backward")


def flash_attention(q, k, v, causal=False, scale=None, block_q=64, block_k=64):
    """softmax(scale * q k^T [causal mask]) v for q: [..., Nq, d], k and v: [..., Nk, d].

    causal masks key j for query i when j > i (top-left aligned, like torch.tril).
    scale defaults to 1 / sqrt(d).
    """
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    return FlashAttentionFunction.apply(q, k, v, bool(causal), float(scale), int(block_q),
                                        int(block_k))
