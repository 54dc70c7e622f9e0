"""Driver (runs beside the student's code): calls it and writes only what it returned."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import inputs  # noqa: E402

import squares  # noqa: E402  (the student's module, from /work)

out = os.environ.get("GRADER_OUT", "/out")
for i, xs in enumerate(inputs.cases()):
    result = {"squares": [squares.square(x) for x in xs], "sum": squares.sum_of_squares(xs)}
    with open(os.path.join(out, f"case_{i}.json"), "w") as f:
        json.dump(result, f)
