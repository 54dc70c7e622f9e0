"""Hidden driver: SGD and Adam trajectories with given gradients, then an MLP trained with
the student's whole stack."""

import numpy as np

import cases

outputs = cases.Outputs()
ad = cases.import_student(outputs)


def trajectory(make_optimizer, name):
    init, grads = cases.optimizer_problem(cases.rng_for(seed, name))
    params = [ad.Tensor(p, requires_grad=True) for p in init]
    opt = make_optimizer(params)
    arrays = {}
    for step, step_grads in enumerate(grads):
        opt.zero_grad()
        for p, g in zip(params, step_grads):
            p.grad = None if g is None else g.copy()
        opt.step()
        for i, p in enumerate(params):
            arrays[f"step{step}_p{i}"] = np.asarray(p.data, dtype=np.float64)
    return arrays


def train_mlp():
    points, labels, weights = cases.mlp_data(cases.rng_for(seed, "mlp"))
    w1, b1, w2, b2 = params = [ad.Tensor(w, requires_grad=True) for w in weights]
    x = ad.Tensor(points)
    opt = ad.Adam(params, lr=0.05)
    losses = []
    for _ in range(cases.MLP_STEPS):
        opt.zero_grad()
        hidden = ad.relu(ad.add(ad.matmul(x, w1), b1))
        loss = ad.cross_entropy(ad.add(ad.matmul(hidden, w2), b2), labels)
        ad.backward(loss)
        opt.step()
        losses.append(float(np.asarray(loss.data)))
    # The checker recomputes the loss from the trained weights (the losses are feedback only).
    arrays = {name: np.asarray(w.data) for name, w in zip(cases.MLP_WEIGHTS, params)}
    arrays["losses"] = np.array(losses)
    return arrays


if ad is not None:
    seed = cases.seed_from_env(1104)
    outputs.run("sgd", lambda: trajectory(lambda ps: ad.SGD(ps, **cases.SGD_CONFIG), "sgd"))
    outputs.run("adam", lambda: trajectory(lambda ps: ad.Adam(ps, **cases.ADAM_CONFIG), "adam"))
    outputs.run("mlp", train_mlp)
