"""Hidden driver: constant folding and dead-code elimination on seeded models."""

import a3_models as M

outputs = M.Outputs()
passes = M.import_student(outputs, "passes")


def run(case, apply):
    gm, inputs = M.build(case, seed)
    gm = apply(gm)
    facts = {
        "call_nodes": M.call_nodes(gm),
        "constant_call_nodes": M.constant_call_nodes(gm),
        "inplace_calls": M.inplace_calls(gm),
    }
    return M.outputs_of(gm, inputs), facts


if passes is not None:
    seed = M.seed_from_env(3101)
    outputs.run("fold", lambda: run("fold", passes.constant_fold))
    outputs.run("dead", lambda: run("dead", passes.eliminate_dead_code))
    outputs.run("inplace", lambda: run("inplace", passes.eliminate_dead_code))
