"""A2 public tests. Run them from your handout folder after building the kernels:

    g++ -O2 -fopenmp -shared -fPIC -o kernels.so kernels.cpp
    python3 -m pytest -q tests/

The hidden tests check the same things on more (and odder) sizes.
"""
import ctypes
import math
import os

import numpy as np
import pytest
import torch

import flash_attention as fa


def naive(q, k, v, causal):
    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if causal:  # key j masked for query i when j > i
        mask = torch.ones(s.shape[-2], s.shape[-1], dtype=torch.bool).tril()
        s = s.masked_fill(~mask, float("-inf"))
    return torch.softmax(s, dim=-1) @ v


def inputs(nq, nk, d=8, lead=(2, 3), seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(*lead, n, d, generator=g, dtype=torch.float64, requires_grad=True)
            for n in (nq, nk, nk)]


@pytest.mark.parametrize("causal", [False, True])
def test_forward(causal):
    for nq, nk, bq, bk in [(37, 45, 16, 16), (45, 37, 8, 32), (1, 1, 4, 4), (64, 64, 64, 64)]:
        q, k, v = inputs(nq, nk)
        got = fa.flash_attention(q, k, v, causal=causal, block_q=bq, block_k=bk)
        assert got.dtype == torch.float64 and got.shape == q.shape
        torch.testing.assert_close(got, naive(q, k, v, causal), rtol=1e-7, atol=1e-9)


def test_backward():
    for causal in (False, True):
        q, k, v = inputs(29, 35, seed=1)
        g = torch.randn(2, 3, 29, 8, dtype=torch.float64)
        got = torch.autograd.grad(fa.flash_attention(q, k, v, causal=causal, block_q=8,
                                                     block_k=16), (q, k, v), g)
        want = torch.autograd.grad(naive(q, k, v, causal), (q, k, v), g)
        for name, a, b in zip("qkv", got, want):
            torch.testing.assert_close(a, b, rtol=1e-7, atol=1e-9, msg=f"d{name} differs")


def test_saves_no_score_matrix():
    q, k, v = inputs(128, 128, d=8, lead=(1,))
    o = fa.flash_attention(q, k, v)
    node = o.grad_fn
    assert hasattr(node, "saved_tensors"), "flash_attention must return the output of " \
        "FlashAttentionFunction.apply (a torch.autograd.Function)"
    for t in node.saved_tensors:
        assert t.numel() < 128 * 128, f"a saved tensor of shape {tuple(t.shape)}: too big"
    for name, value in vars(node).items():
        if isinstance(value, torch.Tensor):
            assert value.numel() < 128 * 128, f"ctx.{name} keeps {tuple(value.shape)}"


def load_kernels():
    here = os.path.dirname(os.path.abspath(fa.__file__))
    path = os.path.join(here, "kernels.so")
    assert os.path.isfile(path), f"{path} missing: build it with g++ (see the README)"
    lib = ctypes.CDLL(path)
    f32p = ctypes.POINTER(ctypes.c_float)
    lib.matmul.argtypes = [f32p] * 3 + [ctypes.c_int] * 3
    lib.attention_forward.argtypes = [f32p] * 5 + [ctypes.c_int] * 4 + [ctypes.c_float,
                                                                          ctypes.c_int]
    return lib, lambda a: a.ctypes.data_as(f32p)


def test_kernel_matmul():
    lib, ptr = load_kernels()
    rng = np.random.default_rng(0)
    for m, k, n in [(1, 1, 1), (33, 70, 65), (64, 64, 64)]:
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        c = np.full((m, n), np.nan, dtype=np.float32)
        assert lib.matmul(ptr(a), ptr(b), ptr(c), m, k, n) == 0, "matmul returned an error"
        np.testing.assert_allclose(c, a.astype(np.float64) @ b, rtol=1e-4, atol=1e-4)


def test_kernel_attention():
    lib, ptr = load_kernels()
    rng = np.random.default_rng(1)
    for causal in (0, 1):
        bh, nq, nk, d = 2, 45, 37, 16
        q, k, v = (rng.standard_normal((bh, n, d)).astype(np.float32) for n in (nq, nk, nk))
        o = np.full((bh, nq, d), np.nan, dtype=np.float32)
        lse = np.full((bh, nq), np.nan, dtype=np.float32)
        rc = lib.attention_forward(ptr(q), ptr(k), ptr(v), ptr(o), ptr(lse), bh, nq, nk, d,
                                   1.0 / math.sqrt(d), causal)
        assert rc == 0, "attention_forward returned an error"
        tq, tk, tv = (torch.from_numpy(x).double() for x in (q, k, v))
        want = naive(tq, tk, tv, bool(causal)).numpy()
        np.testing.assert_allclose(o, want, rtol=1e-4, atol=1e-4)
        s = tq @ tk.transpose(-2, -1) / math.sqrt(d)
        if causal:
            s = s.masked_fill(~torch.ones(nq, nk, dtype=torch.bool).tril(), float("-inf"))
        np.testing.assert_allclose(lse, torch.logsumexp(s, dim=-1).numpy(), rtol=1e-4,
                                   atol=1e-4)
