"""ctypes bindings for the student's kernels.so (trusted copy used by the hidden drivers).

Only numpy and ctypes: no torch import, so a run starts in about 0.1 s.
"""
import ctypes
import os

import numpy as np

_F32P = ctypes.POINTER(ctypes.c_float)
# The box's /work (A2_WORK: only for hidden/tools/grade_local.py, which runs without a box).
WORK = os.environ.get("A2_WORK", "/work")


def load(path=os.path.join(WORK, "kernels.so")):
    """Loads the shared library and declares the two kernels' signatures."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} is missing: did kernels.cpp compile?")
    lib = ctypes.CDLL(path)
    lib.matmul.restype = ctypes.c_int
    lib.matmul.argtypes = [_F32P, _F32P, _F32P, ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.attention_forward.restype = ctypes.c_int
    lib.attention_forward.argtypes = [_F32P] * 5 + [ctypes.c_int] * 4 + [
        ctypes.c_float, ctypes.c_int]
    return lib


def _ptr(a):
    return a.ctypes.data_as(_F32P)


def _f32(a):
    return np.ascontiguousarray(a, dtype=np.float32)


def matmul(lib, a, b):
    a, b = _f32(a), _f32(b)
    m, k = a.shape
    k2, n = b.shape
    assert k == k2
    # NaN-filled: a kernel that skips an element cannot pass by leaving a lucky value.
    c = np.full((m, n), np.nan, dtype=np.float32)
    rc = lib.matmul(_ptr(a), _ptr(b), _ptr(c), m, k, n)
    if rc != 0:
        raise RuntimeError(f"matmul returned {rc}")
    return c


def attention_forward(lib, q, k, v, causal, scale=None):
    """q: [BH, Nq, d], k and v: [BH, Nk, d]. Returns (O [BH, Nq, d], L [BH, Nq])."""
    q, k, v = _f32(q), _f32(k), _f32(v)
    bh, nq, d = q.shape
    nk = k.shape[1]
    if scale is None:
        scale = 1.0 / np.sqrt(d)
    o = np.full((bh, nq, d), np.nan, dtype=np.float32)
    lse = np.full((bh, nq), np.nan, dtype=np.float32)
    rc = lib.attention_forward(_ptr(q), _ptr(k), _ptr(v), _ptr(o), _ptr(lse), bh, nq, nk, d,
                               float(scale), int(bool(causal)))
    if rc != 0:
        raise RuntimeError(f"attention_forward returned {rc}")
    return o, lse
