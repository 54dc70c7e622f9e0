"""Trusted configuration, models and single-process references for A4's hidden tests.

Imported by the drivers (in the student's box) and by the checkers (in a box that holds no
student file). It never imports student code. Everything is float64 and seeded, so the
distributed runs and the single-process references agree to rounding.
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

SEED = int(os.environ.get("GRADER_SEED", "4004"))
OUT = os.environ.get("GRADER_OUT", "/out")

# One entry per hidden test. Ports are distinct per test (each box also has its own network
# namespace, so they could never clash anyway).
CONFIGS = {
    "ddp_equal": dict(world=2, port=29521, steps=3, batch=8, bucket_cap=280, model="tied",
                      optimizer="sgd"),
    "ddp_unused": dict(world=2, port=29531, steps=3, batch=8, bucket_cap=280, model="branch",
                       optimizer="sgd"),
    "ddp_zero_ws4": dict(world=4, port=29541, steps=3, batch=8, bucket_cap=280, model="tied",
                         optimizer="adam_sharded"),
    "zero": dict(world=2, port=29551, steps=3, batch=8, model="stack", optimizer="adam_sharded"),
    "tp": dict(world=2, port=29561, batch=5, d_in=8, d_hidden=12, d_out=6),
    # Peak memory: 3 parameters of 4.5M float64 elements (36 MiB each, over glibc's largest
    # mmap threshold, so freed temporaries go back to the system); a replicated Adam state
    # costs 216 MiB more in the box than a sharded one (measured: +270 MiB, noise 5 MiB).
    "zero_memory": dict(world=2, port=29571, steps=2, params=3, numel=4_500_000, sample=4099),
}
TP_CASES = ["column", "row", "mlp"]


class TiedNet(nn.Module):
    """The output layer reuses the input layer's weight (tied); one layer is frozen."""

    def __init__(self, d=16):
        super().__init__()
        self.emb = nn.Linear(d, d)
        self.hidden = nn.Linear(d, d)
        self.frozen = nn.Linear(d, d, bias=False)
        self.frozen.weight.requires_grad_(False)
        self.out = nn.Linear(d, d)
        self.out.weight = self.emb.weight

    def forward(self, x, rank=0):
        h = torch.tanh(self.emb(x))
        h = torch.tanh(self.hidden(h))
        return self.out(self.frozen(h))


class BranchNet(nn.Module):
    """`branch` is used only on odd ranks (data-dependent); `never` is used on no rank."""

    def __init__(self, d_in=8, d=16):
        super().__init__()
        self.trunk = nn.Linear(d_in, d)
        self.never = nn.Linear(d, d)
        self.branch = nn.Linear(d, d)
        self.head = nn.Linear(d, d_in)

    def forward(self, x, rank=0):
        h = torch.tanh(self.trunk(x))
        if rank % 2 == 1:
            h = h + torch.tanh(self.branch(h))
        return self.head(h)


class StackNet(nn.Module):
    def __init__(self, d=16, layers=4, d_out=4):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(d, d) for _ in range(layers))
        self.head = nn.Linear(d, d_out)

    def forward(self, x, rank=0):
        for layer in self.layers:
            x = torch.tanh(layer(x))
        return self.head(x)


MODELS = {"tied": (TiedNet, 16, 16), "branch": (BranchNet, 8, 8), "stack": (StackNet, 16, 4)}


def make_model(cfg, rank=0):
    """Each rank initialises differently; the reference is rank 0's initialisation."""
    torch.manual_seed(SEED + rank)
    return MODELS[cfg["model"]][0]()


def make_data(cfg):
    """Global batches: x[step] and y[step]; rank r trains on rows r*b .. (r+1)*b - 1."""
    _, d_in, d_out = MODELS[cfg["model"]]
    g = torch.Generator().manual_seed(SEED + 7)
    x = torch.randn(cfg["steps"], cfg["batch"], d_in, generator=g)
    y = torch.randn(cfg["steps"], cfg["batch"], d_out, generator=g)
    return x, y


def local_rows(t, rank, world):
    b = t.shape[0] // world
    return t[rank * b:(rank + 1) * b]


def make_optimizer(cfg, params):
    if cfg["optimizer"] == "sgd":
        return torch.optim.SGD(params, lr=0.1, momentum=0.9)
    return torch.optim.Adam(params, lr=0.05)


def flat_params(model):
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()]).numpy()


def reference_training(cfg):
    """Single-process training on the global batch: the loss is the mean of the ranks'
    losses, which is what averaging the ranks' gradients computes. Returns the flat
    parameters before training and after every step, shape (steps + 1, n), and the
    optimizer state size (elements) after the last step."""
    model = make_model(cfg, 0)
    opt = make_optimizer(cfg, model.parameters())
    x, y = make_data(cfg)
    rows = [flat_params(model)]
    for s in range(cfg["steps"]):
        opt.zero_grad(set_to_none=True)
        losses = [F.mse_loss(model(local_rows(x[s], r, cfg["world"]), r),
                             local_rows(y[s], r, cfg["world"])) for r in range(cfg["world"])]
        (sum(losses) / cfg["world"]).backward()
        opt.step()
        rows.append(flat_params(model))
    return np.stack(rows), state_numel(opt)


def state_numel(opt):
    """Elements held in an optimizer's state (every tensor, scalars included)."""
    if opt is None:
        return 0
    return int(sum(v.numel() for st in opt.state.values() for v in st.values()
                   if torch.is_tensor(v)))


def expected_bucket_count(cfg):
    model = make_model(cfg, 0)
    count, size = 0, 0
    for p in reversed([p for p in model.parameters() if p.requires_grad]):
        if count == 0 or size + p.numel() > cfg["bucket_cap"]:
            count, size = count + 1, 0
        size += p.numel()
    return count


def param_numels(cfg):
    return [p.numel() for p in make_model(cfg, 0).parameters()]


# Tensor parallelism: the full layers and inputs every rank builds, and the flat layout of
# what each rank reports per case: [y, x.grad, grads of the local parameters in order].
def make_tp_case(case, cfg):
    torch.manual_seed(SEED + 11 + TP_CASES.index(case))
    d_in, d_h, d_out, b = cfg["d_in"], cfg["d_hidden"], cfg["d_out"], cfg["batch"]
    if case == "column":
        layers = [nn.Linear(d_in, d_h)]
        x, t = torch.randn(b, d_in), torch.randn(b, d_h)
    elif case == "row":
        layers = [nn.Linear(d_h, d_out)]
        x, t = torch.randn(b, d_h), torch.randn(b, d_out)
    else:
        layers = [nn.Linear(d_in, d_h), nn.Linear(d_h, d_out)]
        x, t = torch.randn(b, d_in), torch.randn(b, d_out)
    return layers, x, t


def tp_loss(y, t):
    return 0.5 * ((y - t) ** 2).sum()


def tp_reference(case, cfg, rank):
    """What rank `rank` must report: full output, full input gradient, and the gradient
    shards of its own parameters (column: rows of W and b; row: columns of W, full b)."""
    layers, x, t = make_tp_case(case, cfg)
    x = x.clone().requires_grad_(True)
    if case == "mlp":
        y = layers[1](torch.tanh(layers[0](x)))
        kinds = ["column", "row"]
    else:
        y = layers[0](x)
        kinds = [case]
    tp_loss(y, t).backward()
    world = cfg["world"]
    parts = [y.detach(), x.grad]
    for layer, kind in zip(layers, kinds):
        if kind == "column":
            n = layer.out_features // world
            parts += [layer.weight.grad[rank * n:(rank + 1) * n], layer.bias.grad[rank * n:(rank + 1) * n]]
        else:
            n = layer.in_features // world
            parts += [layer.weight.grad[:, rank * n:(rank + 1) * n], layer.bias.grad]
    sizes = [p.numel() for p in parts]
    return torch.cat([p.reshape(-1) for p in parts]).numpy(), sizes


# Reading what the student's box wrote: regular .npy/.json files only, never pickles.
def load_npy(name, directory=OUT):
    path = os.path.join(directory, name)
    if not os.path.isfile(path) or os.path.islink(path):
        raise AssertionError(f"{name}: missing (the run did not produce it){error_note(directory)}")
    arr = np.load(path, allow_pickle=False)
    if arr.dtype != np.float64:
        raise AssertionError(f"{name}: dtype {arr.dtype}, expected float64")
    return arr


def load_json(name, directory=OUT):
    path = os.path.join(directory, name)
    if not os.path.isfile(path) or os.path.islink(path):
        raise AssertionError(f"{name}: missing (the run did not produce it){error_note(directory)}")
    with open(path, encoding="utf-8") as f:
        return json.loads(f.read(1 << 20))


def error_note(directory=OUT):
    """The first error a rank reported, to help the student (text only, never trusted)."""
    try:
        for name in sorted(os.listdir(directory)):
            if name.startswith("error_r") and name.endswith(".txt"):
                with open(os.path.join(directory, name), encoding="utf-8", errors="replace") as f:
                    return f"\n{name}:\n" + f.read(1500)
    except OSError:
        pass
    return ""


def close(actual, expected, what):
    if actual.shape != expected.shape:
        raise AssertionError(f"{what}: shape {actual.shape}, expected {expected.shape}")
    if not np.all(np.isfinite(actual)):
        raise AssertionError(f"{what}: not finite")
    err = np.max(np.abs(actual - expected)) if actual.size else 0.0
    if not np.allclose(actual, expected, rtol=1e-7, atol=1e-9):
        raise AssertionError(f"{what}: max abs difference {err:.3g} from single-process training")


# zero_memory: parameters and gradients from their own generators, so that the checker can
# regenerate any element; Adam is elementwise, so the reference runs on the sampled elements.
def zero_memory_param(cfg, i):
    g = torch.Generator().manual_seed(SEED * 1000 + i)
    return torch.empty(cfg["numel"], dtype=torch.float64).uniform_(-1, 1, generator=g)


def zero_memory_grad(cfg, step, i):
    g = torch.Generator().manual_seed(SEED * 1000 + 100 * (step + 1) + i)
    return torch.empty(cfg["numel"], dtype=torch.float64).uniform_(-1, 1, generator=g)


def zero_memory_sample(cfg):
    return torch.arange(0, cfg["numel"], cfg["sample"])
