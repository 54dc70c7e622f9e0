"""Hidden driver: backward survives deep graphs and differentiates each node once.

The 5000-node chain catches recursive graph walks (RecursionError). The ladder has 48 nodes
but 2**24 paths: only a backward that differentiates each node once (summing what a node
receives before passing it on) finishes within the CPU limit; per-path backward is killed
there and leaves no ladder output. Nothing is counted in this process: the checker compares
the value and the gradient, and the sandbox enforces the time."""

import cases

outputs = cases.Outputs()
ad = cases.import_student(outputs)
if ad is not None:
    seed = cases.seed_from_env(1103)
    backend = cases.StudentBackend(ad)
    for name, build in cases.ONCE:
        outputs.run(name, lambda: cases.run_case(backend, build, cases.rng_for(seed, name)))
