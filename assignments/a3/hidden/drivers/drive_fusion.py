"""Hidden driver: pointwise fusion on seeded models. Writes each resulting graph as data
(graphdata.dump); the checker rebuilds it, runs it and measures its fused groups."""

import a3_models as M
import graphdata

outputs = M.Outputs()
passes = M.import_student(outputs, "passes")


def run(case):
    gm, _ = M.build(case, seed)
    graphdata.dump(passes.fuse_pointwise(gm), outputs.dir, case)
    return {}, None


if passes is not None:
    seed = M.seed_from_env(3103)
    for case in ("fuse_chains", "fuse_trees"):
        outputs.run(case, lambda: run(case))
