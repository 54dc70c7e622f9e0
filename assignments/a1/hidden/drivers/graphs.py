"""Hidden driver: gradients of composite graphs (broadcasting, shared subexpressions)."""

import cases

outputs = cases.Outputs()
ad = cases.import_student(outputs)
if ad is not None:
    seed = cases.seed_from_env(1102)
    backend = cases.StudentBackend(ad)
    for name, build in cases.GRAPHS:
        outputs.run(name, lambda: cases.run_case(backend, build, cases.rng_for(seed, name)))
