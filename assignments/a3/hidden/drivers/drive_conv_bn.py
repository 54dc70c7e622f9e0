"""Hidden driver: conv + batchnorm folding on seeded models. Writes each resulting graph as
data (graphdata.dump); the checker rebuilds it, runs it and counts its BatchNorm calls."""

import a3_models as M
import graphdata

outputs = M.Outputs()
passes = M.import_student(outputs, "passes")


def run(case):
    gm, _ = M.build(case, seed)
    graphdata.dump(passes.fold_conv_bn(gm), outputs.dir, case)
    return {}, None


if passes is not None:
    seed = M.seed_from_env(3102)
    for case in ("conv_bn_sequential", "conv_bn_tricky"):
        outputs.run(case, lambda: run(case))
