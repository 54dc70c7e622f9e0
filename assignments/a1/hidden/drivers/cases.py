"""A1 hidden cases, written once against a small backend interface so that the same code
builds each graph with the student's autodiff (in the drivers) and with torch.autograd in
float64 (in make_expected.py). Every input comes from a NumPy generator seeded per case."""

import json
import os
import traceback
import zlib

import numpy as np


def seed_from_env(default):
    return int(os.environ.get("GRADER_SEED", default))


def rng_for(seed, case_name):
    # One independent stream per case: adding or reordering cases changes no other case.
    return np.random.default_rng([seed, zlib.crc32(case_name.encode())])


class StudentBackend:
    """The student's module `autodiff` behind the backend interface."""

    def __init__(self, ad):
        self.ad = ad

    def leaf(self, array):
        return self.ad.Tensor(array, requires_grad=True)

    def const(self, array):
        return self.ad.Tensor(array)

    def value(self, t):
        return np.asarray(t.data, dtype=np.float64)

    def grad(self, t):
        return None if t.grad is None else np.asarray(t.grad, dtype=np.float64)

    def backward(self, out, upstream):
        self.ad.backward(out, upstream)

    def __getattr__(self, name):
        # add, mul, matmul, summation, broadcast_to, reshape, transpose, exp, log, relu,
        # softmax, layer_norm, cross_entropy
        return getattr(self.ad, name)


class TorchBackend:
    """torch.autograd in float64, the source of the expected data."""

    def __init__(self):
        import torch

        self.torch = torch

    def leaf(self, array):
        return self.torch.tensor(np.asarray(array), dtype=self.torch.float64, requires_grad=True)

    def const(self, array):
        return self.torch.tensor(np.asarray(array), dtype=self.torch.float64)

    def _t(self, x):
        return x if isinstance(x, self.torch.Tensor) else self.const(x)

    def value(self, t):
        return t.detach().numpy().copy()

    def grad(self, t):
        return None if t.grad is None else t.grad.numpy().copy()

    def backward(self, out, upstream):
        out.backward(self.torch.tensor(np.asarray(upstream), dtype=self.torch.float64))

    def add(self, a, b):
        return self._t(a) + self._t(b)

    def mul(self, a, b):
        return self._t(a) * self._t(b)

    def matmul(self, a, b):
        return self._t(a) @ self._t(b)

    def summation(self, a, axes=None, keepdims=False):
        if axes is None:
            return a.sum(dim=tuple(range(a.ndim)), keepdim=keepdims)
        return a.sum(dim=axes, keepdim=keepdims)

    def broadcast_to(self, a, shape):
        return a.expand(*shape)

    def reshape(self, a, shape):
        return a.reshape(tuple(shape))

    def transpose(self, a, axes=None):
        return a.permute(*(range(a.ndim)[::-1] if axes is None else axes))

    def exp(self, a):
        return a.exp()

    def log(self, a):
        return a.log()

    def relu(self, a):
        return a.relu()

    def softmax(self, a, axis=-1):
        return a.softmax(dim=axis)

    def layer_norm(self, x, w, b, eps=1e-5):
        return self.torch.nn.functional.layer_norm(x, (x.shape[-1],), w, b, eps)

    def cross_entropy(self, logits, targets):
        return self.torch.nn.functional.cross_entropy(logits, self.torch.tensor(targets))


# ---------------------------------------------------------------------------------------
# Cases. Each takes (B, rng) and returns (out, upstream gradient, {name: leaf}).


def normal(rng, *shape):
    return rng.standard_normal(shape)


def op_add(B, rng):
    a, b = B.leaf(normal(rng, 4, 1, 5)), B.leaf(normal(rng, 3, 1))
    out = B.add(a, b)
    return out, normal(rng, 4, 3, 5), {"a": a, "b": b}


def op_mul(B, rng):
    a, b = B.leaf(normal(rng, 2, 3, 4)), B.leaf(normal(rng, 3, 1))
    return B.mul(a, b), normal(rng, 2, 3, 4), {"a": a, "b": b}


def op_matmul(B, rng):
    a, b = B.leaf(normal(rng, 2, 5, 3)), B.leaf(normal(rng, 3, 4))
    return B.matmul(a, b), normal(rng, 2, 5, 4), {"a": a, "b": b}


def op_sum(B, rng):
    x = B.leaf(normal(rng, 3, 4, 5))
    return B.summation(x, (0, 2)), normal(rng, 4), {"x": x}


def op_broadcast_to(B, rng):
    x = B.leaf(normal(rng, 3, 1))
    return B.broadcast_to(x, (2, 3, 4)), normal(rng, 2, 3, 4), {"x": x}


def op_reshape(B, rng):
    x = B.leaf(normal(rng, 2, 3, 4))
    return B.reshape(x, (4, 6)), normal(rng, 4, 6), {"x": x}


def op_transpose(B, rng):
    x = B.leaf(normal(rng, 2, 3, 4))
    return B.transpose(x, (1, 2, 0)), normal(rng, 3, 4, 2), {"x": x}


def op_exp(B, rng):
    x = B.leaf(normal(rng, 3, 4))
    return B.exp(x), normal(rng, 3, 4), {"x": x}


def op_log(B, rng):
    x = B.leaf(rng.uniform(0.5, 2.0, (3, 4)))
    return B.log(x), normal(rng, 3, 4), {"x": x}


def op_relu(B, rng):
    x = B.leaf(normal(rng, 4, 5))
    return B.relu(x), normal(rng, 4, 5), {"x": x}


def op_softmax(B, rng):
    # Logits near 1000: exp overflows unless the maximum is subtracted first.
    x = B.leaf(2.0 * normal(rng, 4, 5) + 1000.0)
    return B.softmax(x, -1), normal(rng, 4, 5), {"x": x}


def op_layer_norm(B, rng):
    x = B.leaf(normal(rng, 3, 4, 8) * 2.0 + 0.5)
    w, b = B.leaf(normal(rng, 8)), B.leaf(normal(rng, 8))
    return B.layer_norm(x, w, b), normal(rng, 3, 4, 8), {"x": x, "w": w, "b": b}


def op_cross_entropy(B, rng):
    logits = B.leaf(normal(rng, 6, 5) * 3.0)
    targets = rng.integers(0, 5, 6)
    return B.cross_entropy(logits, targets), np.array(rng.uniform(0.5, 2.0)), {"logits": logits}


OPS = [
    ("add", op_add),
    ("mul", op_mul),
    ("matmul", op_matmul),
    ("sum", op_sum),
    ("broadcast_to", op_broadcast_to),
    ("reshape", op_reshape),
    ("transpose", op_transpose),
    ("exp", op_exp),
    ("log", op_log),
    ("relu", op_relu),
    ("softmax", op_softmax),
    ("layer_norm", op_layer_norm),
    ("cross_entropy", op_cross_entropy),
]


def graph_shared_exp(B, rng):
    # h and x each feed several consumers.
    x = B.leaf(normal(rng, 5, 4))
    h = B.exp(B.mul(x, 0.3))
    y = B.summation(B.add(B.mul(h, h), B.mul(h, x)))
    return y, np.array(1.0), {"x": x}


def graph_mlp(B, rng):
    # A two-layer MLP with broadcast biases; every tensor is used once.
    x = B.const(normal(rng, 8, 6))
    w1, b1 = B.leaf(normal(rng, 6, 10) * 0.5), B.leaf(normal(rng, 10) * 0.1)
    w2, b2 = B.leaf(normal(rng, 10, 4) * 0.5), B.leaf(normal(rng, 4) * 0.1)
    hidden = B.relu(B.add(B.matmul(x, w1), b1))
    loss = B.cross_entropy(B.add(B.matmul(hidden, w2), b2), rng.integers(0, 4, 8))
    return loss, np.array(1.0), {"w1": w1, "b1": b1, "w2": w2, "b2": b2}


def graph_attention(B, rng):
    # Single-head attention over a batch; x feeds the three projections.
    x = B.leaf(normal(rng, 2, 5, 4))
    wq, wk, wv = (B.leaf(normal(rng, 4, 4) * 0.5) for _ in range(3))
    q, k, v = B.matmul(x, wq), B.matmul(x, wk), B.matmul(x, wv)
    scores = B.mul(B.matmul(q, B.transpose(k, (0, 2, 1))), 0.5)
    out = B.matmul(B.softmax(scores, -1), v)
    return out, normal(rng, 2, 5, 4), {"x": x, "wq": wq, "wk": wk, "wv": wv}


def graph_layer_norm_residual(B, rng):
    # A pre-norm residual block: x is used by the norm and by the residual add.
    x = B.leaf(normal(rng, 3, 6))
    w, b = B.leaf(normal(rng, 6)), B.leaf(normal(rng, 6))
    proj = B.leaf(normal(rng, 6, 6) * 0.4)
    y = B.add(x, B.relu(B.matmul(B.layer_norm(x, w, b), proj)))
    return y, normal(rng, 3, 6), {"x": x, "w": w, "b": b, "proj": proj}


def graph_shapes(B, rng):
    # Reductions and shape ops in a chain; nothing is shared.
    x = B.leaf(rng.uniform(0.5, 1.5, (2, 3, 4)))
    s = B.summation(B.log(x), (1,), keepdims=True)  # (2, 1, 4)
    t = B.transpose(B.broadcast_to(s, (2, 5, 4)), (2, 0, 1))  # (4, 2, 5)
    u = B.reshape(B.exp(B.mul(t, 0.2)), (8, 5))
    return B.summation(u, (0,)), normal(rng, 5), {"x": x}


def graph_random_dag(B, rng):
    # A seeded random DAG: each new node picks its inputs among all earlier nodes.
    leaves = {f"x{i}": B.leaf(normal(rng, 3, 4) * 0.5) for i in range(3)}
    nodes = list(leaves.values())
    for _ in range(24):
        kind = int(rng.integers(0, 5))
        a = nodes[int(rng.integers(0, len(nodes)))]
        b = nodes[int(rng.integers(0, len(nodes)))]
        if kind == 0:
            n = B.add(a, b)
        elif kind == 1:
            n = B.mul(B.mul(a, b), 0.5)
        elif kind == 2:
            n = B.relu(a)
        elif kind == 3:
            n = B.log(B.add(B.exp(B.mul(a, 0.5)), 1.0))  # softplus, bounded growth
        else:
            n = B.add(B.mul(a, 0.7), B.mul(b, -0.3))
        nodes.append(n)
    out = nodes[-1]
    for n in nodes[-6:-1]:
        out = B.add(out, n)
    return out, normal(rng, 3, 4), leaves


GRAPHS = [
    ("shared_exp", graph_shared_exp),
    ("mlp", graph_mlp),
    ("attention", graph_attention),
    ("layer_norm_residual", graph_layer_norm_residual),
    ("shapes", graph_shapes),
    ("random_dag", graph_random_dag),
]


# 2 ops per level; 2**24 paths from the top to the leaf. A backward that differentiates a
# node once per path (16.7 million times for the leaf's consumers) never finishes within the
# CPU limit, one that differentiates each of the 48 nodes once takes milliseconds: the
# property is graded on the gradient and the sandbox's time limit, not on a count taken in
# the student's process.
LADDER_LEVELS = 24


def once_ladder(B, rng):
    x = B.leaf(normal(rng, 3))
    y = x
    for _ in range(LADDER_LEVELS):
        y = B.add(B.mul(y, 0.5), y)  # y feeds two consumers at every level
    return y, normal(rng, 3), {"x": x}


DEEP_CHAIN = 5000


def once_deep_chain(B, rng):
    x = B.leaf(normal(rng, 2, 2))
    y = x
    for i in range(DEEP_CHAIN):
        y = B.mul(y, 1.0001 if i % 2 else 0.9999)
    return y, normal(rng, 2, 2), {"x": x}


# The chain first: a run killed on the ladder still leaves the chain's outputs.
ONCE = [("deep_chain", once_deep_chain), ("ladder", once_ladder)]


def run_case(B, fn, rng):
    """Build the case, run backward, return {array name: array}."""
    out, upstream, leaves = fn(B, rng)
    B.backward(out, upstream)
    arrays = {"out": B.value(out)}
    for name, leaf in leaves.items():
        g = B.grad(leaf)
        if g is not None:
            arrays["grad_" + name] = g
    return arrays


# Optimizer trajectories: gradients are set by hand, so only step() is tested.
OPT_STEPS = 6
SGD_CONFIG = dict(lr=0.1, momentum=0.9, weight_decay=0.01)
ADAM_CONFIG = dict(lr=0.05, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.02)


def optimizer_problem(rng):
    """Initial values of two parameters and the gradients fed at each step. The second
    parameter gets no gradient at step 2 (None), which must leave it untouched."""
    init = [normal(rng, 3, 2), normal(rng, 4)]
    grads = []
    for step in range(OPT_STEPS):
        grads.append([normal(rng, 3, 2), None if step == 2 else normal(rng, 4)])
    return init, grads


# MLP training: the student's whole stack (ops, backward, Adam) must fit a seeded data set.
MLP_STEPS = 150
MLP_LOSS_BOUND = 0.25


def mlp_data(rng):
    """Three Gaussian blobs in 2-D, 60 points each, and the initial MLP weights."""
    centers = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    labels = np.repeat(np.arange(3), 60)
    points = centers[labels] + 0.6 * rng.standard_normal((180, 2))
    weights = [
        normal(rng, 2, 16) * 0.5,
        np.zeros(16),
        normal(rng, 16, 3) * 0.3,
        np.zeros(3),
    ]
    return points, labels, weights


def mlp_loss(points, labels, weights):
    """Mean cross-entropy of the MLP with `weights` (w1, b1, w2, b2) on the data, in numpy:
    the checker recomputes the trained model's loss from the weights the run wrote."""
    w1, b1, w2, b2 = (np.asarray(w, dtype=np.float64) for w in weights)
    logits = np.maximum(points @ w1 + b1, 0.0) @ w2 + b2
    top = logits.max(axis=1, keepdims=True)
    log_z = (top + np.log(np.exp(logits - top).sum(axis=1, keepdims=True)))[:, 0]
    return float(np.mean(log_z - logits[np.arange(len(labels)), labels]))


MLP_WEIGHTS = ("w1", "b1", "w2", "b2")


# ---------------------------------------------------------------------------------------
# Driver side: run cases one by one, saving each case's arrays as soon as it finishes, so
# that one failing (or hanging) case costs only itself.


class Outputs:
    def __init__(self):
        self.dir = os.environ.get("GRADER_OUT", "/out")
        self.errors = {}

    def save(self, case, arrays):
        for name, array in arrays.items():
            array = np.asarray(array, dtype=np.float64)
            np.save(os.path.join(self.dir, f"{case}__{name}.npy"), array, allow_pickle=False)

    def save_json(self, case, obj):
        with open(os.path.join(self.dir, f"{case}.json"), "w") as f:
            json.dump(obj, f)

    def error(self, case, exc):
        text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        self.errors[case] = text[-600:]
        with open(os.path.join(self.dir, "errors.json"), "w") as f:
            json.dump(self.errors, f)

    def run(self, case, compute):
        try:
            self.save(case, compute())
        except Exception as exc:  # the student's fault; recorded for the feedback
            self.error(case, exc)


def import_student(outputs):
    """Import the student's module; None (with the error recorded) when it fails."""
    try:
        import autodiff

        return autodiff
    except Exception as exc:
        outputs.error("import", exc)
        return None
