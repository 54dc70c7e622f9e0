"""Writes hidden/expected/* for A1 from torch.autograd / torch.optim in float64, after
checking that the reference solution agrees. Run from anywhere:
    /usr/bin/python3 assignments/a1/hidden/make_expected.py
Rerun after changing a case, a seed in assignment.toml, or the reference."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "drivers"))
sys.path.insert(0, str(HERE.parent / "solution"))

import autodiff  # noqa: E402  (the reference solution)
import cases  # noqa: E402

SEEDS = {
    t["id"]: t["seed"]
    for t in tomllib.loads((HERE.parent / "assignment.toml").read_text())["tests"]
    if "seed" in t
}


def fresh_dir(name):
    path = HERE / "expected" / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def save(path, case, arrays):
    for name, array in arrays.items():
        np.save(path / f"{case}__{name}.npy", np.asarray(array, dtype=np.float64))


def agree(case, ours, theirs):
    assert set(ours) == set(theirs), (case, sorted(ours), sorted(theirs))
    for name in theirs:
        assert np.allclose(ours[name], theirs[name], rtol=1e-9, atol=1e-12), (case, name)


def gradient_cases(test_id, case_list):
    path = fresh_dir(test_id.removeprefix("hidden_"))
    seed = SEEDS[test_id]
    for name, build in case_list:
        expected = cases.run_case(cases.TorchBackend(), build, cases.rng_for(seed, name))
        reference = cases.run_case(cases.StudentBackend(autodiff), build, cases.rng_for(seed, name))
        agree(name, reference, expected)
        save(path, name, expected)
    return path


def torch_trajectory(make_optimizer, name, seed):
    init, grads = cases.optimizer_problem(cases.rng_for(seed, name))
    params = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in init]
    opt = make_optimizer(params)
    arrays = {}
    for step, step_grads in enumerate(grads):
        opt.zero_grad(set_to_none=True)
        for p, g in zip(params, step_grads):
            p.grad = None if g is None else torch.tensor(g, dtype=torch.float64)
        opt.step()
        for i, p in enumerate(params):
            arrays[f"step{step}_p{i}"] = p.detach().numpy().copy()
    return arrays


def main():
    gradient_cases("hidden_ops", cases.OPS)
    gradient_cases("hidden_graphs", cases.GRAPHS)

    gradient_cases("hidden_once", cases.ONCE)

    # Optimizers: torch.optim is the truth; the reference must match it.
    optim = fresh_dir("optim")
    seed = SEEDS["hidden_optim"]
    sgd = torch_trajectory(lambda ps: torch.optim.SGD(ps, **cases.SGD_CONFIG), "sgd", seed)
    adam = torch_trajectory(lambda ps: torch.optim.Adam(ps, **cases.ADAM_CONFIG), "adam", seed)
    save(optim, "sgd", sgd)
    save(optim, "adam", adam)
    # The reference's own run of the driver, for the agreement check and the MLP's loss.
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, GRADER_OUT=out, GRADER_SEED=str(seed),
                   PYTHONPATH=str(HERE.parent / "solution"))
        subprocess.run([sys.executable, str(HERE / "drivers" / "optim.py")], env=env, check=True)
        assert not Path(out, "errors.json").exists(), Path(out, "errors.json").read_text()
        for case, truth in (("sgd", sgd), ("adam", adam)):
            ours = {k: np.load(Path(out, f"{case}__{k}.npy")) for k in truth}
            agree(case, ours, truth)
        losses = np.load(Path(out, "mlp__losses.npy"))
        points, labels, _ = cases.mlp_data(cases.rng_for(seed, "mlp"))
        weights = [np.load(Path(out, f"mlp__{w}.npy")) for w in cases.MLP_WEIGHTS]
    # The checker's numpy loss of the trained weights is the loss the reference reported
    # before its last step's update; it must be well below the bound too.
    final = cases.mlp_loss(points, labels, weights)
    assert final < cases.MLP_LOSS_BOUND / 2 and losses[-1] < cases.MLP_LOSS_BOUND / 2, (final, losses[-1])
    (optim / "mlp.json").write_text(
        json.dumps({"loss_bound": cases.MLP_LOSS_BOUND, "steps": cases.MLP_STEPS,
                    "reference_final_loss": final}, indent=1) + "\n")
    print("expected data written under", HERE / "expected")


if __name__ == "__main__":
    main()
