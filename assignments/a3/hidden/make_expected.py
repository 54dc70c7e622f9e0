"""Writes hidden/expected/* for A3: each model's outputs before any pass (the truth the
passes must keep), the graph facts the reference passes leave, and for the planner the
reference lifetimes and arena size. Run from anywhere:
    /usr/bin/python3 assignments/a3/hidden/make_expected.py
Rerun after changing a model, a seed in assignment.toml, or the reference."""

import json
import shutil
import sys
import tomllib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "drivers"))
sys.path.insert(0, str(HERE.parent / "solution"))

import a3_models as M  # noqa: E402
import passes  # noqa: E402  (the reference solution)
import planner  # noqa: E402

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


def write_json(path, obj):
    path.write_text(json.dumps(obj, indent=1, sort_keys=True) + "\n")


def pass_cases(test_id, folder, cases, facts_of):
    path = fresh_dir(folder)
    seed = SEEDS[test_id]
    for case, apply in cases:
        gm, inputs = M.build(case, seed)
        original = M.outputs_of(gm, inputs)
        gm = apply(gm)
        after = M.outputs_of(gm, inputs)
        for name, array in original.items():
            assert np.allclose(after[name], array, rtol=1e-9, atol=1e-12), (case, name)
            np.save(path / f"{case}__{name}.npy", array)
        write_json(path / f"{case}.json", facts_of(gm))


def main():
    pass_cases("hidden_fold_dce", "fold_dce",
               [("fold", passes.constant_fold), ("dead", passes.eliminate_dead_code),
                ("inplace", passes.eliminate_dead_code)],
               lambda gm: {"call_nodes": M.call_nodes(gm),
                           "constant_call_nodes": M.constant_call_nodes(gm),
                           "inplace_calls": M.inplace_calls(gm)})
    pass_cases("hidden_conv_bn", "conv_bn",
               [("conv_bn_sequential", passes.fold_conv_bn), ("conv_bn_tricky", passes.fold_conv_bn)],
               lambda gm: {"batchnorm_calls": M.batchnorm_calls(gm)})
    pass_cases("hidden_fusion", "fusion",
               [("fuse_chains", passes.fuse_pointwise), ("fuse_trees", passes.fuse_pointwise)],
               lambda gm: {"fused_group_sizes": M.fused_group_sizes(gm)})

    path = fresh_dir("memory")
    seed = SEEDS["hidden_memory"]
    for case in ("mlp_chain", "residual", "unet"):
        gm, inputs = M.build(case, seed)
        lifetimes = planner.tensor_lifetimes(gm, inputs)
        plan = planner.plan_memory(gm, inputs)
        write_json(path / f"{case}.json", {
            "lifetimes": {name: list(v) for name, v in lifetimes.items()},
            "arena_bytes": plan["arena_bytes"],
            "no_reuse_bytes": sum(v[0] for v in lifetimes.values()),
        })
    print("expected data written under", HERE / "expected")


if __name__ == "__main__":
    main()
