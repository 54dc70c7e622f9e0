"""hidden_memory driver (student box): runs flash_attention's forward with gradients on, then
walks the autograd graph and reports every tensor kept for the backward pass.

For each graph node: tensors saved by save_for_backward (custom Functions: node.saved_tensors)
or by a built-in op (its _saved_* attributes), and tensors stashed as attributes on a custom
Function's ctx (ctx.p = p), also inside lists, tuples and dicts. Writes memory.json, the output,
and the values of the custom Functions' saved tensors as .npy so that the checker can tell
whether the output and the logsumexp are among them.
"""
import json
import os
import sys
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import numpy as np  # noqa: E402
import torch  # noqa: E402

import cases  # noqa: E402

OUT = os.environ.get("GRADER_OUT", "/out")
MAX_DUMP = 1 << 16  # elements; larger tensors are reported by shape only


def describe(t):
    """Shape, element count, and the element count of the storage behind it (a small view
    of a big tensor keeps the big tensor alive)."""
    try:
        storage = t.storage().size()
    except Exception:  # noqa: BLE001  (sparse or exotic tensors: count the elements)
        storage = t.numel()
    return {"shape": list(t.shape), "numel": t.numel(), "storage_numel": int(storage),
            "dtype": str(t.dtype)}


def tensors_in(value, depth=0):
    if isinstance(value, torch.Tensor):
        return [value]
    if depth < 2 and isinstance(value, (list, tuple)):
        return [t for item in value for t in tensors_in(item, depth + 1)]
    if depth < 2 and isinstance(value, dict):
        return [t for item in value.values() for t in tensors_in(item, depth + 1)]
    return []


def walk(root):
    seen, order, stack = set(), [], [root]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        order.append(node)
        stack.extend(fn for fn, _ in getattr(node, "next_functions", ()))
    return order


def inspect(run_name, o):
    nodes = []
    for n, node in enumerate(walk(o.grad_fn)):
        custom = hasattr(node, "saved_tensors") and hasattr(node, "__dict__")
        saved, stashed = [], []
        if custom:
            saved = [t for t in node.saved_tensors if t is not None]
            stashed = [t for value in vars(node).values() for t in tensors_in(value)]
        else:
            for attr in dir(node):
                if attr.startswith("_saved_"):
                    try:
                        saved += tensors_in(getattr(node, attr))
                    except Exception:  # noqa: BLE001  (freed or not a tensor)
                        pass
        entry = {"name": type(node).__name__, "custom": custom,
                 "saved": [describe(t) for t in saved], "stashed": [describe(t) for t in stashed],
                 "dumped": []}
        if custom:
            for j, t in enumerate(saved):
                if t.numel() <= MAX_DUMP:
                    file = f"{run_name}_node{n}_saved{j}.npy"
                    np.save(os.path.join(OUT, file),
                            np.asarray(t.detach().cpu().numpy(), dtype=np.float64))
                    entry["dumped"].append(file)
        nodes.append(entry)
    return nodes


def main():
    torch.manual_seed(cases.seed())
    report = {"version": 1, "runs": {}, "errors": {}}
    try:
        from flash_attention import flash_attention
    except Exception:  # noqa: BLE001
        report["errors"]["import"] = traceback.format_exc(limit=-3)
        flash_attention = None
    if flash_attention is not None:
        for i, config in enumerate(cases.MEMORY_CONFIGS):
            try:
                q, k, v = (torch.from_numpy(x).requires_grad_(True)
                           for x in cases.memory_inputs(config, i))
                o = flash_attention(q, k, v, causal=config["causal"])
                if o.grad_fn is None:
                    raise RuntimeError("the output has no grad_fn: autograd cannot reach it")
                np.save(os.path.join(OUT, f"{config['name']}_output.npy"),
                        np.asarray(o.detach().cpu().numpy(), dtype=np.float64))
                report["runs"][config["name"]] = {"output_shape": list(o.shape),
                                                  "nodes": inspect(config["name"], o)}
            except Exception:  # noqa: BLE001
                report["errors"][config["name"]] = traceback.format_exc(limit=-3)
    with open(os.path.join(OUT, "memory.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(f"memory driver: {len(report['errors'])} errors", *report["errors"].values(), sep="\n")


if __name__ == "__main__":
    main()
