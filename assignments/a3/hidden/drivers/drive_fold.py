"""Hidden driver: constant folding and dead-code elimination on seeded models. Writes each
resulting graph as data (graphdata.dump); the checker rebuilds it, runs it and counts its
nodes itself."""

import a3_models as M
import graphdata

outputs = M.Outputs()
passes = M.import_student(outputs, "passes")


def run(case, apply):
    gm, _ = M.build(case, seed)
    graphdata.dump(apply(gm), outputs.dir, case)
    return {}, None


if passes is not None:
    seed = M.seed_from_env(3101)
    outputs.run("fold", lambda: run("fold", passes.constant_fold))
    outputs.run("dead", lambda: run("dead", passes.eliminate_dead_code))
    outputs.run("inplace", lambda: run("inplace", passes.eliminate_dead_code))
