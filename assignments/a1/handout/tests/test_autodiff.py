"""Public tests for A1. Run them with `grader check a1 .` (or `python3 -m pytest tests`).

Gradients are compared with central finite differences in float64. The hidden tests go
further: more shapes, composite graphs, torch.autograd as the reference, deep graphs."""

import numpy as np

import autodiff as ad


def numerical_grads(f, arrays, eps=1e-6):
    """Central differences of the scalar f(*arrays) with respect to every array."""
    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            old = a[idx]
            a[idx] = old + eps
            plus = f(*arrays)
            a[idx] = old - eps
            minus = f(*arrays)
            a[idx] = old
            g[idx] = (plus - minus) / (2 * eps)
        grads.append(g)
    return grads


def check(build, *arrays, atol=1e-5):
    """build(*tensors) -> Tensor; checks value shape and the gradient of sum(out * w)."""
    rng = np.random.default_rng(0)
    out_shape = build(*(ad.Tensor(a) for a in arrays)).shape
    w = rng.standard_normal(out_shape)

    def scalar(*xs):
        return float(np.sum(build(*(ad.Tensor(x) for x in xs)).data * w))

    leaves = [ad.Tensor(a, requires_grad=True) for a in arrays]
    out = build(*leaves)
    ad.backward(out, w)
    for i, (leaf, want) in enumerate(zip(leaves, numerical_grads(scalar, [a.copy() for a in arrays]))):
        assert leaf.grad is not None, f"input {i} got no gradient"
        assert leaf.grad.shape == leaf.shape, f"input {i}: grad shape {leaf.grad.shape}, expected {leaf.shape}"
        np.testing.assert_allclose(leaf.grad, want, atol=atol, err_msg=f"input {i}")


rng = np.random.default_rng(42)


def test_add_with_broadcasting():
    np.testing.assert_allclose(ad.add(ad.Tensor([1.0, 2.0]), ad.Tensor([[1.0], [2.0]])).data,
                               [[2.0, 3.0], [3.0, 4.0]])
    check(ad.add, rng.standard_normal((3, 4)), rng.standard_normal((4,)))


def test_mul_with_broadcasting():
    check(ad.mul, rng.standard_normal((2, 3)), rng.standard_normal((2, 1)))


def test_matmul():
    check(ad.matmul, rng.standard_normal((3, 4)), rng.standard_normal((4, 2)))


def test_sum_reshape_transpose_broadcast_to():
    check(lambda x: ad.summation(x, (1,)), rng.standard_normal((2, 3, 2)))
    check(lambda x: ad.summation(x, (0,), keepdims=True), rng.standard_normal((3, 2)))
    check(lambda x: ad.reshape(x, (3, 2)), rng.standard_normal((2, 3)))
    check(lambda x: ad.transpose(x), rng.standard_normal((2, 3)))
    check(lambda x: ad.broadcast_to(x, (3, 2)), rng.standard_normal((1, 2)))


def test_exp_log_relu():
    check(ad.exp, rng.standard_normal((2, 3)))
    check(ad.log, rng.uniform(0.5, 2.0, (2, 3)))
    x = np.array([[-1.0, 2.0, -0.5], [0.3, -2.0, 1.5]])
    np.testing.assert_allclose(ad.relu(ad.Tensor(x)).data, np.maximum(x, 0))
    check(ad.relu, x)


def test_softmax():
    x = rng.standard_normal((2, 4))
    out = ad.softmax(ad.Tensor(x)).data
    np.testing.assert_allclose(out.sum(axis=-1), [1.0, 1.0])
    check(ad.softmax, x)
    big = ad.softmax(ad.Tensor([[1000.0, 1000.0]])).data  # must not overflow
    np.testing.assert_allclose(big, [[0.5, 0.5]])


def test_layer_norm():
    x = rng.standard_normal((3, 5))
    out = ad.layer_norm(ad.Tensor(x), ad.Tensor(np.ones(5)), ad.Tensor(np.zeros(5))).data
    np.testing.assert_allclose(out.mean(axis=-1), 0.0, atol=1e-9)
    check(ad.layer_norm, x, rng.standard_normal(5), rng.standard_normal(5))


def test_cross_entropy():
    logits = rng.standard_normal((4, 3))
    targets = np.array([0, 2, 1, 2])
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    want = -log_p[np.arange(4), targets].mean()
    np.testing.assert_allclose(ad.cross_entropy(ad.Tensor(logits), targets).data, want)
    check(lambda z: ad.cross_entropy(z, targets), logits)


def test_shared_subexpression():
    # x is used three times and h twice: their gradients must add up.
    def build(x):
        h = ad.mul(x, x)
        return ad.add(ad.mul(h, h), ad.mul(h, x))

    check(build, rng.standard_normal((2, 2)))
    x = ad.Tensor([1.0, 2.0], requires_grad=True)
    order = ad.topological_sort(ad.add(ad.mul(x, x), x))
    assert order[0] is x and len(order) == 3, "each tensor once, inputs first"


def test_sgd_and_adam_first_steps():
    p = ad.Tensor([1.0, -2.0], requires_grad=True)
    opt = ad.SGD([p], lr=0.1, momentum=0.9)
    p.grad = np.array([0.5, 1.0])
    opt.step()
    np.testing.assert_allclose(p.data, [0.95, -2.1])
    p.grad = np.array([0.5, 1.0])
    opt.step()  # buf = 0.9 * g + g
    np.testing.assert_allclose(p.data, [0.855, -2.29])

    q = ad.Tensor([1.0, -2.0], requires_grad=True)
    adam = ad.Adam([q], lr=0.1)
    for _ in range(2):
        q.grad = np.array([0.5, -1.0])
        adam.step()  # bias-corrected: each step moves by about lr * sign(grad)
    np.testing.assert_allclose(q.data, [0.8, -1.8], atol=1e-6)
