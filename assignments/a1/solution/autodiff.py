# starter: solution-only
"""A1: a small reverse-mode automatic differentiation engine on NumPy (reference solution).

Every value is a Tensor holding a float64 NumPy array. Applying an Op to tensors computes
the result at once (eager) and, when any input requires a gradient, records the op and its
inputs on the result, building a graph. backward() walks that graph in reverse topological
order, calling each op's gradient() exactly once.
"""
# starter: instead
# """A1: a small reverse-mode automatic differentiation engine on NumPy (starter code).
#
# Every value is a Tensor holding a float64 NumPy array. Applying an Op to tensors computes
# the result at once (eager) and, when any input requires a gradient, records the op and its
# inputs on the result, building a graph. backward() walks that graph in reverse topological
# order, calling each op's gradient() exactly once.
#
# Fill in every function that raises NotImplementedError("TODO"). Add is done for you as a
# worked example. Keep the names and signatures: the grader imports them. See README.md.
# """
# starter: end

import numpy as np


class Tensor:
    """A float64 array plus the graph edge that produced it."""

    def __init__(self, data, requires_grad=False):
        self.data = np.array(data, dtype=np.float64)
        self.requires_grad = bool(requires_grad)
        self.grad = None  # filled on leaves by backward(); accumulates like PyTorch
        self.op = None  # the Op that produced this tensor; None for leaves
        self.inputs = ()  # the tensors that op consumed

    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def is_leaf(self):
        return self.op is None

    def __repr__(self):
        return f"Tensor({self.data!r}, requires_grad={self.requires_grad})"

    # Operators and methods, all built from the ops below.
    def __add__(self, other):
        return add(self, other)

    __radd__ = __add__

    def __mul__(self, other):
        return mul(self, other)

    __rmul__ = __mul__

    def __neg__(self):
        return mul(self, -1.0)

    def __sub__(self, other):
        return add(self, -as_tensor(other))

    def __rsub__(self, other):
        return add(other, -self)

    def __truediv__(self, scalar):
        return mul(self, 1.0 / scalar)

    def __matmul__(self, other):
        return matmul(self, other)

    def sum(self, axes=None, keepdims=False):
        return summation(self, axes, keepdims)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        return reshape(self, shape)

    def transpose(self, axes=None):
        return transpose(self, axes)

    def broadcast_to(self, shape):
        return broadcast_to(self, shape)

    def exp(self):
        return exp(self)

    def log(self):
        return log(self)

    def relu(self):
        return relu(self)

    def softmax(self, axis=-1):
        return softmax(self, axis)

    def backward(self, grad=None):
        backward(self, grad)


def as_tensor(value):
    """A Tensor as is; anything else becomes a constant (requires_grad=False) Tensor."""
    return value if isinstance(value, Tensor) else Tensor(value)


class Op:
    """One node's operation. A fresh instance is made per node, so an op may keep on self
    whatever its gradient needs (for example its output or a mask)."""

    def __call__(self, *inputs):
        inputs = tuple(as_tensor(x) for x in inputs)
        out = Tensor(self.compute(*(t.data for t in inputs)))
        if any(t.requires_grad for t in inputs):
            out.requires_grad = True
            out.op = self
            out.inputs = inputs
        return out

    def compute(self, *arrays):
        """The forward value: NumPy arrays in, one NumPy array out."""
        raise NotImplementedError

    def gradient(self, out_grad, out):
        """Given dLoss/d(out) (an array shaped like out), return a tuple with one array per
        input: dLoss/d(input), shaped exactly like that input."""
        raise NotImplementedError


def unbroadcast(grad, shape):
    """Sum grad down to shape, undoing NumPy broadcasting (leading axes added, size-1 axes
    stretched)."""
    # starter: solution-only
    shape = tuple(shape)
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)
    # starter: instead
    # raise NotImplementedError("TODO")
    # starter: end


class Add(Op):
    def compute(self, a, b):
        self.shapes = (a.shape, b.shape)
        return a + b

    def gradient(self, out_grad, out):
        return unbroadcast(out_grad, self.shapes[0]), unbroadcast(out_grad, self.shapes[1])


class Mul(Op):
    def compute(self, a, b):
        # starter: solution-only
        self.a, self.b = a, b
        return a * b
        # starter: instead
        # raise NotImplementedError("TODO")
        # starter: end

    def gradient(self, out_grad, out):
        # starter: solution-only
        return (
            unbroadcast(out_grad * self.b, self.a.shape),
            unbroadcast(out_grad * self.a, self.b.shape),
        )
        # starter: instead
        # raise NotImplementedError("TODO")
        # starter: end


class MatMul(Op):
    """np.matmul for operands with at least 2 dimensions; batch dimensions broadcast."""

    def compute(self, a, b):
        # starter: solution-only
        self.a, self.b = a, b
        return a @ b
        # starter: instead
        # raise NotImplementedError("TODO")
        # starter: end

    def gradient(self, out_grad, out):
        # starter: solution-only
        grad_a = out_grad @ np.swapaxes(self.b, -1, -2)
        grad_b = np.swapaxes(self.a, -1, -2) @ out_grad
        return unbroadcast(grad_a, self.a.shape), unbroadcast(grad_b, self.b.shape)
        # starter: instead
        # raise NotImplementedError("TODO")
        # starter: end


class Sum(Op):
    def __init__(self, axes=None, keepdims=False):
        self.axes = (axes,) if isinstance(axes, int) else axes
        self.keepdims = keepdims

    def compute(self, a):
        # starter: solution-only
        self.shape = a.shape
        return np.sum(a, axis=self.axes, keepdims=self.keepdims)
        # starter: instead
        # raise NotImplementedError("TODO")
        # starter: end

    def gradient(self, out_grad, out):
        # starter: solution-only
        if self.axes is None:
            axes = tuple(range(len(self.shape)))
        else:
            axes = tuple(ax % len(self.shape) for ax in self.axes)
        kept = [1 if i in axes else n for i, n in enumerate(self.shape)]
        return (np.broadcast_to(np.reshape(out_grad, kept), self.shape).copy(),)
        # starter: instead
        # raise NotImplementedError("TODO")
        # starter: end


class BroadcastTo(Op):
    def __init__(self, shape):
        self.shape = tuple(shape)

    def compute(self, a):
        # starter: solution-only
        self.in_shape = a.shape
        return np.broadcast_to(a, self.shape).copy()
        # starter: instead
        # raise NotImplementedError("TODO")
        # starter: end

    def gradient(self, out_grad, out):
        # starter: solution-only
        return (unbroadcast(out_grad, self.in_shape),)
        # starter: instead
        # raise NotImplementedError("TODO")
        # starter: end


class Reshape(Op):
    def __init__(self, shape):
        self.shape = tuple(shape)

    def compute(self, a):
        # starter: solution-only
        self.in_shape = a.shape
        return np.reshape(a, self.shape).copy()
        # starter: instead
        # raise NotImplementedError("TODO")
        # starter: end

    def gradient(self, out_grad, out):
        # starter: solution-only
        return (np.reshape(out_grad, self.in_shape),)
        # starter: instead
        # raise NotImplementedError("TODO")
        # starter: end


class Transpose(Op):
    """np.transpose: axes=None reverses the axes."""

    def __init__(self, axes=None):
        self.axes = None if axes is None else tuple(axes)

    def compute(self, a):
        # starter: solution-only
        self.ndim = a.ndim
        return np.transpose(a, self.axes).copy()
        # starter: instead
        # raise NotImplementedError("TODO")
        # starter: end

    def gradient(self, out_grad, out):
        # starter: solution-only
        axes = tuple(range(self.ndim))[::-1] if self.axes is None else self.axes
        return (np.transpose(out_grad, np.argsort(axes)),)
        # starter: instead
        # raise NotImplementedError("TODO")
        # starter: end


class Exp(Op):
    def compute(self, a):
        # starter: solution-only
        self.out = np.exp(a)
        return self.out
        # starter: instead
        # raise NotImplementedError("TODO")
        # starter: end

    def gradient(self, out_grad, out):
        # starter: solution-only
        return (out_grad * self.out,)
        # starter: instead
        # raise NotImplementedError("TODO")
        # starter: end


class Log(Op):
    def compute(self, a):
        # starter: solution-only
        self.a = a
        return np.log(a)
        # starter: instead
        # raise NotImplementedError("TODO")
        # starter: end

    def gradient(self, out_grad, out):
        # starter: solution-only
        return (out_grad / self.a,)
        # starter: instead
        # raise NotImplementedError("TODO")
        # starter: end


class ReLU(Op):
    def compute(self, a):
        # starter: solution-only
        self.mask = a > 0
        return np.where(self.mask, a, 0.0)
        # starter: instead
        # raise NotImplementedError("TODO")
        # starter: end

    def gradient(self, out_grad, out):
        # starter: solution-only
        return (out_grad * self.mask,)
        # starter: instead
        # raise NotImplementedError("TODO")
        # starter: end


class Softmax(Op):
    def __init__(self, axis=-1):
        self.axis = axis

    def compute(self, a):
        # starter: solution-only
        shifted = a - np.max(a, axis=self.axis, keepdims=True)
        e = np.exp(shifted)
        self.out = e / np.sum(e, axis=self.axis, keepdims=True)
        return self.out
        # starter: instead
        # raise NotImplementedError("TODO")
        # starter: end

    def gradient(self, out_grad, out):
        # starter: solution-only
        s = self.out
        dot = np.sum(out_grad * s, axis=self.axis, keepdims=True)
        return (s * (out_grad - dot),)
        # starter: instead
        # raise NotImplementedError("TODO")
        # starter: end


class LayerNorm(Op):
    """Normalize over the last axis, then scale by weight and shift by bias (both shaped
    like the last axis). Inputs: x, weight, bias."""

    def __init__(self, eps=1e-5):
        self.eps = eps

    def compute(self, x, weight, bias):
        # starter: solution-only
        mean = np.mean(x, axis=-1, keepdims=True)
        var = np.var(x, axis=-1, keepdims=True)
        self.inv_std = 1.0 / np.sqrt(var + self.eps)
        self.xhat = (x - mean) * self.inv_std
        self.weight = weight
        return self.xhat * weight + bias
        # starter: instead
        # raise NotImplementedError("TODO")
        # starter: end

    def gradient(self, out_grad, out):
        # starter: solution-only
        d = self.xhat.shape[-1]
        dxhat = out_grad * self.weight
        dx = (
            self.inv_std
            / d
            * (
                d * dxhat
                - np.sum(dxhat, axis=-1, keepdims=True)
                - self.xhat * np.sum(dxhat * self.xhat, axis=-1, keepdims=True)
            )
        )
        dweight = unbroadcast(out_grad * self.xhat, self.weight.shape)
        dbias = unbroadcast(out_grad, self.weight.shape)
        return dx, dweight, dbias
        # starter: instead
        # raise NotImplementedError("TODO")
        # starter: end


class CrossEntropy(Op):
    """Mean cross-entropy of logits (N, C) against integer class targets (N,)."""

    def __init__(self, targets):
        self.targets = np.asarray(targets, dtype=np.int64)

    def compute(self, logits):
        # starter: solution-only
        shifted = logits - np.max(logits, axis=1, keepdims=True)
        log_z = np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        log_p = shifted - log_z
        self.probs = np.exp(log_p)
        n = logits.shape[0]
        return np.array(-np.mean(log_p[np.arange(n), self.targets]))
        # starter: instead
        # raise NotImplementedError("TODO")
        # starter: end

    def gradient(self, out_grad, out):
        # starter: solution-only
        n = self.probs.shape[0]
        grad = self.probs.copy()
        grad[np.arange(n), self.targets] -= 1.0
        return (grad * (out_grad / n),)
        # starter: instead
        # raise NotImplementedError("TODO")
        # starter: end


# The functional API: one fresh Op per call.
def add(a, b):
    return Add()(a, b)


def mul(a, b):
    return Mul()(a, b)


def matmul(a, b):
    return MatMul()(a, b)


def summation(a, axes=None, keepdims=False):
    return Sum(axes, keepdims)(a)


def broadcast_to(a, shape):
    return BroadcastTo(shape)(a)


def reshape(a, shape):
    return Reshape(shape)(a)


def transpose(a, axes=None):
    return Transpose(axes)(a)


def exp(a):
    return Exp()(a)


def log(a):
    return Log()(a)


def relu(a):
    return ReLU()(a)


def softmax(a, axis=-1):
    return Softmax(axis)(a)


def layer_norm(x, weight, bias, eps=1e-5):
    return LayerNorm(eps)(x, weight, bias)


def cross_entropy(logits, targets):
    return CrossEntropy(targets)(logits)


def topological_sort(root):
    """Every tensor reachable from root through .inputs, each exactly once, each after all
    of its inputs (so root comes last). Iterative: graphs may be thousands of nodes deep."""
    # starter: solution-only
    order = []
    visited = set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in reversed(node.inputs):
            if id(parent) not in visited:
                stack.append((parent, False))
    return order
    # starter: instead
    # raise NotImplementedError("TODO")
    # starter: end


def backward(root, grad=None):
    """Reverse-mode sweep from root. grad is dLoss/d(root); default ones (a scalar loss).
    Calls each node's op.gradient exactly once, sums the gradients a tensor receives from
    all its consumers, and adds the result into .grad of every leaf that requires grad."""
    # starter: solution-only
    grad = np.ones_like(root.data) if grad is None else np.array(grad, dtype=np.float64)
    grads = {id(root): grad}
    for node in reversed(topological_sort(root)):
        node_grad = grads.pop(id(node), None)
        if node_grad is None or not node.requires_grad:
            continue
        if node.op is None:
            node.grad = node_grad.copy() if node.grad is None else node.grad + node_grad
            continue
        input_grads = node.op.gradient(node_grad, node)
        for parent, g in zip(node.inputs, input_grads):
            if not parent.requires_grad:
                continue
            key = id(parent)
            grads[key] = g if key not in grads else grads[key] + g
    # starter: instead
    # raise NotImplementedError("TODO")
    # starter: end


class Optimizer:
    def __init__(self, params):
        self.params = list(params)

    def zero_grad(self):
        for p in self.params:
            p.grad = None


class SGD(Optimizer):
    """torch.optim.SGD semantics: g = grad + weight_decay * p; with momentum, buf = g on
    the first step, then buf = momentum * buf + g; p -= lr * buf (g when momentum is 0).
    Parameters whose grad is None are skipped."""

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params)
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
        self.buffers = {}

    def step(self):
        # starter: solution-only
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad + self.weight_decay * p.data
            if self.momentum != 0.0:
                if i in self.buffers:
                    g = self.buffers[i] = self.momentum * self.buffers[i] + g
                else:
                    g = self.buffers[i] = g.copy()
            p.data = p.data - self.lr * g
        # starter: instead
        # raise NotImplementedError("TODO")
        # starter: end


class Adam(Optimizer):
    """torch.optim.Adam semantics (L2 weight decay added to the gradient, bias-corrected
    moments, eps added after the square root). Parameters whose grad is None are skipped;
    each parameter counts its own steps."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params)
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.state = {}

    def step(self):
        # starter: solution-only
        beta1, beta2 = self.betas
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad + self.weight_decay * p.data
            t, m, v = self.state.get(i, (0, np.zeros_like(p.data), np.zeros_like(p.data)))
            t += 1
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            self.state[i] = (t, m, v)
            m_hat = m / (1 - beta1**t)
            v_hat = v / (1 - beta2**t)
            p.data = p.data - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        # starter: instead
        # raise NotImplementedError("TODO")
        # starter: end
