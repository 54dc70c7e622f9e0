"""float64 numpy attention, forward and backward: the trusted reference of the checkers.

Materializes the score matrix, which is fine at the test sizes. No torch: a checker box
starts in a fraction of a second.
"""
import numpy as np


def _probs(q, k, causal, scale):
    nq, nk, d = q.shape[-2], k.shape[-2], q.shape[-1]
    if scale is None:
        scale = 1.0 / np.sqrt(d)
    s = scale * q @ np.swapaxes(k, -1, -2)
    if causal:  # key j is masked for query i when j > i (top-left aligned)
        s = np.where(np.tril(np.ones((nq, nk), dtype=bool)), s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    p = np.exp(s - m)
    total = p.sum(axis=-1, keepdims=True)
    return p / total, (m + np.log(total))[..., 0], scale


def attention(q, k, v, causal, scale=None):
    """(O, L): the output and the logsumexp of each (scaled, masked) score row."""
    q, k, v = (np.asarray(x, dtype=np.float64) for x in (q, k, v))
    p, lse, _ = _probs(q, k, causal, scale)
    return p @ v, lse


def attention_grads(q, k, v, g, causal, scale=None):
    """(dq, dk, dv) of sum(attention(q, k, v) * g)."""
    q, k, v, g = (np.asarray(x, dtype=np.float64) for x in (q, k, v, g))
    p, _, scale = _probs(q, k, causal, scale)
    dv = np.swapaxes(p, -1, -2) @ g
    dp = g @ np.swapaxes(v, -1, -2)
    ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True))
    return scale * ds @ k, scale * np.swapaxes(ds, -1, -2) @ q, dv
