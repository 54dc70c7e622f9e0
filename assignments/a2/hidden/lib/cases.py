"""The seeded inputs of the hidden tests, shared by the drivers (student box) and the
checkers (trusted box): a checker regenerates the inputs itself and never trusts any input a
driver could have written.
"""
import os

import numpy as np


def seed():
    """The test's seed from the grader (GRADER_SEED), the same in both boxes."""
    return int(os.environ.get("GRADER_SEED", "1234"))


# FlashAttention in PyTorch (hidden_attention): odd sizes, Nq != Nk both ways, blocks that
# do not divide the sizes. shape = leading dims; the tensors are [*shape, N, d].
ATTENTION_CONFIGS = [
    dict(name="noncausal", shape=(2, 2), nq=127, nk=129, d=32, causal=False, block_q=64,
         block_k=64),
    dict(name="causal_square", shape=(2, 2), nq=129, nk=129, d=16, causal=True, block_q=32,
         block_k=32),
    dict(name="causal_tall", shape=(1, 3), nq=129, nk=127, d=16, causal=True, block_q=64,
         block_k=64),
    dict(name="causal_wide", shape=(1, 3), nq=127, nk=129, d=16, causal=True, block_q=32,
         block_k=64),
    dict(name="odd_blocks", shape=(3,), nq=100, nk=100, d=8, causal=False, block_q=7,
         block_k=13),
    dict(name="odd_blocks_causal", shape=(3,), nq=100, nk=100, d=8, causal=True, block_q=13,
         block_k=7),
]

# Fused C++ kernel (hidden_kernels): [BH, N, d] float32.
KERNEL_CONFIGS = [
    dict(name="noncausal", bh=3, nq=127, nk=129, d=32, causal=False, gain=1.0),
    dict(name="causal_tall", bh=2, nq=129, nk=127, d=32, causal=True, gain=1.0),
    dict(name="causal_wide", bh=2, nq=127, nk=129, d=32, causal=True, gain=1.0),
    # Scores of several hundred: exp overflows in float32 unless the row max is subtracted.
    dict(name="large_scores", bh=2, nq=100, nk=70, d=16, causal=False, gain=100.0),
    dict(name="large_scores_causal", bh=2, nq=70, nk=100, d=16, causal=True, gain=100.0),
]

MATMUL_SHAPES = [(1, 1, 1), (127, 129, 65), (3, 200, 2), (64, 64, 64), (130, 1, 70)]


def attention_inputs(config, index):
    """(q, k, v, g) float64 for one attention config; g is the upstream gradient."""
    rng = np.random.default_rng([seed(), 1, index])
    lead = tuple(config["shape"])
    q = rng.standard_normal(lead + (config["nq"], config["d"]))
    k = rng.standard_normal(lead + (config["nk"], config["d"]))
    v = rng.standard_normal(lead + (config["nk"], config["d"]))
    g = rng.standard_normal(lead + (config["nq"], config["d"]))
    return q, k, v, g


def kernel_inputs(config, index):
    """(q, k, v) float32 for one kernel config."""
    rng = np.random.default_rng([seed(), 2, index])
    q = config["gain"] * rng.standard_normal((config["bh"], config["nq"], config["d"]))
    k = rng.standard_normal((config["bh"], config["nk"], config["d"]))
    v = rng.standard_normal((config["bh"], config["nk"], config["d"]))
    return tuple(x.astype(np.float32) for x in (q, k, v))


def matmul_inputs(index):
    rng = np.random.default_rng([seed(), 3, index])
    m, k, n = MATMUL_SHAPES[index]
    return (rng.standard_normal((m, k)).astype(np.float32),
            rng.standard_normal((k, n)).astype(np.float32))

# Memory contract (hidden_memory), graded on the box's peak memory as the sandbox measures
# it: `calls` graphs of one head, N = 2048, d = 16, float64, all kept alive at once (alternately
# causal). An Nq x Nk tensor kept for backward is 32 MiB per call, 256 MiB in all; everything
# FlashAttention keeps (q, k, v, o, lse) is 1 MiB per call. Blocks of 128: the reference's
# forward takes about 0.1 s per call.
MEMORY = dict(n=2048, d=16, calls=8, block=128)


def memory_inputs(index):
    """(q, k, v) float64 [1, 1, N, d] for call `index`; causal when index is odd."""
    rng = np.random.default_rng([seed(), 4, index])
    shape = (1, 1, MEMORY["n"], MEMORY["d"])
    return tuple(rng.standard_normal(shape) for _ in range(3))
