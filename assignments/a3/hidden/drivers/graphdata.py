"""A GraphModule as plain data, and back: the drivers write the graph a student's pass left
(JSON + .npy, no pickle) and the checkers rebuild it from an allow-list of functions, tensor
methods and module types, run it on the inputs they regenerate, and count its nodes
themselves. So the outputs and the counts follow from the graph the pass produced; nothing
the student's process computed about it is believed.

Shared by the drivers (student box: `dump`) and the checkers (trusted box: `load`). Only
torch, numpy and json; it never imports student code."""

import json
import operator
import os
import re

import numpy as np
import torch
import torch.fx as fx
import torch.nn as nn
import torch.nn.functional as F

VERSION = 1
MAX_NODES = 2000
MAX_DEPTH = 3  # a fused group's GraphModule is one level down
MAX_TENSOR_BYTES = 8 << 20

# call_function targets, by the name the data uses. The same objects in both boxes.
FUNCTIONS = {
    **{f"operator.{n}": getattr(operator, n) for n in (
        "add", "sub", "mul", "truediv", "floordiv", "matmul", "neg", "pow", "getitem", "iadd",
        "imul")},
    **{f"torch.{n}": getattr(torch, n) for n in (
        "relu", "tanh", "sigmoid", "exp", "log", "add", "sub", "mul", "div", "matmul", "neg",
        "sum", "mean", "cat", "stack", "flatten", "reshape", "transpose", "permute", "t",
        "conv2d", "conv_transpose2d", "batch_norm", "abs", "sqrt", "rsqrt", "where", "clamp",
        "maximum", "minimum", "square", "pow", "addmm", "mm", "bmm", "squeeze", "unsqueeze")},
    **{f"torch.nn.functional.{n}": getattr(F, n) for n in (
        "relu", "linear", "conv2d", "conv_transpose2d", "batch_norm", "sigmoid", "tanh")},
}
# call_method targets (Tensor methods); in-place ones included (the dead-code case has one).
METHODS = frozenset(
    m + suffix
    for m in ("add", "sub", "mul", "div", "relu", "sigmoid", "tanh", "exp", "neg", "abs",
              "sqrt", "rsqrt", "clamp", "pow")
    for suffix in ("", "_")) | frozenset((
        "t", "sum", "mean", "view", "reshape", "flatten", "contiguous", "clone", "matmul",
        "transpose", "permute", "unsqueeze", "squeeze", "expand", "size", "detach", "double",
        "float", "square"))
# call_module types and the constructor arguments that rebuild them.
MODULES = {
    "Conv2d": (nn.Conv2d, ("in_channels", "out_channels", "kernel_size", "stride", "padding",
                           "dilation", "groups", "padding_mode")),
    "ConvTranspose2d": (nn.ConvTranspose2d, ("in_channels", "out_channels", "kernel_size",
                                             "stride", "padding", "output_padding", "groups",
                                             "dilation", "padding_mode")),
    "BatchNorm2d": (nn.BatchNorm2d, ("num_features", "eps", "momentum", "affine",
                                     "track_running_stats")),
    "BatchNorm1d": (nn.BatchNorm1d, ("num_features", "eps", "momentum", "affine",
                                     "track_running_stats")),
    "Linear": (nn.Linear, ("in_features", "out_features")),
    "ReLU": (nn.ReLU, ()),
    "Sigmoid": (nn.Sigmoid, ()),
    "Tanh": (nn.Tanh, ()),
    "Identity": (nn.Identity, ()),
    "Flatten": (nn.Flatten, ("start_dim", "end_dim")),
}
DTYPES = {str(d).removeprefix("torch."): d for d in (
    torch.float64, torch.float32, torch.float16, torch.int64, torch.int32, torch.int8,
    torch.uint8, torch.bool)}


class GraphDataError(Exception):
    """The graph cannot be written or rebuilt; the message says what, for the student."""


# --- the student box: GraphModule -> data -------------------------------------------------


class _Writer:
    def __init__(self, directory, prefix):
        self.directory, self.prefix, self.count = directory, prefix, 0

    def tensor(self, t):
        name = f"{self.prefix}__t{self.count}.npy"
        self.count += 1
        np.save(os.path.join(self.directory, name), t.detach().cpu().numpy(), allow_pickle=False)
        return name

    def arg(self, a):
        if isinstance(a, fx.Node):
            return {"node": a.name}
        if isinstance(a, tuple):  # torch.Size too
            return {"tuple": [self.arg(x) for x in a]}
        if isinstance(a, list):
            return [self.arg(x) for x in a]
        if isinstance(a, dict):
            return {"dict": [[str(k), self.arg(v)] for k, v in a.items()]}
        if isinstance(a, slice):
            return {"slice": [self.arg(a.start), self.arg(a.stop), self.arg(a.step)]}
        if isinstance(a, torch.dtype):
            return {"dtype": str(a).removeprefix("torch.")}
        if isinstance(a, torch.Tensor):
            return {"tensor": self.tensor(a)}
        if a is Ellipsis:
            return {"ellipsis": True}
        if a is None or isinstance(a, (bool, int, float, str)):
            return a
        raise GraphDataError(f"a node argument of type {type(a).__name__} is not supported")

    def module(self, m, depth):
        if isinstance(m, fx.GraphModule):
            return {"type": "GraphModule", "graph": self.graph(m, depth + 1),
                    "training": m.training}
        kind = type(m).__name__
        if kind not in MODULES or type(m) is not MODULES[kind][0]:
            raise GraphDataError(f"submodule of type {type(m).__name__} is not one the checker "
                                 f"rebuilds ({', '.join(MODULES)}, GraphModule)")
        config = {k: self.arg(getattr(m, k)) for k in MODULES[kind][1]}
        if hasattr(m, "bias") and kind in ("Conv2d", "ConvTranspose2d", "Linear"):
            config["bias"] = m.bias is not None
        return {"type": kind, "config": config, "training": m.training,
                "tensors": {k: self.tensor(v) for k, v in m.state_dict().items()}}

    def graph(self, gm, depth=0):
        if depth > MAX_DEPTH:
            raise GraphDataError("GraphModules nested too deep")
        nodes, attrs, modules = [], {}, {}
        by_identity = {id(fn): name for name, fn in FUNCTIONS.items()}
        for n in gm.graph.nodes:
            target = n.target
            if n.op == "call_function":
                target = by_identity.get(id(n.target), {"unknown": repr(n.target)[:200]})
            elif n.op == "get_attr" and n.target not in attrs:
                value = _fetch(gm, n.target)
                if not isinstance(value, torch.Tensor):
                    raise GraphDataError(f"get_attr {n.target} is not a tensor")
                attrs[n.target] = self.tensor(value)
            elif n.op == "call_module" and n.target not in modules:
                modules[n.target] = self.module(gm.get_submodule(n.target), depth)
            nodes.append({"name": n.name, "op": n.op, "target": target,
                          "args": self.arg(n.args), "kwargs": self.arg(n.kwargs)})
        return {"nodes": nodes, "attrs": attrs, "modules": modules}


def _fetch(gm, target):
    value = gm
    for part in target.split("."):
        value = getattr(value, part)
    return value


def dump(gm, directory, prefix):
    """Writes <prefix>.graph.json (and <prefix>__t<k>.npy) for the checker."""
    data = {"version": VERSION, "graph": _Writer(directory, prefix).graph(gm)}
    with open(os.path.join(directory, f"{prefix}.graph.json"), "w") as f:
        json.dump(data, f)


# --- the trusted box: data -> GraphModule -------------------------------------------------


class _Reader:
    def __init__(self, directory, prefix):
        self.directory, self.prefix, self.nodes = directory, prefix, 0

    def tensor(self, name):
        if not isinstance(name, str) or not re.fullmatch(re.escape(self.prefix) + r"__t\d+\.npy", name):
            raise GraphDataError(f"bad tensor file name {str(name)[:80]!r}")
        path = os.path.join(self.directory, name)
        if os.path.islink(path) or not os.path.isfile(path):
            raise GraphDataError(f"missing tensor file {name}")
        if os.path.getsize(path) > MAX_TENSOR_BYTES:
            raise GraphDataError(f"tensor file {name} is too large")
        array = np.load(path, allow_pickle=False)
        if array.dtype.kind not in "fiub":
            raise GraphDataError(f"tensor file {name} holds {array.dtype}, not numbers")
        return torch.from_numpy(np.array(array))

    def arg(self, a, env):
        if isinstance(a, list):
            return [self.arg(x, env) for x in a]
        if isinstance(a, dict):
            if len(a) != 1:
                raise GraphDataError("bad argument")
            (kind, value), = a.items()
            if kind == "node":
                if value not in env:
                    raise GraphDataError(f"argument refers to unknown node {str(value)[:80]!r}")
                return env[value]
            if kind == "tuple":
                return tuple(self.arg(x, env) for x in value)
            if kind == "dict":
                return {str(k): self.arg(v, env) for k, v in value}
            if kind == "slice":
                return slice(*(self.arg(x, env) for x in value))
            if kind == "dtype":
                if value not in DTYPES:
                    raise GraphDataError(f"dtype {str(value)[:40]} is not supported")
                return DTYPES[value]
            if kind == "tensor":
                return self.tensor(value)
            if kind == "ellipsis":
                return Ellipsis
            raise GraphDataError(f"bad argument kind {str(kind)[:40]}")
        if a is None or isinstance(a, (bool, int, float, str)):
            return a
        raise GraphDataError("bad argument")

    def module(self, data, depth):
        kind = data.get("type")
        if kind == "GraphModule":
            m = self.graph(data["graph"], depth + 1)
        elif kind in MODULES:
            cls, keys = MODULES[kind]
            config = {k: self.arg(data["config"][k], {}) for k in keys}
            if "bias" in data["config"]:
                config["bias"] = bool(data["config"]["bias"])
            m = cls(**config).double()
            state = {str(k): self.tensor(v) for k, v in data.get("tensors", {}).items()}
            m.load_state_dict(state, strict=True)
        else:
            raise GraphDataError(f"submodule type {str(kind)[:40]} is not one the checker rebuilds")
        return m.train(bool(data.get("training", False)))

    def graph(self, data, depth=0):
        if depth > MAX_DEPTH:
            raise GraphDataError("GraphModules nested too deep")
        root, graph, env = nn.Module(), fx.Graph(), {}
        attr_names = {}
        for i, (target, file) in enumerate(data.get("attrs", {}).items()):
            attr_names[target] = f"attr_{i}"
            root.register_buffer(f"attr_{i}", self.tensor(file))
        module_names = {}
        for i, (target, m) in enumerate(data.get("modules", {}).items()):
            module_names[target] = f"mod_{i}"
            root.add_module(f"mod_{i}", self.module(m, depth))
        for node in data["nodes"]:
            self.nodes += 1
            if self.nodes > MAX_NODES:
                raise GraphDataError("too many nodes")
            op, target = node["op"], node["target"]
            args = self.arg(node["args"], env)
            kwargs = self.arg(node["kwargs"], env)
            if not isinstance(args, tuple) or not isinstance(kwargs, dict):
                raise GraphDataError("bad node arguments")
            if op == "placeholder":
                new = graph.placeholder(f"input_{len(env)}")
            elif op == "get_attr":
                if target not in attr_names:
                    raise GraphDataError(f"get_attr of unknown {str(target)[:80]}")
                new = graph.get_attr(attr_names[target])
            elif op == "call_function":
                if not isinstance(target, str) or target not in FUNCTIONS:
                    raise GraphDataError(f"the graph calls {str(target)[:80]}, which is not on "
                                         "the checker's list of functions")
                new = graph.call_function(FUNCTIONS[target], args, kwargs)
            elif op == "call_method":
                if target not in METHODS:
                    raise GraphDataError(f"the graph calls method {str(target)[:40]}, which is "
                                         "not on the checker's list")
                new = graph.call_method(target, args, kwargs)
            elif op == "call_module":
                if target not in module_names:
                    raise GraphDataError(f"call_module of unknown {str(target)[:80]}")
                new = graph.call_module(module_names[target], args, kwargs)
            elif op == "output":
                new = graph.output(args[0] if args else None)
            else:
                raise GraphDataError(f"node op {str(op)[:40]} is not supported")
            name = node["name"]
            if not isinstance(name, str) or name in env:
                raise GraphDataError("bad or duplicate node name")
            env[name] = new
        return fx.GraphModule(root, graph)


def load(directory, prefix):
    """The GraphModule the driver wrote as <prefix>.graph.json. Raises GraphDataError."""
    path = os.path.join(directory, f"{prefix}.graph.json")
    if os.path.islink(path) or not os.path.isfile(path):
        raise GraphDataError(f"no {prefix}.graph.json")
    if os.path.getsize(path) > MAX_TENSOR_BYTES:
        raise GraphDataError(f"{prefix}.graph.json is too large")
    try:
        with open(path) as f:
            data = json.load(f)
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise GraphDataError(f"{prefix}.graph.json: unknown format")
        return _Reader(directory, prefix).graph(data["graph"])
    except (KeyError, TypeError, ValueError, AttributeError, RuntimeError) as exc:
        raise GraphDataError(f"{prefix}.graph.json cannot be rebuilt: {exc}") from None
