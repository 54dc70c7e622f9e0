"""A3 hidden models, shared by the drivers (student passes applied) and make_expected.py
(original outputs, reference counts). Every model runs in float64 in eval mode; weights and
inputs come from torch's generator seeded per case."""

import json
import os
import traceback
import zlib

import numpy as np
import torch
import torch.fx as fx
import torch.nn as nn

CALL_OPS = ("call_function", "call_method", "call_module")


def seed_from_env(default):
    return int(os.environ.get("GRADER_SEED", default))


def seeded(seed, case):
    torch.manual_seed((seed * 1_000_003 + zlib.crc32(case.encode())) % (2**63))


def finish(model, *input_shapes):
    """float64, eval mode, traced; plus seeded example inputs."""
    model = model.double().eval()
    inputs = tuple(torch.randn(*shape, dtype=torch.float64) for shape in input_shapes)
    return fx.symbolic_trace(model), inputs


def randomize_bn(bn):
    with torch.no_grad():
        bn.running_mean.copy_(torch.randn_like(bn.running_mean))
        bn.running_var.copy_(torch.rand_like(bn.running_var) + 0.5)
        bn.weight.copy_(torch.randn_like(bn.weight))
        bn.bias.copy_(torch.randn_like(bn.bias))
    return bn


def frozen(*shape, offset=0.0):
    return nn.Parameter(torch.randn(*shape) + offset, requires_grad=False)


# --- constant folding and dead code ------------------------------------------------------


class FoldModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = frozen(8, 8)
        self.scale = frozen(8, offset=1.0)
        self.shift = frozen(8)
        self.gate = frozen(8)

    def forward(self, x):
        w = self.w.t() * self.scale  # constant
        b = torch.tanh(self.shift) + self.gate.sigmoid()  # constant
        y = torch.relu(x @ w + b)
        return y * self.shift.exp().sum() - self.gate  # shift.exp().sum() constant


class DeadModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(6, 6)
        self.w = frozen(6)

    def forward(self, x, y):
        a = x * 2
        unused_b = a + y  # dead
        c = torch.relu(a)
        unused_d = torch.sigmoid(y) * 3  # dead chain of two
        unused_f = self.lin(x)  # dead module call
        unused_g = self.w + 1  # dead, and so is the get_attr
        return c + y


class InplaceModel(nn.Module):
    def forward(self, x):
        y = x * 2
        y.add_(1)  # its result is unused, but it changes y
        z = y * 3
        unused = z - 1  # dead
        return z


# --- conv + batchnorm --------------------------------------------------------------------


def conv_bn_sequential():
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), randomize_bn(nn.BatchNorm2d(8)), nn.ReLU(),
        nn.Conv2d(8, 8, 3, bias=False), randomize_bn(nn.BatchNorm2d(8)), nn.ReLU(),
        nn.Conv2d(8, 4, 1), randomize_bn(nn.BatchNorm2d(4)),
    )


class ConvBnTricky(nn.Module):
    """conv1's output feeds bn1 and an add: bn1 must stay. conv2 is called twice and only
    the first call feeds a BatchNorm: folding must not change the second call."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 3, padding=1)
        self.bn1 = randomize_bn(nn.BatchNorm2d(6))
        self.conv2 = nn.Conv2d(6, 6, 3, padding=1)
        self.bn2 = randomize_bn(nn.BatchNorm2d(6))

    def forward(self, x):
        a = self.conv1(x)
        c = self.bn1(a) + a
        e = self.bn2(self.conv2(c))
        return self.conv2(torch.relu(e))


# --- pointwise fusion --------------------------------------------------------------------


class FuseChains(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(8, 8)

    def forward(self, x, y):
        a = torch.relu(x * 2 + 1)  # group of 3
        b = self.lin(a)
        return (torch.sigmoid(b) * y).tanh().neg() + x  # group of 5


class FuseTrees(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(8, 8)

    def forward(self, x, y):
        a = x.exp()  # three users: stays alone
        b = torch.relu(a) + a * 0.5  # group of 3 (a tree)
        c = self.lin(b)
        d = torch.tanh(c) - torch.sigmoid(y)
        return d * d, a  # d has one user (used twice): group of 4 with the mul


# --- memory planning ---------------------------------------------------------------------


def mlp_chain():
    return nn.Sequential(
        nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 512), nn.ReLU(),
        nn.Linear(512, 128), nn.ReLU(), nn.Linear(128, 10),
    )


class ResidualNet(nn.Module):
    def __init__(self, channels=8, blocks=3):
        super().__init__()
        self.stem = nn.Conv2d(3, channels, 3, padding=1)
        self.convs = nn.ModuleList(
            nn.Conv2d(channels, channels, 3, padding=1) for _ in range(2 * blocks)
        )
        self.head = nn.Linear(channels, 5)

    def forward(self, x):
        h = torch.relu(self.stem(x))
        for i in range(0, len(self.convs), 2):
            h = torch.relu(h + self.convs[i + 1](torch.relu(self.convs[i](h))))
        return self.head(h.mean(dim=(2, 3)))


class UNetish(nn.Module):
    """Long skip connections: early tensors stay alive until the end."""

    def __init__(self):
        super().__init__()
        self.down1 = nn.Conv2d(2, 4, 3, padding=1)
        self.down2 = nn.Conv2d(4, 8, 3, stride=2, padding=1)
        self.down3 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.up2 = nn.ConvTranspose2d(16, 8, 2, stride=2)
        self.up1 = nn.ConvTranspose2d(8, 4, 2, stride=2)
        self.out = nn.Conv2d(4, 1, 1)

    def forward(self, x):
        d1 = torch.relu(self.down1(x))
        d2 = torch.relu(self.down2(d1))
        d3 = torch.relu(self.down3(d2))
        u2 = torch.relu(self.up2(d3)) + d2
        u1 = torch.relu(self.up1(u2)) + d1
        return torch.sigmoid(self.out(u1))


def build(case, seed):
    """(traced GraphModule, example inputs) for a case name."""
    seeded(seed, case)
    if case == "fold":
        return finish(FoldModel(), (4, 8))
    if case == "dead":
        return finish(DeadModel(), (3, 6), (3, 6))
    if case == "inplace":
        return finish(InplaceModel(), (5,))
    if case == "conv_bn_sequential":
        return finish(conv_bn_sequential(), (2, 3, 9, 9))
    if case == "conv_bn_tricky":
        return finish(ConvBnTricky(), (2, 3, 7, 7))
    if case == "fuse_chains":
        return finish(FuseChains(), (4, 8), (4, 8))
    if case == "fuse_trees":
        return finish(FuseTrees(), (4, 8), (4, 8))
    if case == "mlp_chain":
        return finish(mlp_chain(), (3, 64))
    if case == "residual":
        return finish(ResidualNet(), (2, 3, 12, 12))
    if case == "unet":
        return finish(UNetish(), (1, 2, 16, 16))
    raise KeyError(case)


# --- what the drivers measure --------------------------------------------------------------


def call_nodes(gm):
    return sum(1 for n in gm.graph.nodes if n.op in CALL_OPS)


def batchnorm_calls(gm):
    return sum(
        1
        for n in gm.graph.nodes
        if n.op == "call_module" and isinstance(gm.get_submodule(n.target), nn.modules.batchnorm._BatchNorm)
    )


def constant_call_nodes(gm):
    """Call nodes (not in-place) all of whose inputs are get_attr nodes: foldable leftovers."""
    return sum(
        1
        for n in gm.graph.nodes
        if n.op in ("call_function", "call_method")
        and all(a.op == "get_attr" for a in n.all_input_nodes)
        and not str(n.target).endswith("_")
    )


def inplace_calls(gm):
    return sum(1 for n in gm.graph.nodes if n.op == "call_method" and n.target.endswith("_"))


def fused_group_sizes(gm):
    """Sorted sizes (inner call nodes) of the call_module nodes whose module is a GraphModule."""
    sizes = []
    for n in gm.graph.nodes:
        if n.op == "call_module":
            module = gm.get_submodule(n.target)
            if isinstance(module, fx.GraphModule):
                sizes.append(call_nodes(module))
    return sorted(sizes)


def outputs_of(gm, inputs):
    with torch.no_grad():
        result = gm(*(x.clone() for x in inputs))
    if isinstance(result, torch.Tensor):
        result = (result,)
    return {f"out{i}": r.detach().double().numpy() for i, r in enumerate(result)}


# --- driver side ---------------------------------------------------------------------------


class Outputs:
    """Saves each case's results as soon as it finishes; records errors for the feedback."""

    def __init__(self):
        self.dir = os.environ.get("GRADER_OUT", "/out")
        self.errors = {}

    def save(self, case, result):
        arrays, facts = result
        for name, array in arrays.items():
            np.save(os.path.join(self.dir, f"{case}__{name}.npy"),
                    np.asarray(array, dtype=np.float64), allow_pickle=False)
        if facts is not None:
            with open(os.path.join(self.dir, f"{case}.json"), "w") as f:
                json.dump(facts, f)

    def error(self, case, exc):
        text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        self.errors[case] = text[-600:]
        with open(os.path.join(self.dir, "errors.json"), "w") as f:
            json.dump(self.errors, f)

    def run(self, case, compute):
        try:
            self.save(case, compute())
        except Exception as exc:
            self.error(case, exc)


def import_student(outputs, name):
    try:
        return __import__(name)
    except Exception as exc:
        outputs.error("import", exc)
        return None
