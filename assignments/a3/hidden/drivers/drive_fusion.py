"""Hidden driver: pointwise fusion on seeded models."""

import a3_models as M

outputs = M.Outputs()
passes = M.import_student(outputs, "passes")


def run(case):
    gm, inputs = M.build(case, seed)
    gm = passes.fuse_pointwise(gm)
    return M.outputs_of(gm, inputs), {"fused_group_sizes": M.fused_group_sizes(gm)}


if passes is not None:
    seed = M.seed_from_env(3103)
    for case in ("fuse_chains", "fuse_trees"):
        outputs.run(case, lambda: run(case))
