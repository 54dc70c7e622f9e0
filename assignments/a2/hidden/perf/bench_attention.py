"""Perf driver: calls the fused attention kernel ITERATIONS times.

Run as `python3 -I bench_attention.py ITERATIONS` (-I: nothing from /work is importable; the
only student code is /work/kernels.so). The grader times the naive baseline at two iteration
counts and the student once, at the high count; the baseline's time extrapolated to zero
iterations stands for the start-up (grader: assignments/README.md, "Perf tests"). The
baseline tree is built by the manifest's [build] like a submission, so both load a prebuilt
kernels.so and start up alike. Exit status 1 when the kernel fails or gives a wrong answer: a
wrong kernel earns no speed.

Every iteration gets different queries, and a digest of every output (the sums of O and of the
logsumexp, in float64) goes to /out/digest.json, which a checker without student code compares
with the naive kernel's: a kernel that replays an earlier answer, or skips work once it has
been checked, gets no speed either.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import numpy as np  # noqa: E402

import ckernels  # noqa: E402
import reference  # noqa: E402

# Causal, as in a decoder: the naive kernel scores every pair and masks afterwards; a fused
# kernel skips the key blocks above the diagonal.
BH, N, D, CAUSAL = 2, 512, 64, True


def main():
    iterations = int(sys.argv[1])
    lib = ckernels.load()
    rng = np.random.default_rng(2024)
    q, k, v = (rng.standard_normal((BH, N, D)).astype(np.float32) for _ in range(3))
    digest = []
    for i in range(iterations):
        # A different, seeded query scale per iteration (65k multiplies: noise next to a kernel).
        qi = q * np.float32(1.0 + 0.01 * i)
        o, lse = ckernels.attention_forward(lib, qi, k, v, causal=CAUSAL)
        if i == 0:
            want_o, want_l = reference.attention(qi[:1], k[:1], v[:1], causal=CAUSAL)
            if not (np.allclose(o[:1], want_o, atol=1e-3) and np.allclose(lse[:1], want_l,
                                                                          atol=1e-3)):
                print("bench_attention: attention_forward gives a wrong answer", file=sys.stderr)
                return 1
        digest.append([float(o.sum(dtype=np.float64)), float(lse.sum(dtype=np.float64))])
    out = os.environ.get("GRADER_OUT", "/out")
    with open(os.path.join(out, "digest.json"), "w") as f:
        json.dump(digest, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
