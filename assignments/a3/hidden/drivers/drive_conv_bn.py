"""Hidden driver: conv + batchnorm folding on seeded models."""

import a3_models as M

outputs = M.Outputs()
passes = M.import_student(outputs, "passes")


def run(case):
    gm, inputs = M.build(case, seed)
    gm = passes.fold_conv_bn(gm)
    return M.outputs_of(gm, inputs), {"batchnorm_calls": M.batchnorm_calls(gm)}


if passes is not None:
    seed = M.seed_from_env(3102)
    for case in ("conv_bn_sequential", "conv_bn_tricky"):
        outputs.run(case, lambda: run(case))
