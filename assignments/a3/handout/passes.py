"""A3: graph passes over torch.fx (starter code).

Every pass takes a torch.fx.GraphModule, rewrites its graph in place, calls recompile(), and
returns the same GraphModule. Passes never change what the module computes (within floating
point rounding) and never modify a submodule in place: a submodule may be called from
several nodes.

Fill in every function that raises NotImplementedError("TODO"); keep the names and
signatures (the grader imports them). See README.md.
"""

import operator

import torch
import torch.fx as fx
import torch.nn as nn

CALL_OPS = ("call_function", "call_method", "call_module")

# Elementwise operations, the candidates for fusion.
POINTWISE_FUNCTIONS = {
    operator.add, operator.sub, operator.mul, operator.truediv, operator.neg,
    torch.add, torch.sub, torch.mul, torch.div, torch.neg,
    torch.relu, torch.sigmoid, torch.tanh, torch.exp,
    torch.nn.functional.relu,
}
POINTWISE_METHODS = {"add", "sub", "mul", "div", "neg", "relu", "sigmoid", "tanh", "exp"}

# Calls that must stay even when nothing uses their result.
SIDE_EFFECT_FUNCTIONS = {torch._assert, operator.setitem, print}


def is_pointwise(node):
    if node.op == "call_function":
        return node.target in POINTWISE_FUNCTIONS
    if node.op == "call_method":
        return node.target in POINTWISE_METHODS
    return False


def is_impure(node):
    """True when removing the node could change the program even if its result is unused:
    placeholders, the output, in-place methods and functions (their names end with "_"),
    known side-effect functions, and in-place modules (inplace=True)."""
    if node.op in ("placeholder", "output"):
        return True
    if node.op == "call_method":
        return node.target.endswith("_")
    if node.op == "call_function":
        name = getattr(node.target, "__name__", "")
        return node.target in SIDE_EFFECT_FUNCTIONS or (name.endswith("_") and not name.startswith("__"))
    if node.op == "call_module":
        module = node.graph.owning_module.get_submodule(node.target)
        return bool(getattr(module, "inplace", False))
    return False


def count_call_nodes(gm):
    return sum(1 for n in gm.graph.nodes if n.op in CALL_OPS)


def eliminate_dead_code(gm):
    """Remove every node whose result is unused and that is not impure, including nodes
    that become unused once their users are gone (get_attr and call_module included)."""
    raise NotImplementedError("TODO")


def _fetch_attr(gm, target):
    obj = gm
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj


def constant_fold(gm):
    """A node is constant when it is a get_attr, or a pure call_function/call_method whose
    input nodes are all constant. Evaluate the constants once; every constant call node used
    by a non-constant node becomes a get_attr of a new buffer named _folded_<k>; then remove
    what is dead."""
    raise NotImplementedError("TODO")


def fold_conv_weights(conv, bn):
    """A new Conv2d computing bn(conv(x)) for a BatchNorm2d in eval mode."""
    raise NotImplementedError("TODO")


def fold_conv_bn(gm):
    """Fold each BatchNorm2d (eval mode) whose input is a Conv2d node used only by that
    BatchNorm: the conv node calls a new submodule <conv target>_bn_folded_<k> holding the
    fused weights, the BatchNorm node is removed."""
    raise NotImplementedError("TODO")


def fusion_groups(gm):
    """The fusion groups, each a list of nodes in graph order: the connected components of
    the edges producer -> consumer where both are pointwise and the producer has exactly one
    user. Only components of two or more nodes are returned."""
    raise NotImplementedError("TODO")


def fuse_pointwise(gm):
    """Replace each fusion group by one call_module node whose module, fused_<k>, is a
    torch.fx.GraphModule holding the group's nodes. The group's inputs from outside become
    the fused module's arguments, in order of first use; its output is the group's last
    node (the only one used outside the group)."""
    raise NotImplementedError("TODO")
