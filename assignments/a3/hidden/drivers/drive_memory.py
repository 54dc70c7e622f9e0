"""Hidden driver: the student's memory plan for seeded models. The checker replays it
against lifetimes computed by the reference (never the student's own)."""

import a3_models as M

outputs = M.Outputs()
planner = M.import_student(outputs, "planner")


def run(case):
    gm, inputs = M.build(case, seed)
    plan = planner.plan_memory(gm, inputs)
    facts = {
        "arena_bytes": int(plan["arena_bytes"]),
        "offsets": {str(name): int(offset) for name, offset in plan["offsets"].items()},
    }
    return {}, facts


if planner is not None:
    seed = M.seed_from_env(3104)
    for case in ("mlp_chain", "residual", "unet"):
        outputs.run(case, lambda: run(case))
