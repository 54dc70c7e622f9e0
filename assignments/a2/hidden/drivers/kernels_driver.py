"""hidden_kernels driver (student box): runs the student's kernels.so on the seeded inputs
of cases.py and writes the results to $GRADER_OUT as .npy, plus errors.json.

numpy + ctypes only. Two OpenMP threads, so that a kernel whose threads share a buffer
gives wrong answers here rather than only on the students' laptops.
"""
import json
import os
import sys

os.environ["OMP_NUM_THREADS"] = "2"  # read by libgomp when kernels.so loads it
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import numpy as np  # noqa: E402

import cases  # noqa: E402
import ckernels  # noqa: E402

OUT = os.environ.get("GRADER_OUT", "/out")


def main():
    errors = {}
    try:
        lib = ckernels.load()
    except OSError as e:
        errors["load"] = str(e)
        lib = None
    if lib is not None:
        for i in range(len(cases.MATMUL_SHAPES)):
            try:
                c = ckernels.matmul(lib, *cases.matmul_inputs(i))
                np.save(os.path.join(OUT, f"matmul_{i}.npy"), c)
            except Exception as e:  # noqa: BLE001  (any failure is the student's; record it)
                errors[f"matmul_{i}"] = f"{type(e).__name__}: {e}"
        for i, config in enumerate(cases.KERNEL_CONFIGS):
            name = config["name"]
            try:
                o, lse = ckernels.attention_forward(lib, *cases.kernel_inputs(config, i),
                                                    causal=config["causal"])
                np.save(os.path.join(OUT, f"attn_{name}_o.npy"), o)
                np.save(os.path.join(OUT, f"attn_{name}_lse.npy"), lse)
            except Exception as e:  # noqa: BLE001
                errors[f"attn_{name}"] = f"{type(e).__name__}: {e}"
    with open(os.path.join(OUT, "errors.json"), "w") as f:
        json.dump({"version": 1, "errors": errors}, f, indent=1)
    print(f"kernels driver: {len(errors)} errors", *errors.items(), sep="\n")


if __name__ == "__main__":
    main()
